import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { getOp } from '../../ops/registry.ts';
import { LINE, runChunks, SETTING, SLOT, type JobSpec, type WorkerInit } from './pool.ts';
import { WASM_KERNELS } from './wasm/kernels.ts';
import { instantiateKernels, type KernelExports } from './wasm/module.ts';

const init = workerData as WorkerInit;
const ctl = new Int32Array(init.control, init.index * LINE * 4, LINE);
// The pool's unit counter, prologue counter and settings sit after every worker's line (see WorkerPool).
const counter = new Int32Array(init.control, init.control.byteLength - 3 * LINE * 4, 1);
const phase = new Int32Array(init.control, init.control.byteLength - 2 * LINE * 4, 1);
const settings = new Int32Array(init.control, init.control.byteLength - LINE * 4, LINE);
const jobs = new Map<number, JobSpec>();

function die(err: unknown): never {
  Atomics.store(ctl, SLOT.STATUS, 2);
  Atomics.notify(ctl, SLOT.DONE);
  throw err;
}

let kernels: KernelExports | null = null;
try {
  // Every worker instantiates the kernels over the backend's one shared memory.
  kernels = init.module ? instantiateKernels(init.module, init.memory) : null;
} catch (err) {
  die(err);
}

/** Registrations arrive on the port; they are read synchronously, just before the job that needs them. */
function drain(): void {
  for (let m = receiveMessageOnPort(init.port); m; m = receiveMessageOnPort(init.port)) {
    const msg = m.message as { id: number; spec: JobSpec } | { drop: number };
    if ('drop' in msg) jobs.delete(msg.drop);
    else jobs.set(msg.id, msg.spec);
  }
}

function run(spec: JobSpec, start: number, end: number, scratch: number, shared: number): void {
  if (spec.kind === 'wasm') {
    const kernel = WASM_KERNELS.get(spec.op);
    if (!kernel || !kernels) throw new Error(`no WebAssembly kernel for ${spec.op}`);
    kernel.run(kernels, { ...spec, scratch, shared }, start, end);
    return;
  }
  const op = getOp(spec.op);
  if (!op) throw new Error(`unknown op ${spec.op}`);
  op.cpu.run({ inputs: spec.inputs, inShapes: spec.inShapes, weights: spec.weights, out: spec.out, outShape: spec.outShape, attrs: spec.attrs, seed: spec.seed }, start, end);
}

// Not a message loop: the worker waits on its control line (spinning briefly, as long as the
// pool's current setting says, then sleeping in Atomics.wait), runs the job it names, and marks it done.
// The main thread may have posted the first job before this worker finished loading: start from
// the control block's initial sequence number, not from whatever it holds now.
let seq = 0;
for (;;) {
  const t0 = performance.now();
  const spinMs = Atomics.load(settings, SETTING.SPIN) / 1000;
  let spins = 0;
  while (Atomics.load(ctl, SLOT.SEQ) === seq) {
    if (++spins % 64 === 0 && performance.now() - t0 > spinMs) Atomics.wait(ctl, SLOT.SEQ, seq);
  }
  seq = Atomics.load(ctl, SLOT.SEQ);
  if (Atomics.load(ctl, SLOT.STOP)) break;
  const id = ctl[SLOT.JOB];
  try {
    drain();
    const spec = jobs.get(id);
    if (!spec) throw new Error(`job ${id} was never registered`);
    try {
      const units = ctl[SLOT.UNITS];
      const chunk = ctl[SLOT.CHUNK];
      const scratch = ctl[SLOT.SCRATCH];
      const shared = ctl[SLOT.SHARED];
      runChunks(counter, phase, units, chunk, spec.kind === 'wasm' ? spec.pre : 0, (start, end) => run(spec, start, end, scratch, shared));
    } catch (err) {
      throw new Error(`op "${spec.node}" (${spec.op}) failed on the CPU: ${(err as Error).message}`);
    }
  } catch (err) {
    init.port.postMessage({ error: (err as Error).message });
    Atomics.store(ctl, SLOT.STATUS, 1);
  }
  Atomics.store(ctl, SLOT.DONE, seq);
  Atomics.notify(ctl, SLOT.DONE);
}

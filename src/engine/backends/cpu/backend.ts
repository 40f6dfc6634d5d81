import { availableParallelism, cpus } from 'node:os';
import { CancelledError, EngineError } from '../../errors.ts';
import { headAsRun, planSteps, type FusionRules, type Step } from '../../graph/fuse.ts';
import { INPUT, type Plan, type PlanNode } from '../../graph/plan.ts';
import { getOp } from '../../ops/registry.ts';
import { numel } from '../../tensor.ts';
import type { Backend, BackendOptions, BackendProvider, ForwardHooks, PreparedModel, PrepareOptions } from '../types.ts';
import { assignSlots } from '../liveness.ts';
import { Arena } from './arena.ts';
import { sampleLoad, smoothLoad, threadPlan, type LoadSample, type ThreadPlan } from './policy.ts';
import { runChunks, WorkerPool, type JobSpec } from './pool.ts';
import { kernelArgs, nodeSeed, unitsOf } from './reference.ts';
import { WASM_KERNELS } from './wasm/kernels.ts';
import { instantiateKernels, kernelsUseFma, loadKernelModule, WasmUnavailable, type KernelExports, type WasmModule } from './wasm/module.ts';
import type { FusableActivation, WasmKernel } from './wasm/types.ts';

/** Below this many FLOPs (or output elements) an op runs inline: a worker round trip costs more. */
const PARALLEL_MIN_WORK = 200_000;

/** `wasm`: the WebAssembly SIMD kernels where an op has one; `js`: the TypeScript kernels only; `auto`: wasm when it loads. */
export type CpuKernels = 'auto' | 'wasm' | 'js';

export interface CpuBackendOptions {
  /** Threads to use, always. Default: the cores, fewer while other processes load the machine (policy.ts). */
  threads?: number;
  /** Ops with less work than this run on the calling thread alone; tests set 0 to force every op through the pool. */
  minParallelWork?: number;
  kernels?: CpuKernels;
  /** How the machine's load is read (policy.ts: sampleLoad); tests give a fixed one. */
  sampleLoad?: () => LoadSample;
}

/** A tensor in the arena: its byte offset for the WebAssembly kernels, a view for the TypeScript ones. */
interface Placed {
  off: number;
  view: Float32Array;
}

/** How often, at most, the backend looks at the machine's load again (at prepare, and before a forward). */
const LOAD_SAMPLE_MS = 100;

/** A node bound to its tensors, ready to run again and again. */
interface BoundOp {
  run(): void;
  /** Forgets the job the workers hold for it. */
  release(): void;
}

/** How one node runs, decided once: its WebAssembly kernel (or null) and its weights as that kernel wants them. */
interface NodeExec {
  node: PlanNode;
  wasm: WasmKernel<unknown> | null;
  weights: Placed[];
  /** An activation the WebAssembly kernel applies in its epilogue. */
  activation?: FusableActivation;
}

export class CpuBackend implements Backend {
  readonly name = 'cpu';
  /** The CPU, its threads and kernels, and while the machine is loaded what that changed (ThreadPlan.reason). */
  get adapter(): string {
    return this.plan.reason ? `${this.description} (${this.plan.reason})` : this.description;
  }
  private readonly description: string;
  /** The threads and spin the next ops run with (policy.ts); all of `threads` and a full spin on a free machine. */
  private plan: ThreadPlan;
  private load: { value: number; at: number } | null = null;
  readonly timing = 'host wall clock (performance.now) around each op, worker threads included';
  readonly fallbacks: string[] = [];
  /** Which kernels run: `wasm` (where an op has one, TypeScript elsewhere) or `js`. */
  readonly kernels: 'wasm' | 'js';
  /** All tensors of this backend live here, shared with every worker. */
  readonly arena = new Arena();
  private readonly pool: WorkerPool | null;
  private readonly exports: KernelExports | null;
  /** Per thread (0: the calling thread), the WebAssembly kernels' scratch block. */
  private scratch: { off: number; bytes: number }[] = [];
  /** The block every thread of an op shares (WasmKernel.sharedBytes); ops run one at a time. */
  private shared = { off: 0, bytes: 0 };

  constructor(
    readonly threads: number,
    /** Ops with less work than this run inline; tests set 0 to force every op through the pool. */
    private readonly minParallelWork = PARALLEL_MIN_WORK,
    /** The compiled WebAssembly kernels; null runs the TypeScript kernels only. */
    module: WasmModule | null = null,
    /** Why the WebAssembly kernels are not used, when they were wanted. */
    whyNot?: string,
    /** Whether the thread count was left to the backend: it then uses fewer on a loaded machine. */
    private readonly adaptive = false,
    private readonly sampler: () => LoadSample = sampleLoad,
  ) {
    this.exports = module ? instantiateKernels(module, this.arena.memory) : null;
    this.kernels = module ? 'wasm' : 'js';
    this.pool = threads > 1 ? new WorkerPool(threads - 1, { memory: this.arena.memory, module }) : null;
    const model = cpus()[0]?.model?.trim() || 'unknown CPU';
    const kernels = module ? `WebAssembly SIMD kernels${kernelsUseFma() ? ' (relaxed SIMD FMA)' : ''}` : `TypeScript kernels${whyNot ? ` (WebAssembly kernels unavailable: ${whyNot})` : ''}`;
    this.description = `${model}, ${threads} thread${threads === 1 ? '' : 's'}, ${kernels}`;
    if (whyNot) this.fallbacks.push(`cpu WebAssembly kernels: ${whyNot}`);
    this.plan = { threads, spinMicros: 0, reason: '' };
    this.replan(true);
  }

  /**
   * Looks at the machine's load again (at most every LOAD_SAMPLE_MS unless `now`) and sets the
   * threads and spin of the ops that follow.
   */
  private replan(now = false): void {
    if (this.threads === 1) return;
    const at = performance.now();
    if (!now && this.load && at - this.load.at < LOAD_SAMPLE_MS) return;
    const sample = this.sampler();
    this.load = smoothLoad(this.load, sample.external, at);
    this.plan = threadPlan(this.threads, { cores: sample.cores, external: this.load.value }, this.adaptive);
    this.pool?.setSpin(this.plan.spinMicros);
  }

  /** Loads (compiling at first use) the WebAssembly kernels unless `kernels` is `js`. */
  static async create(options: CpuBackendOptions = {}): Promise<CpuBackend> {
    const threads = options.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) throw new EngineError(`threads must be a positive integer, got ${threads}`);
    const adaptive = options.threads === undefined;
    const kernels = options.kernels ?? 'auto';
    const make = (module: WasmModule | null, whyNot?: string) => new CpuBackend(threads, options.minParallelWork, module, whyNot, adaptive, options.sampleLoad);
    if (kernels === 'js') return make(null);
    try {
      return make(await loadKernelModule());
    } catch (err) {
      if (kernels === 'wasm' || !(err instanceof WasmUnavailable)) throw err;
      return make(null, err.message);
    }
  }

  private wasmKernelFor(node: PlanNode): WasmKernel<unknown> | null {
    if (!this.exports) return null;
    const kernel = WASM_KERNELS.get(node.op);
    if (!kernel) return null;
    return kernel.accepts?.({ attrs: node.attrs, inShapes: node.inShapes, outShape: node.outShape }) === false ? null : kernel;
  }

  private place(data: Float32Array, owned: number[]): Placed {
    const off = this.arena.place(data);
    owned.push(off);
    return { off, view: this.arena.f32(off, data.length) };
  }

  private execFor(node: PlanNode, weights: Float32Array[], owned: number[], activation?: PlanNode): NodeExec {
    const wasm = this.wasmKernelFor(node);
    const arrays = wasm?.pack ? wasm.pack(node.attrs, weights) : weights;
    return { node, wasm, weights: arrays.map((a) => this.place(a, owned)), ...(activation ? { activation: activation.op as FusableActivation } : {}) };
  }

  /**
   * Batch norms fold into every conv2d and linear; residual adds, then relu and relu6, fuse into
   * WebAssembly kernels that apply them.
   */
  private readonly fusion: FusionRules = {
    fusesActivation: (head, activation) => !!this.wasmKernelFor(head)?.activations?.includes(activation.op as FusableActivation),
    fusesResidual: (head) => !!this.wasmKernelFor(head)?.fusesResidual,
  };

  /** Makes every thread's scratch block at least `bytes` long; only between ops. */
  private ensureScratch(bytes: number): void {
    if (bytes === 0 || (this.scratch.length === this.threads && this.scratch.every((s) => s.bytes >= bytes))) return;
    for (const s of this.scratch) this.arena.release(s.off);
    const size = Math.max(bytes, ...this.scratch.map((s) => s.bytes));
    this.scratch = Array.from({ length: this.threads }, () => ({ off: this.arena.alloc(size), bytes: size }));
  }

  /** Makes the shared block at least `bytes` long; only between ops. */
  private ensureShared(bytes: number): void {
    if (bytes <= this.shared.bytes) return;
    if (this.shared.bytes > 0) this.arena.release(this.shared.off);
    this.shared = { off: this.arena.alloc(bytes), bytes };
  }

  private sharedNeed(exec: NodeExec): number {
    if (!exec.wasm?.sharedBytes) return 0;
    const { attrs, inShapes, outShape } = exec.node;
    return exec.wasm.sharedBytes({ attrs, inShapes, outShape, threads: this.threads });
  }

  private scratchNeed(exec: NodeExec): number {
    if (!exec.wasm?.scratchBytes) return 0;
    const { attrs, inShapes, outShape } = exec.node;
    return Math.max(exec.wasm.scratchBytes({ attrs, inShapes, outShape, threads: this.threads }), exec.wasm.scratchBytes({ attrs, inShapes, outShape, threads: 1 }));
  }

  /**
   * Binds a node to its tensors: decides once whether it splits across threads and how, and
   * registers its job with the workers, so that each run only flips a few shared-memory words.
   */
  private bind(exec: NodeExec, inputs: Placed[], out: Placed, modelSeed: number, residual?: Placed): BoundOp {
    const { node } = exec;
    const seed = nodeSeed(modelSeed, node.id);
    const big = this.pool !== null && Math.max(node.counts.flops, numel(node.outShape)) >= this.minParallelWork;
    const base = { op: node.op, node: node.id, attrs: node.attrs, inShapes: node.inShapes, outShape: node.outShape, seed };
    let compute: (start: number, end: number) => void;
    let spec: JobSpec;
    let units: number;
    let pre = 0;
    if (exec.wasm) {
      const kernel = exec.wasm;
      const threads = big ? this.threads : 1;
      const planArgs = { attrs: node.attrs, inShapes: node.inShapes, outShape: node.outShape, threads };
      units = Math.max(1, kernel.units(planArgs));
      pre = kernel.prologueUnits?.(planArgs) ?? 0;
      const wasmSpec = {
        ...base,
        kind: 'wasm' as const,
        x: inputs.map((p) => p.off),
        w: exec.weights.map((p) => p.off),
        y: out.off,
        threads,
        pre,
        ...(exec.activation ? { activation: exec.activation } : {}),
        ...(residual ? { residual: residual.off } : {}),
      };
      compute = (start, end) => kernel.run(this.exports!, { ...wasmSpec, scratch: this.scratch[0]?.off ?? 0, shared: this.shared.off }, start, end);
      spec = wasmSpec;
    } else {
      units = unitsOf(node);
      const views = { inputs: inputs.map((p) => p.view), weights: exec.weights.map((p) => p.view), out: out.view };
      const args = kernelArgs(node, views.inputs, views.weights, views.out, modelSeed);
      const cpu = getOp(node.op)!.cpu;
      compute = (start, end) => cpu.run(args, start, end);
      spec = { ...base, kind: 'js', ...views };
    }
    const workers = big ? Math.min(units, this.threads) - 1 : 0;
    const pool = workers > 0 ? this.pool : null;
    const job = pool ? pool.register(spec) : 0;
    // A few chunks per thread: small enough to even out a thread that another process slows down,
    // large enough that taking one costs nothing next to its work.
    const chunk = Math.max(1, Math.floor(units / (4 * this.threads)));
    return {
      run: () => {
        let failure: unknown = null;
        const guard = (start: number, end: number) => {
          try {
            compute(start, end);
          } catch (err) {
            failure ??= new EngineError(`op "${node.id}" (${node.op}) failed on the CPU: ${(err as Error).message}`, node.id);
          }
        };
        // On a loaded machine (policy.ts) ops use fewer workers, or none: a worker that lost its
        // core would hold every op up until the scheduler gives it one back. Units are independent
        // of the thread that runs them, and the scratch fits one thread's tiling as well as all's.
        const n = Math.min(workers, this.plan.threads - 1);
        if (!pool || n < 1) {
          guard(0, units);
          if (failure) throw failure;
          return;
        }
        pool.start(job, n, units, chunk, Array.from({ length: n }, (_, i) => this.scratch[i + 1]?.off ?? 0), this.shared.off);
        // The calling thread takes chunks too, until none is left.
        runChunks(pool.counter, pool.phase, units, chunk, pre, guard);
        // Never return (or let the buffers be reused) while a worker may still be writing.
        try {
          pool.wait();
        } catch (err) {
          failure ??= err;
        }
        if (failure) throw failure;
      },
      release: () => {
        if (pool) pool.unregister(job);
      },
    };
  }

  async runOp(node: PlanNode, inputs: Float32Array[], weights: Float32Array[], seed: number): Promise<Float32Array> {
    const owned: number[] = [];
    try {
      const exec = this.execFor(node, weights, owned);
      const x = inputs.map((a) => this.place(a, owned));
      const n = numel(node.outShape);
      const yOff = this.arena.alloc(n * 4);
      owned.push(yOff);
      const y = { off: yOff, view: this.arena.f32(yOff, n) };
      this.ensureScratch(this.scratchNeed(exec));
      this.ensureShared(this.sharedNeed(exec));
      const op = this.bind(exec, x, y, seed);
      this.replan();
      try {
        op.run();
      } finally {
        op.release();
      }
      return y.view.slice();
    } finally {
      for (const off of owned) this.arena.release(off);
    }
  }

  async prepare(plan: Plan, weights: Map<string, Float32Array[]>, options: PrepareOptions = {}): Promise<PreparedModel> {
    const owned: number[] = [];
    this.replan(true);
    try {
      const planned = planSteps(plan, options.fuse === false ? null : this.fusion);
      const steps = planned.steps;
      // One step at a time: a folded copy of a conv's weights is garbage once packed into the arena.
      const execs = steps.map((s) => {
        const run = headAsRun(s, weights);
        return this.execFor(run.node, run.weights, owned, s.activation);
      });
      const tensors = this.placeTensors(plan, steps, owned);
      this.ensureScratch(Math.max(0, ...execs.map((e) => this.scratchNeed(e))));
      this.ensureShared(Math.max(0, ...execs.map((e) => this.sharedNeed(e))));
      const ops = execs.map((e, i) => {
        const { head, residualInput, output } = steps[i];
        const residual = residualInput === undefined ? undefined : tensors.get(residualInput)!;
        return this.bind(e, head.inputs.map((ref) => tensors.get(ref)!), tensors.get(output)!, plan.seed, residual);
      });
      let disposed = false;
      return {
        fusedInto: planned.fusedInto,
        forward: async (input, hooks: ForwardHooks = {}) => {
          if (disposed) throw new EngineError('forward() on a disposed model');
          this.replan();
          tensors.get(INPUT)!.view.set(input);
          let yielded = performance.now();
          for (let i = 0; i < ops.length; i++) {
            // The ops run synchronously; a long forward still lets the event loop see a cancellation.
            if (performance.now() - yielded > 50) {
              await new Promise((resolve) => setImmediate(resolve));
              yielded = performance.now();
            }
            if (hooks.signal?.aborted) throw new CancelledError();
            const t0 = performance.now();
            ops[i].run();
            const ms = performance.now() - t0;
            // What fused into the step ran inside its head's kernel: the time is the head's.
            if (hooks.onNode) steps[i].indices.forEach((index, k) => hooks.onNode!(index, steps[i].nodes[k], k === 0 ? ms : 0));
          }
          return tensors.get(plan.output)!.view.slice();
        },
        dispose: async () => {
          if (disposed) return;
          disposed = true;
          for (const op of ops) op.release();
          for (const off of owned) this.arena.release(off);
        },
      };
    } catch (err) {
      for (const off of owned) this.arena.release(off);
      throw err;
    }
  }

  /** Places every step's output in the arena, reusing slots by liveness (see liveness.ts). */
  private placeTensors(plan: Plan, steps: readonly Step[], owned: number[]): Map<string, Placed> {
    const outputs = steps.map((s) => ({ id: s.output, bytes: numel(s.head.outShape) * 4, inputs: s.inputs }));
    const { slotOf, slotBytes } = assignSlots({ id: INPUT, bytes: numel(plan.inputShape) * 4 }, outputs, plan.output);
    const slots = slotBytes.map((bytes) => {
      const off = this.arena.alloc(bytes);
      owned.push(off);
      return off;
    });
    const tensors = new Map<string, Placed>();
    const put = (id: string, shape: number[]) => {
      const off = slots[slotOf.get(id)!];
      tensors.set(id, { off, view: this.arena.f32(off, numel(shape)) });
    };
    put(INPUT, plan.inputShape);
    for (const s of steps) put(s.output, s.head.outShape);
    return tensors;
  }

  async dispose(): Promise<void> {
    await this.pool?.close();
  }
}

export const cpuProvider: BackendProvider = {
  name: 'cpu',
  priority: 0,
  outrunsSoftwareGpu: true,
  async create(options: BackendOptions) {
    return CpuBackend.create({ threads: options.threads });
  },
};

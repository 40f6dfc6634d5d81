import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { EngineError } from '../../errors.ts';
import type { WasmMemory, WasmModule } from './wasm/module.ts';
import type { FusableActivation } from './wasm/types.ts';

/**
 * One op as the workers run it, registered once (at prepare time) so that starting a range of its
 * units costs a few stores into shared memory instead of a structured-clone round trip.
 */
export type JobSpec =
  | {
      kind: 'js';
      op: string;
      node: string;
      attrs: unknown;
      inShapes: number[][];
      outShape: number[];
      seed: number;
      /** Views on the shared memory. */
      inputs: Float32Array[];
      weights: Float32Array[];
      out: Float32Array;
    }
  | {
      kind: 'wasm';
      op: string;
      node: string;
      attrs: unknown;
      inShapes: number[][];
      outShape: number[];
      seed: number;
      threads: number;
      /** Byte offsets into the shared memory. */
      x: number[];
      w: number[];
      y: number;
      activation?: FusableActivation;
      /** Units [0, pre) all finish before any unit from `pre` on starts (WasmKernel.prologueUnits). */
      pre: number;
      /** A tensor added to the output before the activation (WasmKernelArgs.residual). */
      residual?: number;
    };

/** What every worker starts with. */
export interface WorkerInit {
  memory: WasmMemory;
  /** The compiled kernels when the backend uses them. */
  module: WasmModule | null;
  /** The control block (see SLOT) and this worker's part of it. */
  control: SharedArrayBuffer;
  index: number;
  /** Job registrations in, error reports out. */
  port: MessagePort;
}

/** Int32 slots of each worker's 64-byte control line (one cache line each: no false sharing). */
export const SLOT = {
  /** Bumped by the main thread to start a job. */
  SEQ: 0,
  /** Set to SEQ by the worker when the job is done. */
  DONE: 1,
  JOB: 2,
  /** The job's units, and how many a thread takes from the shared counter at a time. */
  UNITS: 3,
  CHUNK: 4,
  SCRATCH: 5,
  /** 0 ok, 1 the job threw (the message follows on the port), 2 the worker is dead. */
  STATUS: 6,
  /** Set to 1 by the main thread to stop the worker. */
  STOP: 7,
  /** The job's shared scratch (one block every thread reads and writes; see WasmKernel.sharedBytes). */
  SHARED: 8,
} as const;
/** The settings line (after the counter's and the phase's): SETTING.SPIN is the current spin in microseconds. */
export const SETTING = { SPIN: 0 } as const;
export const LINE = 16;

/**
 * worker_threads over one shared memory: tensors are never copied, each thread writes its own
 * disjoint units of the output. The calling thread works too, so `threads` threads need
 * `threads - 1` workers.
 *
 * Dispatch is through shared memory: the main thread writes a job's id and unit count into a
 * worker's control line and bumps its sequence number (Atomics.notify wakes a sleeping worker);
 * the worker sets DONE when finished. Between jobs a worker spins for up to a millisecond
 * (`setSpin`, from policy.ts), then sleeps in Atomics.wait; so do the main thread's waits. A round trip costs microseconds instead of the
 * tens a postMessage pair costs, which is what lets small ops (a depthwise 3x3 on 28x28) use both
 * cores.
 *
 * Units are handed out dynamically: every thread takes the next chunk from one shared counter
 * (`nextChunk`) until none is left. When another process takes a core from one of the threads,
 * the others do its share instead of waiting for it.
 */
export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly ports: MessagePort[] = [];
  private readonly ctl: Int32Array;
  /** The shared unit counter of the running job: its own cache line after the workers' lines. */
  readonly counter: Int32Array;
  /** How many of the running job's prologue units are done: the line after the counter's. */
  readonly phase: Int32Array;
  /** The settings line every worker reads before each wait (SETTING). */
  private readonly settings: Int32Array;
  private spinMicros = 0;
  private seq = 0;
  private nextJob = 1;
  private active = 0;
  private failed: Error | null = null;

  constructor(readonly size: number, init: { memory: WasmMemory; module: WasmModule | null }) {
    const control = new SharedArrayBuffer((size + 3) * LINE * 4);
    this.ctl = new Int32Array(control);
    this.counter = new Int32Array(control, size * LINE * 4, 1);
    this.phase = new Int32Array(control, (size + 1) * LINE * 4, 1);
    this.settings = new Int32Array(control, (size + 2) * LINE * 4, LINE);
    const entry = new URL('./worker-entry.mjs', import.meta.url);
    for (let i = 0; i < size; i++) {
      const { port1, port2 } = new MessageChannel();
      const data: WorkerInit = { ...init, control, index: i, port: port2 };
      const w = new Worker(entry, { workerData: data, transferList: [port2] });
      w.on('error', (err) => this.fail(err));
      w.on('exit', (code) => {
        if (code !== 0 && !this.closing) this.fail(new EngineError(`CPU worker thread exited with code ${code}`));
      });
      // A worker never keeps a finished process alive: between jobs it only sleeps.
      w.unref();
      port1.unref();
      this.workers.push(w);
      this.ports.push(port1);
    }
  }

  private closing = false;

  /** The spin, in microseconds, of every thread from its next wait on (policy.ts decides it). */
  setSpin(micros: number): void {
    this.spinMicros = micros;
    Atomics.store(this.settings, SETTING.SPIN, micros);
  }

  private fail(err: Error): void {
    this.failed ??= err;
  }

  /** Makes a job known to every worker; returns its id for `start`. */
  register(spec: JobSpec): number {
    const id = this.nextJob++;
    for (const p of this.ports) p.postMessage({ id, spec });
    return id;
  }

  unregister(id: number): void {
    for (const p of this.ports) p.postMessage({ drop: id });
  }

  /**
   * Starts job `id` on `workers` workers, which take chunks of `chunk` of its `units` units from
   * the shared counter (the caller takes its own with `nextChunk`); scratch[i] is worker i's
   * scratch offset. Pair with `wait()`, which must run before the next start.
   */
  start(id: number, workers: number, units: number, chunk: number, scratch: number[], shared = 0): void {
    if (this.failed) throw this.failed;
    if (workers > this.workers.length) throw new Error(`${workers} workers wanted, ${this.workers.length} exist`);
    const seq = ++this.seq;
    Atomics.store(this.counter, 0, 0);
    Atomics.store(this.phase, 0, 0);
    for (let i = 0; i < workers; i++) {
      const o = i * LINE;
      const c = this.ctl;
      if (Atomics.load(c, o + SLOT.STATUS) === 2) throw new EngineError('a CPU worker thread died');
      c[o + SLOT.JOB] = id;
      c[o + SLOT.UNITS] = units;
      c[o + SLOT.CHUNK] = chunk;
      c[o + SLOT.SCRATCH] = scratch[i] ?? 0;
      c[o + SLOT.SHARED] = shared;
      Atomics.store(c, o + SLOT.SEQ, seq);
      Atomics.notify(c, o + SLOT.SEQ);
    }
    this.active = workers;
  }

  /** Blocks until the started workers are done; throws the first error one reported. */
  wait(): void {
    const seq = this.seq;
    let error: Error | null = null;
    for (let i = 0; i < this.active; i++) {
      const o = i * LINE;
      const c = this.ctl;
      const t0 = performance.now();
      let spins = 0;
      while (Atomics.load(c, o + SLOT.DONE) !== seq) {
        if (Atomics.load(c, o + SLOT.STATUS) === 2) throw new EngineError('a CPU worker thread died');
        if (++spins % 64 === 0 && performance.now() - t0 > this.spinMicros / 1000) {
          const done = Atomics.load(c, o + SLOT.DONE);
          if (done !== seq) Atomics.wait(c, o + SLOT.DONE, done, 100);
          if (this.failed) throw this.failed;
        }
      }
      if (Atomics.load(c, o + SLOT.STATUS) === 1) {
        Atomics.store(c, o + SLOT.STATUS, 0);
        const msg = receiveMessageOnPort(this.ports[i])?.message as { error?: string } | undefined;
        error ??= new EngineError(msg?.error ?? 'a CPU worker thread failed');
      }
    }
    this.active = 0;
    if (error) throw error;
  }

  async close(): Promise<void> {
    this.closing = true;
    for (let i = 0; i < this.workers.length; i++) {
      Atomics.store(this.ctl, i * LINE + SLOT.STOP, 1);
      Atomics.add(this.ctl, i * LINE + SLOT.SEQ, 1);
      Atomics.notify(this.ctl, i * LINE + SLOT.SEQ);
    }
    await Promise.all(this.workers.map((w) => w.terminate()));
    for (const p of this.ports) p.close();
    this.workers.length = 0;
  }
}

/**
 * The next range of units from a job's shared counter, or null when all are taken. Each thread
 * calls it until null; ranges never overlap.
 */
export function nextChunk(counter: Int32Array, units: number, chunk: number): [number, number] | null {
  const start = Atomics.add(counter, 0, chunk);
  return start < units ? [start, Math.min(units, start + chunk)] : null;
}

/**
 * One thread's share of a job: chunks from the counter until none is left. With a prologue
 * (`pre` > 0: units [0, pre) produce what the others read, such as a packed input every thread
 * shares), a thread counts the prologue units it finishes in `phase` and waits for all of them
 * before its first unit from `pre` on. Counters hand out units in order, so by then every prologue
 * unit is taken by a running thread: the wait is short and cannot deadlock. A prologue unit that
 * throws is still counted, so no thread waits forever; the job fails anyway.
 */
export function runChunks(counter: Int32Array, phase: Int32Array, units: number, chunk: number, pre: number, run: (start: number, end: number) => void): void {
  for (let r = nextChunk(counter, units, chunk); r; r = nextChunk(counter, units, chunk)) {
    const end = r[1];
    let start = r[0];
    if (start < pre) {
      const stop = Math.min(end, pre);
      try {
        run(start, stop);
      } finally {
        Atomics.add(phase, 0, stop - start);
        Atomics.notify(phase, 0);
      }
      start = stop;
    }
    if (start < end) {
      let spins = 0;
      for (let done = Atomics.load(phase, 0); done < pre; done = Atomics.load(phase, 0)) {
        if (++spins > 4096) Atomics.wait(phase, 0, done, 1);
      }
      run(start, end);
    }
  }
}

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { EngineError } from '../../errors.ts';

/** What a worker needs to run units [start, end) of one op; every array is a view on shared memory. */
export interface WorkItem {
  op: string;
  node: string;
  attrs: unknown;
  inShapes: number[][];
  outShape: number[];
  inputs: Float32Array[];
  weights: Float32Array[];
  out: Float32Array;
  seed: number;
  start: number;
  end: number;
}

interface Pending {
  resolve(): void;
  reject(err: Error): void;
}

/**
 * worker_threads over SharedArrayBuffer: tensors are never copied, each worker writes its own
 * disjoint range of the output. One outstanding item per worker at a time.
 */
export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failed: Error | null = null;

  constructor(readonly size: number = availableParallelism()) {
    const entry = new URL('./worker-entry.mjs', import.meta.url);
    for (let i = 0; i < size; i++) {
      const w = new Worker(entry);
      w.on('message', (msg: { id: number; error?: string }) => {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if (this.pending.size === 0) this.setRef(false);
        if (msg.error) p.reject(new EngineError(msg.error));
        else p.resolve();
      });
      w.on('error', (err) => this.fail(err));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new EngineError(`CPU worker thread exited with code ${code}`));
      });
      // Idle workers must not keep a finished CLI alive; busy ones must keep it waiting for them.
      w.unref();
      this.workers.push(w);
    }
  }

  private fail(err: Error): void {
    this.failed = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /** Splits [0, units) into one contiguous range per worker and waits for all of them. */
  run(item: Omit<WorkItem, 'start' | 'end'>, units: number): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const parts = Math.min(units, this.workers.length);
    this.setRef(true);
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < parts; i++) {
      const start = Math.floor((units * i) / parts);
      const end = Math.floor((units * (i + 1)) / parts);
      const id = this.nextId++;
      jobs.push(
        new Promise<void>((resolve, reject) => {
          this.pending.set(id, { resolve, reject });
          this.workers[i].postMessage({ id, item: { ...item, start, end } });
        }),
      );
    }
    return Promise.all(jobs).then(() => undefined);
  }

  private setRef(on: boolean): void {
    for (const w of this.workers) {
      if (on) w.ref();
      else w.unref();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}

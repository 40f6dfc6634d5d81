import type { Backend } from './backends/types.ts';
import { CancelledError, SpecError } from './errors.ts';
import type { Plan } from './graph/plan.ts';
import { makeInput, makeWeights } from './weights.ts';

export interface ProgressEvent {
  phase: 'prepare' | 'warmup' | 'measure';
  /** Runs finished in this phase. */
  done: number;
  total: number;
}

export interface ProfileOptions {
  warmup?: number;
  repeat?: number;
  signal?: AbortSignal;
  onProgress?(event: ProgressEvent): void;
  /** The model input; defaults to the one the seed implies. */
  input?: Float32Array;
}

export interface ProfileResult {
  /** Per node (plan order), one time in ms per measured run. */
  nodeTimes: number[][];
  /** End-to-end forward time of each measured run, ms. */
  e2eTimes: number[];
  /** The first forward run (buffer placement, JIT, pipeline compilation), ms. */
  firstRunMs: number;
  output: Float32Array;
  warmup: number;
  repeat: number;
}

/**
 * Runs the plan on a backend: one first run (reported apart: it pays one-off costs), `warmup`
 * more unmeasured runs, then `repeat` measured runs with every op timed. Cancellable between ops.
 */
export async function profilePlan(plan: Plan, backend: Backend, options: ProfileOptions = {}): Promise<ProfileResult> {
  const warmup = options.warmup ?? 1;
  const repeat = options.repeat ?? 5;
  if (!Number.isInteger(warmup) || warmup < 0) throw new SpecError(`--warmup must be an integer >= 0, got ${warmup}`, undefined, 'warmup');
  if (!Number.isInteger(repeat) || repeat < 1) throw new SpecError(`--repeat must be an integer >= 1, got ${repeat}`, undefined, 'repeat');
  const { signal, onProgress } = options;
  const check = () => {
    if (signal?.aborted) throw new CancelledError();
  };
  onProgress?.({ phase: 'prepare', done: 0, total: 1 });
  const model = await backend.prepare(plan, makeWeights(plan));
  try {
    const input = options.input ?? makeInput(plan.seed, plan.inputShape);
    check();
    let t0 = performance.now();
    let output = await model.forward(input, { signal });
    const firstRunMs = performance.now() - t0;
    onProgress?.({ phase: 'prepare', done: 1, total: 1 });
    for (let i = 0; i < warmup; i++) {
      check();
      await model.forward(input, { signal });
      onProgress?.({ phase: 'warmup', done: i + 1, total: warmup });
    }
    const nodeTimes = plan.nodes.map(() => [] as number[]);
    const e2eTimes: number[] = [];
    for (let r = 0; r < repeat; r++) {
      check();
      t0 = performance.now();
      output = await model.forward(input, { signal, onNode: (i, _node, ms) => nodeTimes[i].push(ms) });
      e2eTimes.push(performance.now() - t0);
      onProgress?.({ phase: 'measure', done: r + 1, total: repeat });
    }
    return { nodeTimes, e2eTimes, firstRunMs, output, warmup, repeat };
  } finally {
    await model.dispose();
  }
}

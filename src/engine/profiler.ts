import type { Backend } from './backends/types.ts';
import { CancelledError, SpecError } from './errors.ts';
import type { Plan } from './graph/plan.ts';
import { numel, shapeText } from './tensor.ts';
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
  /** false: no batch-norm folding or fused activations, every op timed on its own (PrepareOptions). */
  fuse?: boolean;
}

export interface ProfileResult {
  /** Per node (plan order), one time in ms per measured run. */
  nodeTimes: number[][];
  /** End-to-end forward time of each measured run, ms. */
  e2eTimes: number[];
  /** The first forward run (JIT warm-up, first-use caches; buffers and pipelines are made in the untimed prepare()), ms. */
  firstRunMs: number;
  output: Float32Array;
  warmup: number;
  repeat: number;
  /** Ops the backend ran inside another op's kernel: op id -> that op's id (see LayerRow.fused_into). */
  fusedInto?: Record<string, string>;
  /** Set when this model was timed differently from the backend's usual method (see PreparedModel.timing). */
  timing?: string;
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
  // A short input would leave stale values in the backend's input buffer instead of failing.
  if (options.input) checkInputLength(plan, options.input);
  const { signal, onProgress } = options;
  const check = () => {
    if (signal?.aborted) throw new CancelledError();
  };
  onProgress?.({ phase: 'prepare', done: 0, total: 1 });
  const model = await backend.prepare(plan, makeWeights(plan), { fuse: options.fuse });
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
    const fusedInto = model.fusedInto?.size ? Object.fromEntries(model.fusedInto) : undefined;
    return { nodeTimes, e2eTimes, firstRunMs, output, warmup, repeat, ...(fusedInto ? { fusedInto } : {}), ...(model.timing ? { timing: model.timing } : {}) };
  } finally {
    await model.dispose();
  }
}

/** One forward pass, nothing timed: what `convscope run` does. */
export async function forwardOnce(plan: Plan, backend: Backend, input?: Float32Array): Promise<Float32Array> {
  const x = input ?? makeInput(plan.seed, plan.inputShape);
  checkInputLength(plan, x);
  const model = await backend.prepare(plan, makeWeights(plan));
  try {
    return await model.forward(x);
  } finally {
    await model.dispose();
  }
}

function checkInputLength(plan: Plan, input: Float32Array): void {
  if (input.length !== numel(plan.inputShape)) {
    throw new SpecError(`the input has ${input.length} values; the model takes ${shapeText(plan.inputShape)} = ${numel(plan.inputShape)}`, undefined, 'input');
  }
}

/**
 * A small model that still has a bit of everything a report shows: a convolution big enough to
 * go through the CPU worker pool, a block (SE) whose ops group under one layer, BN buffers, a
 * zero-FLOP op (flatten) and a classifier. Runs in milliseconds.
 */
import { runNodeInline } from '../../src/engine/backends/cpu/reference.ts';
import { headAsRun, planSteps } from '../../src/engine/graph/fuse.ts';
import { INPUT, type Plan } from '../../src/engine/graph/plan.ts';
import { makeInput, makeWeights } from '../../src/engine/weights.ts';
import type { ModelSpec } from '../../src/shared/spec.ts';

export function smallSpec(): ModelSpec {
  return {
    format: 'convscope/v1',
    name: 'small test net',
    input: { shape: [1, 3, 32, 32] },
    seed: 11,
    layers: [
      { id: 'c1', op: 'conv2d', params: { out_channels: 16, kernel: 3, padding: 1 } },
      { id: 'bn', op: 'batch_norm' },
      { id: 'r1', op: 'relu' },
      { id: 'se', block: 'se', params: { reduction: 4 } },
      { id: 'p', op: 'max_pool2d', params: { kernel: 2 } },
      { id: 'gap', op: 'global_avg_pool' },
      { id: 'f', op: 'flatten' },
      { id: 'fc', op: 'linear', params: { out_features: 10 } },
    ],
  } as ModelSpec;
}

/**
 * The model's forward pass on the calling thread, one op after another through runNodeInline,
 * with each batch norm folded into the conv2d / linear before it as every backend does
 * (graph/fuse.ts): the reference the CPU backend's TypeScript kernels and the CLI must reproduce
 * bit for bit.
 */
export function referenceForward(plan: Plan, input: Float32Array = makeInput(plan.seed, plan.inputShape)): Float32Array {
  const weights = makeWeights(plan);
  const values = new Map<string, Float32Array>([[INPUT, input]]);
  for (const step of planSteps(plan, { fusesActivation: () => false }).steps) {
    const run = headAsRun(step, weights);
    values.set(step.output, runNodeInline(run.node, step.inputs.map((r) => values.get(r)!), run.weights, plan.seed));
  }
  return values.get(plan.output)!;
}

/** Index of the first differing element (comparing bit patterns, so -0 vs 0 and NaNs count), or -1. */
export function firstBitDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

import { elementwiseCounts } from '../common.ts';
import type { OpDef } from '../types.ts';
import { numel } from '../../tensor.ts';
import { sigmoidWgsl } from './wgsl.ts';

const CHUNK = 65536;

/** Logistic function (SE gates); any rank. */
export const sigmoid: OpDef<{ size: number }> = {
  type: 'sigmoid',
  category: 'activation',
  summary: '1 / (1 + exp(-x)) per element: counted as 1 FLOP per element, no params.',
  arity: [1, 1],
  resolve(_p, [input]) {
    return { attrs: { size: numel(input) }, output: [...input], weights: [], counts: elementwiseCounts(input, 1, '1 / (1 + exp(-x))') };
  },
  cpu: {
    units: ({ attrs }) => Math.ceil(attrs.size / CHUNK),
    run({ inputs: [x], out }, start, end) {
      const hi = Math.min(end * CHUNK, x.length);
      // exp(-x) overflows to Infinity for x < -709 (in float64), giving exactly 0, which is right.
      for (let i = start * CHUNK; i < hi; i++) out[i] = 1 / (1 + Math.exp(-x[i]));
    },
  },
  webgpu: sigmoidWgsl,
};

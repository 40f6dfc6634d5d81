import { elementwiseCounts } from '../common.ts';
import type { OpDef } from '../types.ts';
import { reluWgsl } from './wgsl.ts';

export const relu: OpDef<{ size: number }> = {
  type: 'relu',
  category: 'activation',
  summary: 'max(x, 0) per element: 1 FLOP per element, no params.',
  arity: [1, 1],
  resolve(_p, [input]) {
    const size = input.reduce((a, b) => a * b, 1);
    return { attrs: { size }, output: [...input], weights: [], counts: elementwiseCounts(input, 1, 'max(x, 0)') };
  },
  cpu: {
    units: ({ attrs }) => Math.ceil(attrs.size / 65536),
    run({ inputs: [x], out }, start, end) {
      const hi = Math.min(end * 65536, x.length);
      for (let i = start * 65536; i < hi; i++) out[i] = x[i] > 0 ? x[i] : 0;
    },
  },
  webgpu: reluWgsl,
};

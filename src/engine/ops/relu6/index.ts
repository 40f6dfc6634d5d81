import { elementwiseCounts } from '../common.ts';
import type { OpDef } from '../types.ts';
import { numel } from '../../tensor.ts';
import { relu6Wgsl } from './wgsl.ts';

const CHUNK = 65536;

/** MobileNet's clipped ReLU; any rank. */
export const relu6: OpDef<{ size: number }> = {
  type: 'relu6',
  category: 'activation',
  summary: 'min(max(x, 0), 6) per element: 1 FLOP per element, no params.',
  arity: [1, 1],
  resolve(_p, [input]) {
    return { attrs: { size: numel(input) }, output: [...input], weights: [], counts: elementwiseCounts(input, 1, 'min(max(x, 0), 6)') };
  },
  cpu: {
    units: ({ attrs }) => Math.ceil(attrs.size / CHUNK),
    run({ inputs: [x], out }, start, end) {
      const hi = Math.min(end * CHUNK, x.length);
      // Math.min/max keep NaN (as torch.clamp does) and avoid a data-dependent branch.
      for (let i = start * CHUNK; i < hi; i++) out[i] = Math.min(Math.max(x[i], 0), 6);
    },
  },
  webgpu: relu6Wgsl,
};

import { numel, shapeText } from '../../tensor.ts';
import type { OpDef } from '../types.ts';
import { flattenWgsl } from './wgsl.ts';

const CHUNK = 65536;

/** torch.flatten(x, start_dim, end_dim): merges dims start..end (inclusive, negatives from the end). */
export const flatten: OpDef<{ size: number }> = {
  type: 'flatten',
  category: 'structure',
  summary: 'Merges a range of dims into one (e.g. [N, C, H, W] -> [N, C*H*W]): 0 FLOPs, no params; copies its input.',
  arity: [1, 1],
  resolve(p, [input]) {
    const rank = input.length;
    const dim = (name: string, dflt: number) => {
      const d = p.int(name, { default: dflt, min: -rank, max: rank - 1 });
      return d < 0 ? d + rank : d;
    };
    const start = dim('start_dim', 1);
    const end = dim('end_dim', -1);
    if (start > end) {
      p.fail('start_dim', `(dim ${start}) comes after end_dim (dim ${end}) for the ${rank}-D input ${shapeText(input)}; start_dim must not exceed end_dim`);
    }
    const output = [...input.slice(0, start), numel(input.slice(start, end + 1)), ...input.slice(end + 1)];
    return {
      attrs: { size: numel(input) },
      output,
      weights: [],
      counts: { macs: 0, flops: 0, formula: 'FLOPs = 0 (a reshape; the copy moves bytes only)' },
    };
  },
  cpu: {
    units: ({ attrs }) => Math.ceil(attrs.size / CHUNK),
    run({ inputs: [x], out }, start, end) {
      out.set(x.subarray(start * CHUNK, Math.min(end * CHUNK, x.length)), start * CHUNK);
    },
  },
  webgpu: flattenWgsl,
};

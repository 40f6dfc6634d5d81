import { numel } from '../../tensor.ts';
import type { OpDef } from '../types.ts';
import { dropoutWgsl } from './wgsl.ts';

const CHUNK = 65536;

/** Identity at inference (PyTorch eval mode); p is kept so specs and ONNX round-trip it. */
export const dropout: OpDef<{ size: number; p: number }> = {
  type: 'dropout',
  category: 'structure',
  summary: 'Identity at inference: 0 FLOPs, no params; copies its input.',
  arity: [1, 1],
  resolve(p, [input]) {
    const prob = p.number('p', { default: 0.5, min: 0 });
    if (prob >= 1) p.fail('p', `must be in [0, 1), got ${prob} (p = 1 would drop everything while training)`);
    return {
      attrs: { size: numel(input), p: prob },
      output: [...input],
      weights: [],
      counts: { macs: 0, flops: 0, formula: 'FLOPs = 0 (identity at inference; the copy moves bytes only)' },
    };
  },
  cpu: {
    units: ({ attrs }) => Math.ceil(attrs.size / CHUNK),
    run({ inputs: [x], out }, start, end) {
      out.set(x.subarray(start * CHUNK, Math.min(end * CHUNK, x.length)), start * CHUNK);
    },
  },
  webgpu: dropoutWgsl,
};

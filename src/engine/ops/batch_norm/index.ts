import { fmt } from '../common.ts';
import { shapeText } from '../../tensor.ts';
import type { OpDef } from '../types.ts';
import { batchNormWgsl } from './wgsl.ts';

export interface BatchNormAttrs {
  n: number;
  c: number;
  /** Elements per (n, c): H * W for NCHW, 1 for [N, C]. */
  spatial: number;
  eps: number;
}

/**
 * The per-channel scale and shift inference BN folds into, in float64 from its weights (gamma,
 * beta, running mean, running variance): y = x * scale + shift.
 */
export function batchNormScaleShift(c: number, eps: number, [gamma, beta, mean, variance]: Float32Array[]): { scale: Float64Array; shift: Float64Array } {
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    scale[ch] = gamma[ch] / Math.sqrt(variance[ch] + eps);
    shift[ch] = beta[ch] - mean[ch] * scale[ch];
  }
  return { scale, shift };
}

/**
 * Inference-mode batch normalisation over channel axis 1, using the running statistics:
 * y = gamma * (x - mean) / sqrt(var + eps) + beta, folded per channel into y = x * scale + shift.
 */
export const batchNorm: OpDef<BatchNormAttrs> = {
  type: 'batch_norm',
  category: 'normalization',
  summary: 'Inference BN, folded into a per-channel scale and shift: 2 FLOPs per element; 2*C params + 2*C buffers.',
  arity: [1, 1],
  resolve(p, [input]) {
    if (input.length !== 2 && input.length !== 4) {
      p.error(`expects a 4-D NCHW or a 2-D [N, C] input, got ${shapeText(input)}`);
    }
    const eps = p.number('eps', { default: 1e-5, exclusiveMin: 0 });
    const [n, c] = input;
    const spatial = input.length === 4 ? input[2] * input[3] : 1;
    const elements = n * c * spatial;
    return {
      attrs: { n, c, spatial, eps },
      output: [...input],
      weights: [
        { name: 'weight', shape: [c], role: 'param', init: { kind: 'range', lo: 0.5, hi: 1.5 } },
        { name: 'bias', shape: [c], role: 'param', init: { kind: 'range', lo: -0.1, hi: 0.1 } },
        { name: 'running_mean', shape: [c], role: 'buffer', init: { kind: 'range', lo: -0.1, hi: 0.1 } },
        { name: 'running_var', shape: [c], role: 'buffer', init: { kind: 'range', lo: 0.5, hi: 1.5 } },
      ],
      counts: {
        macs: 0,
        flops: 2 * elements,
        formula: `FLOPs = 2 * ${fmt(elements)} elements (folded scale and shift: 1 multiply + 1 add each)`,
      },
    };
  },
  cpu: {
    // One unit per (n, c) plane: the pool hands each thread a contiguous range of them, so even
    // [N, C] inputs (one element per plane) cost no more than one hand-off per thread.
    units: ({ attrs }) => attrs.n * attrs.c,
    run({ inputs: [x], weights, out, attrs }, start, end) {
      const { c, spatial, eps } = attrs;
      const { scale, shift } = batchNormScaleShift(c, eps, weights);
      for (let plane = start, ch = start % c; plane < end; plane++, ch = ch + 1 === c ? 0 : ch + 1) {
        const k = scale[ch];
        const b = shift[ch];
        const hi = (plane + 1) * spatial;
        for (let i = plane * spatial; i < hi; i++) out[i] = x[i] * k + b;
      }
    },
  },
  webgpu: batchNormWgsl,
};

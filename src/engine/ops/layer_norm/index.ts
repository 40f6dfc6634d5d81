import { numel, shapeText } from '../../tensor.ts';
import { fmt, intList } from '../common.ts';
import type { OpDef, WeightDecl } from '../types.ts';
import { layerNormWgsl } from './wgsl.ts';

export interface LayerNormAttrs {
  /** Rows: the product of the dims before the normalised ones. */
  outer: number;
  /** Elements normalised together: the product of the normalised dims. */
  inner: number;
  eps: number;
  weight: boolean;
  bias: boolean;
}

/** Rows per CPU work unit: about 64 Ki elements. */
export const rowsPerUnit = (a: LayerNormAttrs) => Math.max(1, Math.floor(65536 / a.inner));

/**
 * PyTorch nn.LayerNorm / ONNX LayerNormalization: each row of the last K dims normalised to mean
 * 0 and variance 1 (biased, as both compute it), then scaled by `weight` and shifted by `bias`
 * (each of the normalised shape). The dims are `normalized_shape` (PyTorch: the trailing dims'
 * sizes) or `axis` (ONNX: the first normalised dim, negative from the end); default the last dim.
 * FLOPs per element: mean 1 (the sum), variance 3 (subtract, square, sum), normalise 2
 * (subtract, multiply by 1 / sqrt(var + eps)), weight 1, bias 1; the per-row sqrt and divides
 * are not counted.
 */
export const layerNorm: OpDef<LayerNormAttrs> = {
  type: 'layer_norm',
  category: 'normalization',
  summary: 'Normalises each row of the last dims to mean 0, variance 1, then weight and bias per element of the row: 8 FLOPs per element.',
  arity: [1, 1],
  resolve(p, [input]) {
    const rank = input.length;
    const shape = intList(p, 'normalized_shape', { min: 1, nonEmpty: true });
    const axisGiven = p.has('axis');
    const axisRaw = p.int('axis', { default: -1, min: -rank, max: rank - 1 });
    let axis = axisRaw < 0 ? axisRaw + rank : axisRaw;
    if (shape) {
      const from = rank - shape.length;
      if (from < 0 || shape.some((d, i) => d !== input[from + i])) {
        p.fail('normalized_shape', `${shapeText(shape)} must be the trailing dims of the input ${shapeText(input)}`);
      }
      if (axisGiven && axis !== from) p.error(`normalized_shape ${shapeText(shape)} starts at dim ${from}, axis says ${axisRaw}; give one of them`, 'axis');
      axis = from;
    }
    const eps = p.number('eps', { default: 1e-5, exclusiveMin: 0 });
    const affine = p.bool('elementwise_affine', true);
    const bias = p.bool('bias', true) && affine;
    const normalized = input.slice(axis);
    const outer = numel(input.slice(0, axis));
    const inner = numel(normalized);
    const weights: WeightDecl[] = affine
      ? [
          { name: 'weight', shape: normalized, role: 'param', init: { kind: 'range', lo: 0.5, hi: 1.5 } },
          ...(bias ? [{ name: 'bias', shape: normalized, role: 'param' as const, init: { kind: 'range' as const, lo: -0.1, hi: 0.1 } }] : []),
        ]
      : [];
    const per = 6 + (affine ? 1 : 0) + (bias ? 1 : 0);
    const n = outer * inner;
    const parts = `mean 1, variance 3, normalise 2${affine ? ', weight 1' : ''}${bias ? ', bias 1' : ''}`;
    return {
      attrs: { outer, inner, eps, weight: affine, bias },
      output: [...input],
      weights,
      counts: { macs: 0, flops: per * n, formula: `FLOPs = ${per} * ${fmt(n)} elements (${fmt(outer)} rows of ${fmt(inner)}: ${parts})` },
    };
  },
  cpu: {
    units: ({ attrs }) => Math.ceil(attrs.outer / rowsPerUnit(attrs)),
    run({ inputs: [x], weights: [gamma, beta], out, attrs: a }, start, end) {
      const per = rowsPerUnit(a);
      const hi = Math.min(end * per, a.outer);
      const L = a.inner;
      for (let r = start * per; r < hi; r++) {
        const o = r * L;
        let sum = 0;
        for (let i = 0; i < L; i++) sum += x[o + i];
        const mean = sum / L;
        let sq = 0;
        for (let i = 0; i < L; i++) {
          const d = x[o + i] - mean;
          sq += d * d;
        }
        const rstd = 1 / Math.sqrt(sq / L + a.eps);
        for (let i = 0; i < L; i++) {
          const v = (x[o + i] - mean) * rstd;
          out[o + i] = (a.weight ? v * gamma[i] : v) + (a.bias ? beta[i] : 0);
        }
      }
    },
  },
  webgpu: layerNormWgsl,
};

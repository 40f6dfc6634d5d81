import { fmt } from '../common.ts';
import { numel, shapeText } from '../../tensor.ts';
import type { CpuKernel, OpDef } from '../types.ts';
import { lrnWgsl } from './wgsl.ts';

export interface LrnAttrs {
  n: number;
  c: number;
  /** Elements per channel (H * W for NCHW). */
  spatial: number;
  size: number;
  alpha: number;
  beta: number;
  k: number;
}

/** Spatial positions per work unit: the running window sums for one chunk stay in L1. */
const CHUNK = 1024;

/**
 * Local response normalisation across channels (AlexNet, PyTorch LocalResponseNorm):
 * b_c = a_c / (k + alpha/size * sum_{c'} a_c'^2)^beta over channels
 * c' in [c - floor(size/2), c + floor((size-1)/2)], clipped to the valid channels. That is
 * PyTorch's window; ONNX LRN puts the extra channel of an even size after c instead of before
 * (the two agree for odd sizes, AlexNet's 5 included), and onnxruntime refuses even sizes.
 */
export const lrn: OpDef<LrnAttrs> = {
  type: 'lrn',
  category: 'normalization',
  summary: 'Normalises each value by the energy of `size` neighbouring channels: 2*size+4 FLOPs per element, no params.',
  arity: [1, 1],
  resolve(p, [input]) {
    if (input.length < 3) p.error(`expects an input of rank 3 or more with channels on axis 1 (NCHW), got ${shapeText(input)}`);
    const size = p.int('size', { min: 1 });
    const alpha = p.number('alpha', { default: 1e-4 });
    const beta = p.number('beta', { default: 0.75 });
    const k = p.number('k', { default: 1.0 });
    const [n, c] = input;
    const elements = numel(input);
    const per = 2 * size + 4;
    const flops = per * elements;
    return {
      attrs: { n, c, spatial: elements / (n * c), size, alpha, beta, k },
      output: [...input],
      weights: [],
      counts: {
        macs: 0,
        flops,
        formula:
          `FLOPs = (2*size + 4) * elements = (2*${size} + 4) * ${fmt(elements)} = ${fmt(flops)} ` +
          `(per element: size squares + size adds over the channel window, counted whole at the edges; alpha/size scale, +k, pow, divide)`,
      },
    };
  },
  cpu: lrnCpu(),
  webgpu: lrnWgsl,
};

function lrnCpu(): CpuKernel<LrnAttrs> {
  const chunks = (a: LrnAttrs) => Math.ceil(a.spatial / CHUNK);
  const sum = new Float64Array(CHUNK);
  return {
    units: ({ attrs }) => attrs.n * chunks(attrs),
    run({ inputs: [x], out, attrs: a }, start, end) {
      const { c, spatial, size, beta, k } = a;
      const scale = a.alpha / size;
      const before = Math.floor(size / 2);
      const after = Math.floor((size - 1) / 2);
      const perN = chunks(a);
      for (let u = start; u < end; u++) {
        const n = Math.floor(u / perN);
        const s0 = (u % perN) * CHUNK;
        const len = Math.min(CHUNK, spatial - s0);
        const base = n * c * spatial + s0;
        for (let ch = 0; ch < c; ch++) {
          sum.fill(0, 0, len);
          const lo = Math.max(0, ch - before);
          const hi = Math.min(c - 1, ch + after);
          for (let cc = lo; cc <= hi; cc++) {
            const off = base + cc * spatial;
            for (let j = 0; j < len; j++) {
              const v = x[off + j];
              sum[j] += v * v;
            }
          }
          const off = base + ch * spatial;
          // Math.pow costs about ten times two square roots; 0.75 (AlexNet, PyTorch's default)
          // and 0.5 get the square-root forms.
          if (beta === 0.75) {
            for (let j = 0; j < len; j++) {
              const r = Math.sqrt(k + scale * sum[j]);
              out[off + j] = x[off + j] / (r * Math.sqrt(r));
            }
          } else if (beta === 0.5) {
            for (let j = 0; j < len; j++) out[off + j] = x[off + j] / Math.sqrt(k + scale * sum[j]);
          } else {
            for (let j = 0; j < len; j++) out[off + j] = x[off + j] / Math.pow(k + scale * sum[j], beta);
          }
        }
      }
    },
  };
}

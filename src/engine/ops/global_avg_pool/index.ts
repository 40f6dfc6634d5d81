import { fmt, nchw } from '../common.ts';
import type { OpDef } from '../types.ts';
import { globalPoolWgsl } from './wgsl.ts';

export interface GlobalPoolAttrs {
  n: number;
  c: number;
  /** H * W: the elements reduced into one output. */
  size: number;
}

/** Mean over each whole (n, c) plane: NCHW -> [N, C, 1, 1] (SE squeeze, classifier heads). */
export const globalAvgPool: OpDef<GlobalPoolAttrs> = {
  type: 'global_avg_pool',
  category: 'pooling',
  summary: 'Mean of each channel plane to one value: 1 FLOP per input element, no params.',
  arity: [1, 1],
  resolve(p, [input]) {
    const [n, c, h, w] = nchw(p, input);
    const flops = n * c * h * w;
    return {
      attrs: { n, c, size: h * w },
      output: [n, c, 1, 1],
      weights: [],
      counts: { macs: 0, flops, formula: `FLOPs = N*C*H*W = ${n}*${c}*${h}*${w} = ${fmt(flops)} (H*W-1 adds + 1 divide per plane)` },
    };
  },
  cpu: {
    units: ({ attrs }) => attrs.n * attrs.c,
    run({ inputs: [x], out, attrs }, start, end) {
      const size = attrs.size;
      for (let u = start; u < end; u++) {
        let s = 0;
        const hi = (u + 1) * size;
        for (let i = u * size; i < hi; i++) s += x[i];
        out[u] = s / size;
      }
    },
  },
  webgpu: globalPoolWgsl('avg'),
};

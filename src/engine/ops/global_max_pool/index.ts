import { fmt, nchw } from '../common.ts';
import type { GlobalPoolAttrs } from '../global_avg_pool/index.ts';
import type { OpDef } from '../types.ts';
import { globalMaxPoolWgsl } from './wgsl.ts';

/** Largest value of each whole (n, c) plane: NCHW -> [N, C, 1, 1]. */
export const globalMaxPool: OpDef<GlobalPoolAttrs> = {
  type: 'global_max_pool',
  category: 'pooling',
  summary: 'Largest value of each channel plane: 1 FLOP (compare) per input element, no params.',
  arity: [1, 1],
  resolve(p, [input]) {
    const [n, c, h, w] = nchw(p, input);
    const flops = n * c * h * w;
    return {
      attrs: { n, c, size: h * w },
      output: [n, c, 1, 1],
      weights: [],
      counts: { macs: 0, flops, formula: `FLOPs = N*C*H*W = ${n}*${c}*${h}*${w} = ${fmt(flops)} (one compare per input element)` },
    };
  },
  cpu: {
    units: ({ attrs }) => attrs.n * attrs.c,
    run({ inputs: [x], out, attrs }, start, end) {
      const size = attrs.size;
      for (let u = start; u < end; u++) {
        let m = -Infinity;
        const hi = (u + 1) * size;
        // NaN propagates, as in PyTorch's max.
        for (let i = u * size; i < hi; i++) if (x[i] > m || x[i] !== x[i]) m = x[i];
        out[u] = m;
      }
    },
  },
  webgpu: globalMaxPoolWgsl,
};

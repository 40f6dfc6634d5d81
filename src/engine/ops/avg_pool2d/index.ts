import { planes, resolvePool2d, windowWork, type Pool2dAttrs } from '../pool2d.ts';
import type { KernelArgs, OpDef } from '../types.ts';
import { avgPool2dWgsl } from './wgsl.ts';

export interface AvgPool2dAttrs extends Pool2dAttrs {
  countIncludePad: boolean;
}

/**
 * PyTorch AvgPool2d. The divisor is the window clipped to input + padding (so a ceil_mode window
 * hanging off the end averages only what it covers), or with count_include_pad=false the window
 * clipped to the input alone.
 */
export const avgPool2d: OpDef<AvgPool2dAttrs> = {
  type: 'avg_pool2d',
  category: 'pooling',
  summary: 'Mean of each window: 1 FLOP per window element (kh*kw-1 adds + 1 divide), no params, no MACs.',
  arity: [1, 1],
  resolve(p, [input]) {
    const base = resolvePool2d(p, input, { dilation: false, ceilMode: true });
    const countIncludePad = p.bool('count_include_pad', true);
    const attrs = { ...base, countIncludePad };
    const work = windowWork(attrs);
    return {
      attrs,
      output: [attrs.n, attrs.c, attrs.ho, attrs.wo],
      weights: [],
      counts: {
        macs: 0,
        flops: work.outputs * work.perOutput,
        formula: `FLOPs = ${work.text} (kh*kw-1 adds + 1 divide per output)`,
      },
    };
  },
  cpu: { units: planes, run: avgPool },
  webgpu: avgPool2dWgsl,
};

function avgPool(args: KernelArgs<AvgPool2dAttrs>, start: number, end: number): void {
  const a = args.attrs;
  const x = args.inputs[0];
  const out = args.out;
  const [kh, kw] = a.kernel;
  const [sh, sw] = a.stride;
  const [pt, pl, pb, pr] = a.pads;
  const { h, w, ho, wo } = a;
  for (let u = start; u < end; u++) {
    const plane = u * h * w;
    let o = u * ho * wo;
    for (let oy = 0; oy < ho; oy++) {
      const ys = oy * sh - pt;
      const yePadded = Math.min(ys + kh, h + pb);
      const y0 = Math.max(ys, 0);
      const y1 = Math.min(yePadded, h);
      for (let ox = 0; ox < wo; ox++, o++) {
        const xs = ox * sw - pl;
        const xePadded = Math.min(xs + kw, w + pr);
        const x0 = Math.max(xs, 0);
        const x1 = Math.min(xePadded, w);
        let s = 0;
        for (let iy = y0; iy < y1; iy++) {
          const row = plane + iy * w;
          for (let ix = x0; ix < x1; ix++) s += x[row + ix];
        }
        const count = a.countIncludePad ? (yePadded - ys) * (xePadded - xs) : (y1 - y0) * (x1 - x0);
        out[o] = s / count;
      }
    }
  }
}

import { mulberry32 } from '../../rng.ts';
import { planes } from '../pool2d.ts';
import type { CpuKernel, KernelArgs } from '../types.ts';
import type { StochasticPool2dAttrs } from './index.ts';

/** mulberry32's state increment: seeding at seed + i * STEP lands on draw i of the stream at seed. */
const STEP = 0x6d2b79f5;

/**
 * One unit per (n, c) plane. Output element i (flat NCHW index) uses draw i of the mulberry32
 * stream seeded with the op's seed; a unit jumps straight to its first draw, so the result does
 * not depend on how units are split across threads, and another backend can compute draw i
 * directly as mulberry32(seed + i * STEP)(). Every output consumes its draw, even an all-zero
 * window, to keep that correspondence.
 */
export const stochasticPoolCpu: CpuKernel<StochasticPool2dAttrs> = {
  units: planes,
  run(args, start, end) {
    if (args.attrs.training) sample(args, start, end);
    else weightedMean(args, start, end);
  },
};

function weightedMean(args: KernelArgs<StochasticPool2dAttrs>, start: number, end: number): void {
  const a = args.attrs;
  const x = args.inputs[0];
  const out = args.out;
  const [kh, kw] = a.kernel;
  const [sh, sw] = a.stride;
  const [pt, pl] = a.pads;
  const { h, w, ho, wo } = a;
  for (let u = start; u < end; u++) {
    const plane = u * h * w;
    let o = u * ho * wo;
    for (let oy = 0; oy < ho; oy++) {
      const y0 = Math.max(oy * sh - pt, 0);
      const y1 = Math.min(oy * sh - pt + kh, h);
      for (let ox = 0; ox < wo; ox++, o++) {
        const x0 = Math.max(ox * sw - pl, 0);
        const x1 = Math.min(ox * sw - pl + kw, w);
        let s = 0;
        let s2 = 0;
        for (let iy = y0; iy < y1; iy++) {
          const row = plane + iy * w;
          for (let ix = x0; ix < x1; ix++) {
            const v = x[row + ix];
            if (v > 0) {
              s += v;
              s2 += v * v;
            }
          }
        }
        out[o] = s > 0 ? s2 / s : 0;
      }
    }
  }
}

function sample(args: KernelArgs<StochasticPool2dAttrs>, start: number, end: number): void {
  const a = args.attrs;
  const x = args.inputs[0];
  const out = args.out;
  const [kh, kw] = a.kernel;
  const [sh, sw] = a.stride;
  const [pt, pl] = a.pads;
  const { h, w, ho, wo } = a;
  for (let u = start; u < end; u++) {
    const plane = u * h * w;
    let o = u * ho * wo;
    const next = mulberry32((args.seed + Math.imul(o, STEP)) >>> 0);
    for (let oy = 0; oy < ho; oy++) {
      const y0 = Math.max(oy * sh - pt, 0);
      const y1 = Math.min(oy * sh - pt + kh, h);
      for (let ox = 0; ox < wo; ox++, o++) {
        const x0 = Math.max(ox * sw - pl, 0);
        const x1 = Math.min(ox * sw - pl + kw, w);
        let s = 0;
        for (let iy = y0; iy < y1; iy++) {
          const row = plane + iy * w;
          for (let ix = x0; ix < x1; ix++) {
            const v = x[row + ix];
            if (v > 0) s += v;
          }
        }
        const r = next() * s;
        if (!(s > 0)) {
          out[o] = 0;
          continue;
        }
        // Walk the cumulative sum to the draw; rounding can leave r at or past the final sum, in
        // which case the last positive element (the one that owns the top of the range) wins.
        let cum = 0;
        let picked = 0;
        search: for (let iy = y0; iy < y1; iy++) {
          const row = plane + iy * w;
          for (let ix = x0; ix < x1; ix++) {
            const v = x[row + ix];
            if (v > 0) {
              picked = v;
              cum += v;
              if (r < cum) break search;
            }
          }
        }
        out[o] = picked;
      }
    }
  }
}

import { gemmTile } from '../../kernels/gemm.ts';
import type { CpuKernel, KernelArgs } from '../types.ts';
import type { Conv2dAttrs } from './index.ts';

/** Output positions per im2col tile: keeps the K x T column tile around 128 KiB, inside L2. */
function tileColumns(a: Conv2dAttrs): number {
  const k = (a.cin / a.groups) * a.kernel[0] * a.kernel[1];
  return Math.max(16, Math.min(512, Math.floor(32768 / k / 4) * 4));
}

function isDepthwise(a: Conv2dAttrs): boolean {
  return a.cin / a.groups === 1;
}

/** 1x1, stride 1, no padding: the input plane already is the im2col matrix. */
function isPointwise(a: Conv2dAttrs): boolean {
  return a.kernel[0] === 1 && a.kernel[1] === 1 && a.stride[0] === 1 && a.stride[1] === 1 && a.pads.every((x) => x === 0);
}

let scratch = new Float32Array(0);
function scratchOf(size: number): Float32Array {
  if (scratch.length < size) scratch = new Float32Array(size);
  return scratch;
}

/**
 * Units: depthwise runs one output channel per unit (direct loops: im2col would cost as much as
 * the arithmetic); everything else runs one (batch, group, tile of output positions) per unit as
 * im2col of that tile + a register-tiled GEMM, so no full-size im2col buffer ever exists.
 */
export const conv2dCpu: CpuKernel<Conv2dAttrs> = {
  units({ attrs: a }) {
    if (isDepthwise(a)) return a.n * a.cout;
    return a.n * a.groups * Math.ceil((a.ho * a.wo) / tileColumns(a));
  },
  run(args, start, end) {
    if (isDepthwise(args.attrs)) depthwise(args, start, end);
    else tiled(args, start, end);
  },
};

function tiled(args: KernelArgs<Conv2dAttrs>, start: number, end: number): void {
  const a = args.attrs;
  const x = args.inputs[0];
  const [wt, bias] = args.weights;
  const out = args.out;
  const cinG = a.cin / a.groups;
  const coutG = a.cout / a.groups;
  const [kh, kw] = a.kernel;
  const [sh, sw] = a.stride;
  const [dh, dw] = a.dilation;
  const [pt, pl] = a.pads;
  const K = cinG * kh * kw;
  const P = a.ho * a.wo;
  const T = tileColumns(a);
  const tiles = Math.ceil(P / T);
  const pointwise = isPointwise(a);
  const col = pointwise ? null : scratchOf(K * T);
  for (let u = start; u < end; u++) {
    const tile = u % tiles;
    const g = Math.floor(u / tiles) % a.groups;
    const n = Math.floor(u / (tiles * a.groups));
    const p0 = tile * T;
    const cols = Math.min(T, P - p0);
    const xBase = (n * a.cin + g * cinG) * a.h * a.w;
    const outOff = (n * a.cout + g * coutG) * P + p0;
    if (col === null) {
      gemmTile(coutG, K, cols, wt, g * coutG * K, K, x, xBase + p0, a.h * a.w, out, outOff, P, bias ?? null, g * coutG);
      continue;
    }
    // im2col of this tile: row (c, i, j), column t = output position p0 + t.
    let row = 0;
    for (let c = 0; c < cinG; c++) {
      const plane = xBase + c * a.h * a.w;
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++, row++) {
          const r = row * T;
          let oy = Math.floor(p0 / a.wo);
          let ox = p0 - oy * a.wo;
          for (let t = 0; t < cols; t++) {
            const iy = oy * sh - pt + i * dh;
            const ix = ox * sw - pl + j * dw;
            col[r + t] = iy >= 0 && iy < a.h && ix >= 0 && ix < a.w ? x[plane + iy * a.w + ix] : 0;
            if (++ox === a.wo) {
              ox = 0;
              oy++;
            }
          }
        }
      }
    }
    gemmTile(coutG, K, cols, wt, g * coutG * K, K, col, 0, T, out, outOff, P, bias ?? null, g * coutG);
  }
}

function depthwise(args: KernelArgs<Conv2dAttrs>, start: number, end: number): void {
  const a = args.attrs;
  const x = args.inputs[0];
  const [wt, bias] = args.weights;
  const out = args.out;
  const [kh, kw] = a.kernel;
  const [sh, sw] = a.stride;
  const [dh, dw] = a.dilation;
  const [pt, pl] = a.pads;
  const mult = a.cout / a.groups; // channel multiplier: outputs per input channel
  for (let u = start; u < end; u++) {
    const n = Math.floor(u / a.cout);
    const co = u % a.cout;
    const ci = Math.floor(co / mult);
    const plane = (n * a.cin + ci) * a.h * a.w;
    const wOff = co * kh * kw;
    const b = bias ? bias[co] : 0;
    let o = (n * a.cout + co) * a.ho * a.wo;
    for (let oy = 0; oy < a.ho; oy++) {
      const y0 = oy * sh - pt;
      for (let ox = 0; ox < a.wo; ox++, o++) {
        const x0 = ox * sw - pl;
        let s = b;
        for (let i = 0; i < kh; i++) {
          const iy = y0 + i * dh;
          if (iy < 0 || iy >= a.h) continue;
          const rowOff = plane + iy * a.w;
          for (let j = 0; j < kw; j++) {
            const ix = x0 + j * dw;
            if (ix >= 0 && ix < a.w) s += wt[wOff + i * kw + j] * x[rowOff + ix];
          }
        }
        out[o] = s;
      }
    }
  }
}

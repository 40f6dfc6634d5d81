import { gemmTile } from '../../kernels/gemm.ts';
import type { CpuKernel } from '../types.ts';
import type { LinearAttrs } from './index.ts';

/** Output features per unit: a multiple of gemmTile's 4-row register tile. */
const FEATURES_PER_UNIT = 64;

/** Batch rows per GEMM call: the transposed input tile (in x cols) stays around 256 KiB. */
function batchTile(a: LinearAttrs): number {
  return Math.max(4, Math.min(256, Math.floor(65536 / a.inF / 4) * 4));
}

let xtScratch = new Float32Array(0);
let cScratch = new Float32Array(0);

/**
 * y[f] = bias[f] + dot(W[f, :], x) for features [f0, f1), four features per pass so each x load
 * feeds four multiply-adds. With fewer than 4 samples gemmTile would run only its edge loop,
 * which reloads x for every feature.
 */
function dotRows(x: Float32Array, xOff: number, wt: Float32Array, bias: Float32Array | null, out: Float32Array, outOff: number, K: number, f0: number, f1: number): void {
  let f = f0;
  for (; f + 4 <= f1; f += 4) {
    const a0 = f * K;
    const a1 = a0 + K;
    const a2 = a1 + K;
    const a3 = a2 + K;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let k = 0; k < K; k++) {
      const v = x[xOff + k];
      s0 += wt[a0 + k] * v;
      s1 += wt[a1 + k] * v;
      s2 += wt[a2 + k] * v;
      s3 += wt[a3 + k] * v;
    }
    out[outOff + f] = s0 + (bias ? bias[f] : 0);
    out[outOff + f + 1] = s1 + (bias ? bias[f + 1] : 0);
    out[outOff + f + 2] = s2 + (bias ? bias[f + 2] : 0);
    out[outOff + f + 3] = s3 + (bias ? bias[f + 3] : 0);
  }
  for (; f < f1; f++) {
    const a0 = f * K;
    let s = 0;
    for (let k = 0; k < K; k++) s += wt[a0 + k] * x[xOff + k];
    out[outOff + f] = s + (bias ? bias[f] : 0);
  }
}

/**
 * Units: blocks of output features. From 4 samples on, gemmTile does the work: it wants B as K
 * rows of contiguous columns, so a tile of the batch is transposed to [in, cols] (in * cols
 * copies against FEATURES_PER_UNIT * in * cols MACs) and the [features, cols] result is
 * transposed back into the [N, out] output.
 */
export const linearCpu: CpuKernel<LinearAttrs> = {
  units: ({ attrs }) => Math.ceil(attrs.outF / FEATURES_PER_UNIT),
  run({ inputs: [x], weights: [wt, bias], out, attrs: a }, start, end) {
    const f0 = start * FEATURES_PER_UNIT;
    const f1 = Math.min(end * FEATURES_PER_UNIT, a.outF);
    if (a.n < 4) {
      for (let n = 0; n < a.n; n++) dotRows(x, n * a.inF, wt, bias ?? null, out, n * a.outF, a.inF, f0, f1);
      return;
    }
    const T = Math.min(batchTile(a), a.n);
    if (xtScratch.length < a.inF * T) xtScratch = new Float32Array(a.inF * T);
    if (cScratch.length < FEATURES_PER_UNIT * T) cScratch = new Float32Array(FEATURES_PER_UNIT * T);
    const xt = xtScratch;
    const c = cScratch;
    for (let n0 = 0; n0 < a.n; n0 += T) {
      const cols = Math.min(T, a.n - n0);
      for (let t = 0; t < cols; t++) {
        const row = (n0 + t) * a.inF;
        for (let k = 0; k < a.inF; k++) xt[k * cols + t] = x[row + k];
      }
      for (let f = f0; f < f1; f += FEATURES_PER_UNIT) {
        const rows = Math.min(FEATURES_PER_UNIT, f1 - f);
        gemmTile(rows, a.inF, cols, wt, f * a.inF, a.inF, xt, 0, cols, c, 0, cols, bias ?? null, f);
        for (let m = 0; m < rows; m++) {
          for (let t = 0; t < cols; t++) out[(n0 + t) * a.outF + f + m] = c[m * cols + t];
        }
      }
    }
  },
};

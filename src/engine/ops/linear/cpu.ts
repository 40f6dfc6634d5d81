import { gemmTile } from '../../kernels/gemm.ts';
import type { CpuKernel } from '../types.ts';
import type { LinearAttrs } from './index.ts';

/** Output features per unit: a multiple of gemmTile's 4-row register tile. */
const FEATURES_PER_UNIT = 64;

/** Batch rows per GEMM call: the transposed input tile (in x cols) stays around 256 KiB. */
function batchTile(a: LinearAttrs): number {
  return Math.max(4, Math.min(256, Math.floor(32768 / a.inF / 4) * 4));
}

let xtScratch = new Float32Array(0);
let cScratch = new Float32Array(0);

/**
 * gemmTile wants B as K rows of contiguous columns, so a tile of the batch is transposed to
 * [in, cols] (in * cols copies against FEATURES_PER_UNIT * in * cols MACs) and the [features,
 * cols] result is transposed back into the [N, out] output. Units: blocks of output features.
 */
export const linearCpu: CpuKernel<LinearAttrs> = {
  units: ({ attrs }) => Math.ceil(attrs.outF / FEATURES_PER_UNIT),
  run({ inputs: [x], weights: [wt, bias], out, attrs: a }, start, end) {
    const T = Math.min(batchTile(a), a.n);
    if (xtScratch.length < a.inF * T) xtScratch = new Float32Array(a.inF * T);
    if (cScratch.length < FEATURES_PER_UNIT * T) cScratch = new Float32Array(FEATURES_PER_UNIT * T);
    const xt = xtScratch;
    const c = cScratch;
    const f0 = start * FEATURES_PER_UNIT;
    const f1 = Math.min(end * FEATURES_PER_UNIT, a.outF);
    for (let n0 = 0; n0 < a.n; n0 += T) {
      const cols = Math.min(T, a.n - n0);
      if (cols === 1) {
        // A single row is already a contiguous [in, 1] column.
        for (let f = f0; f < f1; f += FEATURES_PER_UNIT) {
          const rows = Math.min(FEATURES_PER_UNIT, f1 - f);
          gemmTile(rows, a.inF, 1, wt, f * a.inF, a.inF, x, n0 * a.inF, 1, out, n0 * a.outF + f, 1, bias ?? null, f);
        }
        continue;
      }
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

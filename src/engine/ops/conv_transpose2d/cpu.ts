import { gemmTile } from '../../kernels/gemm.ts';
import type { CpuKernel } from '../types.ts';
import type { ConvTranspose2dAttrs } from './index.ts';

/** Output channels per unit: about 128 GEMM rows (channels x taps), so each x load feeds many multiply-adds. */
function channelsPerUnit(a: ConvTranspose2dAttrs): number {
  return Math.min(a.cout / a.groups, Math.max(1, Math.ceil(128 / (a.kernel[0] * a.kernel[1]))));
}

/** Whole input rows per column tile, about 512 input positions. */
function rowsPerTile(a: ConvTranspose2dAttrs): number {
  return Math.max(1, Math.min(a.h, Math.floor(512 / a.w)));
}

let wT = new Float32Array(0);
let col = new Float32Array(0);
let acc = new Float64Array(0);

/**
 * GEMM + col2im. A unit owns a block of output channels of one sample and group, so units write
 * disjoint planes. For a tile of whole input rows, col[(oc, i, j), p] = sum_ci W[ci, oc, i, j] *
 * x[ci, p] is one gemmTile straight off the input (no im2col), then col2im adds col[(oc, i, j),
 * (iy, ix)] into output (iy*sh - pt + i*dh, ix*sw - pl + j*dw). The unit's weights are first
 * transposed to the row-major [(oc, i, j), ci] that gemmTile reads; sums land in float64 planes.
 */
export const convTranspose2dCpu: CpuKernel<ConvTranspose2dAttrs> = {
  units({ attrs: a }) {
    return a.n * a.groups * Math.ceil(a.cout / a.groups / channelsPerUnit(a));
  },
  run({ inputs: [x], weights: [wt, bias], out, attrs: a }, start, end) {
    const [kh, kw] = a.kernel;
    const [sh, sw] = a.stride;
    const [dh, dw] = a.dilation;
    const [pt, pl] = a.pads;
    const taps = kh * kw;
    const cinG = a.cin / a.groups;
    const coutG = a.cout / a.groups;
    const OB = channelsPerUnit(a);
    const blocks = Math.ceil(coutG / OB);
    const P = a.ho * a.wo;
    const HW = a.h * a.w;
    const R = rowsPerTile(a);
    const T = R * a.w;
    if (wT.length < OB * taps * cinG) wT = new Float32Array(OB * taps * cinG);
    if (col.length < OB * taps * T) col = new Float32Array(OB * taps * T);
    if (acc.length < OB * P) acc = new Float64Array(OB * P);
    // Input rows / columns whose tap i / j lands inside the output: 0 <= iy*sh - pt + i*dh < ho.
    const rowLo = new Int32Array(kh);
    const rowHi = new Int32Array(kh);
    for (let i = 0; i < kh; i++) {
      const off = i * dh - pt;
      rowLo[i] = Math.max(0, Math.ceil(-off / sh));
      rowHi[i] = Math.min(a.h - 1, Math.floor((a.ho - 1 - off) / sh));
    }
    const colLo = new Int32Array(kw);
    const colHi = new Int32Array(kw);
    for (let j = 0; j < kw; j++) {
      const off = j * dw - pl;
      colLo[j] = Math.max(0, Math.ceil(-off / sw));
      colHi[j] = Math.min(a.w - 1, Math.floor((a.wo - 1 - off) / sw));
    }

    for (let u = start; u < end; u++) {
      const block = u % blocks;
      const g = Math.floor(u / blocks) % a.groups;
      const n = Math.floor(u / (blocks * a.groups));
      const ocg0 = block * OB;
      const nb = Math.min(OB, coutG - ocg0);
      const M = nb * taps;
      for (let ob = 0; ob < nb; ob++) {
        for (let k = 0; k < cinG; k++) {
          const src = ((g * cinG + k) * coutG + ocg0 + ob) * taps;
          for (let t = 0; t < taps; t++) wT[(ob * taps + t) * cinG + k] = wt[src + t];
        }
        acc.fill(bias ? bias[g * coutG + ocg0 + ob] : 0, ob * P, (ob + 1) * P);
      }
      const xBase = (n * a.cin + g * cinG) * HW;
      for (let iyS = 0; iyS < a.h; iyS += R) {
        const iyE = Math.min(a.h, iyS + R);
        const cols = (iyE - iyS) * a.w;
        gemmTile(M, cinG, cols, wT, 0, cinG, x, xBase + iyS * a.w, HW, col, 0, T, null, 0);
        for (let ob = 0; ob < nb; ob++) {
          const accBase = ob * P;
          for (let i = 0; i < kh; i++) {
            const y0 = Math.max(iyS, rowLo[i]);
            const y1 = Math.min(iyE - 1, rowHi[i]);
            for (let j = 0; j < kw; j++) {
              const ix0 = colLo[j];
              const ix1 = colHi[j];
              if (ix0 > ix1) continue;
              const rowBase = (ob * taps + i * kw + j) * T - iyS * a.w;
              for (let iy = y0; iy <= y1; iy++) {
                const c = rowBase + iy * a.w;
                let o = accBase + (iy * sh - pt + i * dh) * a.wo + ix0 * sw - pl + j * dw;
                for (let ix = ix0; ix <= ix1; ix++, o += sw) acc[o] += col[c + ix];
              }
            }
          }
        }
      }
      const outBase = (n * a.cout + g * coutG + ocg0) * P;
      for (let q = 0; q < nb * P; q++) out[outBase + q] = acc[q];
    }
  },
};

import { gemmTmpBytes, packRows, roundUp, type WasmKernel } from '../../backends/cpu/wasm/types.ts';
import type { ConvTranspose2dAttrs } from './index.ts';

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

interface Tiling {
  cinG: number;
  coutG: number;
  taps: number;
  /** Output channels per unit; OB * taps is a multiple of 4 so each unit starts on a packed row block. */
  OB: number;
  blocks: number;
  /** Whole input rows per column tile, and the tile's width in positions. */
  R: number;
  T: number;
}

function tiling(a: ConvTranspose2dAttrs, threads: number): Tiling {
  const cinG = a.cin / a.groups;
  const coutG = a.cout / a.groups;
  const taps = a.kernel[0] * a.kernel[1];
  const step = 4 / gcd(taps, 4);
  // About 128 GEMM rows per unit, fewer when that leaves a thread idle.
  let OB = Math.min(coutG, roundUp(Math.max(1, Math.ceil(128 / taps)), step));
  const jobs = a.n * a.groups;
  while (OB > step && jobs * Math.ceil(coutG / OB) < 2 * threads) OB = Math.max(step, roundUp(Math.floor(OB / 2), step));
  if (OB > coutG) OB = coutG;
  const R = Math.max(1, Math.min(a.h, Math.floor(512 / a.w)));
  return { cinG, coutG, taps, OB, blocks: Math.ceil(coutG / OB), R, T: R * a.w };
}

/**
 * GEMM + col2im: for a unit's block of output channels and a tile of whole input rows,
 * col[(oc, i, j), p] = sum_ci W[ci, oc, i, j] * x[ci, p] (gemm.as over the packed transposed
 * weights), then col2im (conv.as) adds each column into the output at the tap's position. A unit
 * owns whole output planes, which it first sets to the bias.
 */
export const convTranspose2dWasm: WasmKernel<ConvTranspose2dAttrs> = {
  pack(a, [w, b]) {
    const t = tiling(a, 1);
    // A_g[(oc, tap), ci] = W[g * cinG + ci, oc, tap].
    const packed = packRows(w, a.groups, t.coutG * t.taps, t.cinG, (g, m, ci) => ((g * t.cinG + ci) * t.coutG + Math.floor(m / t.taps)) * t.taps + (m % t.taps));
    return [packed, ...(b ? [b] : [])];
  },
  units({ attrs: a, threads }) {
    return a.n * a.groups * tiling(a, threads).blocks;
  },
  scratchBytes({ attrs: a, threads }) {
    const t = tiling(a, threads);
    return (t.cinG * roundUp(t.T, 8) + t.OB * t.taps * t.T) * 4 + gemmTmpBytes(t.OB * t.taps, t.T);
  },
  run(k, { attrs: a, threads, x: [x], w: [wp, bias], y, scratch }, start, end) {
    const t = tiling(a, threads);
    const [kh, kw] = a.kernel;
    const HW = a.h * a.w;
    const P = a.ho * a.wo;
    const bTile = scratch;
    const col = bTile + t.cinG * roundUp(t.T, 8) * 4;
    const tmp = col + t.OB * t.taps * t.T * 4;
    const groupA = Math.ceil((t.coutG * t.taps) / 4) * 4 * t.cinG * 4;
    for (let u = start; u < end; u++) {
      const block = u % t.blocks;
      const g = Math.floor(u / t.blocks) % a.groups;
      const n = Math.floor(u / (t.blocks * a.groups));
      const ob0 = block * t.OB;
      const nb = Math.min(t.OB, t.coutG - ob0);
      const out = y + (n * a.cout + g * t.coutG + ob0) * P * 4;
      k.fill_planes(out, nb, P, bias === undefined ? 0 : bias + (g * t.coutG + ob0) * 4);
      const xg = x + (n * a.cin + g * t.cinG) * HW * 4;
      const aG = wp + g * groupA;
      for (let iy = 0; iy < a.h; iy += t.R) {
        const iyE = Math.min(a.h, iy + t.R);
        const cols = (iyE - iy) * a.w;
        k.pack_b_rows(xg + iy * a.w * 4, HW * 4, t.cinG, cols, bTile, t.cinG);
        k.gemm(nb * t.taps, cols, t.cinG, aG, roundUp(t.coutG * t.taps, 4), ob0 * t.taps, bTile, col, t.T * 4, 0, tmp);
        k.col2im_add(col, t.T * 4, nb, kh, kw, a.stride[0], a.stride[1], a.pads[0], a.pads[1], a.dilation[0], a.dilation[1], a.w, a.ho, a.wo, iy, iyE, out);
      }
    }
  },
};

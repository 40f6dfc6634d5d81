import { gemmTmpBytes, packRows, roundUp, type WasmKernel, type WasmPlanArgs } from '../../backends/cpu/wasm/types.ts';
import type { DeformConv2dAttrs } from './index.ts';

/** Bytes of the packed B tile: K x T floats, about L2-sized, as conv2d's. */
const B_TILE_BYTES = 192 * 1024;

/** Bytes of deform.as's corner records per (tap, panel of 8 positions). */
const CORNER_BYTES = 256;

interface Tiling {
  cinG: number;
  coutG: number;
  taps: number;
  K: number;
  P: number;
  /** Output positions per tile (a multiple of 8) and the tiles. */
  T: number;
  tiles: number;
}

/**
 * Tiles of output positions cut to fit the cache, then, until every thread has about four units,
 * cut smaller (never below one panel of 8).
 */
function tiling(a: DeformConv2dAttrs, threads: number): Tiling {
  const cinG = a.cin / a.groups;
  const coutG = a.cout / a.groups;
  const taps = a.kernel[0] * a.kernel[1];
  const K = cinG * taps;
  const P = a.ho * a.wo;
  const jobs = a.n * a.groups;
  const tMax = P <= 64 ? roundUp(P, 8) : Math.max(8, Math.min(512, Math.floor(B_TILE_BYTES / (4 * K) / 8) * 8));
  let tiles = Math.ceil(P / tMax);
  if (jobs * tiles < 4 * threads) tiles = Math.min(Math.ceil(P / 8), Math.ceil((4 * threads) / jobs));
  const T = roundUp(Math.ceil(P / tiles), 8);
  return { cinG, coutG, taps, K, P, T, tiles: Math.ceil(P / T) };
}

/**
 * Units are (sample, group, tile of output positions), as in the TypeScript kernel: the tile's
 * bilinear im2col (deform.as) packed straight into GEMM panels, then the packed GEMM (gemm.as)
 * with the group's weights. The corners are computed once per offset group and tile, and every
 * channel of the offset group is sampled through them.
 */
export const deformConv2dWasm: WasmKernel<DeformConv2dAttrs> = {
  pack(a, [w, b]) {
    const t = tiling(a, 1);
    return [packRows(w, a.groups, t.coutG, t.K), ...(b ? [b] : [])];
  },
  units({ attrs: a, threads }: WasmPlanArgs<DeformConv2dAttrs>) {
    const t = tiling(a, threads);
    return a.n * a.groups * t.tiles;
  },
  scratchBytes({ attrs: a, threads }) {
    const t = tiling(a, threads);
    return t.K * t.T * 4 + t.taps * (t.T / 8) * CORNER_BYTES + gemmTmpBytes(t.coutG, t.T) + 64;
  },
  run(k, args, start, end) {
    const { attrs: a, threads, x: [x, offset, mask], w: [wp, bias], y, scratch } = args;
    const t = tiling(a, threads);
    const [kh, kw] = a.kernel;
    const corners = scratch + t.K * t.T * 4;
    const tmp = corners + t.taps * (t.T / 8) * CORNER_BYTES;
    const planeBytes = a.h * a.w * 4;
    const cPerOg = a.cin / a.offsetGroups;
    const groupA = roundUp(t.coutG, 4) * t.K * 4;
    let cornersOf = '';
    for (let u = start; u < end; u++) {
      const tile = u % t.tiles;
      const g = Math.floor(u / t.tiles) % a.groups;
      const n = Math.floor(u / (t.tiles * a.groups));
      const p0 = tile * t.T;
      const cols = Math.min(t.T, t.P - p0);
      // The group's channels, in runs of one offset group each.
      for (let c = 0; c < t.cinG; ) {
        const cAbs = g * t.cinG + c;
        const og = Math.floor(cAbs / cPerOg);
        const runEnd = Math.min(t.cinG, (og + 1) * cPerOg - g * t.cinG);
        const key = `${n},${og},${tile}`;
        if (cornersOf !== key) {
          const offOg = offset + (n * a.offsetGroups + og) * 2 * t.taps * t.P * 4;
          const maskOg = a.modulated ? mask + (n * a.offsetGroups + og) * t.taps * t.P * 4 : 0;
          k.deform_corners(offOg, maskOg, t.P, kh, kw, a.stride[0], a.stride[1], a.pads[0], a.pads[1], a.dilation[0], a.dilation[1], a.h, a.w, a.wo, p0, cols, corners);
          cornersOf = key;
        }
        k.deform_pack(x + (n * a.cin + cAbs) * planeBytes, runEnd - c, planeBytes, t.taps, cols, corners, scratch + c * t.taps * 32, t.K);
        c = runEnd;
      }
      const out = y + ((n * a.cout + g * t.coutG) * t.P + p0) * 4;
      k.gemm(t.coutG, cols, t.K, wp + g * groupA, roundUp(t.coutG, 4), 0, scratch, out, t.P * 4, bias === undefined ? 0 : bias + g * t.coutG * 4, tmp);
    }
  },
};

import { gemmTile } from '../../kernels/gemm.ts';
import type { CpuKernel } from '../types.ts';
import type { DeformConv2dAttrs } from './index.ts';

/** Output positions per tile, sized like conv2d's: the K x T column tile stays near 128 KiB. */
function tileColumns(a: DeformConv2dAttrs): number {
  const k = (a.cin / a.groups) * a.kernel[0] * a.kernel[1];
  return Math.max(16, Math.min(512, Math.floor(32768 / k / 4) * 4));
}

let col = new Float32Array(0);
let cornerIdx = new Int32Array(0);
let cornerWt = new Float64Array(0);
let maskVal = new Float64Array(0);

/**
 * Units: one (batch, weight group, tile of output positions) each, as in conv2d: a bilinear
 * im2col of the tile, then a register-tiled GEMM with the group's weights.
 *
 * Where a tap samples depends on the offset group, tap and position but not on the channel, so
 * per offset group the tile's four corner indices and weights (torchvision's w1..w4, zero for a
 * corner outside the input or a point with y <= -1, y >= H, x <= -1 or x >= W) are computed once
 * and every channel of that group reuses them.
 */
export const deformConv2dCpu: CpuKernel<DeformConv2dAttrs> = {
  units({ attrs: a }) {
    return a.n * a.groups * Math.ceil((a.ho * a.wo) / tileColumns(a));
  },
  run({ inputs: [x, offset, mask], weights: [wt, bias], out, attrs: a }, start, end) {
    const cinG = a.cin / a.groups;
    const coutG = a.cout / a.groups;
    const cPerOg = a.cin / a.offsetGroups;
    const [kh, kw] = a.kernel;
    const [sh, sw] = a.stride;
    const [dh, dw] = a.dilation;
    const [pt, pl] = a.pads;
    const H = a.h;
    const W = a.w;
    const taps = kh * kw;
    const K = cinG * taps;
    const P = a.ho * a.wo;
    const plane = H * W;
    const T = tileColumns(a);
    const tiles = Math.ceil(P / T);
    if (col.length < K * T) col = new Float32Array(K * T);
    if (cornerIdx.length < taps * T * 4) {
      cornerIdx = new Int32Array(taps * T * 4);
      cornerWt = new Float64Array(taps * T * 4);
      maskVal = new Float64Array(taps * T);
    }
    const modulated = a.modulated;

    for (let u = start; u < end; u++) {
      const tile = u % tiles;
      const g = Math.floor(u / tiles) % a.groups;
      const n = Math.floor(u / (tiles * a.groups));
      const p0 = tile * T;
      const cols = Math.min(T, P - p0);
      let og = -1;
      for (let c = 0; c < cinG; c++) {
        const cAbs = g * cinG + c;
        const cOg = Math.floor(cAbs / cPerOg);
        if (cOg !== og) {
          og = cOg;
          const offBase = (n * a.offsetGroups + og) * 2 * taps * P;
          const maskBase = (n * a.offsetGroups + og) * taps * P;
          for (let i = 0; i < kh; i++) {
            for (let j = 0; j < kw; j++) {
              const k = i * kw + j;
              const dyOff = offBase + 2 * k * P;
              const dxOff = dyOff + P;
              let oy = Math.floor(p0 / a.wo);
              let ox = p0 - oy * a.wo;
              for (let t = 0; t < cols; t++) {
                const p = p0 + t;
                const q = (k * T + t) * 4;
                if (modulated) maskVal[k * T + t] = mask[maskBase + k * P + p];
                const y = oy * sh - pt + i * dh + offset[dyOff + p];
                const xx = ox * sw - pl + j * dw + offset[dxOff + p];
                if (++ox === a.wo) {
                  ox = 0;
                  oy++;
                }
                cornerIdx[q] = cornerIdx[q + 1] = cornerIdx[q + 2] = cornerIdx[q + 3] = 0;
                if (!(y > -1 && y < H && xx > -1 && xx < W)) {
                  cornerWt[q] = cornerWt[q + 1] = cornerWt[q + 2] = cornerWt[q + 3] = 0;
                  continue;
                }
                const yl = Math.floor(y);
                const xl = Math.floor(xx);
                const ly = y - yl;
                const lx = xx - xl;
                const hy = 1 - ly;
                const hx = 1 - lx;
                const top = yl >= 0;
                const bottom = yl + 1 <= H - 1;
                const left = xl >= 0;
                const right = xl + 1 <= W - 1;
                // A corner outside the input keeps index 0 and weight 0: it adds nothing, as in torchvision.
                if (top && left) cornerIdx[q] = yl * W + xl;
                if (top && right) cornerIdx[q + 1] = yl * W + xl + 1;
                if (bottom && left) cornerIdx[q + 2] = (yl + 1) * W + xl;
                if (bottom && right) cornerIdx[q + 3] = (yl + 1) * W + xl + 1;
                cornerWt[q] = top && left ? hy * hx : 0;
                cornerWt[q + 1] = top && right ? hy * lx : 0;
                cornerWt[q + 2] = bottom && left ? ly * hx : 0;
                cornerWt[q + 3] = bottom && right ? ly * lx : 0;
              }
            }
          }
        }
        const xBase = (n * a.cin + cAbs) * plane;
        for (let k = 0; k < taps; k++) {
          const r = (c * taps + k) * T;
          let q = k * T * 4;
          for (let t = 0; t < cols; t++, q += 4) {
            const v =
              cornerWt[q] * x[xBase + cornerIdx[q]] +
              cornerWt[q + 1] * x[xBase + cornerIdx[q + 1]] +
              cornerWt[q + 2] * x[xBase + cornerIdx[q + 2]] +
              cornerWt[q + 3] * x[xBase + cornerIdx[q + 3]];
            col[r + t] = modulated ? maskVal[k * T + t] * v : v;
          }
        }
      }
      const outOff = (n * a.cout + g * coutG) * P + p0;
      gemmTile(coutG, K, cols, wt, g * coutG * K, K, col, 0, T, out, outOff, P, bias ?? null, g * coutG);
    }
  },
};

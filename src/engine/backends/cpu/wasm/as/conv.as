// AssemblyScript (compiled by ../module.ts).
//
// im2col straight into the B panels of gemm.as: for a tile of output positions [p0, p0 + cols)
// of one (sample, group), panel q (panelK rows apart) holds positions p0 + 8q .. p0 + 8q + 7 as
// K = cinG * kh * kw rows of 8 floats, row k = (c * kh + i) * kw + j reading input (c, oy * sh - pt + i * dh,
// ox * sw - pl + j * dw), zero outside the input.
//
// When the 8 positions of a panel lie in one output row (the common case) and the column stride
// is 1 or 2, each row of the panel is 2 (or 4, deinterleaved) vector loads from one input row,
// masked to zero where the window hangs over the left or right edge. Those loads may touch up to
// 16 floats outside the input plane; the arena keeps a guard after every allocation and reserves
// the low addresses, so they stay inside the memory and their lanes are masked away. Panels that
// wrap to the next output row, or hold fewer than 8 positions, load lane by lane from offsets
// clamped into the plane, masked the same way.

const LANES_LO: v128 = i32x4(0, 1, 2, 3);
const LANES_HI: v128 = i32x4(4, 5, 6, 7);
const LANES2_LO: v128 = i32x4(0, 2, 4, 6);
const LANES2_HI: v128 = i32x4(8, 10, 12, 14);

export function pack_b_conv(
  x: usize, // input plane of channel 0 of this (sample, group)
  cinG: i32, h: i32, w: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32,
  wo: i32, p0: i32, cols: i32,
  dst: usize,
  lanes: usize, // 64 bytes of scratch for the slow path
  panelK: i32, // rows per panel of dst: K, or more when this call packs a slice of the channels
): void {
  const plane = <usize>(h * w) << 2;
  const wv = i32x4.splat(w);
  for (let q = 0; q < cols; q += 8) {
    const n = min<i32>(8, cols - q);
    const p = p0 + q;
    const oy = p / wo;
    const ox = p - oy * wo;
    let d = dst + <usize>(q >> 3) * (<usize>panelK << 5);
    if (n == 8 && ox + 7 < wo && (sw == 1 || sw == 2)) {
      const iyBase = oy * sh - pt;
      const ixBase = ox * sw - pl;
      let c0 = x;
      for (let c = 0; c < cinG; c++) {
        for (let i = 0; i < kh; i++) {
          const iy = iyBase + i * dh;
          if (iy < 0 || iy >= h) {
            const z = i32x4.splat(0);
            for (let j = 0; j < kw; j++) {
              v128.store(d, z);
              v128.store(d, z, 16);
              d += 32;
            }
            continue;
          }
          const row = c0 + (<usize>(iy * w) << 2);
          for (let j = 0; j < kw; j++) {
            const ix = ixBase + j * dw;
            const src = row + <usize>(ix << 2);
            if (sw == 1) {
              let v0 = v128.load(src);
              let v1 = v128.load(src, 16);
              if (ix < 0 || ix + 8 > w) {
                const s = i32x4.splat(ix);
                const l0 = i32x4.add(s, LANES_LO);
                const l1 = i32x4.add(s, LANES_HI);
                v0 = v128.and(v0, v128.and(i32x4.ge_s(l0, i32x4.splat(0)), i32x4.lt_s(l0, wv)));
                v1 = v128.and(v1, v128.and(i32x4.ge_s(l1, i32x4.splat(0)), i32x4.lt_s(l1, wv)));
              }
              v128.store(d, v0);
              v128.store(d, v1, 16);
            } else {
              const a0 = v128.load(src);
              const a1 = v128.load(src, 16);
              const a2 = v128.load(src, 32);
              const a3 = v128.load(src, 48);
              let v0 = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6);
              let v1 = v128.shuffle<f32>(a2, a3, 0, 2, 4, 6);
              if (ix < 0 || ix + 15 > w) {
                const s = i32x4.splat(ix);
                const l0 = i32x4.add(s, LANES2_LO);
                const l1 = i32x4.add(s, LANES2_HI);
                v0 = v128.and(v0, v128.and(i32x4.ge_s(l0, i32x4.splat(0)), i32x4.lt_s(l0, wv)));
                v1 = v128.and(v1, v128.and(i32x4.ge_s(l1, i32x4.splat(0)), i32x4.lt_s(l1, wv)));
              }
              v128.store(d, v0);
              v128.store(d, v1, 16);
            }
            d += 32;
          }
        }
        c0 += plane;
      }
      continue;
    }
    // Panels that wrap to the next output row (or hold fewer than 8 positions): each of the 8
    // lanes keeps its own window origin as vectors; per kernel tap, one mask and 8 lane loads
    // from clamped (always in-plane) offsets, no branch per element.
    // lanes: 8 row origins, then 8 column origins. Lanes past n keep a row origin far above the
    // plane, so their mask is always false.
    for (let t = 0; t < 8; t++) {
      let iy = -0x40000000;
      let ix = 0;
      if (t < n) {
        const pt_ = p + t;
        const y = pt_ / wo;
        iy = y * sh - pt;
        ix = (pt_ - y * wo) * sw - pl;
      }
      store<i32>(lanes + (<usize>t << 2), iy);
      store<i32>(lanes + (<usize>t << 2), ix, 32);
    }
    const iyLo = v128.load(lanes);
    const iyHi = v128.load(lanes, 16);
    const ixLo = v128.load(lanes, 32);
    const ixHi = v128.load(lanes, 48);
    const zero = i32x4.splat(0);
    const hv = i32x4.splat(h);
    const last = i32x4.splat(h * w - 1);
    let c0 = x;
    for (let c = 0; c < cinG; c++) {
      for (let i = 0; i < kh; i++) {
        const dy = i32x4.splat(i * dh);
        const yLo = i32x4.add(iyLo, dy);
        const yHi = i32x4.add(iyHi, dy);
        const rowLo = v128.and(i32x4.ge_s(yLo, zero), i32x4.lt_s(yLo, hv));
        const rowHi = v128.and(i32x4.ge_s(yHi, zero), i32x4.lt_s(yHi, hv));
        const offLo = i32x4.mul(yLo, wv);
        const offHi = i32x4.mul(yHi, wv);
        for (let j = 0; j < kw; j++) {
          const dx = i32x4.splat(j * dw);
          const xLo = i32x4.add(ixLo, dx);
          const xHi = i32x4.add(ixHi, dx);
          const mLo = v128.and(rowLo, v128.and(i32x4.ge_s(xLo, zero), i32x4.lt_s(xLo, wv)));
          const mHi = v128.and(rowHi, v128.and(i32x4.ge_s(xHi, zero), i32x4.lt_s(xHi, wv)));
          const oLo = i32x4.shl(i32x4.min_s(i32x4.max_s(i32x4.add(offLo, xLo), zero), last), 2);
          const oHi = i32x4.shl(i32x4.min_s(i32x4.max_s(i32x4.add(offHi, xHi), zero), last), 2);
          let v0 = v128.load32_zero(c0 + <usize>i32x4.extract_lane(oLo, 0));
          v0 = v128.load32_lane(c0 + <usize>i32x4.extract_lane(oLo, 1), v0, 1);
          v0 = v128.load32_lane(c0 + <usize>i32x4.extract_lane(oLo, 2), v0, 2);
          v0 = v128.load32_lane(c0 + <usize>i32x4.extract_lane(oLo, 3), v0, 3);
          let v1 = v128.load32_zero(c0 + <usize>i32x4.extract_lane(oHi, 0));
          v1 = v128.load32_lane(c0 + <usize>i32x4.extract_lane(oHi, 1), v1, 1);
          v1 = v128.load32_lane(c0 + <usize>i32x4.extract_lane(oHi, 2), v1, 2);
          v1 = v128.load32_lane(c0 + <usize>i32x4.extract_lane(oHi, 3), v1, 3);
          v128.store(d, v128.and(v0, mLo));
          v128.store(d, v128.and(v1, mHi), 16);
          d += 32;
        }
      }
      c0 += plane;
    }
  }
}

// Transposed convolution's col2im: adds col[(ob, i, j), t] (row stride ldcol bytes) for input
// positions t of rows [iy0, iy1) into the nb output planes at out, at (iy * sh - pt + i * dh,
// ix * sw - pl + j * dw) where that lands inside the output.
export function col2im_add(
  col: usize, ldcol: usize, nb: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32,
  w: i32, ho: i32, wo: i32, iy0: i32, iy1: i32,
  out: usize,
): void {
  const P = <usize>(ho * wo) << 2;
  let r = col;
  for (let ob = 0; ob < nb; ob++) {
    const base = out + <usize>ob * P;
    for (let i = 0; i < kh; i++) {
      const offY = i * dh - pt;
      // Input rows whose tap i lands inside the output: 0 <= iy * sh + offY < ho.
      const yLo = max<i32>(iy0, offY >= 0 ? 0 : (-offY + sh - 1) / sh);
      const yHi = min<i32>(iy1 - 1, ho - 1 - offY >= 0 ? (ho - 1 - offY) / sh : -1);
      for (let j = 0; j < kw; j++) {
        const offX = j * dw - pl;
        const xLo = offX >= 0 ? 0 : (-offX + sw - 1) / sw;
        const xHi = min<i32>(w - 1, wo - 1 - offX >= 0 ? (wo - 1 - offX) / sw : -1);
        if (xLo <= xHi) {
          for (let iy = yLo; iy <= yHi; iy++) {
            let s = r + (<usize>((iy - iy0) * w + xLo) << 2);
            let o = base + (<usize>((iy * sh + offY) * wo + xLo * sw + offX) << 2);
            const step = <usize>sw << 2;
            for (let ix = xLo; ix <= xHi; ix++) {
              store<f32>(o, load<f32>(o) + load<f32>(s));
              s += 4;
              o += step;
            }
          }
        }
        r += ldcol;
      }
    }
  }
}

// Sets each of `planes` runs of n floats at dst to values[i] (values == 0: to zero).
export function fill_planes(dst: usize, planes: i32, n: i32, values: usize): void {
  for (let p = 0; p < planes; p++) {
    const v: f32 = values ? load<f32>(values + (<usize>p << 2)) : 0;
    const s = f32x4.splat(v);
    let i = 0;
    for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), s);
    for (; i < n; i++) store<f32>(dst + (<usize>i << 2), v);
    dst += <usize>n << 2;
  }
}

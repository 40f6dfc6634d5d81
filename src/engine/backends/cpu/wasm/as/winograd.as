// AssemblyScript (compiled by ../module.ts).
//
// Winograd F(2x2, 3x3) for 3x3, stride-1, dilation-1 convolutions (Lavin & Gray 2016): each 2x2
// block of outputs ("tile") comes from a 4x4 input patch d as Y = A^T [ (G g G^T) . (B^T d B) ] A,
// so the 16 element-wise products, summed over input channels, become 16 GEMMs
// M_xi[cout, tile] = U_xi[cout, cin] x V_xi[cin, tile] with 16 multiplies per tile and channel
// pair instead of 36: 2.25 times fewer. The weight transform U = G g G^T is done once at prepare
// time (ops/conv2d/wasm.ts); these are the input and output transforms.
//
//   B^T = [1  0 -1  0]    A^T = [1  1  1  0]
//         [0  1  1  0]          [0  1 -1 -1]
//         [0 -1  1  0]
//         [0  1  0 -1]
//
// Tiles are numbered row by row within a band of tile rows, each tile row padded to a multiple of
// 4 tiles (tilesX4), and vectorised 4 tiles per v128 along the row.

// Input transform of one input channel for a band of rb tile rows starting at tile row ty0:
// writes V_xi[c, t] for every tile t of the band into the GEMM B panels (gemm.as layout: panel
// t >> 3, row c, lane t & 7), one panel set of xiStride bytes per xi. `pad` is scratch for the
// channel's zero-padded rows: (2 * rb + 2) rows of wp floats (wino_pad_cols).
export function wino_input(
  x: usize, h: i32, w: i32, pt: i32, pl: i32,
  ty0: i32, rb: i32, tilesX4: i32, wp: i32, pad: usize,
  c: i32, K: i32, xiStride: usize, b: usize,
): void {
  const z = f32x4.splat(0);
  const rowBytes = <usize>wp << 2;
  const rows = 2 * rb + 2;
  for (let pr = 0; pr < rows; pr++) {
    const d = pad + <usize>pr * rowBytes;
    const iy = 2 * ty0 - pt + pr;
    for (let col = 0; col < wp; col += 4) v128.store(d + (<usize>col << 2), z);
    if (iy < 0 || iy >= h) continue;
    const src = x + (<usize>(iy * w) << 2);
    const dst = d + (<usize>pl << 2);
    let col = 0;
    for (; col + 4 <= w; col += 4) v128.store(dst + (<usize>col << 2), v128.load(src + (<usize>col << 2)));
    for (; col < w; col++) store<f32>(dst + (<usize>col << 2), load<f32>(src + (<usize>col << 2)));
  }
  const panelBytes = <usize>K << 5;
  const cOff = <usize>c << 5;
  for (let r = 0; r < rb; r++) {
    const p0 = pad + <usize>(2 * r) * rowBytes;
    for (let tx = 0; tx < tilesX4; tx += 4) {
      const s = <usize>(2 * tx) << 2;
      // The patch rows: 4 columns of 4 tiles each (columns 2t .. 2t + 3 of tile t).
      let u00: v128, u01: v128, u02: v128, u03: v128;
      let u10: v128, u11: v128, u12: v128, u13: v128;
      let u20: v128, u21: v128, u22: v128, u23: v128;
      let u30: v128, u31: v128, u32: v128, u33: v128;
      {
        const a0 = v128.load(p0 + s), a1 = v128.load(p0 + s, 16), b0 = v128.load(p0 + s, 8), b1 = v128.load(p0 + s, 24);
        const e0 = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6), o0 = v128.shuffle<f32>(a0, a1, 1, 3, 5, 7);
        const e1 = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6), o1 = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
        u00 = f32x4.sub(e0, e1); u01 = f32x4.add(o0, e1); u02 = f32x4.sub(e1, o0); u03 = f32x4.sub(o0, o1);
      }
      {
        const q = p0 + rowBytes;
        const a0 = v128.load(q + s), a1 = v128.load(q + s, 16), b0 = v128.load(q + s, 8), b1 = v128.load(q + s, 24);
        const e0 = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6), o0 = v128.shuffle<f32>(a0, a1, 1, 3, 5, 7);
        const e1 = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6), o1 = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
        u10 = f32x4.sub(e0, e1); u11 = f32x4.add(o0, e1); u12 = f32x4.sub(e1, o0); u13 = f32x4.sub(o0, o1);
      }
      {
        const q = p0 + 2 * rowBytes;
        const a0 = v128.load(q + s), a1 = v128.load(q + s, 16), b0 = v128.load(q + s, 8), b1 = v128.load(q + s, 24);
        const e0 = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6), o0 = v128.shuffle<f32>(a0, a1, 1, 3, 5, 7);
        const e1 = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6), o1 = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
        u20 = f32x4.sub(e0, e1); u21 = f32x4.add(o0, e1); u22 = f32x4.sub(e1, o0); u23 = f32x4.sub(o0, o1);
      }
      {
        const q = p0 + 3 * rowBytes;
        const a0 = v128.load(q + s), a1 = v128.load(q + s, 16), b0 = v128.load(q + s, 8), b1 = v128.load(q + s, 24);
        const e0 = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6), o0 = v128.shuffle<f32>(a0, a1, 1, 3, 5, 7);
        const e1 = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6), o1 = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
        u30 = f32x4.sub(e0, e1); u31 = f32x4.add(o0, e1); u32 = f32x4.sub(e1, o0); u33 = f32x4.sub(o0, o1);
      }
      // Tiles t .. t + 3 sit in one half of one panel.
      const t = r * tilesX4 + tx;
      const at = b + <usize>(t >> 3) * panelBytes + cOff + (<usize>((t >> 2) & 1) << 4);
      // Rows of B^T: (0 - 2), (1 + 2), (2 - 1), (1 - 3); xi = 4 * i + j.
      v128.store(at, f32x4.sub(u00, u20));
      v128.store(at + xiStride, f32x4.sub(u01, u21));
      v128.store(at + 2 * xiStride, f32x4.sub(u02, u22));
      v128.store(at + 3 * xiStride, f32x4.sub(u03, u23));
      v128.store(at + 4 * xiStride, f32x4.add(u10, u20));
      v128.store(at + 5 * xiStride, f32x4.add(u11, u21));
      v128.store(at + 6 * xiStride, f32x4.add(u12, u22));
      v128.store(at + 7 * xiStride, f32x4.add(u13, u23));
      v128.store(at + 8 * xiStride, f32x4.sub(u20, u10));
      v128.store(at + 9 * xiStride, f32x4.sub(u21, u11));
      v128.store(at + 10 * xiStride, f32x4.sub(u22, u12));
      v128.store(at + 11 * xiStride, f32x4.sub(u23, u13));
      v128.store(at + 12 * xiStride, f32x4.sub(u10, u30));
      v128.store(at + 13 * xiStride, f32x4.sub(u11, u31));
      v128.store(at + 14 * xiStride, f32x4.sub(u12, u32));
      v128.store(at + 15 * xiStride, f32x4.sub(u13, u33));
    }
  }
}

// Output transform: from the 16 GEMM results M_xi (M rows of N tiles, row stride N floats, one
// buffer of mStride bytes per xi), the 2x2 outputs of every tile of the band, plus the bias, into
// M output planes of P floats starting at `out` (rows and columns past ho / wo are not written).
export function wino_output(
  m: usize, mStride: usize, M: i32, N: i32,
  rb: i32, tilesX: i32, tilesX4: i32, ty0: i32, ho: i32, wo: i32,
  bias: usize, out: usize, P: i32, tail: usize,
): void {
  const rowBytes = <usize>N << 2;
  for (let r = 0; r < M; r++) {
    const base = m + <usize>r * rowBytes;
    const bv = f32x4.splat(bias ? load<f32>(bias + (<usize>r << 2)) : 0);
    const plane = out + <usize>r * (<usize>P << 2);
    for (let br = 0; br < rb; br++) {
      const oy = 2 * (ty0 + br);
      if (oy >= ho) break;
      for (let tx = 0; tx < tilesX; tx += 4) {
        const at = base + (<usize>(br * tilesX4 + tx) << 2);
        // A^T over the rows: s0_j = m0j + m1j + m2j, s1_j = m1j - m2j - m3j.
        const m00 = v128.load(at), m01 = v128.load(at + mStride), m02 = v128.load(at + 2 * mStride), m03 = v128.load(at + 3 * mStride);
        const m10 = v128.load(at + 4 * mStride), m11 = v128.load(at + 5 * mStride), m12 = v128.load(at + 6 * mStride), m13 = v128.load(at + 7 * mStride);
        const m20 = v128.load(at + 8 * mStride), m21 = v128.load(at + 9 * mStride), m22 = v128.load(at + 10 * mStride), m23 = v128.load(at + 11 * mStride);
        const m30 = v128.load(at + 12 * mStride), m31 = v128.load(at + 13 * mStride), m32 = v128.load(at + 14 * mStride), m33 = v128.load(at + 15 * mStride);
        const s00 = f32x4.add(f32x4.add(m00, m10), m20);
        const s01 = f32x4.add(f32x4.add(m01, m11), m21);
        const s02 = f32x4.add(f32x4.add(m02, m12), m22);
        const s03 = f32x4.add(f32x4.add(m03, m13), m23);
        const s10 = f32x4.sub(f32x4.sub(m10, m20), m30);
        const s11 = f32x4.sub(f32x4.sub(m11, m21), m31);
        const s12 = f32x4.sub(f32x4.sub(m12, m22), m32);
        const s13 = f32x4.sub(f32x4.sub(m13, m23), m33);
        // ... and over the columns.
        const y00 = f32x4.add(f32x4.add(f32x4.add(s00, s01), s02), bv);
        const y01 = f32x4.add(f32x4.sub(f32x4.sub(s01, s02), s03), bv);
        const y10 = f32x4.add(f32x4.add(f32x4.add(s10, s11), s12), bv);
        const y11 = f32x4.add(f32x4.sub(f32x4.sub(s11, s12), s13), bv);
        // Outputs 2t and 2t + 1 of 4 tiles: 8 consecutive floats of a row.
        const n = min<i32>(8, wo - 2 * tx);
        const o = plane + (<usize>(oy * wo + 2 * tx) << 2);
        put8(o, v128.shuffle<f32>(y00, y01, 0, 4, 1, 5), v128.shuffle<f32>(y00, y01, 2, 6, 3, 7), n, tail);
        if (oy + 1 < ho) put8(o + (<usize>wo << 2), v128.shuffle<f32>(y10, y11, 0, 4, 1, 5), v128.shuffle<f32>(y10, y11, 2, 6, 3, 7), n, tail);
      }
    }
  }
}

@inline function put8(o: usize, lo: v128, hi: v128, n: i32, tail: usize): void {
  if (n >= 8) {
    v128.store(o, lo);
    v128.store(o, hi, 16);
  } else {
    v128.store(tail, lo);
    v128.store(tail, hi, 16);
    for (let t = 0; t < n; t++) store<f32>(o + (<usize>t << 2), load<f32>(tail + (<usize>t << 2)));
  }
}

// Floats per padded row of wino_input's scratch: the patches of tilesX4 tiles read columns up to
// 2 * tilesX4 + 1, as two 8-float loads from 2 * tx and 2 * tx + 2.
export function wino_pad_cols(tilesX4: i32): i32 {
  return ((2 * tilesX4 + 8) + 3) & ~3;
}

// ---------------------------------------------------------------------------------------------
// Winograd F(4x4, 3x3): 4x4 outputs per tile from a 6x6 patch, 36 GEMMs, 36 multiplies per tile
// and channel pair instead of 144: 4 times fewer than direct, 1.78 times fewer than F(2x2). Used
// where a map has enough 4x4 tiles (ops/conv2d/wasm.ts); the points 0, +-1, +-2 and the
// transforms below are Lavin & Gray's.
//
//   B^T = [4  0 -5  0  1  0]    A^T = [1  1  1  1  1  0]
//         [0 -4 -4  1  1  0]          [0  1 -1  2 -2  0]
//         [0  4 -4 -1  1  0]          [0  1  1  4  4  0]
//         [0 -2 -1  2  1  0]          [0  1 -1  8 -8  1]
//         [0  2 -1 -2  1  0]
//         [0  4  0 -5  0  1]
//
// Tiles are laid out as in F(2x2): row by row within a band, each tile row padded to tilesX4,
// 4 tiles per v128.

// B^T applied to 6 vectors (x0..x5), into out[0..5] (16 bytes apart * step).
@inline function bt6(x0: v128, x1: v128, x2: v128, x3: v128, x4: v128, x5: v128, out: usize, step: usize): void {
  const four = f32x4.splat(4);
  const five = f32x4.splat(5);
  const two = f32x4.splat(2);
  // y1, y2 = x4 + x3 -+ 4 (x1 + x2) ... written as in the rows above.
  const a = f32x4.sub(x4, f32x4.mul(four, x2)); // x4 - 4 x2
  const b = f32x4.sub(x3, f32x4.mul(four, x1)); // x3 - 4 x1
  const c = f32x4.sub(x4, x2); // x4 - x2
  const d = f32x4.mul(two, f32x4.sub(x3, x1)); // 2 (x3 - x1)
  v128.store(out, f32x4.add(f32x4.sub(f32x4.mul(four, x0), f32x4.mul(five, x2)), x4));
  v128.store(out + step, f32x4.add(a, b));
  v128.store(out + 2 * step, f32x4.sub(a, b));
  v128.store(out + 3 * step, f32x4.add(c, d));
  v128.store(out + 4 * step, f32x4.sub(c, d));
  v128.store(out + 5 * step, f32x4.add(f32x4.sub(f32x4.mul(four, x1), f32x4.mul(five, x3)), x5));
}

// Input transform of one input channel for a band of rb tile rows from tile row ty0, as
// wino_input but for F(4x4, 3x3): 36 panel sets. `pad` holds (4 * rb + 2) rows of wp floats
// (4 * tilesX4 + 4: five vectors from column 4 tx); `work` 1152 bytes of scratch.
export function wino4_input(
  x: usize, h: i32, w: i32, pt: i32, pl: i32,
  ty0: i32, rb: i32, tilesX4: i32, wp: i32, pad: usize,
  c: i32, K: i32, xiStride: usize, b: usize, work: usize,
): void {
  const z = f32x4.splat(0);
  const rowBytes = <usize>wp << 2;
  const rows = 4 * rb + 2;
  for (let pr = 0; pr < rows; pr++) {
    const d = pad + <usize>pr * rowBytes;
    const iy = 4 * ty0 - pt + pr;
    for (let col = 0; col < wp; col += 4) v128.store(d + (<usize>col << 2), z);
    if (iy < 0 || iy >= h) continue;
    const src = x + (<usize>(iy * w) << 2);
    const dst = d + (<usize>pl << 2);
    let col = 0;
    for (; col + 4 <= w; col += 4) v128.store(dst + (<usize>col << 2), v128.load(src + (<usize>col << 2)));
    for (; col < w; col++) store<f32>(dst + (<usize>col << 2), load<f32>(src + (<usize>col << 2)));
  }
  const panelBytes = <usize>K << 5;
  const cOff = <usize>c << 5;
  for (let r = 0; r < rb; r++) {
    const p0 = pad + <usize>(4 * r) * rowBytes;
    for (let tx = 0; tx < tilesX4; tx += 4) {
      const s = <usize>tx << 4; // column 4 tx
      // Each patch row: columns 4t .. 4t + 5 of tiles t = tx .. tx + 3, one vector per column;
      // then B^T along the row, into work[i][j].
      for (let i = 0; i < 6; i++) {
        const q = p0 + <usize>i * rowBytes + s;
        const a0 = v128.load(q), a1 = v128.load(q, 16), a2 = v128.load(q, 32), a3 = v128.load(q, 48), a4 = v128.load(q, 64);
        const t0 = v128.shuffle<f32>(a0, a1, 0, 4, 1, 5);
        const t1 = v128.shuffle<f32>(a2, a3, 0, 4, 1, 5);
        const t2 = v128.shuffle<f32>(a0, a1, 2, 6, 3, 7);
        const t3 = v128.shuffle<f32>(a2, a3, 2, 6, 3, 7);
        const c0 = v128.shuffle<f32>(t0, t1, 0, 1, 4, 5);
        const c1 = v128.shuffle<f32>(t0, t1, 2, 3, 6, 7);
        const c2 = v128.shuffle<f32>(t2, t3, 0, 1, 4, 5);
        const c3 = v128.shuffle<f32>(t2, t3, 2, 3, 6, 7);
        const c4 = v128.shuffle<f32>(c0, a4, 1, 2, 3, 4);
        const c5 = v128.shuffle<f32>(c1, a4, 1, 2, 3, 5);
        bt6(c0, c1, c2, c3, c4, c5, work + <usize>i * 96, 16);
      }
      const t = r * tilesX4 + tx;
      const at = b + <usize>(t >> 3) * panelBytes + cOff + (<usize>((t >> 2) & 1) << 4);
      // B^T down each column j: V[i'][j] goes to panel set xi = 6 i' + j.
      for (let j = 0; j < 6; j++) {
        const wj = work + (<usize>j << 4);
        bt6(v128.load(wj), v128.load(wj, 96), v128.load(wj, 192), v128.load(wj, 288), v128.load(wj, 384), v128.load(wj, 480), work + 576 + (<usize>j << 4), 96);
      }
      for (let xi = 0; xi < 36; xi++) v128.store(at + <usize>xi * xiStride, v128.load(work + 576 + (<usize>xi << 4)));
    }
  }
}

// Output transform of F(4x4, 3x3), as wino_output: from the 36 GEMM results the 4x4 outputs of
// every tile of the band, plus the bias. `work` 384 bytes of scratch, `tail` 64.
export function wino4_output(
  m: usize, mStride: usize, M: i32, N: i32,
  rb: i32, tilesX: i32, tilesX4: i32, ty0: i32, ho: i32, wo: i32,
  bias: usize, out: usize, P: i32, work: usize, tail: usize,
): void {
  const rowBytes = <usize>N << 2;
  const two = f32x4.splat(2);
  const four = f32x4.splat(4);
  const eight = f32x4.splat(8);
  for (let r = 0; r < M; r++) {
    const base = m + <usize>r * rowBytes;
    const bv = f32x4.splat(bias ? load<f32>(bias + (<usize>r << 2)) : 0);
    const plane = out + <usize>r * (<usize>P << 2);
    for (let br = 0; br < rb; br++) {
      const oy = 4 * (ty0 + br);
      if (oy >= ho) break;
      for (let tx = 0; tx < tilesX; tx += 4) {
        const at = base + (<usize>(br * tilesX4 + tx) << 2);
        // A^T down each column j: s[a][j] into work (a * 96 + j * 16).
        for (let j = 0; j < 6; j++) {
          const p = at + <usize>j * mStride;
          const x0 = v128.load(p), x1 = v128.load(p + 6 * mStride), x2 = v128.load(p + 12 * mStride);
          const x3 = v128.load(p + 18 * mStride), x4 = v128.load(p + 24 * mStride), x5 = v128.load(p + 30 * mStride);
          const sp = f32x4.add(x1, x2), sm = f32x4.sub(x1, x2), tp = f32x4.add(x3, x4), tm = f32x4.sub(x3, x4);
          const o = work + (<usize>j << 4);
          v128.store(o, f32x4.add(f32x4.add(x0, sp), tp));
          v128.store(o, f32x4.add(sm, f32x4.mul(two, tm)), 96);
          v128.store(o, f32x4.add(sp, f32x4.mul(four, tp)), 192);
          v128.store(o, f32x4.add(f32x4.add(sm, f32x4.mul(eight, tm)), x5), 288);
        }
        const n = min<i32>(16, wo - 4 * tx);
        for (let a = 0; a < 4; a++) {
          if (oy + a >= ho) break;
          // ... and along the row: y[a][0..3], lane = tile.
          const q = work + <usize>a * 96;
          const x0 = v128.load(q), x1 = v128.load(q, 16), x2 = v128.load(q, 32), x3 = v128.load(q, 48), x4 = v128.load(q, 64), x5 = v128.load(q, 80);
          const sp = f32x4.add(x1, x2), sm = f32x4.sub(x1, x2), tp = f32x4.add(x3, x4), tm = f32x4.sub(x3, x4);
          const y0 = f32x4.add(f32x4.add(f32x4.add(x0, sp), tp), bv);
          const y1 = f32x4.add(f32x4.add(sm, f32x4.mul(two, tm)), bv);
          const y2 = f32x4.add(f32x4.add(sp, f32x4.mul(four, tp)), bv);
          const y3 = f32x4.add(f32x4.add(f32x4.add(sm, f32x4.mul(eight, tm)), x5), bv);
          // Tile t's 4 outputs are lane t of y0..y3: a 4x4 transpose gives 16 consecutive floats.
          const t0 = v128.shuffle<f32>(y0, y1, 0, 4, 1, 5);
          const t1 = v128.shuffle<f32>(y2, y3, 0, 4, 1, 5);
          const t2 = v128.shuffle<f32>(y0, y1, 2, 6, 3, 7);
          const t3 = v128.shuffle<f32>(y2, y3, 2, 6, 3, 7);
          const o = plane + (<usize>((oy + a) * wo + 4 * tx) << 2);
          put8(o, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5), v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), n, tail);
          if (n > 8) put8(o + 32, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), n - 8, tail);
        }
      }
    }
  }
}

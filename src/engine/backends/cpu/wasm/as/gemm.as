// AssemblyScript (compiled by ../module.ts; not TypeScript, hence the .as extension).
//
// Packed SGEMM, the core of every convolution, transposed convolution and linear layer on the
// wasm path: C[m, n] = bias[m] + sum_k A[m, k] * B[k, n].
//
// A is packed in blocks of KC columns, and within each in row blocks of 4:
// [ceil(K/KC)][Mp/4][kc][4] floats for Mp = ceil(M/4)*4 (zero rows past M; kc = KC but for the last
// block). One k step of the micro-kernel reads its 4 row values as consecutive floats, and the
// MC x KC slice one pass of the loops below reads is one contiguous run of memory: weights
// streamed from DRAM (every convolution's, once per forward) reach the prefetcher as one stream
// rather than as 4 KB pieces K * 16 bytes apart. B is packed in column panels of 8:
// [ceil(N/8)][K][8] floats. C is row-major with a row stride of ldc bytes. Every pointer is a byte
// offset into the shared memory.
//
// The 4x8 micro-kernel keeps its 8 accumulators in registers: per k step 2 B loads, 4 splat
// loads and 8 multiply-adds. A multiply-add is one fused instruction where the runtime has relaxed
// SIMD (see madd), else a multiply and an add.
//
// Blocking: K in blocks of KC (a 4 x KC slice of A and a KC x 8 panel of B stay in L1), rows in
// blocks of MC (MC x KC of A stays in L2 while the panels of B stream past it).

const KC: i32 = 256;

// c + a * b. With relaxed SIMD (module.ts enables it where the runtime has it) V8 emits one FMA
// on x64 and arm64: half the instructions of the inner loop, and one rounding instead of two.
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}
const MC: i32 = 128;

// 4 x 8 tile over kc steps. first != 0: start from the bias (bias == 0: from zero); otherwise
// accumulate onto C.
function micro(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize, first: i32, bias: usize): void {
  let c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128;
  if (first) {
    if (bias) {
      c00 = v128.load32_splat(bias);
      c10 = v128.load32_splat(bias, 4);
      c20 = v128.load32_splat(bias, 8);
      c30 = v128.load32_splat(bias, 12);
    } else {
      c00 = f32x4.splat(0);
      c10 = c00;
      c20 = c00;
      c30 = c00;
    }
    c01 = c00;
    c11 = c10;
    c21 = c20;
    c31 = c30;
  } else {
    let r = c;
    c00 = v128.load(r); c01 = v128.load(r, 16); r += ldc;
    c10 = v128.load(r); c11 = v128.load(r, 16); r += ldc;
    c20 = v128.load(r); c21 = v128.load(r, 16); r += ldc;
    c30 = v128.load(r); c31 = v128.load(r, 16);
  }
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    pa += 16;
    pb += 32;
  }
  v128.store(c, c00); v128.store(c, c01, 16); c += ldc;
  v128.store(c, c10); v128.store(c, c11, 16); c += ldc;
  v128.store(c, c20); v128.store(c, c21, 16); c += ldc;
  v128.store(c, c30); v128.store(c, c31, 16);
}

// The last panel when it holds 4 or fewer real columns: a 4 x 4 tile (the panel's first half),
// half the work of micro. Same contract as micro; writes the first 4 floats of each row.
function micro_n4(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize, first: i32, bias: usize): void {
  let c0: v128, c1: v128, c2: v128, c3: v128;
  if (first) {
    if (bias) {
      c0 = v128.load32_splat(bias);
      c1 = v128.load32_splat(bias, 4);
      c2 = v128.load32_splat(bias, 8);
      c3 = v128.load32_splat(bias, 12);
    } else {
      c0 = f32x4.splat(0);
      c1 = c0;
      c2 = c0;
      c3 = c0;
    }
  } else {
    c0 = v128.load(c);
    c1 = v128.load(c + ldc);
    c2 = v128.load(c + 2 * ldc);
    c3 = v128.load(c + 3 * ldc);
  }
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    c0 = madd(v128.load32_splat(pa), b0, c0);
    c1 = madd(v128.load32_splat(pa, 4), b0, c1);
    c2 = madd(v128.load32_splat(pa, 8), b0, c2);
    c3 = madd(v128.load32_splat(pa, 12), b0, c3);
    pa += 16;
    pb += 32;
  }
  v128.store(c, c0);
  v128.store(c + ldc, c1);
  v128.store(c + 2 * ldc, c2);
  v128.store(c + 3 * ldc, c3);
}

// The last panel when it holds one real column (a 7x7 map's 49th position, a 19x19 map's 361st):
// the 4 rows' dot products with that column, the 4 rows in one vector, four chains over k so the
// multiply-adds overlap. About a sixth of micro's time instead of all of it. Same contract;
// writes the first float of each row.
function micro_n1(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize, first: i32, bias: usize): void {
  let acc: v128;
  if (first) {
    acc = bias ? v128.load(bias) : f32x4.splat(0);
  } else {
    acc = v128.load32_zero(c);
    acc = v128.load32_lane(c + ldc, acc, 1);
    acc = v128.load32_lane(c + 2 * ldc, acc, 2);
    acc = v128.load32_lane(c + 3 * ldc, acc, 3);
  }
  let s1 = f32x4.splat(0);
  let s2 = s1;
  let s3 = s1;
  let k = 0;
  for (; k + 4 <= kc; k += 4) {
    acc = madd(v128.load(pa), v128.load32_splat(pb), acc);
    s1 = madd(v128.load(pa, 16), v128.load32_splat(pb, 32), s1);
    s2 = madd(v128.load(pa, 32), v128.load32_splat(pb, 64), s2);
    s3 = madd(v128.load(pa, 48), v128.load32_splat(pb, 96), s3);
    pa += 64;
    pb += 128;
  }
  for (; k < kc; k++) {
    acc = madd(v128.load(pa), v128.load32_splat(pb), acc);
    pa += 16;
    pb += 32;
  }
  acc = f32x4.add(f32x4.add(acc, s1), f32x4.add(s2, s3));
  store<f32>(c, f32x4.extract_lane(acc, 0));
  store<f32>(c + ldc, f32x4.extract_lane(acc, 1));
  store<f32>(c + 2 * ldc, f32x4.extract_lane(acc, 2));
  store<f32>(c + 3 * ldc, f32x4.extract_lane(acc, 3));
}

// C (M x N) from packed A and B, blocked over K and M. Tiles that would reach past C (the last
// panel when N % 8 != 0, the last row block when M % 4 != 0) accumulate in `tmp` instead, inside
// the same loops (so A is read once), and are copied out at the end: no write lands outside C.
// tmp holds ceil(M/4)*4 x 8 floats then 4 x ceil(N/8)*8 floats (gemm_tmp_bytes). `bias` (0: none)
// holds M floats, read in groups of 4: up to 3 floats past its end (in the arena's guard).
// a is the whole packed matrix, aRows its padded row count; the product uses its rows
// [aRow0, aRow0 + M), aRow0 a multiple of 4.
export function gemm(M: i32, N: i32, K: i32, a: usize, aRows: i32, aRow0: i32, b: usize, c: usize, ldc: usize, bias: usize, tmp: usize): void {
  const Mf = M & ~3;
  const Nf = N & ~7;
  const Mp = (M + 3) & ~3;
  const Np = (N + 7) & ~7;
  const edgeN = tmp; // Mp rows of 8, stride 32 bytes
  const edgeM = tmp + (<usize>Mp << 5); // 4 rows of Np, stride Np * 4 bytes
  const ldm = <usize>Np << 2;
  const bPanel = <usize>K << 5; // bytes per packed panel of B
  const nEdge = N - Nf; // real columns of the last panel when it is partial
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min<i32>(KC, K - k0);
    const first = k0 == 0 ? 1 : 0;
    const aBlock = <usize>kc << 4; // bytes per packed row block of A in this K block
    const aK = a + (<usize>k0 * <usize>aRows << 2) + <usize>(aRow0 >> 2) * aBlock;
    const bOff = <usize>k0 << 5;
    for (let m0 = 0; m0 < Mp; m0 += MC) {
      const m1 = min<i32>(m0 + MC, Mp);
      for (let q = 0; q < Np; q += 8) {
        const pb = b + <usize>(q >> 3) * bPanel + bOff;
        for (let m = m0; m < m1; m += 4) {
          let cp: usize;
          let ld: usize;
          if (q >= Nf) {
            cp = edgeN + (<usize>m << 5);
            ld = 32;
          } else if (m >= Mf) {
            cp = edgeM + (<usize>q << 2);
            ld = ldm;
          } else {
            cp = c + <usize>m * ldc + (<usize>q << 2);
            ld = ldc;
          }
          const pa = aK + <usize>(m >> 2) * aBlock;
          const pBias = bias ? bias + (<usize>m << 2) : 0;
          if (q < Nf || nEdge > 4) micro(pa, pb, kc, cp, ld, first, pBias);
          else if (nEdge > 1) micro_n4(pa, pb, kc, cp, ld, first, pBias);
          else micro_n1(pa, pb, kc, cp, ld, first, pBias);
        }
      }
    }
  }
  if (Nf < N) {
    const n = N - Nf;
    for (let m = 0; m < M; m++) {
      const dst = c + <usize>m * ldc + (<usize>Nf << 2);
      const src = edgeN + (<usize>m << 5);
      for (let t = 0; t < n; t++) store<f32>(dst + (<usize>t << 2), load<f32>(src + (<usize>t << 2)));
    }
  }
  for (let r = 0; r < M - Mf; r++) {
    const dst = c + <usize>(Mf + r) * ldc;
    const src = edgeM + <usize>r * ldm;
    let t = 0;
    for (; t + 4 <= Nf; t += 4) v128.store(dst + (<usize>t << 2), v128.load(src + (<usize>t << 2)));
    for (; t < Nf; t++) store<f32>(dst + (<usize>t << 2), load<f32>(src + (<usize>t << 2)));
  }
}

// Bytes of `tmp` that gemm needs for an M x N product.
export function gemm_tmp_bytes(M: i32, N: i32): i32 {
  return (((M + 3) & ~3) << 5) + (((N + 7) & ~7) << 4) + 64;
}

// Packs M rows of a row-major matrix (row stride lda bytes, K columns) as A (see the top of this
// file), zero rows past M.
export function pack_a(src: usize, lda: usize, M: i32, K: i32, dst: usize): void {
  for (let k0 = 0; k0 < K; k0 += KC) {
    const k1 = min<i32>(K, k0 + KC);
    for (let m = 0; m < M; m += 4) {
      const rows = min<i32>(4, M - m);
      const r0 = src + <usize>m * lda;
      let k = k0;
      if (rows == 4) {
        const r1 = r0 + lda;
        const r2 = r1 + lda;
        const r3 = r2 + lda;
        // 4 x 4 transposes: rows r0..r3, columns k..k+3 -> 4 groups of 4.
        for (; k + 4 <= k1; k += 4) {
          const o = <usize>k << 2;
          const v0 = v128.load(r0 + o);
          const v1 = v128.load(r1 + o);
          const v2 = v128.load(r2 + o);
          const v3 = v128.load(r3 + o);
          const t0 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5);
          const t1 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5);
          const t2 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7);
          const t3 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
          v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
          v128.store(dst, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 16);
          v128.store(dst, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 32);
          v128.store(dst, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 48);
          dst += 64;
        }
      }
      for (; k < k1; k++) {
        const o = <usize>k << 2;
        for (let r = 0; r < 4; r++) store<f32>(dst + (<usize>r << 2), r < rows ? load<f32>(r0 + <usize>r * lda + o) : 0);
        dst += 16;
      }
    }
  }
}

// The K block of A's packing (for the packers outside this file).
export function gemm_kc(): i32 {
  return KC;
}

// Packs columns [0, cols) of K rows (row stride ldb bytes, starting at src) as B panels of 8:
// [ceil(cols/8)][panelK][8], the first K rows of each, zero columns past cols. A 1x1
// convolution's input plane (or a slice of its channels), a transposed convolution's input rows.
export function pack_b_rows(src: usize, ldb: usize, K: i32, cols: i32, dst0: usize, panelK: i32): void {
  let dst = dst0;
  for (let q = 0; q < cols; q += 8) {
    const n = min<i32>(8, cols - q);
    let s = src + (<usize>q << 2);
    dst = dst0 + <usize>(q >> 3) * (<usize>panelK << 5);
    if (n == 8) {
      for (let k = 0; k < K; k++) {
        v128.store(dst, v128.load(s));
        v128.store(dst, v128.load(s, 16), 16);
        s += ldb;
        dst += 32;
      }
    } else {
      for (let k = 0; k < K; k++) {
        for (let t = 0; t < 8; t++) store<f32>(dst + (<usize>t << 2), t < n ? load<f32>(s + (<usize>t << 2)) : 0);
        s += ldb;
        dst += 32;
      }
    }
  }
}

// Packs the transpose of rows [f0, f0 + N) of a row-major [*, K] matrix as B panels: a linear
// layer's weight [out, in] becomes B = W^T [in, out] for y = x W^T.
export function pack_b_transposed(src: usize, K: i32, N: i32, dst: usize): void {
  const ld = <usize>K << 2;
  for (let q = 0; q < N; q += 8) {
    const n = min<i32>(8, N - q);
    const r = src + <usize>q * ld;
    for (let k = 0; k < K; k++) {
      const o = <usize>k << 2;
      for (let t = 0; t < 8; t++) store<f32>(dst + (<usize>t << 2), t < n ? load<f32>(r + <usize>t * ld + o) : 0);
      dst += 32;
    }
  }
}

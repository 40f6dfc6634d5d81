/**
 * C[m, t] = bias[m] + sum_k A[m, k] * B[k, t] for a tile of columns, the CPU workhorse of every
 * convolution (im2col tiles) and linear layer. A is row-major M x K at aOff with row stride lda;
 * B is K rows of `cols` values at bOff with row stride ldb; C is M rows at cOff with stride ldc.
 *
 * A 4x4 register tile keeps 16 accumulators in locals so each k step does 8 loads for 16
 * multiply-adds; V8 keeps them in registers. Edges fall back to a plain loop.
 */
export function gemmTile(
  M: number,
  K: number,
  cols: number,
  A: Float32Array,
  aOff: number,
  lda: number,
  B: Float32Array,
  bOff: number,
  ldb: number,
  C: Float32Array,
  cOff: number,
  ldc: number,
  bias: Float32Array | null,
  biasOff: number,
): void {
  const M4 = M - (M % 4);
  const T4 = cols - (cols % 4);
  for (let m = 0; m < M4; m += 4) {
    const a0 = aOff + m * lda;
    const a1 = a0 + lda;
    const a2 = a1 + lda;
    const a3 = a2 + lda;
    const b0v = bias ? bias[biasOff + m] : 0;
    const b1v = bias ? bias[biasOff + m + 1] : 0;
    const b2v = bias ? bias[biasOff + m + 2] : 0;
    const b3v = bias ? bias[biasOff + m + 3] : 0;
    const c0 = cOff + m * ldc;
    for (let t = 0; t < T4; t += 4) {
      let s00 = b0v, s01 = b0v, s02 = b0v, s03 = b0v;
      let s10 = b1v, s11 = b1v, s12 = b1v, s13 = b1v;
      let s20 = b2v, s21 = b2v, s22 = b2v, s23 = b2v;
      let s30 = b3v, s31 = b3v, s32 = b3v, s33 = b3v;
      let bp = bOff + t;
      for (let k = 0; k < K; k++, bp += ldb) {
        const x0 = B[bp], x1 = B[bp + 1], x2 = B[bp + 2], x3 = B[bp + 3];
        const w0 = A[a0 + k], w1 = A[a1 + k], w2 = A[a2 + k], w3 = A[a3 + k];
        s00 += w0 * x0; s01 += w0 * x1; s02 += w0 * x2; s03 += w0 * x3;
        s10 += w1 * x0; s11 += w1 * x1; s12 += w1 * x2; s13 += w1 * x3;
        s20 += w2 * x0; s21 += w2 * x1; s22 += w2 * x2; s23 += w2 * x3;
        s30 += w3 * x0; s31 += w3 * x1; s32 += w3 * x2; s33 += w3 * x3;
      }
      let c = c0 + t;
      C[c] = s00; C[c + 1] = s01; C[c + 2] = s02; C[c + 3] = s03; c += ldc;
      C[c] = s10; C[c + 1] = s11; C[c + 2] = s12; C[c + 3] = s13; c += ldc;
      C[c] = s20; C[c + 1] = s21; C[c + 2] = s22; C[c + 3] = s23; c += ldc;
      C[c] = s30; C[c + 1] = s31; C[c + 2] = s32; C[c + 3] = s33;
    }
    for (let t = T4; t < cols; t++) gemmEdge(m, m + 4, t, K, A, aOff, lda, B, bOff, ldb, C, cOff, ldc, bias, biasOff);
  }
  for (let m = M4; m < M; m++) {
    for (let t = 0; t < cols; t++) gemmEdge(m, m + 1, t, K, A, aOff, lda, B, bOff, ldb, C, cOff, ldc, bias, biasOff);
  }
}

function gemmEdge(
  m0: number,
  m1: number,
  t: number,
  K: number,
  A: Float32Array,
  aOff: number,
  lda: number,
  B: Float32Array,
  bOff: number,
  ldb: number,
  C: Float32Array,
  cOff: number,
  ldc: number,
  bias: Float32Array | null,
  biasOff: number,
): void {
  for (let m = m0; m < m1; m++) {
    let s = bias ? bias[biasOff + m] : 0;
    const a = aOff + m * lda;
    let bp = bOff + t;
    for (let k = 0; k < K; k++, bp += ldb) s += A[a + k] * B[bp];
    C[cOff + m * ldc + t] = s;
  }
}

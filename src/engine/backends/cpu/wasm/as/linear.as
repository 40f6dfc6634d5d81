// AssemblyScript (compiled by ../module.ts).
//
// A fully connected layer for a batch of one to three samples: y[f] = bias[f] + W[f, :] . x over
// output features [f0, f1). Every weight is read once, so this is bound by memory bandwidth:
// four rows at a time share each load of x, and k runs in vectors of 4.

@inline function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
}

export function gemv(x: usize, K: i32, w: usize, f0: i32, f1: i32, bias: usize, y: usize): void {
  const ld = <usize>K << 2;
  const K4 = K & ~3;
  let f = f0;
  for (; f + 4 <= f1; f += 4) {
    const r0 = w + <usize>f * ld;
    const r1 = r0 + ld;
    const r2 = r1 + ld;
    const r3 = r2 + ld;
    let s0 = f32x4.splat(0);
    let s1 = s0;
    let s2 = s0;
    let s3 = s0;
    for (let k = 0; k < K4; k += 4) {
      const o = <usize>k << 2;
      const xv = v128.load(x + o);
      s0 = f32x4.add(s0, f32x4.mul(v128.load(r0 + o), xv));
      s1 = f32x4.add(s1, f32x4.mul(v128.load(r1 + o), xv));
      s2 = f32x4.add(s2, f32x4.mul(v128.load(r2 + o), xv));
      s3 = f32x4.add(s3, f32x4.mul(v128.load(r3 + o), xv));
    }
    let t0 = hsum(s0);
    let t1 = hsum(s1);
    let t2 = hsum(s2);
    let t3 = hsum(s3);
    for (let k = K4; k < K; k++) {
      const o = <usize>k << 2;
      const xs = load<f32>(x + o);
      t0 += load<f32>(r0 + o) * xs;
      t1 += load<f32>(r1 + o) * xs;
      t2 += load<f32>(r2 + o) * xs;
      t3 += load<f32>(r3 + o) * xs;
    }
    const yo = y + (<usize>f << 2);
    if (bias) {
      const bo = bias + (<usize>f << 2);
      t0 += load<f32>(bo);
      t1 += load<f32>(bo, 4);
      t2 += load<f32>(bo, 8);
      t3 += load<f32>(bo, 12);
    }
    store<f32>(yo, t0);
    store<f32>(yo, t1, 4);
    store<f32>(yo, t2, 8);
    store<f32>(yo, t3, 12);
  }
  for (; f < f1; f++) {
    const r = w + <usize>f * ld;
    let s = f32x4.splat(0);
    for (let k = 0; k < K4; k += 4) {
      const o = <usize>k << 2;
      s = f32x4.add(s, f32x4.mul(v128.load(r + o), v128.load(x + o)));
    }
    let t = hsum(s);
    for (let k = K4; k < K; k++) t += load<f32>(r + (<usize>k << 2)) * load<f32>(x + (<usize>k << 2));
    if (bias) t += load<f32>(bias + (<usize>f << 2));
    store<f32>(y + (<usize>f << 2), t);
  }
}

// c[r, t] += bias[t] for M rows (stride ldc bytes) of N values: a linear layer's bias on the GEMM
// path, where the features are the columns.
export function add_rows(c: usize, M: i32, N: i32, ldc: usize, bias: usize): void {
  const N4 = N & ~3;
  for (let r = 0; r < M; r++) {
    let t = 0;
    for (; t < N4; t += 4) {
      const o = <usize>t << 2;
      v128.store(c + o, f32x4.add(v128.load(c + o), v128.load(bias + o)));
    }
    for (; t < N; t++) {
      const o = <usize>t << 2;
      store<f32>(c + o, load<f32>(c + o) + load<f32>(bias + o));
    }
    c += ldc;
  }
}

// AssemblyScript (compiled by ../module.ts).
//
// Element-wise kernels over n floats, 4 at a time: memory-bound, so the point is one pass at
// full vector width. NaN handling matches the TypeScript reference of each op.

// y = x > 0 ? x : 0 (NaN -> 0): pmax(0, x) is 0 < x ? x : 0.
export function relu(x: usize, y: usize, n: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.pmax(z, v128.load(x + o)));
  }
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    store<f32>(y + (<usize>i << 2), v > 0 ? v : 0);
  }
}

// y = min(max(x, 0), 6), NaN propagating like Math.min / Math.max.
export function relu6(x: usize, y: usize, n: i32): void {
  const z = f32x4.splat(0);
  const six = f32x4.splat(6);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.min(f32x4.max(v128.load(x + o), z), six));
  }
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    store<f32>(y + (<usize>i << 2), min<f32>(max<f32>(v, 0), 6));
  }
}

// y = a (+ or *) b, op 0: add, 1: mul.
export function binary_same(op: i32, a: usize, b: usize, y: usize, n: i32): void {
  let i = 0;
  if (op == 0) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      store<f32>(y + o, load<f32>(a + o) + load<f32>(b + o));
    }
  } else {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      store<f32>(y + o, load<f32>(a + o) * load<f32>(b + o));
    }
  }
}

// y = a (+ or *) s with s the float at `s`: one broadcast run (the SE scale multiplies a plane by one gate).
export function binary_scalar(op: i32, a: usize, s: usize, y: usize, n: i32): void {
  const v = load<f32>(s);
  const sv = f32x4.splat(v);
  let i = 0;
  if (op == 0) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, f32x4.add(v128.load(a + o), sv));
    }
    for (; i < n; i++) store<f32>(y + (<usize>i << 2), load<f32>(a + (<usize>i << 2)) + v);
  } else {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, f32x4.mul(v128.load(a + o), sv));
    }
    for (; i < n; i++) store<f32>(y + (<usize>i << 2), load<f32>(a + (<usize>i << 2)) * v);
  }
}

// Inference batch norm, folded: planes [p0, p1) of `spatial` floats, plane p in channel p % c,
// y = x * scale[ch] + shift[ch].
export function bn_planes(x: usize, y: usize, p0: i32, p1: i32, c: i32, spatial: i32, scale: usize, shift: usize): void {
  for (let p = p0; p < p1; p++) {
    const ch = p % c;
    const ks = load<f32>(scale + (<usize>ch << 2));
    const bs = load<f32>(shift + (<usize>ch << 2));
    const k = f32x4.splat(ks);
    const b = f32x4.splat(bs);
    const base = <usize>p * (<usize>spatial << 2);
    const xp = x + base;
    const yp = y + base;
    let i = 0;
    for (; i + 4 <= spatial; i += 4) {
      const o = <usize>i << 2;
      v128.store(yp + o, f32x4.add(f32x4.mul(v128.load(xp + o), k), b));
    }
    for (; i < spatial; i++) {
      const o = <usize>i << 2;
      store<f32>(yp + o, load<f32>(xp + o) * ks + bs);
    }
  }
}

// y = act(a * s + r) over n floats, s one float: SE's scale, the residual add and the relu after
// it (ops/add/wasm.ts, a mul with a fused residual) in one pass. act 0: none, 1: relu, 2: relu6,
// each as relu() and relu6() above compute it (NaN included). Rounds as the separate ops do: the
// product, then the sum.
export function scale_add(a: usize, s: usize, r: usize, y: usize, n: i32, act: i32): void {
  const v = load<f32>(s);
  const sv = f32x4.splat(v);
  const z = f32x4.splat(0);
  const six = f32x4.splat(6);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    let t = f32x4.add(f32x4.mul(v128.load(a + o), sv), v128.load(r + o));
    if (act == 1) t = f32x4.pmax(z, t);
    else if (act == 2) t = f32x4.min(f32x4.max(t, z), six);
    v128.store(y + o, t);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    let t = load<f32>(a + o) * v + load<f32>(r + o);
    if (act == 1) t = t > 0 ? t : 0;
    else if (act == 2) t = min<f32>(max<f32>(t, 0), 6);
    store<f32>(y + o, t);
  }
}

// A kernel's epilogue over rows rows of cols floats, stride bytes apart, from y: r (0: none; at
// the same offsets in its tensor) added, then act (0: none, 1: relu, 2: relu6, as relu() and
// relu6() compute them). One call per block of output, however many rows it has.
export function epilogue_rows(y: usize, r: usize, rows: i32, cols: i32, stride: usize, act: i32): void {
  const z = f32x4.splat(0);
  const six = f32x4.splat(6);
  for (let row = 0; row < rows; row++) {
    const yr = y + <usize>row * stride;
    const rr = r + <usize>row * stride;
    let i = 0;
    for (; i + 4 <= cols; i += 4) {
      const o = <usize>i << 2;
      let t = v128.load(yr + o);
      if (r) t = f32x4.add(t, v128.load(rr + o));
      if (act == 1) t = f32x4.pmax(z, t);
      else if (act == 2) t = f32x4.min(f32x4.max(t, z), six);
      v128.store(yr + o, t);
    }
    for (; i < cols; i++) {
      const o = <usize>i << 2;
      let t = load<f32>(yr + o);
      if (r) t += load<f32>(rr + o);
      if (act == 1) t = t > 0 ? t : 0;
      else if (act == 2) t = min<f32>(max<f32>(t, 0), 6);
      store<f32>(yr + o, t);
    }
  }
}

// AssemblyScript (compiled by ../module.ts).
//
// Direct sliding-window kernels over one NCHW plane: depthwise convolution (as a GEMM it would
// have K = kh * kw and nothing to reuse) and max / min / average pooling.
//
// Each plane is first copied into a padded buffer in scratch, the border filled with the value
// that cannot change the result (0 for a convolution and a sum, -inf for a max, +inf for a min),
// and wide enough that every vector load of every window lands inside it. At column stride 2 the
// copy is deinterleaved (even columns, then odd), so a tap's inputs for consecutive outputs are
// consecutive floats there too. Then every output runs the same code, 8 at a time along the
// output row, one vector load per 4 outputs and tap (4 scalar loads at other strides). The padded
// copy stays in L1/L2: it costs cache bandwidth, not memory bandwidth. The bodies are inlined with
// the mode and stride as constants, so each combination compiles to its own branch-free loop.

// Padded buffer geometry, shared by the kernels and by `window_scratch` (what the driver allocates).
@inline function paddedRows(h: i32, kh: i32, sh: i32, pt: i32, pb: i32, dh: i32, ho: i32): i32 {
  return max<i32>(h + pt + pb, (ho - 1) * sh + (kh - 1) * dh + 1);
}
// Outputs are computed 8 at a time up to roundUp(wo, 8); the last chunk reads up to 8 * sw floats
// from its first tap. A multiple of 8, so a stride-2 row splits into equal even and odd halves.
@inline function paddedCols(w: i32, kw: i32, sw: i32, pl: i32, pr: i32, dw: i32, wo: i32): i32 {
  const wo8 = (wo + 7) & ~7;
  const need = (wo8 - 8) * sw + (kw - 1) * dw + 8 * max<i32>(sw, 2);
  return (max<i32>(w + pl + pr, need) + 7) & ~7;
}

// Bytes of scratch one plane needs: the padded buffer, then a row's worth for the tail (and slack).
export function window_scratch(h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, pb: i32, pr: i32, dh: i32, dw: i32, ho: i32, wo: i32): i32 {
  const wp = paddedCols(w, kw, sw, pl, pr, dw, wo);
  return (paddedRows(h, kh, sh, pt, pb, dh, ho) + 1) * wp * 4 + 64;
}

// Copies an h x w plane into hp rows of wp floats at row pt, column pl, everything else = fill.
// With split != 0 each row is stored deinterleaved, its even columns then its odd ones, so that
// stride-2 windows read consecutive floats. Returns whether the plane holds a NaN (when asked).
function pad_plane(x: usize, h: i32, w: i32, pt: i32, pl: i32, hp: i32, wp: i32, fill: f32, split: i32, findNaN: i32, dst: usize): i32 {
  const fv = f32x4.splat(fill);
  const rowBytes = <usize>wp << 2;
  let nan = i32x4.splat(0);
  for (let r = 0; r < hp; r++) {
    const d = dst + <usize>r * rowBytes;
    if (r < pt || r >= pt + h) {
      for (let c = 0; c < wp; c += 4) v128.store(d + (<usize>c << 2), fv);
      continue;
    }
    const src = x + (<usize>((r - pt) * w) << 2);
    if (split) {
      // Padded column p = pl + input column. Even padded columns go to the first half, odd ones
      // to the second; the input's even and odd columns land in one half each, shifted by pl.
      for (let c = 0; c < wp; c += 4) v128.store(d + (<usize>c << 2), fv);
      const half = d + (<usize>wp << 1);
      const xe = (pl & 1) == 0 ? d + (<usize>(pl >> 1) << 2) : half + (<usize>((pl - 1) >> 1) << 2);
      const xo = (pl & 1) == 0 ? half + (<usize>(pl >> 1) << 2) : d + (<usize>((pl + 1) >> 1) << 2);
      let c = 0;
      for (; c + 8 <= w; c += 8) {
        const a = v128.load(src + (<usize>c << 2));
        const b = v128.load(src + (<usize>c << 2), 16);
        if (findNaN) nan = v128.or(nan, v128.or(f32x4.ne(a, a), f32x4.ne(b, b)));
        v128.store(xe + (<usize>c << 1), v128.shuffle<f32>(a, b, 0, 2, 4, 6));
        v128.store(xo + (<usize>c << 1), v128.shuffle<f32>(a, b, 1, 3, 5, 7));
      }
      for (; c < w; c++) {
        const v = load<f32>(src + (<usize>c << 2));
        if (v != v) nan = i32x4.splat(-1);
        store<f32>(((c & 1) == 0 ? xe : xo) + (<usize>(c >> 1) << 2), v);
      }
      continue;
    }
    for (let c = 0; c < pl; c++) store<f32>(d + (<usize>c << 2), fill);
    // A vector loop: memory.copy is a runtime call in V8, too dear for rows of a few dozen floats.
    const dstRow = d + (<usize>pl << 2);
    let c = 0;
    for (; c + 4 <= w; c += 4) {
      const v = v128.load(src + (<usize>c << 2));
      if (findNaN) nan = v128.or(nan, f32x4.ne(v, v));
      v128.store(dstRow + (<usize>c << 2), v);
    }
    for (; c < w; c++) {
      const v = load<f32>(src + (<usize>c << 2));
      if (v != v) nan = i32x4.splat(-1);
      store<f32>(dstRow + (<usize>c << 2), v);
    }
    // The right border 4 at a time; the last store may run up to 3 floats into the next row
    // (written after this one) or into the slack window_scratch leaves after the buffer.
    for (let c = pl + w; c < wp; c += 4) v128.store(d + (<usize>c << 2), fv);
  }
  return v128.any_true(nan) ? 1 : 0;
}

// Address of the first of 8 consecutive outputs' inputs for the tap at padded column c of a row
// (stride 2: in the deinterleaved row, where they are consecutive).
@inline function tapAddr(row: usize, c: i32, SW: i32, wp: i32): usize {
  if (SW == 2) return row + ((c & 1) ? <usize>wp << 1 : 0) + (<usize>(c >> 1) << 2);
  return row + (<usize>c << 2);
}

// The inputs of 4 consecutive outputs at `a` (the second group of 4: lane offset 4).
@inline function load4(a: usize, SW: i32, sw: i32, second: i32): v128 {
  if (SW == 1 || SW == 2) return second ? v128.load(a, 16) : v128.load(a);
  const s = <usize>sw << 2;
  const b = second ? a + 4 * s : a;
  let v = v128.load32_zero(b);
  v = f32x4.replace_lane(v, 1, load<f32>(b + s));
  v = f32x4.replace_lane(v, 2, load<f32>(b + 2 * s));
  return f32x4.replace_lane(v, 3, load<f32>(b + 3 * s));
}

// Stores 8 outputs at o, or only the first n of them through `tail` (so a plane's last row never
// writes past the plane: the next plane may belong to another thread).
@inline function store8(o: usize, a0: v128, a1: v128, n: i32, tail: usize): void {
  if (n >= 8) {
    v128.store(o, a0);
    v128.store(o, a1, 16);
  } else {
    v128.store(tail, a0);
    v128.store(tail, a1, 16);
    for (let t = 0; t < n; t++) store<f32>(o + (<usize>t << 2), load<f32>(tail + (<usize>t << 2)));
  }
}

// One output plane of a depthwise convolution: out = bias + sum over taps of wt[i, j] * x, taps
// added in the reference's order (row by row).
export function dw_plane(
  x: usize, h: i32, w: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, pb: i32, pr: i32, dh: i32, dw: i32,
  ho: i32, wo: i32, wt: usize, biasPtr: usize, out: usize, scratch: usize,
): void {
  const hp = paddedRows(h, kh, sh, pt, pb, dh, ho);
  const wp = paddedCols(w, kw, sw, pl, pr, dw, wo);
  const tail = scratch + (<usize>(hp * wp) << 2);
  pad_plane(x, h, w, pt, pl, hp, wp, 0, sw == 2 ? 1 : 0, 0, scratch);
  const bias: f32 = biasPtr ? load<f32>(biasPtr) : 0;
  if (kh == 3 && kw == 3 && dh == 1 && dw == 1 && (sw == 1 || sw == 2)) {
    if (sw == 1) dw3x3(1, scratch, sh, ho, wo, wp, wt, bias, out, tail);
    else dw3x3(2, scratch, sh, ho, wo, wp, wt, bias, out, tail);
  } else if (sw == 1) dwBody(1, scratch, kh, kw, sh, 1, dh, dw, ho, wo, wp, wt, bias, out, tail);
  else if (sw == 2) dwBody(2, scratch, kh, kw, sh, 2, dh, dw, ho, wo, wp, wt, bias, out, tail);
  else dwBody(0, scratch, kh, kw, sh, sw, dh, dw, ho, wo, wp, wt, bias, out, tail);
}

// The 3x3, dilation 1 depthwise convolution (MobileNet, ShuffleNet, Xception): the nine weights
// stay in registers and every tap is one load per 4 outputs; rows end in a 4-wide step so narrow
// planes (19, 28 wide) waste few lanes.
@inline function dw3x3(SW: i32, pad: usize, sh: i32, ho: i32, wo: i32, wp: i32, wt: usize, bias: f32, out: usize, tail: usize): void {
  const w00 = v128.load32_splat(wt);
  const w01 = v128.load32_splat(wt, 4);
  const w02 = v128.load32_splat(wt, 8);
  const w10 = v128.load32_splat(wt, 12);
  const w11 = v128.load32_splat(wt, 16);
  const w12 = v128.load32_splat(wt, 20);
  const w20 = v128.load32_splat(wt, 24);
  const w21 = v128.load32_splat(wt, 28);
  const w22 = v128.load32_splat(wt, 32);
  const b = f32x4.splat(bias);
  const rowBytes = <usize>wp << 2;
  // Stride 1: taps j = 0, 1, 2 sit 0, 1, 2 floats on. Stride 2 (deinterleaved rows): even half
  // at +0, odd half at +0, even half at +1.
  const o1: usize = SW == 1 ? 4 : <usize>wp << 1;
  const o2: usize = SW == 1 ? 8 : 4;
  for (let oy = 0; oy < ho; oy++) {
    const r0 = pad + <usize>(oy * sh) * rowBytes;
    const r1 = r0 + rowBytes;
    const r2 = r1 + rowBytes;
    const o = out + (<usize>(oy * wo) << 2);
    let ox = 0;
    for (; ox + 4 <= wo; ox += 4) {
      const c = <usize>ox << 2;
      let a = f32x4.add(b, f32x4.mul(w00, v128.load(r0 + c)));
      a = f32x4.add(a, f32x4.mul(w01, v128.load(r0 + c + o1)));
      a = f32x4.add(a, f32x4.mul(w02, v128.load(r0 + c + o2)));
      a = f32x4.add(a, f32x4.mul(w10, v128.load(r1 + c)));
      a = f32x4.add(a, f32x4.mul(w11, v128.load(r1 + c + o1)));
      a = f32x4.add(a, f32x4.mul(w12, v128.load(r1 + c + o2)));
      a = f32x4.add(a, f32x4.mul(w20, v128.load(r2 + c)));
      a = f32x4.add(a, f32x4.mul(w21, v128.load(r2 + c + o1)));
      a = f32x4.add(a, f32x4.mul(w22, v128.load(r2 + c + o2)));
      v128.store(o + c, a);
    }
    if (ox < wo) {
      const c = <usize>ox << 2;
      let a = f32x4.add(b, f32x4.mul(w00, v128.load(r0 + c)));
      a = f32x4.add(a, f32x4.mul(w01, v128.load(r0 + c + o1)));
      a = f32x4.add(a, f32x4.mul(w02, v128.load(r0 + c + o2)));
      a = f32x4.add(a, f32x4.mul(w10, v128.load(r1 + c)));
      a = f32x4.add(a, f32x4.mul(w11, v128.load(r1 + c + o1)));
      a = f32x4.add(a, f32x4.mul(w12, v128.load(r1 + c + o2)));
      a = f32x4.add(a, f32x4.mul(w20, v128.load(r2 + c)));
      a = f32x4.add(a, f32x4.mul(w21, v128.load(r2 + c + o1)));
      a = f32x4.add(a, f32x4.mul(w22, v128.load(r2 + c + o2)));
      store4(o + c, a, wo - ox, tail);
    }
  }
}

// Stores the first n (< 4) of 4 outputs at o, through `tail`.
@inline function store4(o: usize, a: v128, n: i32, tail: usize): void {
  v128.store(tail, a);
  for (let t = 0; t < n; t++) store<f32>(o + (<usize>t << 2), load<f32>(tail + (<usize>t << 2)));
}

@inline function dwBody(SW: i32, pad: usize, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, ho: i32, wo: i32, wp: i32, wt: usize, bias: f32, out: usize, tail: usize): void {
  const b = f32x4.splat(bias);
  const rowBytes = <usize>wp << 2;
  for (let oy = 0; oy < ho; oy++) {
    const top = pad + <usize>(oy * sh) * rowBytes;
    const o = out + (<usize>(oy * wo) << 2);
    for (let ox = 0; ox < wo; ox += 8) {
      let a0 = b;
      let a1 = b;
      for (let i = 0; i < kh; i++) {
        const row = top + <usize>(i * dh) * rowBytes;
        const wr = wt + (<usize>(i * kw) << 2);
        for (let j = 0; j < kw; j++) {
          const wv = v128.load32_splat(wr + (<usize>j << 2));
          const a = tapAddr(row, ox * sw + j * dw, SW, wp);
          a0 = f32x4.add(a0, f32x4.mul(wv, load4(a, SW, sw, 0)));
          a1 = f32x4.add(a1, f32x4.mul(wv, load4(a, SW, sw, 1)));
        }
      }
      store8(o + (<usize>ox << 2), a0, a1, wo - ox, tail);
    }
  }
}

// Pooling of one plane. mode 0: max, 1: min (padding never wins; a NaN in the window gives NaN,
// as Math.max / Math.min do), 2: average with PyTorch's divisor: the window clipped to input +
// padding (pb, pr), or with countIncludePad == 0 to the input alone.
export function pool_plane(
  mode: i32, x: usize, h: i32, w: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, pb: i32, pr: i32, dh: i32, dw: i32,
  ho: i32, wo: i32, countIncludePad: i32, out: usize, scratch: usize,
): void {
  const hp = paddedRows(h, kh, sh, pt, pb, dh, ho);
  const wp = paddedCols(w, kw, sw, pl, pr, dw, wo);
  const fill: f32 = mode == 0 ? -Infinity : mode == 1 ? Infinity : 0;
  const tail = scratch + (<usize>(hp * wp) << 2);
  // Max and min run on pmax / pmin (one instruction each, but NaN-blind); a plane holding a NaN
  // takes the NaN-propagating f32x4.max / min instead (several instructions each on x64).
  const nan = pad_plane(x, h, w, pt, pl, hp, wp, fill, sw == 2 ? 1 : 0, mode == 2 ? 0 : 1, scratch);
  const S = sw == 1 ? 1 : sw == 2 ? 2 : 0;
  const M = mode * 2 + nan;
  if (kh == 3 && kw == 3 && dh == 1 && dw == 1 && S != 0) {
    if (S == 1) {
      if (M == 0) pool3x3(0, 1, scratch, h, sh, pt, pl, pb, pr, ho, wo, wp, w, countIncludePad, out, tail);
      else if (M == 1) pool3x3(1, 1, scratch, h, sh, pt, pl, pb, pr, ho, wo, wp, w, countIncludePad, out, tail);
      else if (M == 2) pool3x3(2, 1, scratch, h, sh, pt, pl, pb, pr, ho, wo, wp, w, countIncludePad, out, tail);
      else if (M == 3) pool3x3(3, 1, scratch, h, sh, pt, pl, pb, pr, ho, wo, wp, w, countIncludePad, out, tail);
      else pool3x3(4, 1, scratch, h, sh, pt, pl, pb, pr, ho, wo, wp, w, countIncludePad, out, tail);
    } else {
      if (M == 0) pool3x3(0, 2, scratch, h, sh, pt, pl, pb, pr, ho, wo, wp, w, countIncludePad, out, tail);
      else if (M == 1) pool3x3(1, 2, scratch, h, sh, pt, pl, pb, pr, ho, wo, wp, w, countIncludePad, out, tail);
      else if (M == 2) pool3x3(2, 2, scratch, h, sh, pt, pl, pb, pr, ho, wo, wp, w, countIncludePad, out, tail);
      else if (M == 3) pool3x3(3, 2, scratch, h, sh, pt, pl, pb, pr, ho, wo, wp, w, countIncludePad, out, tail);
      else pool3x3(4, 2, scratch, h, sh, pt, pl, pb, pr, ho, wo, wp, w, countIncludePad, out, tail);
    }
  } else if (S == 1) {
    if (M == 0) poolBody(0, 1, scratch, h, kh, kw, sh, 1, pt, pl, pb, pr, dh, dw, ho, wo, wp, w, countIncludePad, out, tail);
    else if (M == 1) poolBody(1, 1, scratch, h, kh, kw, sh, 1, pt, pl, pb, pr, dh, dw, ho, wo, wp, w, countIncludePad, out, tail);
    else if (M == 2) poolBody(2, 1, scratch, h, kh, kw, sh, 1, pt, pl, pb, pr, dh, dw, ho, wo, wp, w, countIncludePad, out, tail);
    else if (M == 3) poolBody(3, 1, scratch, h, kh, kw, sh, 1, pt, pl, pb, pr, dh, dw, ho, wo, wp, w, countIncludePad, out, tail);
    else poolBody(4, 1, scratch, h, kh, kw, sh, 1, pt, pl, pb, pr, dh, dw, ho, wo, wp, w, countIncludePad, out, tail);
  } else if (S == 2) {
    if (M == 0) poolBody(0, 2, scratch, h, kh, kw, sh, 2, pt, pl, pb, pr, dh, dw, ho, wo, wp, w, countIncludePad, out, tail);
    else if (M == 1) poolBody(1, 2, scratch, h, kh, kw, sh, 2, pt, pl, pb, pr, dh, dw, ho, wo, wp, w, countIncludePad, out, tail);
    else if (M == 2) poolBody(2, 2, scratch, h, kh, kw, sh, 2, pt, pl, pb, pr, dh, dw, ho, wo, wp, w, countIncludePad, out, tail);
    else if (M == 3) poolBody(3, 2, scratch, h, kh, kw, sh, 2, pt, pl, pb, pr, dh, dw, ho, wo, wp, w, countIncludePad, out, tail);
    else poolBody(4, 2, scratch, h, kh, kw, sh, 2, pt, pl, pb, pr, dh, dw, ho, wo, wp, w, countIncludePad, out, tail);
  } else {
    poolBody(M, 0, scratch, h, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, ho, wo, wp, w, countIncludePad, out, tail);
  }
}

// Combines two window values. M: 0 max, 1 max with NaN, 2 min, 3 min with NaN, 4 average (sum).
@inline function combine(M: i32, a: v128, v: v128): v128 {
  if (M == 0) return f32x4.pmax(a, v);
  if (M == 1) return f32x4.max(a, v);
  if (M == 2) return f32x4.pmin(a, v);
  if (M == 3) return f32x4.min(a, v);
  return f32x4.add(a, v);
}

// The 3x3, dilation 1 pools (ResNet's stem, ShuffleNet's shortcut), 4 outputs at a time, nine
// loads each; see dw3x3 for the tap offsets.
@inline function pool3x3(
  M: i32, SW: i32, pad: usize, h: i32, sh: i32, pt: i32, pl: i32, pb: i32, pr: i32,
  ho: i32, wo: i32, wp: i32, w: i32, countIncludePad: i32, out: usize, tail: usize,
): void {
  const rowBytes = <usize>wp << 2;
  const o1: usize = SW == 1 ? 4 : <usize>wp << 1;
  const o2: usize = SW == 1 ? 8 : 4;
  for (let oy = 0; oy < ho; oy++) {
    const r0 = pad + <usize>(oy * sh) * rowBytes;
    const r1 = r0 + rowBytes;
    const r2 = r1 + rowBytes;
    const o = out + (<usize>(oy * wo) << 2);
    const ys = oy * sh - pt;
    const rows = f32x4.splat(<f32>(countIncludePad ? min<i32>(ys + 3, h + pb) - ys : min<i32>(ys + 3, h) - max<i32>(ys, 0)));
    for (let ox = 0; ox < wo; ox += 4) {
      const c = <usize>ox << 2;
      let a = combine(M, v128.load(r0 + c), v128.load(r0 + c + o1));
      a = combine(M, a, v128.load(r0 + c + o2));
      a = combine(M, a, v128.load(r1 + c));
      a = combine(M, a, v128.load(r1 + c + o1));
      a = combine(M, a, v128.load(r1 + c + o2));
      a = combine(M, a, v128.load(r2 + c));
      a = combine(M, a, v128.load(r2 + c + o1));
      a = combine(M, a, v128.load(r2 + c + o2));
      if (M == 4) {
        // Away from the left and right borders every window is 3 columns wide.
        const inside = ox * SW - pl >= 0 && (ox + 3) * SW - pl + 3 <= w;
        a = f32x4.div(a, f32x4.mul(rows, inside ? f32x4.splat(3) : colCounts(ox, SW, pl, 3, w, pr, countIncludePad)));
      }
      if (ox + 4 <= wo) v128.store(o + c, a);
      else store4(o + c, a, wo - ox, tail);
    }
  }
}

// M: 0 max, 1 max with NaN, 2 min, 3 min with NaN, 4 average.
@inline function poolBody(
  M: i32, SW: i32, pad: usize, h: i32, kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, pb: i32, pr: i32, dh: i32, dw: i32,
  ho: i32, wo: i32, wp: i32, w: i32, countIncludePad: i32, out: usize, tail: usize,
): void {
  const init = f32x4.splat(M < 2 ? -Infinity : M < 4 ? Infinity : 0);
  const rowBytes = <usize>wp << 2;
  for (let oy = 0; oy < ho; oy++) {
    const top = pad + <usize>(oy * sh) * rowBytes;
    const o = out + (<usize>(oy * wo) << 2);
    for (let ox = 0; ox < wo; ox += 8) {
      let a0 = init;
      let a1 = init;
      for (let i = 0; i < kh; i++) {
        const row = top + <usize>(i * dh) * rowBytes;
        for (let j = 0; j < kw; j++) {
          const a = tapAddr(row, ox * sw + j * dw, SW, wp);
          const v0 = load4(a, SW, sw, 0);
          const v1 = load4(a, SW, sw, 1);
          if (M == 0) {
            a0 = f32x4.pmax(a0, v0);
            a1 = f32x4.pmax(a1, v1);
          } else if (M == 1) {
            a0 = f32x4.max(a0, v0);
            a1 = f32x4.max(a1, v1);
          } else if (M == 2) {
            a0 = f32x4.pmin(a0, v0);
            a1 = f32x4.pmin(a1, v1);
          } else if (M == 3) {
            a0 = f32x4.min(a0, v0);
            a1 = f32x4.min(a1, v1);
          } else {
            a0 = f32x4.add(a0, v0);
            a1 = f32x4.add(a1, v1);
          }
        }
      }
      if (M == 4) {
        // The divisor factorises into a row count and a column count.
        const ys = oy * sh - pt;
        const rows: f32 = <f32>(countIncludePad ? min<i32>(ys + kh, h + pb) - ys : min<i32>(ys + kh, h) - max<i32>(ys, 0));
        const r = f32x4.splat(rows);
        a0 = f32x4.div(a0, f32x4.mul(r, colCounts(ox, sw, pl, kw, w, pr, countIncludePad)));
        a1 = f32x4.div(a1, f32x4.mul(r, colCounts(ox + 4, sw, pl, kw, w, pr, countIncludePad)));
      }
      store8(o + (<usize>ox << 2), a0, a1, wo - ox, tail);
    }
  }
}

// The average's column counts of outputs ox .. ox + 3 (lanes past the row get 1: never stored).
@inline function colCounts(ox: i32, sw: i32, pl: i32, kw: i32, w: i32, pr: i32, countIncludePad: i32): v128 {
  let v = f32x4.splat(colCount(ox, sw, pl, kw, w, pr, countIncludePad));
  v = f32x4.replace_lane(v, 1, colCount(ox + 1, sw, pl, kw, w, pr, countIncludePad));
  v = f32x4.replace_lane(v, 2, colCount(ox + 2, sw, pl, kw, w, pr, countIncludePad));
  return f32x4.replace_lane(v, 3, colCount(ox + 3, sw, pl, kw, w, pr, countIncludePad));
}
@inline function colCount(ox: i32, sw: i32, pl: i32, kw: i32, w: i32, pr: i32, countIncludePad: i32): f32 {
  const xs = ox * sw - pl;
  const n = countIncludePad ? min<i32>(xs + kw, w + pr) - xs : min<i32>(xs + kw, w) - max<i32>(xs, 0);
  return n > 0 ? <f32>n : 1;
}

// Mean of each of `planes` runs of n floats (summed in float64, as the reference does).
export function mean_planes(x: usize, planes: i32, n: i32, out: usize): void {
  const n4 = n & ~3;
  for (let p = 0; p < planes; p++) {
    let lo = f64x2.splat(0);
    let hi = lo;
    let i = 0;
    for (; i < n4; i += 4) {
      const v = v128.load(x + (<usize>i << 2));
      lo = f64x2.add(lo, f64x2.promote_low_f32x4(v));
      hi = f64x2.add(hi, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
    }
    const t = f64x2.add(lo, hi);
    let s = f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
    for (; i < n; i++) s += <f64>load<f32>(x + (<usize>i << 2));
    store<f32>(out + (<usize>p << 2), <f32>(s / <f64>n));
    x += <usize>n << 2;
  }
}

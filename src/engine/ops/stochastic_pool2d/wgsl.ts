/**
 * stochastic_pool2d on WebGPU. Inference (the activation-weighted mean) is the shared window-pool
 * kernel. Training must pick the same element as the CPU kernel (cpu.ts) every time, so it replays
 * that kernel's arithmetic exactly:
 * - output i takes the first draw of mulberry32(seed + i * 0x6d2b79f5), in u32 arithmetic (the
 *   multiplications wrap exactly as Math.imul does);
 * - the CPU sums in float64, scales the draw by the sum in float64 and walks the float64 running
 *   sum; float32 would pick a neighbour whenever the draw lands within a rounding error of a
 *   boundary. The sums here are software float64 on u32 words (`SOFT_F64_WGSL`): only additions of
 *   positive values, one 32 x 53-bit product and a comparison are needed, each rounded to nearest
 *   even exactly as IEEE 754 does;
 * - values are read as bits, so a subnormal counts as positive (as on the CPU) on GPUs that flush
 *   subnormals, and the chosen value is written back bit for bit.
 */
import { gridFor, sliceBinding, uniformsWgsl } from '../../kernels/wgsl/common.ts';
import { MAIN_PARAMS, runsOf, THREAD, WG } from '../../kernels/wgsl/chunks.ts';
import { windowPoolDispatches } from '../pool2d-wgsl.ts';
import type { GpuDispatch, GpuPlanArgs, UniformField, WebGpuKernel } from '../types.ts';
import type { StochasticPool2dAttrs } from './index.ts';

export const stochasticPoolWgsl: WebGpuKernel<StochasticPool2dAttrs> = {
  plan: (args) => ({ dispatches: args.attrs.training ? samplingDispatches(args) : windowPoolDispatches('stochastic', args, false) }),
};

/**
 * Non-negative float64 arithmetic on u32 words. An `F64` is (hi * 2^32 + lo) * 2^e with the
 * 53-bit mantissa normalised to [2^52, 2^53), or zero (hi = 0). 64-bit words are vec2<u32>
 * (x = high, y = low). Float64 has room for every float32 and every sum and product formed here, so
 * there are no subnormals, overflows or infinities to handle.
 */
export const SOFT_F64_WGSL = /* wgsl */ `
struct F64 { e: i32, hi: u32, lo: u32 }

fn shr64(v: vec2<u32>, n: u32) -> vec2<u32> {
  if (n == 0u) { return v; }
  if (n >= 32u) { return vec2<u32>(0u, v.x >> (n - 32u)); }
  return vec2<u32>(v.x >> n, (v.y >> n) | (v.x << (32u - n)));
}

fn shl64(v: vec2<u32>, n: u32) -> vec2<u32> {
  if (n == 0u) { return v; }
  if (n >= 32u) { return vec2<u32>(v.y << (n - 32u), 0u); }
  return vec2<u32>((v.x << n) | (v.y >> (32u - n)), v.y << n);
}

fn add64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let lo = a.y + b.y;
  return vec2<u32>(a.x + b.x + select(0u, 1u, lo < a.y), lo);
}

/** The full 64-bit product of two u32. */
fn mul32(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p00 = a0 * b0;
  let p01 = a0 * b1;
  let mid = p01 + a1 * b0;
  let midCarry = select(0u, 0x10000u, mid < p01);
  let lo = p00 + (mid << 16u);
  return vec2<u32>(a1 * b1 + (mid >> 16u) + midCarry + select(0u, 1u, lo < p00), lo);
}

/** The float64 value of a positive, finite float32 given by its bits. */
fn f64FromBits(b: u32) -> F64 {
  let ex = (b >> 23u) & 0xffu;
  let f = b & 0x7fffffu;
  if (ex != 0u) {
    let m = f | 0x800000u;
    return F64(i32(ex) - 179, m >> 3u, m << 29u);
  }
  // Subnormal: f * 2^-149, normalised.
  let shift = 53u - (32u - countLeadingZeros(f));
  let v = shl64(vec2<u32>(0u, f), shift);
  return F64(-149 - i32(shift), v.x, v.y);
}

/** a + b rounded to nearest even (guard, round and sticky bits below the mantissa). */
fn f64Add(a: F64, b: F64) -> F64 {
  if (a.hi == 0u) { return b; }
  if (b.hi == 0u) { return a; }
  var x = a;
  var y = b;
  if (b.e > a.e) { x = b; y = a; }
  let d = u32(x.e - y.e);
  // y is below half an ulp of x: x + y rounds to x.
  if (d >= 54u) { return x; }
  let xm = shl64(vec2<u32>(x.hi, x.lo), 3u);
  var ym = shl64(vec2<u32>(y.hi, y.lo), 3u);
  if (d > 0u) {
    let lost = shl64(ym, 64u - d);
    ym = shr64(ym, d);
    ym.y |= select(0u, 1u, (lost.x | lost.y) != 0u);
  }
  var s = add64(xm, ym);
  var e = x.e;
  if (s.x >= 0x1000000u) {
    let sticky = s.y & 1u;
    s = shr64(s, 1u);
    s.y |= sticky;
    e += 1;
  }
  let low = s.y & 7u;
  var m = shr64(s, 3u);
  if (low > 4u || (low == 4u && (m.y & 1u) == 1u)) {
    m = add64(m, vec2<u32>(0u, 1u));
    if (m.x == 0x200000u) {
      m = shr64(m, 1u);
      e += 1;
    }
  }
  return F64(e, m.x, m.y);
}

/** (w / 2^32) * s rounded to nearest even: a mulberry32 draw in [0, 1) times s. */
fn f64Scale(w: u32, s: F64) -> F64 {
  if (w == 0u || s.hi == 0u) { return F64(0, 0u, 0u); }
  // The 85-bit product w * mantissa in three words.
  let p = mul32(w, s.lo);
  let q = mul32(w, s.hi);
  let w0 = p.y;
  let w1 = p.x + q.y;
  let w2 = q.x + select(0u, 1u, w1 < p.x);
  var bits: u32;
  if (w2 != 0u) {
    bits = 96u - countLeadingZeros(w2);
  } else {
    bits = 64u - countLeadingZeros(w1);
  }
  // Keep the top 53 bits; the sh bits below them decide the rounding.
  var sh = bits - 53u;
  var m: vec2<u32>;
  var above = false;
  var tie = false;
  if (sh == 0u) {
    m = vec2<u32>(w1, w0);
  } else if (sh == 32u) {
    m = vec2<u32>(w2, w1);
    tie = w0 == 0x80000000u;
    above = w0 > 0x80000000u;
  } else {
    m = vec2<u32>((w1 >> sh) | (w2 << (32u - sh)), (w0 >> sh) | (w1 << (32u - sh)));
    let rest = w0 & ((1u << sh) - 1u);
    let h = 1u << (sh - 1u);
    tie = rest == h;
    above = rest > h;
  }
  if (above || (tie && (m.y & 1u) == 1u)) {
    m = add64(m, vec2<u32>(0u, 1u));
    if (m.x == 0x200000u) {
      m = shr64(m, 1u);
      sh += 1u;
    }
  }
  return F64(s.e + i32(sh) - 32, m.x, m.y);
}

fn f64Less(a: F64, b: F64) -> bool {
  if (a.hi == 0u) { return b.hi != 0u; }
  if (b.hi == 0u) { return false; }
  if (a.e != b.e) { return a.e < b.e; }
  if (a.hi != b.hi) { return a.hi < b.hi; }
  return a.lo < b.lo;
}
`;

/** The first output of mulberry32(seed + i * STEP) as a u32 (the CPU divides it by 2^32). */
export const MULBERRY32_WGSL = /* wgsl */ `
fn mulberry32Draw(seed: u32, i: u32) -> u32 {
  var t = seed + i * 0x6d2b79f5u + 0x6d2b79f5u;
  t = (t ^ (t >> 15u)) * (t | 1u);
  t = t ^ (t + (t ^ (t >> 7u)) * (t | 61u));
  return t ^ (t >> 14u);
}
`;

const FIELDS = ['total', 'h', 'w', 'ho', 'wo', 'kh', 'kw', 'sh', 'sw', 'pt', 'pl', 'xBase', 'yBase'] as const;

const SAMPLE_CODE = (fields: UniformField[]) => `
@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> y: array<u32>;
${uniformsWgsl(fields, 2)}
${SOFT_F64_WGSL}
${MULBERRY32_WGSL}
const INF_BITS = 0x7f800000u;

/** x > 0 on the bits: +0, negatives (sign set) and NaNs (above +inf) are not. */
fn positive(b: u32) -> bool { return b != 0u && b <= INF_BITS; }

@compute @workgroup_size(${WG})
fn main(${MAIN_PARAMS}) {
  ${THREAD}
  if (t >= u.total) { return; }
  let ox = t % u.wo;
  let r = t / u.wo;
  let oy = r % u.ho;
  let plane = r / u.ho;
  let src = u.xBase + plane * u.h * u.w;
  let ys = oy * u.sh - u.pt;
  let xs = ox * u.sw - u.pl;
  let y0 = max(ys, 0);
  let y1 = min(ys + u.kh, u.h);
  let x0 = max(xs, 0);
  let x1 = min(xs + u.kw, u.w);
  var s = F64(0, 0u, 0u);
  var inf = false;
  var last = 0u;
  for (var iy = y0; iy < y1; iy++) {
    let row = src + iy * u.w;
    for (var ix = x0; ix < x1; ix++) {
      let b = x[row + ix];
      if (positive(b)) {
        last = b;
        if (b == INF_BITS) { inf = true; } else { s = f64Add(s, f64FromBits(b)); }
      }
    }
  }
  var picked = 0u;
  if (inf) {
    // The CPU's sum is +inf, its scaled draw +inf (or NaN for a zero draw): never below the
    // running sum, so the last positive element wins.
    picked = last;
  } else if (s.hi != 0u) {
    let goal = f64Scale(mulberry32Draw(u.seed, u.first + u32(t)), s);
    var cum = F64(0, 0u, 0u);
    var found = false;
    for (var iy = y0; iy < y1 && !found; iy++) {
      let row = src + iy * u.w;
      for (var ix = x0; ix < x1; ix++) {
        let b = x[row + ix];
        if (positive(b)) {
          picked = b;
          cum = f64Add(cum, f64FromBits(b));
          if (f64Less(goal, cum)) {
            found = true;
            break;
          }
        }
      }
    }
  }
  y[u.yBase + t] = picked;
}
`;

function samplingDispatches(args: GpuPlanArgs<StochasticPool2dAttrs>): GpuDispatch[] {
  const a = args.attrs;
  const inPlane = a.h * a.w;
  const outPlane = a.ho * a.wo;
  return runsOf(a.n * a.c, Math.max(inPlane, outPlane) * 4, args.limits, 'one channel plane').map(({ first, count }) => {
    const x = sliceBinding({ input: 0 }, first * inPlane, count * inPlane, args.limits);
    const y = sliceBinding({ output: true }, first * outPlane, count * outPlane, args.limits);
    const total = count * outPlane;
    const values: Record<(typeof FIELDS)[number], number> = {
      total,
      h: a.h,
      w: a.w,
      ho: a.ho,
      wo: a.wo,
      kh: a.kernel[0],
      kw: a.kernel[1],
      sh: a.stride[0],
      sw: a.stride[1],
      pt: a.pads[0],
      pl: a.pads[1],
      xBase: x.base,
      yBase: y.base,
    };
    const fields: UniformField[] = [
      ...FIELDS.map((name): UniformField => [name, 'i32', values[name]]),
      ['seed', 'u32', args.seed >>> 0],
      // Output i of the whole tensor takes draw i: this run starts at output first * outPlane.
      ['first', 'u32', (first * outPlane) >>> 0],
    ];
    return { code: SAMPLE_CODE(fields), bindings: [x.binding, y.binding], uniforms: fields, workgroups: gridFor(Math.ceil(total / WG), args.limits) };
  });
}

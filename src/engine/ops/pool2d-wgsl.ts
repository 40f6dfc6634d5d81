/**
 * The sliding-window pools on WebGPU (max, min, avg, stochastic at inference), one kernel with the
 * per-window arithmetic swapped in. Each thread computes 4 adjacent outputs of one row, so the rows
 * of the input it reads are shared by its 4 windows. The rules are the CPU kernels' (pool2d.ts,
 * avg_pool2d, stochastic_pool2d/cpu.ts): padded cells are skipped, so they never win a max or min
 * (an all-padding window gives -inf / +inf, as on the CPU) and an average divides by the window
 * clipped to input + padding (count_include_pad) or to the input alone.
 */
import { gridFor, sliceBinding, uniformsWgsl } from '../kernels/wgsl/common.ts';
import { MAIN_PARAMS, runsOf, THREAD, WG } from '../kernels/wgsl/chunks.ts';
import type { Pool2dAttrs } from './pool2d.ts';
import type { GpuDispatch, GpuPlanArgs, UniformField, WebGpuKernel } from './types.ts';

export type WindowKind = 'max' | 'min' | 'avg' | 'stochastic';

/** float32 +inf's bits: padding for min. Passed as a uniform because WGSL constants cannot be infinite. */
const INF_BITS = 0x7f800000;

/** WGSL per kind: accumulator set-up, the update for value `v` of output q, and the result of output q. */
const ARITH: Record<WindowKind, { init: string; update: string; result: string }> = {
  // A NaN wins and stays, as Math.max / Math.min do on the CPU (isNan tests the bits).
  max: { init: 'var m = vec4<f32>(-bitcast<f32>(u.infBits));', update: 'if (!isNan(m[q])) { m[q] = select(max(m[q], v), v, isNan(v)); }', result: 'm[q]' },
  min: { init: 'var m = vec4<f32>(bitcast<f32>(u.infBits));', update: 'if (!isNan(m[q])) { m[q] = select(min(m[q], v), v, isNan(v)); }', result: 'm[q]' },
  avg: { init: 'var s = vec4<f32>();', update: 's[q] += v;', result: 's[q] / divisor(ox0 + q, oy)' },
  // Padded cells and non-positive values weigh nothing: sum(a^2) / sum(a) over a = max(x, 0).
  stochastic: { init: 'var s = vec4<f32>();\n  var s2 = vec4<f32>();', update: 'if (v > 0.0) { s[q] += v; s2[q] += v * v; }', result: 'select(0.0, s2[q] / s[q], s[q] > 0.0)' },
};

export function windowPoolWgsl<A extends Pool2dAttrs>(kind: WindowKind, countIncludePad?: (a: A) => boolean): WebGpuKernel<A> {
  return { plan: (args) => ({ dispatches: windowPoolDispatches(kind, args, countIncludePad?.(args.attrs) ?? false) }) };
}

export function windowPoolDispatches<A extends Pool2dAttrs>(kind: WindowKind, args: GpuPlanArgs<A>, countIncludePad: boolean): GpuDispatch[] {
  const a = args.attrs;
  const quads = Math.ceil(a.wo / 4);
  const inPlane = a.h * a.w;
  const outPlane = a.ho * a.wo;
  const code = shader(kind);
  // Planes are independent: a run of planes whose input and output slices fit one binding each.
  return runsOf(a.n * a.c, Math.max(inPlane, outPlane) * 4, args.limits, 'one channel plane').map(({ first, count }) => {
    const x = sliceBinding({ input: 0 }, first * inPlane, count * inPlane, args.limits);
    const y = sliceBinding({ output: true }, first * outPlane, count * outPlane, args.limits);
    const threads = count * a.ho * quads;
    const fields: UniformField[] = [
      ['total', 'i32', threads],
      ['quads', 'i32', quads],
      ['h', 'i32', a.h],
      ['w', 'i32', a.w],
      ['ho', 'i32', a.ho],
      ['wo', 'i32', a.wo],
      ['kh', 'i32', a.kernel[0]],
      ['kw', 'i32', a.kernel[1]],
      ['sh', 'i32', a.stride[0]],
      ['sw', 'i32', a.stride[1]],
      ['dh', 'i32', a.dilation[0]],
      ['dw', 'i32', a.dilation[1]],
      ['pt', 'i32', a.pads[0]],
      ['pl', 'i32', a.pads[1]],
      ['pb', 'i32', a.pads[2]],
      ['pr', 'i32', a.pads[3]],
      ['includePad', 'u32', countIncludePad ? 1 : 0],
      ['infBits', 'u32', INF_BITS],
      ['xBase', 'i32', x.base],
      ['yBase', 'i32', y.base],
    ];
    return { code: code(fields), bindings: [x.binding, y.binding], uniforms: fields, workgroups: gridFor(Math.ceil(threads / WG), args.limits) };
  });
}

function shader(kind: WindowKind): (fields: UniformField[]) => string {
  const k = ARITH[kind];
  return (fields) => `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
${uniformsWgsl(fields, 2)}
fn isNan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }
// avg_pool2d's divisor for output (ox, oy): the window clipped to input + padding, or to the input.
fn divisor(ox: i32, oy: i32) -> f32 {
  let ys = oy * u.sh - u.pt;
  let xs = ox * u.sw - u.pl;
  let ye = min(ys + u.kh, u.h + u.pb);
  let xe = min(xs + u.kw, u.w + u.pr);
  if (u.includePad == 1u) { return f32((ye - ys) * (xe - xs)); }
  return f32((min(ye, u.h) - max(ys, 0)) * (min(xe, u.w) - max(xs, 0)));
}
@compute @workgroup_size(${WG})
fn main(${MAIN_PARAMS}) {
  ${THREAD}
  if (t >= u.total) { return; }
  let quad = t % u.quads;
  let r = t / u.quads;
  let oy = r % u.ho;
  let plane = r / u.ho;
  let src = u.xBase + plane * u.h * u.w;
  let ox0 = quad * 4;
  let ys = oy * u.sh - u.pt;
  let xs = ox0 * u.sw - u.pl;
  // Kernel rows that land inside the input; the rest are padding and skipped.
  let i0 = select(0, (-ys + u.dh - 1) / u.dh, ys < 0);
  let i1 = min(u.kh, (u.h - ys + u.dh - 1) / u.dh);
  ${k.init}
  for (var i = i0; i < i1; i++) {
    let row = src + (ys + i * u.dh) * u.w;
    for (var j = 0; j < u.kw; j++) {
      let xj = xs + j * u.dw;
      for (var q = 0; q < 4; q++) {
        let ix = xj + q * u.sw;
        if (ix >= 0 && ix < u.w) {
          let v = x[row + ix];
          ${k.update}
        }
      }
    }
  }
  let dst = u.yBase + (plane * u.ho + oy) * u.wo + ox0;
  for (var q = 0; q < 4; q++) {
    if (ox0 + q < u.wo) { y[dst + q] = ${k.result}; }
  }
}
`;
}

/**
 * deform_conv2d on WebGPU: an implicit GEMM (kernels/wgsl/gemm.ts) whose B tile loads do the
 * bilinear sampling, so the deformed im2col matrix is never stored. A = the group's weights
 * [C_out/g][C_in/g * kh * kw]; B[(c, tap)][p] = torchvision's bilinear sample of channel c at tap
 * `tap` of output p, moved by the offsets of c's offset group (times the mask in v2).
 *
 * A point samples nothing outside -1 < y < H, -1 < x < W, and a corner outside the input adds
 * nothing (torchvision's rules, as ops/deform_conv2d/cpu.ts). The integer and fractional parts of
 * a position are kept apart (the fraction is the offset's, exactly), so the corners, the fractions
 * and the in/out decisions are exactly those of the float64 CPU reference; only the corner weight
 * products round in float32.
 *
 * Two plans, by the device's storage buffers per shader stage:
 * - fused (x, offset, [mask], weight, output, [bias] all bound at once): each B load reads the
 *   offsets (and mask) and samples;
 * - split (4 buffers, compatibility devices): a first dispatch turns offsets and mask into each
 *   (offset group, tap, position)'s top-left corner and four mask-scaled corner weights, and copies
 *   the bias, into scratch; the GEMM then binds x, weight, output and that scratch. The sampling
 *   is then computed once per offset group instead of once per channel.
 * Batches are split so that every slice fits maxStorageBufferBindingSize and the z grid.
 */
import { activationWgsl } from '../../kernels/wgsl/elementwise.ts';
import { FLAT_WORKGROUP, gridFor, itemsPerBinding, mib, sliceBinding, uniformsWgsl } from '../../kernels/wgsl/common.ts';
import { gemmTileFor, gemmWgsl, gemmWorkgroups } from '../../kernels/wgsl/gemm.ts';
import type { GpuBinding, GpuDispatch, GpuLimits, GpuOpPlan, GpuPlanArgs, UniformField, WebGpuKernel } from '../types.ts';
import type { DeformConv2dAttrs } from './index.ts';

export const deformConv2dWgsl: WebGpuKernel<DeformConv2dAttrs> = {
  fusesActivation: true,
  plan(args) {
    const a = args.attrs;
    const { limits } = args;
    const weightBytes = a.cout * (a.cin / a.groups) * a.kernel[0] * a.kernel[1] * 4;
    if (weightBytes > limits.maxStorageBufferBindingSize) {
      throw new Error(`its weight of ${mib(weightBytes)} exceeds this device's maxStorageBufferBindingSize of ${mib(limits.maxStorageBufferBindingSize)}`);
    }
    if (limits.maxStorageBuffersPerShaderStage < 4) {
      throw new Error(`it needs 4 storage buffers per shader stage; the device allows ${limits.maxStorageBuffersPerShaderStage}`);
    }
    return fusedBuffers(a) <= limits.maxStorageBuffersPerShaderStage ? fused(args) : split(args);
  },
};

/** Storage buffers the single-dispatch kernel binds. */
function fusedBuffers(a: DeformConv2dAttrs): number {
  return 4 + (a.modulated ? 1 : 0) + (a.bias ? 1 : 0);
}

/** Per-image sizes, in elements, of the tensors a dispatch slices. */
function imageSizes(a: DeformConv2dAttrs) {
  const taps = a.kernel[0] * a.kernel[1];
  const P = a.ho * a.wo;
  return { x: a.cin * a.h * a.w, offset: 2 * a.offsetGroups * taps * P, mask: a.offsetGroups * taps * P, y: a.cout * P, samples: a.offsetGroups * taps * P };
}

/** Images per dispatch: every per-image slice (and `extra` elements per image) must fit one binding, and the z grid must hold nb * groups. */
function imagesPerDispatch(a: DeformConv2dAttrs, limits: GpuLimits, extra = 0): number {
  const s = imageSizes(a);
  return Math.min(
    itemsPerBinding(a.n, Math.max(s.x, s.offset, s.y, extra) * 4, limits, 'one image'),
    Math.max(1, Math.floor(limits.maxComputeWorkgroupsPerDimension / a.groups)),
  );
}

function uniforms(a: DeformConv2dAttrs, v: Partial<Record<string, number>> = {}): UniformField[] {
  const [kh, kw] = a.kernel;
  const f = (name: string, value: number): UniformField => [name, 'i32', v[name] ?? value];
  return [
    f('M', a.cout / a.groups),
    f('N', a.ho * a.wo),
    f('K', (a.cin / a.groups) * kh * kw),
    f('groups', a.groups),
    f('cin', a.cin),
    f('cinG', a.cin / a.groups),
    f('cout', a.cout),
    f('h', a.h),
    f('w', a.w),
    f('wo', a.wo),
    f('kw', kw),
    f('taps', kh * kw),
    f('sh', a.stride[0]),
    f('sw', a.stride[1]),
    f('dh', a.dilation[0]),
    f('dw', a.dilation[1]),
    f('pt', a.pads[0]),
    f('pl', a.pads[1]),
    f('og', a.offsetGroups),
    f('cPerOg', a.cin / a.offsetGroups),
    f('xBase', 0),
    f('offBase', 0),
    f('maskBase', 0),
    f('yBase', 0),
    f('S', 0),
    f('biasOff', 0),
  ];
}

/**
 * Where a tap of an output lands: the top-left corner and the four corner weights (torchvision's
 * w1..w4); no corner for a point outside the input.
 */
const SAMPLE_POINT = /* wgsl */ `
struct Sample { yl: i32, xl: i32, wv: vec4<f32> }
// The position is base + off along each axis, base an integer: floor and fraction are taken
// from the offset alone, so they are exact; a coarse float test first keeps huge offsets from
// overflowing the integer sum.
fn samplePoint(by: i32, oy: f32, bx: i32, ox: f32) -> Sample {
  let none = Sample(-2, -2, vec4<f32>());
  let fy = f32(by) + oy;
  let fx = f32(bx) + ox;
  if (!(fy > -2.0 && fy < f32(u.h) + 1.0 && fx > -2.0 && fx < f32(u.w) + 1.0)) { return none; }
  let oyf = floor(oy);
  let oxf = floor(ox);
  let ly = oy - oyf;
  let lx = ox - oxf;
  let yl = by + i32(oyf);
  let xl = bx + i32(oxf);
  // -1 < y < H and -1 < x < W, on the exact integer and fraction.
  if (yl >= u.h || xl >= u.w || yl < -1 || xl < -1 || (yl == -1 && ly == 0.0) || (xl == -1 && lx == 0.0)) { return none; }
  let hy = 1.0 - ly;
  let hx = 1.0 - lx;
  return Sample(yl, xl, vec4<f32>(hy * hx, hy * lx, ly * hx, ly * lx));
}
`;

/** The weighted sum of the corners that lie inside the input plane (reads `x`). */
const GATHER = /* wgsl */ `
// Unsigned compares test 0 <= r < H in one go; yl = -2 (no sample) fails all four corners.
fn gather(plane: i32, yl: i32, xl: i32, wv: vec4<f32>) -> f32 {
  let top = u32(yl) < u32(u.h);
  let bottom = u32(yl + 1) < u32(u.h);
  let left = u32(xl) < u32(u.w);
  let right = u32(xl + 1) < u32(u.w);
  let at = plane + yl * u.w + xl;
  var v = 0.0;
  if (top && left) { v += wv.x * x[at]; }
  if (top && right) { v += wv.y * x[at + 1]; }
  if (bottom && left) { v += wv.z * x[at + u.w]; }
  if (bottom && right) { v += wv.w * x[at + u.w + 1]; }
  return v;
}
`;

/** aLoad, cStore and the per-column setup shared by both GEMMs. */
const GEMM_ENDS = /* wgsl */ `
fn aLoad(m: i32, k: i32) -> f32 { return wt[((gz % u.groups) * u.M + m) * u.K + k]; }
fn cStore(m: i32, n: i32, v: vec4<f32>) {
  let co = (gz % u.groups) * u.M + m;
  let b = biasOf(co);
  let base = u.yBase + ((gz / u.groups) * u.cout + co) * u.N + n;
  for (var q = 0; q < 4; q++) { if (n + q < u.N) { y[base + q] = act(v[q] + b); } }
}
var<private> col: i32;
var<private> iy0: vec4<i32>;
var<private> ix0: vec4<i32>;
var<private> live: vec4<bool>;
fn bInit(n: i32) {
  col = n;
  for (var q = 0; q < 4; q++) {
    let p = n + q;
    let oy = p / u.wo;
    iy0[q] = oy * u.sh - u.pt;
    ix0[q] = (p - oy * u.wo) * u.sw - u.pl;
    live[q] = p < u.N;
  }
}
// Row k of B: channel c (absolute cAbs) at tap (i, j); row = (image, offset group, tap).
struct Tap { c: i32, cAbs: i32, i: i32, j: i32, row: i32 }
fn tapOf(k: i32) -> Tap {
  let c = k / u.taps;
  let tap = k - c * u.taps;
  let i = tap / u.kw;
  let cAbs = (gz % u.groups) * u.cinG + c;
  return Tap(c, cAbs, i, tap - i * u.kw, ((gz / u.groups) * u.og + cAbs / u.cPerOg) * u.taps + tap);
}
`;

function fused(args: GpuPlanArgs<DeformConv2dAttrs>): GpuOpPlan {
  const a = args.attrs;
  const { limits } = args;
  const sizes = imageSizes(a);
  const nb = imagesPerDispatch(a, limits);
  const M = a.cout / a.groups;
  const N = a.ho * a.wo;
  const tile = gemmTileFor(M, N, limits);
  const maskBinding = a.modulated ? 4 : -1;
  const biasBinding = a.bias ? (a.modulated ? 5 : 4) : -1;
  const body = `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> off: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
${a.modulated ? `@group(0) @binding(${maskBinding}) var<storage, read> mask: array<f32>;` : ''}
${a.bias ? `@group(0) @binding(${biasBinding}) var<storage, read> bias: array<f32>;\nfn biasOf(co: i32) -> f32 { return bias[co]; }` : 'fn biasOf(co: i32) -> f32 { return 0.0; }'}
${uniformsWgsl(uniforms(a), fusedBuffers(a))}
${activationWgsl(args.activation)}
${SAMPLE_POINT}
${GATHER}
${GEMM_ENDS}
fn bLoad(k: i32) -> vec4<f32> {
  let t = tapOf(k);
  let plane = u.xBase + ((gz / u.groups) * u.cin + t.cAbs) * u.h * u.w;
  let dyRow = u.offBase + 2 * t.row * u.N;
  let by = t.i * u.dh;
  let bx = t.j * u.dw;
  var v = vec4<f32>();
  for (var q = 0; q < 4; q++) {
    if (live[q]) {
      let p = col + q;
      let s = samplePoint(iy0[q] + by, off[dyRow + p], ix0[q] + bx, off[dyRow + u.N + p]);
      v[q] = gather(plane, s.yl, s.xl, s.wv)${a.modulated ? ' * mask[u.maskBase + t.row * u.N + p]' : ''};
    }
  }
  return v;
}`;
  const code = gemmWgsl(tile, body);
  const dispatches: GpuDispatch[] = [];
  for (let n0 = 0; n0 < a.n; n0 += nb) {
    const count = Math.min(nb, a.n - n0);
    const x = sliceBinding({ input: 0 }, n0 * sizes.x, count * sizes.x, limits);
    const off = sliceBinding({ input: 1 }, n0 * sizes.offset, count * sizes.offset, limits);
    const y = sliceBinding({ output: true }, n0 * sizes.y, count * sizes.y, limits);
    const mask = a.modulated ? sliceBinding({ input: 2 }, n0 * sizes.mask, count * sizes.mask, limits) : null;
    const bindings: GpuBinding[] = [x.binding, off.binding, { buffer: { weight: 0 } }, y.binding];
    if (mask) bindings.push(mask.binding);
    if (a.bias) bindings.push({ buffer: { weight: 1 } });
    dispatches.push({
      code,
      bindings,
      uniforms: uniforms(a, { xBase: x.base, offBase: off.base, maskBase: mask?.base ?? 0, yBase: y.base }),
      workgroups: gemmWorkgroups(tile, M, N, count * a.groups),
    });
  }
  return { dispatches };
}

const PREP_WG = 64;

/** Scratch layout of the split plan, in floats: [corner weights: 4 per sample][yl, xl: 2 per sample, padded to 4][bias]. */
function scratchLayout(a: DeformConv2dAttrs, images: number) {
  const S = images * imageSizes(a).samples;
  const biasOff = 4 * S + Math.ceil((2 * S) / 4) * 4;
  // Whole vec4s: the GEMM binds it as array<vec4<f32>>, whose length rounds the binding down.
  return { S, biasOff, floats: biasOff + Math.ceil((a.bias ? a.cout : 0) / 4) * 4 };
}

function split(args: GpuPlanArgs<DeformConv2dAttrs>): GpuOpPlan {
  const a = args.attrs;
  const { limits } = args;
  const sizes = imageSizes(a);
  let nb = imagesPerDispatch(a, limits, 6 * sizes.samples);
  while (nb > 1 && scratchLayout(a, nb).floats * 4 > limits.maxStorageBufferBindingSize) nb--;
  const oneImage = scratchLayout(a, 1).floats * 4;
  if (oneImage > limits.maxStorageBufferBindingSize) {
    throw new Error(`the sampling scratch of one image (${mib(oneImage)}) exceeds this device's maxStorageBufferBindingSize of ${mib(limits.maxStorageBufferBindingSize)}`);
  }
  const M = a.cout / a.groups;
  const N = a.ho * a.wo;
  const tile = gemmTileFor(M, N, limits);
  const biasBinding = a.modulated ? 2 : 1;
  const scratchBinding = 1 + (a.modulated ? 1 : 0) + (a.bias ? 1 : 0);
  // One thread per (image, offset group, tap, position); the first C_out threads also copy the bias.
  const prep = `
@group(0) @binding(0) var<storage, read> off: array<f32>;
${a.modulated ? '@group(0) @binding(1) var<storage, read> mask: array<f32>;' : ''}
${a.bias ? `@group(0) @binding(${biasBinding}) var<storage, read> bias: array<f32>;` : ''}
@group(0) @binding(${scratchBinding}) var<storage, read_write> scr: array<f32>;
${uniformsWgsl(uniforms(a), scratchBinding + 1)}
${SAMPLE_POINT}
@compute @workgroup_size(${PREP_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let t = ${FLAT_WORKGROUP} * ${PREP_WG} + i32(li);
  ${a.bias ? 'if (t < u.cout) { scr[u.biasOff + t] = bias[t]; }' : ''}
  if (t >= u.S) { return; }
  let p = t % u.N;
  let row = t / u.N;
  let tap = row % u.taps;
  let i = tap / u.kw;
  let oy = p / u.wo;
  let by = oy * u.sh - u.pt + i * u.dh;
  let bx = (p - oy * u.wo) * u.sw - u.pl + (tap - i * u.kw) * u.dw;
  let s = samplePoint(by, off[u.offBase + 2 * row * u.N + p], bx, off[u.offBase + (2 * row + 1) * u.N + p]);
  let wv = s.wv${a.modulated ? ' * mask[u.maskBase + t]' : ''};
  scr[4 * t] = wv.x;
  scr[4 * t + 1] = wv.y;
  scr[4 * t + 2] = wv.z;
  scr[4 * t + 3] = wv.w;
  scr[4 * u.S + 2 * t] = f32(s.yl);
  scr[4 * u.S + 2 * t + 1] = f32(s.xl);
}`;
  const body = `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> wt: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read> scr: array<vec4<f32>>;
${a.bias ? 'fn biasOf(co: i32) -> f32 { let b = u.biasOff + co; return scr[b / 4][b % 4]; }' : 'fn biasOf(co: i32) -> f32 { return 0.0; }'}
${uniformsWgsl(uniforms(a), 4)}
${activationWgsl(args.activation)}
${GATHER}
${GEMM_ENDS}
fn bLoad(k: i32) -> vec4<f32> {
  let t = tapOf(k);
  let plane = u.xBase + ((gz / u.groups) * u.cin + t.cAbs) * u.h * u.w;
  let sRow = t.row * u.N + col;
  var v = vec4<f32>();
  for (var q = 0; q < 4; q++) {
    if (live[q]) {
      let s = sRow + q;
      let pos = scr[u.S + s / 2];
      let yx = select(pos.zw, pos.xy, s % 2 == 0);
      v[q] = gather(plane, i32(yx.x), i32(yx.y), scr[s]);
    }
  }
  return v;
}`;
  const gemmCode = gemmWgsl(tile, body);
  const dispatches: GpuDispatch[] = [];
  let scratchFloats = 0;
  for (let n0 = 0; n0 < a.n; n0 += nb) {
    const count = Math.min(nb, a.n - n0);
    const layout = scratchLayout(a, count);
    scratchFloats = Math.max(scratchFloats, layout.floats);
    const x = sliceBinding({ input: 0 }, n0 * sizes.x, count * sizes.x, limits);
    const off = sliceBinding({ input: 1 }, n0 * sizes.offset, count * sizes.offset, limits);
    const y = sliceBinding({ output: true }, n0 * sizes.y, count * sizes.y, limits);
    const mask = a.modulated ? sliceBinding({ input: 2 }, n0 * sizes.mask, count * sizes.mask, limits) : null;
    const scratch: GpuBinding = { buffer: { scratch: 0 }, size: layout.floats * 4 };
    const u = uniforms(a, { xBase: x.base, offBase: off.base, maskBase: mask?.base ?? 0, yBase: y.base, S: layout.S, biasOff: layout.biasOff });
    const prepBindings: GpuBinding[] = [off.binding];
    if (mask) prepBindings.push(mask.binding);
    if (a.bias) prepBindings.push({ buffer: { weight: 1 } });
    prepBindings.push(scratch);
    dispatches.push({ code: prep, bindings: prepBindings, uniforms: u, workgroups: gridFor(Math.ceil(Math.max(layout.S, a.cout) / PREP_WG), limits) });
    dispatches.push({
      code: gemmCode,
      bindings: [x.binding, { buffer: { weight: 0 } }, y.binding, { ...scratch, access: 'read' }],
      uniforms: u,
      workgroups: gemmWorkgroups(tile, M, N, count * a.groups),
    });
  }
  return { dispatches, scratch: [scratchFloats * 4] };
}

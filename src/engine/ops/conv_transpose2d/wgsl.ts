/**
 * conv_transpose2d on WebGPU by stride decomposition: no scatter, no atomics, no col2im buffer.
 *
 * Output pixel oy receives tap i from input row iy = (oy + pt - i*dh) / sh when that division is
 * exact. So the outputs split into sh x sw phases by r = (oy + pt) mod sh (and likewise along x);
 * within a phase the taps that hit are the same for every pixel — those with i*dh = r (mod sh),
 * an arithmetic progression i0, i0 + sh/g, ... (g = gcd(sh, dh)) — and each step to the next tap
 * moves the input row back by dh/g. Each phase is therefore a dense stride-1 convolution: an
 * implicit GEMM (kernels/wgsl/gemm.ts) with M = C_out/groups, N = the phase's output pixels and
 * K = C_in/groups * (taps that hit), one dispatch per phase. A phase that no tap reaches (K = 0)
 * still runs and stores bias (+ activation). Groups run one GEMM per (image, group) on grid z.
 */
import { activationWgsl } from '../../kernels/wgsl/elementwise.ts';
import { itemsPerBinding, mib, sliceBinding, uniformsWgsl } from '../../kernels/wgsl/common.ts';
import { gemmTileFor, gemmWgsl, gemmWorkgroups } from '../../kernels/wgsl/gemm.ts';
import type { GpuDispatch, GpuPlanArgs, UniformField, WebGpuKernel } from '../types.ts';
import type { ConvTranspose2dAttrs } from './index.ts';

export const convTranspose2dWgsl: WebGpuKernel<ConvTranspose2dAttrs> = {
  fusesActivation: true,
  plan(args) {
    const a = args.attrs;
    const weightBytes = a.cin * (a.cout / a.groups) * a.kernel[0] * a.kernel[1] * 4;
    if (weightBytes > args.limits.maxStorageBufferBindingSize) {
      throw new Error(`its weight of ${mib(weightBytes)} exceeds this device's maxStorageBufferBindingSize of ${mib(args.limits.maxStorageBufferBindingSize)}`);
    }
    return { dispatches: dispatches(args) };
  },
};

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** One axis of a phase: its output pixels and the taps that reach them. */
interface PhaseAxis {
  /** First output index of the phase and how many there are (stride apart). */
  first: number;
  count: number;
  /** First tap, tap step, number of taps that hit, input step back per tap. */
  tap0: number;
  tapStep: number;
  taps: number;
  back: number;
  /** Input index of the phase's first output under tap0; output j of the phase, tap t reads input c + j - t*back. */
  c: number;
}

/** Phase r (0 <= r < s) of one axis: outputs o with (o + p) mod s = r. */
function phaseAxis(r: number, s: number, d: number, k: number, p: number, out: number): PhaseAxis {
  const first = (((r - p) % s) + s) % s;
  const count = first < out ? Math.ceil((out - first) / s) : 0;
  const g = gcd(s, d);
  const tapStep = s / g;
  let tap0 = 0;
  while (tap0 < k && (((tap0 * d - r) % s) + s) % s !== 0) tap0++;
  const taps = tap0 < k ? Math.ceil((k - tap0) / tapStep) : 0;
  // (first + p - tap0*d) is a multiple of s whenever a tap hits.
  const c = taps > 0 ? (first + p - tap0 * d) / s : 0;
  return { first, count, tap0, tapStep, taps, back: d / g, c };
}

const BODY = `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> wt: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
`;

function dispatches(args: GpuPlanArgs<ConvTranspose2dAttrs>): GpuDispatch[] {
  const a = args.attrs;
  const { limits } = args;
  const [kh, kw] = a.kernel;
  const cinG = a.cin / a.groups;
  const coutG = a.cout / a.groups;
  const inImage = a.cin * a.h * a.w;
  const outImage = a.cout * a.ho * a.wo;
  const nb = Math.min(
    itemsPerBinding(a.n, Math.max(inImage, outImage) * 4, limits, 'one image'),
    Math.max(1, Math.floor(limits.maxComputeWorkgroupsPerDimension / a.groups)),
  );
  const uniforms = (pyA?: PhaseAxis, pxA?: PhaseAxis, xBase = 0, yBase = 0): UniformField[] => [
    ['M', 'i32', coutG],
    ['N', 'i32', (pyA?.count ?? 0) * (pxA?.count ?? 0)],
    ['K', 'i32', cinG * (pyA?.taps ?? 0) * (pxA?.taps ?? 0)],
    ['groups', 'i32', a.groups],
    ['cin', 'i32', a.cin],
    ['cinG', 'i32', cinG],
    ['cout', 'i32', a.cout],
    ['h', 'i32', a.h],
    ['w', 'i32', a.w],
    ['ho', 'i32', a.ho],
    ['wo', 'i32', a.wo],
    ['kh', 'i32', kh],
    ['kw', 'i32', kw],
    ['nx', 'i32', pxA?.count ?? 0],
    ['tapsY', 'i32', pyA?.taps ?? 0],
    ['tapsX', 'i32', pxA?.taps ?? 0],
    ['tap0Y', 'i32', pyA?.tap0 ?? 0],
    ['tap0X', 'i32', pxA?.tap0 ?? 0],
    ['tapStepY', 'i32', pyA?.tapStep ?? 0],
    ['tapStepX', 'i32', pxA?.tapStep ?? 0],
    ['backY', 'i32', pyA?.back ?? 0],
    ['backX', 'i32', pxA?.back ?? 0],
    ['cy', 'i32', pyA?.c ?? 0],
    ['cx', 'i32', pxA?.c ?? 0],
    ['firstY', 'i32', pyA?.first ?? 0],
    ['firstX', 'i32', pxA?.first ?? 0],
    ['sh', 'i32', a.stride[0]],
    ['sw', 'i32', a.stride[1]],
    ['xBase', 'i32', xBase],
    ['yBase', 'i32', yBase],
  ];
  const body = `${BODY}
${a.bias ? '@group(0) @binding(3) var<storage, read> bias: array<f32>;\nfn biasOf(co: i32) -> f32 { return bias[co]; }' : 'fn biasOf(co: i32) -> f32 { return 0.0; }'}
${uniformsWgsl(uniforms(), a.bias ? 4 : 3)}
${activationWgsl(args.activation)}
// A = this group's weights [C_in/g][C_out/g][kh][kw] read as [m][(c, tap y, tap x)].
fn aLoad(m: i32, k: i32) -> f32 {
  let taps = u.tapsY * u.tapsX;
  let c = k / taps;
  let r = k - c * taps;
  let ty = r / u.tapsX;
  let i = u.tap0Y + ty * u.tapStepY;
  let j = u.tap0X + (r - ty * u.tapsX) * u.tapStepX;
  return wt[((((gz % u.groups) * u.cinG + c) * u.M + m) * u.kh + i) * u.kw + j];
}
var<private> xPlane0: i32;
var<private> iy0: vec4<i32>;
var<private> ix0: vec4<i32>;
var<private> live: vec4<bool>;
fn bInit(n: i32) {
  xPlane0 = u.xBase + ((gz / u.groups) * u.cin + (gz % u.groups) * u.cinG) * u.h * u.w;
  for (var q = 0; q < 4; q++) {
    let p = n + q;
    let py = p / u.nx;
    iy0[q] = u.cy + py;
    ix0[q] = u.cx + p - py * u.nx;
    live[q] = p < u.N;
  }
}
fn bLoad(k: i32) -> vec4<f32> {
  let taps = u.tapsY * u.tapsX;
  let c = k / taps;
  let r = k - c * taps;
  let ty = r / u.tapsX;
  let dy = ty * u.backY;
  let dx = (r - ty * u.tapsX) * u.backX;
  let plane = xPlane0 + c * u.h * u.w;
  var v = vec4<f32>();
  for (var q = 0; q < 4; q++) {
    let iy = iy0[q] - dy;
    let ix = ix0[q] - dx;
    if (live[q] && iy >= 0 && iy < u.h && ix >= 0 && ix < u.w) { v[q] = x[plane + iy * u.w + ix]; }
  }
  return v;
}
fn cStore(m: i32, n: i32, v: vec4<f32>) {
  let co = (gz % u.groups) * u.M + m;
  let b = biasOf(co);
  let plane = u.yBase + ((gz / u.groups) * u.cout + co) * u.ho * u.wo;
  for (var q = 0; q < 4; q++) {
    let p = n + q;
    if (p < u.N) {
      let py = p / u.nx;
      y[plane + (u.firstY + py * u.sh) * u.wo + u.firstX + (p - py * u.nx) * u.sw] = act(v[q] + b);
    }
  }
}`;
  const out: GpuDispatch[] = [];
  for (let n0 = 0; n0 < a.n; n0 += nb) {
    const count = Math.min(nb, a.n - n0);
    const x = sliceBinding({ input: 0 }, n0 * inImage, count * inImage, limits);
    const y = sliceBinding({ output: true }, n0 * outImage, count * outImage, limits);
    for (let ry = 0; ry < a.stride[0]; ry++) {
      const pyA = phaseAxis(ry, a.stride[0], a.dilation[0], kh, a.pads[0], a.ho);
      if (pyA.count === 0) continue;
      for (let rx = 0; rx < a.stride[1]; rx++) {
        const pxA = phaseAxis(rx, a.stride[1], a.dilation[1], kw, a.pads[1], a.wo);
        if (pxA.count === 0) continue;
        const N = pyA.count * pxA.count;
        const tile = gemmTileFor(coutG, N, limits);
        out.push({
          code: gemmWgsl(tile, body),
          bindings: [x.binding, { buffer: { weight: 0 } }, y.binding, ...(a.bias ? [{ buffer: { weight: 1 } }] : [])],
          uniforms: uniforms(pyA, pxA, x.base, y.base),
          workgroups: gemmWorkgroups(tile, coutG, N, count * a.groups),
        });
      }
    }
  }
  return out;
}

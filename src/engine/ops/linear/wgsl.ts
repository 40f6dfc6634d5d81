/**
 * linear on WebGPU: y[n, f] = act(dot(W[f, :], x[n, :]) + b[f]). Two kernels, chosen by batch:
 * - N < 4: a GEMV. A workgroup owns ROWS output features of every sample; its threads stride
 *   along `in` (vec4 loads of the weight rows when `in` is a multiple of 4), so each weight vec4 is
 *   read once by one thread and adjacent threads read adjacent vec4s; a tree reduction in
 *   workgroup memory adds the threads' partial sums. The batch (1 to 3) is in the shader text so
 *   every weight load feeds that many multiply-adds without a loop.
 * - N >= 4: the tiled GEMM (kernels/wgsl/gemm.ts) with A = the weight rows (coalesced along `in`)
 *   and B = x transposed to [in, N] by a first dispatch into scratch, so B loads are vec4 too.
 * The weight is bound in slices of whole rows (output features) that fit
 * maxStorageBufferBindingSize, one dispatch per slice: AlexNet's FC6 weight is 151 MB, over the
 * 128 MiB many devices allow per binding. Bias and a fused activation are applied in the epilogue.
 */
import { activationWgsl } from '../../kernels/wgsl/elementwise.ts';
import { FLAT_WORKGROUP, gridFor, itemsPerBinding, mib, sliceBinding, type SliceBinding, uniformsWgsl } from '../../kernels/wgsl/common.ts';
import { gemmTileFor, gemmWgsl, gemmWorkgroups } from '../../kernels/wgsl/gemm.ts';
import type { GpuDispatch, GpuLimits, GpuOpPlan, GpuPlanArgs, UniformField, WebGpuKernel } from '../types.ts';
import type { LinearAttrs } from './index.ts';

/** Below this batch the GEMV runs: a GEMM tile of 16 columns would be mostly padding. */
const GEMM_FROM_BATCH = 4;
/** Output features per GEMV workgroup: each x vec4 loaded feeds ROWS weight vec4s. */
const ROWS = 4;
/** GEMV threads per workgroup: every device allows 128 (compatibility mode's minimum). */
const GEMV_WG = 128;

export const linearWgsl: WebGpuKernel<LinearAttrs> = {
  fusesActivation: true,
  plan(args) {
    return args.attrs.n < GEMM_FROM_BATCH ? { dispatches: gemv(args) } : gemm(args);
  },
};

interface FeatureSlice {
  /** First output feature and the number of features of the slice. */
  f0: number;
  rows: number;
}

/** Whole weight rows per binding, in slices of about equal size (so no slice is a sliver). */
function featureSlices(a: LinearAttrs, limits: GpuLimits): FeatureSlice[] {
  const fit = itemsPerBinding(a.outF, a.inF * 4, limits, 'one weight row');
  const count = Math.ceil(a.outF / fit);
  const rows = Math.ceil(a.outF / count);
  const slices: FeatureSlice[] = [];
  for (let f0 = 0; f0 < a.outF; f0 += rows) slices.push({ f0, rows: Math.min(rows, a.outF - f0) });
  return slices;
}

function biasDecl(a: LinearAttrs, binding: number, read: string): string {
  return a.bias
    ? `@group(0) @binding(${binding}) var<storage, read> bias: array<f32>;\nfn biasOf(f: i32) -> f32 { return ${read}; }`
    : 'fn biasOf(f: i32) -> f32 { return 0.0; }';
}

function gemv(args: GpuPlanArgs<LinearAttrs>): GpuDispatch[] {
  const { attrs: a, limits } = args;
  const slices = featureSlices(a, limits).map((s) => ({ ...s, w: sliceBinding({ weight: 0 }, s.f0 * a.inF, s.rows * a.inF, limits) }));
  if (a.n * a.inF * 4 > limits.maxStorageBufferBindingSize) {
    throw new Error(`its input of ${a.n} x ${a.inF} values exceeds this device's maxStorageBufferBindingSize of ${mib(limits.maxStorageBufferBindingSize)}`);
  }
  // vec4 needs whole vec4 rows and slices that start on a vec4 (true for any alignment >= 16).
  const lanes = a.inF % 4 === 0 && slices.every((s) => s.w.base % 4 === 0) ? 4 : 1;
  const nb = a.n;
  const ty = lanes === 4 ? 'vec4<f32>' : 'f32';
  const uniforms = (s?: FeatureSlice & { w: SliceBinding }): UniformField[] => [
    ['rows', 'i32', s?.rows ?? 0],
    ['inV', 'i32', a.inF / lanes],
    ['wBase', 'i32', (s?.w.base ?? 0) / lanes],
    ['f0', 'i32', s?.f0 ?? 0],
    ['outF', 'i32', a.outF],
  ];
  const sums = ROWS * nb;
  const idx = (r: number, s: number) => r * nb + s;
  const lines = (f: (r: number, s: number) => string) => Array.from({ length: sums }, (_, i) => f(Math.floor(i / nb), i % nb)).join('\n  ');
  const code = `
@group(0) @binding(0) var<storage, read> x: array<${ty}>;
@group(0) @binding(1) var<storage, read> wt: array<${ty}>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
${biasDecl(a, 3, 'bias[f]')}
${uniformsWgsl(uniforms(), a.bias ? 4 : 3)}
${activationWgsl(args.activation)}
const WG = ${GEMV_WG};
var<workgroup> red: array<f32, ${sums * GEMV_WG}>;

@compute @workgroup_size(${GEMV_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let r0 = ${FLAT_WORKGROUP} * ${ROWS};
  // Workgroup-uniform: the whole workgroup leaves, so the barriers below stay in uniform control flow.
  if (r0 >= u.rows) { return; }
  let t = i32(li);
  // Rows past the slice's end repeat its last row (in bounds) and are not stored.
  ${Array.from({ length: ROWS }, (_, r) => `let w${r} = u.wBase + min(r0 + ${r}, u.rows - 1) * u.inV;`).join('\n  ')}
  ${lines((r, s) => `var a${idx(r, s)} = ${ty}();`)}
  for (var k = t; k < u.inV; k += WG) {
    ${Array.from({ length: nb }, (_, s) => `let x${s} = x[${s} * u.inV + k];`).join('\n    ')}
    ${Array.from({ length: ROWS }, (_, r) => `let v${r} = wt[w${r} + k];`).join('\n    ')}
    ${lines((r, s) => `a${idx(r, s)} += v${r} * x${s};`).replace(/\n {2}/g, '\n    ')}
  }
  ${lines((r, s) => `red[${idx(r, s) * GEMV_WG} + t] = ${lanes === 4 ? `dot(a${idx(r, s)}, vec4<f32>(1.0))` : `a${idx(r, s)}`};`)}
  workgroupBarrier();
  for (var st = WG / 2; st > 0; st = st / 2) {
    if (t < st) {
      for (var j = 0; j < ${sums}; j++) { red[j * WG + t] += red[j * WG + t + st]; }
    }
    workgroupBarrier();
  }
  if (t < ${sums}) {
    let r = r0 + t / ${nb};
    if (r < u.rows) {
      let f = u.f0 + r;
      y[(t % ${nb}) * u.outF + f] = act(red[t * WG] + biasOf(f));
    }
  }
}
`;
  return slices.map((s) => ({
    code,
    bindings: [{ buffer: { input: 0 } }, s.w.binding, { buffer: { output: true } }, ...(a.bias ? [{ buffer: { weight: 1 } }] : [])],
    uniforms: uniforms(s),
    workgroups: gridFor(Math.ceil(s.rows / ROWS), limits),
  }));
}

const TRANSPOSE_WG = 64;

function gemm(args: GpuPlanArgs<LinearAttrs>): GpuOpPlan {
  const { attrs: a, limits } = args;
  const slices = featureSlices(a, limits);
  // Samples per chunk: the x and y slices and the transposed x (padded to a multiple of 4
  // columns) must each fit one binding.
  const fit = itemsPerBinding(a.n, Math.max(a.inF, a.outF) * 4, limits, 'one sample');
  const padFit = Math.floor(limits.maxStorageBufferBindingSize / (16 * a.inF)) * 4;
  if (padFit < 4) throw new Error(`4 samples of ${a.inF} features (${mib(16 * a.inF)}) exceed this device's maxStorageBufferBindingSize of ${mib(limits.maxStorageBufferBindingSize)}`);
  const chunk = Math.min(fit, padFit);
  const maxPad = Math.ceil(chunk / 4) * 4;
  const tUniforms = (total = 0, nPad = 0, nb = 0, xBase = 0): UniformField[] => [
    ['total', 'i32', total],
    ['nPad', 'i32', nPad],
    ['nb', 'i32', nb],
    ['inF', 'i32', a.inF],
    ['xBase', 'i32', xBase],
  ];
  // One thread per element of x^T [in, nPad]; columns past the chunk are zero, so the GEMM's vec4
  // B loads need no per-column test.
  const transpose = `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> xt: array<f32>;
${uniformsWgsl(tUniforms(), 2)}
@compute @workgroup_size(${TRANSPOSE_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let t = ${FLAT_WORKGROUP} * ${TRANSPOSE_WG} + i32(li);
  if (t >= u.total) { return; }
  let n = t % u.nPad;
  let k = t / u.nPad;
  var v = 0.0;
  if (n < u.nb) { v = x[u.xBase + n * u.inF + k]; }
  xt[t] = v;
}
`;
  const gUniforms = (M = 0, N = 0, nPad = 0, f0 = 0, wBase = 0, yBase = 0): UniformField[] => [
    ['M', 'i32', M],
    ['N', 'i32', N],
    ['K', 'i32', a.inF],
    ['nPad', 'i32', nPad],
    ['outF', 'i32', a.outF],
    ['f0', 'i32', f0],
    ['wBase', 'i32', wBase],
    ['yBase', 'i32', yBase],
  ];
  const body = `
@group(0) @binding(0) var<storage, read> xt: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> wt: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
${biasDecl(a, 3, 'bias[f]')}
${uniformsWgsl(gUniforms(), a.bias ? 4 : 3)}
${activationWgsl(args.activation)}
fn aLoad(m: i32, k: i32) -> f32 { return wt[u.wBase + m * u.K + k]; }
var<private> col: i32;
fn bInit(n: i32) { col = n; }
fn bLoad(k: i32) -> vec4<f32> {
  if (col < u.nPad) { return xt[(k * u.nPad + col) / 4]; }
  return vec4<f32>();
}
fn cStore(m: i32, n: i32, v: vec4<f32>) {
  let f = u.f0 + m;
  let b = biasOf(f);
  for (var q = 0; q < 4; q++) {
    if (n + q < u.N) { y[u.yBase + (n + q) * u.outF + f] = act(v[q] + b); }
  }
}`;
  const dispatches: GpuDispatch[] = [];
  for (let n0 = 0; n0 < a.n; n0 += chunk) {
    const nb = Math.min(chunk, a.n - n0);
    const nPad = Math.ceil(nb / 4) * 4;
    const x = sliceBinding({ input: 0 }, n0 * a.inF, nb * a.inF, limits);
    const y = sliceBinding({ output: true }, n0 * a.outF, nb * a.outF, limits);
    const total = a.inF * nPad;
    dispatches.push({
      code: transpose,
      bindings: [x.binding, { buffer: { scratch: 0 }, size: total * 4 }],
      uniforms: tUniforms(total, nPad, nb, x.base),
      workgroups: gridFor(Math.ceil(total / TRANSPOSE_WG), limits),
    });
    for (const s of slices) {
      const tile = gemmTileFor(s.rows, nb, limits);
      const w = sliceBinding({ weight: 0 }, s.f0 * a.inF, s.rows * a.inF, limits);
      dispatches.push({
        code: gemmWgsl(tile, body),
        bindings: [{ buffer: { scratch: 0 }, size: total * 4, access: 'read' }, w.binding, y.binding, ...(a.bias ? [{ buffer: { weight: 1 } }] : [])],
        uniforms: gUniforms(s.rows, nb, nPad, s.f0, w.base, y.base),
        workgroups: gemmWorkgroups(tile, s.rows, nb, 1),
      });
    }
  }
  return { dispatches, scratch: [a.inF * maxPad * 4] };
}

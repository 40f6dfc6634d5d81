/**
 * conv2d on WebGPU. Three kernels, chosen by shape:
 * - depthwise (C_in / groups = 1): direct, each thread a block of outputs (4 wide, up to 4 tall)
 *   computed from the input rows it loads once into registers; the window (kernel, stride,
 *   dilation) is unrolled in the source, so a 3x3 block of 4x4 outputs is 36 loads, not 144;
 * - 1x1, stride 1, no padding: the input plane is already the B matrix of a GEMM (vec4 loads when
 *   H*W is a multiple of 4);
 * - everything else: implicit GEMM (kernels/wgsl/gemm.ts): B = im2col of the input, computed in the
 *   tile loads and never stored. Grouped convolutions run one GEMM per (image, group) on grid z.
 * All take bias and an optional fused activation in the epilogue. Shapes are uniforms, so every
 * convolution with the same kernel choice, tile and flags shares one pipeline.
 */
import { activationWgsl } from '../../kernels/wgsl/elementwise.ts';
import { FLAT_WORKGROUP, gridFor, itemsPerBinding, mib, sliceBinding, uniformsWgsl } from '../../kernels/wgsl/common.ts';
import { gemmTileFor, gemmWgsl, gemmWorkgroups } from '../../kernels/wgsl/gemm.ts';
import type { GpuBinding, GpuDispatch, GpuPlanArgs, UniformField, WebGpuKernel } from '../types.ts';
import type { Conv2dAttrs } from './index.ts';

export const conv2dWgsl: WebGpuKernel<Conv2dAttrs> = {
  fusesActivation: true,
  plan(args) {
    const a = args.attrs;
    const weightBytes = a.cout * (a.cin / a.groups) * a.kernel[0] * a.kernel[1] * 4;
    if (weightBytes > args.limits.maxStorageBufferBindingSize) {
      throw new Error(`its weight of ${mib(weightBytes)} exceeds this device's maxStorageBufferBindingSize of ${mib(args.limits.maxStorageBufferBindingSize)}`);
    }
    const kind = a.cin === a.groups ? (a.kernel[0] * a.kernel[1] <= UNROLLED_TAPS ? depthwiseBlocked : depthwise) : isPointwise(a) ? pointwise : implicitGemm;
    return { dispatches: perImageChunk(args, kind) };
  },
};

function isPointwise(a: Conv2dAttrs): boolean {
  return a.kernel[0] === 1 && a.kernel[1] === 1 && a.stride[0] === 1 && a.stride[1] === 1 && a.pads.every((p) => p === 0);
}

/** One kernel's dispatch for images [0, nb) of a chunk whose input and output slices start at the given bases. */
type KernelFor = (args: GpuPlanArgs<Conv2dAttrs>, nb: number, x: GpuBinding, y: GpuBinding, xBase: number, yBase: number) => GpuDispatch;

/**
 * Splits the batch so that each dispatch's input and output slices fit maxStorageBufferBindingSize
 * (large batches of early layers exceed it on devices that allow 128 MiB) and its z grid fits.
 */
function perImageChunk(args: GpuPlanArgs<Conv2dAttrs>, kernel: KernelFor): GpuDispatch[] {
  const a = args.attrs;
  const inImage = a.cin * a.h * a.w;
  const outImage = a.cout * a.ho * a.wo;
  const zPerImage = kernel === depthwise || kernel === depthwiseBlocked ? 1 : a.groups;
  const nb = Math.min(
    itemsPerBinding(a.n, Math.max(inImage, outImage) * 4, args.limits, 'one image'),
    Math.max(1, Math.floor(args.limits.maxComputeWorkgroupsPerDimension / zPerImage)),
  );
  const dispatches: GpuDispatch[] = [];
  for (let n0 = 0; n0 < a.n; n0 += nb) {
    const count = Math.min(nb, a.n - n0);
    const x = sliceBinding({ input: 0 }, n0 * inImage, count * inImage, args.limits);
    const y = sliceBinding({ output: true }, n0 * outImage, count * outImage, args.limits);
    dispatches.push(kernel(args, count, x.binding, y.binding, x.base, y.base));
  }
  return dispatches;
}

function bindings(a: Conv2dAttrs, x: GpuBinding, y: GpuBinding): GpuBinding[] {
  return [x, { buffer: { weight: 0 } }, y, ...(a.bias ? [{ buffer: { weight: 1 } }] : [])];
}

function declarations(a: Conv2dAttrs, xType: string, yType: string, fields: UniformField[], activation?: string): string {
  return `
@group(0) @binding(0) var<storage, read> x: array<${xType}>;
@group(0) @binding(1) var<storage, read> wt: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<${yType}>;
${a.bias ? '@group(0) @binding(3) var<storage, read> bias: array<f32>;' : 'fn biasOf(co: i32) -> f32 { return 0.0; }'}
${a.bias ? 'fn biasOf(co: i32) -> f32 { return bias[co]; }' : ''}
${uniformsWgsl(fields, a.bias ? 4 : 3)}
${activationWgsl(activation)}`;
}

/** Uniforms shared by the GEMM kernels. */
function gemmFields(a: Conv2dAttrs, xBase: number, yBase: number): UniformField[] {
  const [kh, kw] = a.kernel;
  return [
    ['M', 'i32', a.cout / a.groups],
    ['N', 'i32', a.ho * a.wo],
    ['K', 'i32', (a.cin / a.groups) * kh * kw],
    ['groups', 'i32', a.groups],
    ['cin', 'i32', a.cin],
    ['cinG', 'i32', a.cin / a.groups],
    ['cout', 'i32', a.cout],
    ['h', 'i32', a.h],
    ['w', 'i32', a.w],
    ['wo', 'i32', a.wo],
    ['kh', 'i32', kh],
    ['kw', 'i32', kw],
    ['sh', 'i32', a.stride[0]],
    ['sw', 'i32', a.stride[1]],
    ['dh', 'i32', a.dilation[0]],
    ['dw', 'i32', a.dilation[1]],
    ['pt', 'i32', a.pads[0]],
    ['pl', 'i32', a.pads[1]],
    ['xBase', 'i32', xBase],
    ['yBase', 'i32', yBase],
  ];
}

/** aLoad and cStore of every conv GEMM: A = this group's weight rows; C = output planes + bias + act. */
function gemmEnds(vecOut: boolean): string {
  const store = vecOut
    ? `y[base / 4] = vec4<f32>(act(v.x + b), act(v.y + b), act(v.z + b), act(v.w + b));`
    : `for (var q = 0; q < 4; q++) { if (n + q < u.N) { y[base + q] = act(v[q] + b); } }`;
  return `
fn aLoad(m: i32, k: i32) -> f32 { return wt[((gz % u.groups) * u.M + m) * u.K + k]; }
fn cStore(m: i32, n: i32, v: vec4<f32>) {
  let co = (gz % u.groups) * u.M + m;
  let b = biasOf(co);
  let base = u.yBase + ((gz / u.groups) * u.cout + co) * u.N + n;
  ${store}
}
var<private> xPlane0: i32;
fn bPlane() { xPlane0 = u.xBase + ((gz / u.groups) * u.cin + (gz % u.groups) * u.cinG) * u.h * u.w; }`;
}

/** vec4 stores when each output plane is whole vec4s and the slice starts on one. */
function vecOutOk(a: Conv2dAttrs, yBase: number): boolean {
  return (a.ho * a.wo) % 4 === 0 && yBase % 4 === 0;
}

const implicitGemm: KernelFor = (args, nb, x, y, xBase, yBase) => {
  const a = args.attrs;
  const M = a.cout / a.groups;
  const N = a.ho * a.wo;
  const tile = gemmTileFor(M, N, args.limits);
  const vecOut = vecOutOk(a, yBase);
  const fields = gemmFields(a, xBase, yBase);
  // Each thread's 4 columns are fixed for the whole K loop: their input origins are computed once.
  const body = `${declarations(a, 'f32', vecOut ? 'vec4<f32>' : 'f32', fields, args.activation)}
${gemmEnds(vecOut)}
var<private> iy0: vec4<i32>;
var<private> ix0: vec4<i32>;
var<private> live: vec4<bool>;
fn bInit(n: i32) {
  bPlane();
  for (var q = 0; q < 4; q++) {
    let p = n + q;
    let oy = p / u.wo;
    iy0[q] = oy * u.sh - u.pt;
    ix0[q] = (p - oy * u.wo) * u.sw - u.pl;
    live[q] = p < u.N;
  }
}
fn bLoad(k: i32) -> vec4<f32> {
  let khw = u.kh * u.kw;
  let c = k / khw;
  let r = k - c * khw;
  let i = r / u.kw;
  let plane = xPlane0 + c * u.h * u.w;
  let dy = i * u.dh;
  let dx = (r - i * u.kw) * u.dw;
  var v = vec4<f32>();
  for (var q = 0; q < 4; q++) {
    let iy = iy0[q] + dy;
    let ix = ix0[q] + dx;
    if (live[q] && iy >= 0 && iy < u.h && ix >= 0 && ix < u.w) { v[q] = x[plane + iy * u.w + ix]; }
  }
  return v;
}`;
  return { code: gemmWgsl(tile, body), bindings: bindings(a, x, y), uniforms: fields, workgroups: gemmWorkgroups(tile, M, N, nb * a.groups) };
};

const pointwise: KernelFor = (args, nb, x, y, xBase, yBase) => {
  const a = args.attrs;
  const M = a.cout / a.groups;
  const N = a.h * a.w;
  const tile = gemmTileFor(M, N, args.limits);
  const vecIn = N % 4 === 0 && xBase % 4 === 0;
  const vecOut = vecOutOk(a, yBase);
  const fields = gemmFields(a, xBase, yBase);
  const load = vecIn
    ? `if (col < u.N) { return x[(xPlane0 + k * u.N + col) / 4]; } return vec4<f32>();`
    : `var v = vec4<f32>();
  for (var q = 0; q < 4; q++) { if (col + q < u.N) { v[q] = x[xPlane0 + k * u.N + col + q]; } }
  return v;`;
  const body = `${declarations(a, vecIn ? 'vec4<f32>' : 'f32', vecOut ? 'vec4<f32>' : 'f32', fields, args.activation)}
${gemmEnds(vecOut)}
var<private> col: i32;
fn bInit(n: i32) { bPlane(); col = n; }
fn bLoad(k: i32) -> vec4<f32> {
  ${load}
}`;
  return { code: gemmWgsl(tile, body), bindings: bindings(a, x, y), uniforms: fields, workgroups: gemmWorkgroups(tile, M, N, nb * a.groups) };
};

const DW_WG = 64;

/** The uniforms both depthwise kernels read: the planes' sizes, the padding and the slices' bases. */
function depthwiseFields(a: Conv2dAttrs, xBase: number, yBase: number): UniformField[] {
  return [
    ['cin', 'i32', a.cin],
    ['cout', 'i32', a.cout],
    ['mult', 'i32', a.cout / a.groups],
    ['h', 'i32', a.h],
    ['w', 'i32', a.w],
    ['ho', 'i32', a.ho],
    ['wo', 'i32', a.wo],
    ['pt', 'i32', a.pads[0]],
    ['pl', 'i32', a.pads[1]],
    ['xBase', 'i32', xBase],
    ['yBase', 'i32', yBase],
  ];
}

/**
 * The start of both depthwise kernels' entry point: the thread's index (none past u.total) decoded
 * into its quad of columns, its row (`row`, of `rows`), output channel `co` and image `img`, and
 * `plane`, where its input channel starts. Threads run along a row first: neighbours read
 * neighbouring inputs.
 */
function depthwiseThread(row: string, rows: string): string {
  return `@compute @workgroup_size(${DW_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let t = ${FLAT_WORKGROUP} * ${DW_WG} + i32(li);
  if (t >= u.total) { return; }
  let quad = t % u.quads;
  let r1 = t / u.quads;
  let ${row} = r1 % ${rows};
  let r2 = r1 / ${rows};
  let co = r2 % u.cout;
  let img = r2 / u.cout;
  let plane = u.xBase + (img * u.cin + co / u.mult) * u.h * u.w;`;
}

/** Windows up to this many taps are unrolled (depthwiseBlocked); larger ones loop (depthwise). */
const UNROLLED_TAPS = 121;

/**
 * Depthwise with the window unrolled: a thread computes R rows x 4 columns of outputs of one
 * channel. It walks the input rows that block reads; each row's values are loaded once (zero
 * outside the image) and feed every (output row, kernel row) pair that meets on it. The kernel's
 * taps are loaded once into registers. Kernel size, stride and dilation are in the source (they
 * decide the unrolling); the sizes of the image stay uniforms.
 */
const depthwiseBlocked: KernelFor = (args, nb, x, y, xBase, yBase) => {
  const a = args.attrs;
  const [kh, kw] = a.kernel;
  const [sh, sw] = a.stride;
  const [dh, dw] = a.dilation;
  const R = kh * kw <= 25 ? 4 : 1;
  const Q = 4;
  const rows = Math.ceil(a.ho / R);
  const quads = Math.ceil(a.wo / Q);
  const total = nb * a.cout * rows * quads;
  const fields: UniformField[] = [['total', 'i32', total], ['quads', 'i32', quads], ['rows', 'i32', rows], ...depthwiseFields(a, xBase, yBase)];
  const inCols = (Q - 1) * sw + (kw - 1) * dw + 1;
  const inRows = (R - 1) * sh + (kh - 1) * dh + 1;
  const lines: string[] = [];
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) lines.push(`let w${i}_${j} = wt[wBase + ${i * kw + j}];`);
  for (let r = 0; r < R; r++) lines.push(`var acc${r} = vec4<f32>();`);
  // Column validity and offsets are the same for every input row.
  for (let c = 0; c < inCols; c++) lines.push(`let ix${c} = x0 + ${c}; let in${c} = ix${c} >= 0 && ix${c} < u.w;`);
  for (let ir = 0; ir < inRows; ir++) {
    const uses: string[] = [];
    for (let r = 0; r < R; r++) {
      for (let i = 0; i < kh; i++) {
        if (r * sh + i * dh !== ir) continue;
        for (let j = 0; j < kw; j++) {
          const taps = Array.from({ length: Q }, (_, q) => `v${q * sw + j * dw}`);
          uses.push(`acc${r} += w${i}_${j} * vec4<f32>(${taps.join(', ')});`);
        }
      }
    }
    if (uses.length === 0) continue;
    const needed = new Set<number>();
    for (const u of uses) for (const m of u.matchAll(/v(\d+)/g)) needed.add(Number(m[1]));
    const loads = [...needed].sort((p, q) => p - q).map((c) => `let v${c} = select(0.0, x[row + ix${c}], in${c});`);
    lines.push(`{ let iy = y0 + ${ir}; if (iy >= 0 && iy < u.h) { let row = plane + iy * u.w;`, ...loads.map((l) => '  ' + l), ...uses.map((l) => '  ' + l), '} }');
  }
  const stores: string[] = [];
  for (let r = 0; r < R; r++) {
    stores.push(`if (oy0 + ${r} < u.ho) { let o = outRow + ${r} * u.wo;`);
    for (let q = 0; q < Q; q++) stores.push(`  if (ox0 + ${q} < u.wo) { y[o + ${q}] = act(acc${r}[${q}] + b); }`);
    stores.push('}');
  }
  const code = `${declarations(a, 'f32', 'f32', fields, args.activation)}
${depthwiseThread('blockRow', 'u.rows')}
  let ox0 = quad * ${Q};
  let oy0 = blockRow * ${R};
  let x0 = ox0 * ${sw} - u.pl;
  let y0 = oy0 * ${sh} - u.pt;
  let wBase = co * ${kh * kw};
  ${lines.join('\n  ')}
  let b = biasOf(co);
  let outRow = u.yBase + ((img * u.cout + co) * u.ho + oy0) * u.wo + ox0;
  ${stores.join('\n  ')}
}`;
  return { code, bindings: bindings(a, x, y), uniforms: fields, workgroups: gridFor(Math.ceil(total / DW_WG), args.limits) };
};

const depthwise: KernelFor = (args, nb, x, y, xBase, yBase) => {
  const a = args.attrs;
  const [kh, kw] = a.kernel;
  const quads = Math.ceil(a.wo / 4);
  const total = nb * a.cout * a.ho * quads;
  const fields: UniformField[] = [
    ['total', 'i32', total],
    ['quads', 'i32', quads],
    ...depthwiseFields(a, xBase, yBase),
    ['kh', 'i32', kh],
    ['kw', 'i32', kw],
    ['sh', 'i32', a.stride[0]],
    ['sw', 'i32', a.stride[1]],
    ['dh', 'i32', a.dilation[0]],
    ['dw', 'i32', a.dilation[1]],
  ];
  const code = `${declarations(a, 'f32', 'f32', fields, args.activation)}
${depthwiseThread('oy', 'u.ho')}
  let ox0 = quad * 4;
  let x0 = ox0 * u.sw - u.pl;
  let y0 = oy * u.sh - u.pt;
  let wBase = co * u.kh * u.kw;
  var acc = vec4<f32>();
  for (var i = 0; i < u.kh; i++) {
    let iy = y0 + i * u.dh;
    if (iy < 0 || iy >= u.h) { continue; }
    let row = plane + iy * u.w;
    for (var j = 0; j < u.kw; j++) {
      let wv = wt[wBase + i * u.kw + j];
      let ixj = x0 + j * u.dw;
      for (var q = 0; q < 4; q++) {
        let ix = ixj + q * u.sw;
        if (ix >= 0 && ix < u.w) { acc[q] += wv * x[row + ix]; }
      }
    }
  }
  let b = biasOf(co);
  let o = u.yBase + ((img * u.cout + co) * u.ho + oy) * u.wo + ox0;
  for (var q = 0; q < 4; q++) { if (ox0 + q < u.wo) { y[o + q] = act(acc[q] + b); } }
}`;
  return { code, bindings: bindings(a, x, y), uniforms: fields, workgroups: gridFor(Math.ceil(total / DW_WG), args.limits) };
};

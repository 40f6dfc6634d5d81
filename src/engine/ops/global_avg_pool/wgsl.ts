/**
 * Global pooling on WebGPU: a reduction of each (n, c) plane to one value (global_avg_pool and
 * global_max_pool share this). Large planes (SE blocks squeeze 256 x 56 x 56) take one workgroup
 * per plane: each thread reduces a strided share (vec4 loads when the plane is whole vec4s) into a
 * register, then the workgroup combines the partials in workgroup memory by a tree. Small planes
 * (7 x 7 classifier heads, many planes) take one thread per plane instead.
 */
import { FLAT_WORKGROUP, gridFor, sliceBinding, uniformsWgsl } from '../../kernels/wgsl/common.ts';
import { MAIN_PARAMS, runsOf, THREAD, WG } from '../../kernels/wgsl/chunks.ts';
import type { GpuDispatch, GpuPlanArgs, UniformField, WebGpuKernel } from '../types.ts';
import type { GlobalPoolAttrs } from './index.ts';

export type GlobalReduce = 'avg' | 'max';

/** Planes up to this size go one per thread: a workgroup of 128 would mostly idle. */
const SMALL_PLANE = 64;

const OPS: Record<GlobalReduce, { init: string; combine: (a: string, b: string, vec4?: boolean) => string; finish: (acc: string) => string }> = {
  // -inf from the bits at run time: WGSL constants cannot be infinite.
  max: { init: 'bitcast<f32>(0xff800000u + u.zero)', combine: (a, b, vec4) => `maxNan${vec4 ? '4' : ''}(${a}, ${b})`, finish: (acc) => acc },
  avg: { init: '0.0', combine: (a, b) => `(${a} + ${b})`, finish: (acc) => `${acc} / f32(u.size)` },
};

/**
 * max that keeps a NaN, as the CPU kernel (and PyTorch) does: WGSL's max() may return either
 * operand. NaN is tested on the bits, which no float optimisation can fold away.
 */
const NAN_MAX_WGSL = `
fn isNan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }
fn isNan4(v: vec4<f32>) -> vec4<bool> { return (bitcast<vec4<u32>>(v) & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u); }
fn maxNan(a: f32, b: f32) -> f32 { return select(max(a, b), select(a, b, isNan(b)), isNan(a) || isNan(b)); }
fn maxNan4(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  let nb = isNan4(b);
  return select(max(a, b), select(a, b, nb), isNan4(a) | nb);
}
`;

export function globalPoolWgsl(kind: GlobalReduce): WebGpuKernel<GlobalPoolAttrs> {
  return { plan: (args) => ({ dispatches: globalPoolDispatches(kind, args) }) };
}

function globalPoolDispatches(kind: GlobalReduce, args: GpuPlanArgs<GlobalPoolAttrs>): GpuDispatch[] {
  const { n, c, size } = args.attrs;
  const small = size <= SMALL_PLANE;
  // A run's planes: one workgroup each (large planes) or one thread each, within the grid.
  const maxPlanes = small ? Infinity : args.limits.maxComputeWorkgroupsPerDimension ** 2;
  return runsOf(n * c, size * 4, args.limits, 'one channel plane', maxPlanes).map(({ first, count }) => {
    const x = sliceBinding({ input: 0 }, first * size, count * size, args.limits);
    const y = sliceBinding({ output: true }, first, count, args.limits);
    const vec4 = size % 4 === 0 && x.base % 4 === 0;
    const fields: UniformField[] = [
      ['planes', 'i32', count],
      ['size', 'i32', size],
      ['xBase', 'i32', x.base],
      ['yBase', 'i32', y.base],
      ['zero', 'u32', 0],
    ];
    const code = small ? perThread(kind, vec4, fields) : perWorkgroup(kind, vec4, fields);
    const workgroups = gridFor(small ? Math.ceil(count / WG) : count, args.limits);
    return { code, bindings: [x.binding, y.binding], uniforms: fields, workgroups };
  });
}

function declarations(kind: GlobalReduce, vec4: boolean, fields: UniformField[]): string {
  return `
@group(0) @binding(0) var<storage, read> x: array<${vec4 ? 'vec4<f32>' : 'f32'}>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
${uniformsWgsl(fields, 2)}
${kind === 'max' ? NAN_MAX_WGSL : ''}`;
}

/** The thread's share of plane elements from `base`, every `step`-th (vec4) element from `from`, into `acc`. */
function strided(kind: GlobalReduce, vec4: boolean, from: string, step: string): string {
  const k = OPS[kind];
  if (!vec4) {
    return `for (var i = ${from}; i < u.size; i += ${step}) { acc = ${k.combine('acc', 'x[base + i]')}; }`;
  }
  return `var acc4 = vec4<f32>(${k.init});
  for (var i = ${from}; i < u.size / 4; i += ${step}) { acc4 = ${k.combine('acc4', 'x[base / 4 + i]', true)}; }
  acc = ${k.combine(k.combine('acc4.x', 'acc4.y'), k.combine('acc4.z', 'acc4.w'))};`;
}

function perThread(kind: GlobalReduce, vec4: boolean, fields: UniformField[]): string {
  const k = OPS[kind];
  return `${declarations(kind, vec4, fields)}
@compute @workgroup_size(${WG})
fn main(${MAIN_PARAMS}) {
  ${THREAD}
  if (t >= u.planes) { return; }
  let base = u.xBase + t * u.size;
  var acc = ${k.init};
  ${strided(kind, vec4, '0', '1')}
  y[u.yBase + t] = ${k.finish('acc')};
}
`;
}

function perWorkgroup(kind: GlobalReduce, vec4: boolean, fields: UniformField[]): string {
  const k = OPS[kind];
  let tree = '';
  for (let s = WG / 2; s >= 1; s /= 2) {
    tree += `  if (li < ${s}u) { part[li] = ${k.combine('part[li]', `part[li + ${s}u]`)}; }\n  workgroupBarrier();\n`;
  }
  return `${declarations(kind, vec4, fields)}
var<workgroup> part: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(${MAIN_PARAMS}) {
  let plane = ${FLAT_WORKGROUP};
  // Uniform across the workgroup, so the barriers below stay in uniform control flow.
  if (plane >= u.planes) { return; }
  let base = u.xBase + plane * u.size;
  var acc = ${k.init};
  ${strided(kind, vec4, 'i32(li)', `${WG}`)}
  part[li] = acc;
  workgroupBarrier();
${tree}  if (li == 0u) { y[u.yBase + plane] = ${k.finish('part[0]')}; }
}
`;
}

/**
 * Element-wise unary ops (relu, relu6, sigmoid, ...) as one WGSL expression in `x`. The same
 * expression is what a conv2d or linear kernel applies in its epilogue when the backend fuses the
 * activation into it, so an activation op needs only: `webgpu: unaryElementwise('max(x, 0.0)')`.
 */
import type { GpuDispatch, GpuPlanArgs, WebGpuKernel } from '../../ops/types.ts';
import { FLAT_WORKGROUP, gridFor, itemsPerBinding, sliceBinding, uniformsWgsl } from './common.ts';
import type { UniformField } from '../../ops/types.ts';

// Compatibility-mode devices may allow only 128 invocations per workgroup.
const WG = 128;

/**
 * Functions an activation expression may call, for math WGSL lacks (erf) or may evaluate
 * unsafely (tanh as a ratio of exponentials overflows to inf / inf on some drivers);
 * activationWgsl defines the ones the expression names.
 */
const HELPERS: Record<string, string> = {
  // 1 + erf(z) via erfc's Chebyshev fit (Numerical Recipes' erfcc, fractional error < 1.2e-7 for
  // every z): accurate also where erf(z) is near -1, where 1 + erf would cancel.
  cs_erf1p: `fn cs_erf1p(z: f32) -> f32 {
  let a = abs(z);
  let t = 1.0 / (1.0 + 0.5 * a);
  let p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  let erfc = t * exp(p - a * a);
  return select(erfc, 2.0 - erfc, z >= 0.0);
}`,
  // exp of a non-positive number only: never overflows.
  cs_tanh: `fn cs_tanh(u: f32) -> f32 {
  let e = exp(-2.0 * abs(u));
  return sign(u) * (1.0 - e) / (1.0 + e);
}`,
};

/** WGSL `fn act(x: f32) -> f32` applying `expr` (the identity when none), after the helpers it calls. */
export function activationWgsl(expr: string | undefined): string {
  const helpers = Object.entries(HELPERS).filter(([name]) => expr?.includes(`${name}(`)).map(([, code]) => `${code}\n`);
  return `${helpers.join('')}fn act(x: f32) -> f32 { return ${expr ?? 'x'}; }\n`;
}

export function unaryElementwise(expr: string): WebGpuKernel<unknown> {
  return {
    activation: expr,
    plan: (args) => ({ dispatches: unaryDispatches(expr, args) }),
  };
}

/**
 * An element-wise op whose expression depends on its attributes (clip's bounds, gelu's form): the
 * numbers are written into the shader text, so each distinct set of values is its own pipeline
 * (a model has a handful), and the same expression is what a producer applies when fused.
 */
export function parametricElementwise<A>(exprOf: (attrs: A) => string): WebGpuKernel<A> {
  return {
    activation: exprOf,
    plan: (args) => ({ dispatches: unaryDispatches(exprOf(args.attrs), args) }),
  };
}

/** The WGSL expression of an element-wise node (its kernel's `activation`, with its attributes filled in). */
export function activationExpression(kernel: WebGpuKernel<any>, attrs: unknown): string | undefined {
  const a = kernel.activation;
  return typeof a === 'function' ? a(attrs) : a;
}

/** A float as a WGSL f32 literal: always with a decimal point or exponent, as float32 reads it. */
export function wgslFloat(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`${v} has no WGSL literal`);
  const s = String(Math.fround(v));
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/**
 * A plain copy of input 0 to the output (flatten, dropout at inference): the unary kernel with the
 * identity, vec4 where the size allows. Not an `activation`: the backend must not fuse these into
 * a producer's epilogue.
 */
export function copyKernel(): WebGpuKernel<unknown> {
  return { plan: (args) => ({ dispatches: unaryDispatches('x', args) }) };
}

function unaryDispatches(expr: string, { outShape, limits }: Pick<GpuPlanArgs<unknown>, 'outShape' | 'limits'>): GpuDispatch[] {
  const total = outShape.reduce((a, b) => a * b, 1);
  // vec4 when every chunk is whole vec4s; chunks start on multiples of 64 elements (256 bytes,
  // the largest offset alignment a device may ask), so slice bases stay vec4-aligned.
  const lanes = total % 4 === 0 ? 4 : 1;
  const ty = lanes === 4 ? 'vec4<f32>' : 'f32';
  const fields: UniformField[] = [
    ['count', 'i32', 0],
    ['xBase', 'i32', 0],
    ['yBase', 'i32', 0],
  ];
  const code = `
@group(0) @binding(0) var<storage, read> src: array<${ty}>;
@group(0) @binding(1) var<storage, read_write> dst: array<${ty}>;
${uniformsWgsl(fields, 2)}
${activationWgsl(expr)}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let t = ${FLAT_WORKGROUP} * ${WG} + i32(li);
  if (t >= u.count) { return; }
  let v = src[u.xBase + t];
  dst[u.yBase + t] = ${lanes === 4 ? 'vec4<f32>(act(v.x), act(v.y), act(v.z), act(v.w))' : 'act(v)'};
}
`;
  const chunk = Math.floor(itemsPerBinding(total, 4, limits, 'one element') / 64) * 64 || total;
  const dispatches: GpuDispatch[] = [];
  for (let first = 0; first < total; first += chunk) {
    const count = Math.min(chunk, total - first);
    const x = sliceBinding({ input: 0 }, first, count, limits);
    const y = sliceBinding({ output: true }, first, count, limits);
    dispatches.push({
      code,
      bindings: [x.binding, y.binding],
      uniforms: [
        ['count', 'i32', count / lanes],
        ['xBase', 'i32', x.base / lanes],
        ['yBase', 'i32', y.base / lanes],
      ],
      workgroups: gridFor(Math.ceil(count / lanes / WG), limits),
    });
  }
  return dispatches;
}

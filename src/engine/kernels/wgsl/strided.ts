/**
 * A strided view copy (transpose, slice; see ops/view.ts) on WebGPU: one thread per output
 * element decomposes its index over the view's sizes and reads base + sum(i_d * stride_d). The
 * rank is in the shader text (one pipeline per rank), sizes and strides in uniforms. The output is
 * written in runs that fit one binding; the input is bound whole (a view reads anywhere in it).
 */
import type { ViewAttrs } from '../../ops/view.ts';
import type { GpuDispatch, GpuLimits, UniformField, WebGpuKernel } from '../../ops/types.ts';
import { numel } from '../../tensor.ts';
import { checkWhole, flatRunsOf, MAIN_PARAMS, THREAD, WG } from './chunks.ts';
import { gridFor, sliceBinding, uniformsWgsl } from './common.ts';

export function viewDispatches(v: ViewAttrs, inElements: number, limits: GpuLimits): GpuDispatch[] {
  const r = v.dims.length;
  const dimFields: UniformField[] = [['base', 'i32', v.base]];
  for (let d = 0; d < r; d++) dimFields.push([`d${d}`, 'i32', v.dims[d]], [`s${d}`, 'i32', v.strides[d]]);
  const decompose: string[] = ['  var src = u.base;'];
  for (let d = r - 1; d >= 0; d--) {
    decompose.push(d > 0 ? `  src += (rem % u.d${d}) * u.s${d};\n  rem = rem / u.d${d};` : `  src += rem * u.s0;`);
  }
  decompose.push('  y[u.yBase + t] = x[src];');
  return gatherDispatches(v.total, inElements, limits, dimFields, decompose.join('\n'));
}

/**
 * Dispatches of a kernel where each thread writes one output element, found from its index
 * `rem` (= first + t) by `body`, which reads the whole input `x` and the uniforms `fields`.
 * The output goes in runs that fit one binding; the input is bound whole.
 */
export function gatherDispatches(total: number, inElements: number, limits: GpuLimits, fields: UniformField[], body: string): GpuDispatch[] {
  checkWhole(inElements, limits, 'the input');
  return flatRunsOf(total, limits).map(({ first, count }) => {
    const y = sliceBinding({ output: true }, first, count, limits);
    const all: UniformField[] = [['count', 'i32', count], ['first', 'i32', first], ['yBase', 'i32', y.base], ...fields];
    const code = `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
${uniformsWgsl(all, 2)}
@compute @workgroup_size(${WG})
fn main(${MAIN_PARAMS}) {
  ${THREAD}
  if (t >= u.count) { return; }
  var rem = u.first + t;
${body}
}
`;
    return { code, bindings: [{ buffer: { input: 0 } }, y.binding], uniforms: all, workgroups: gridFor(Math.ceil(count / WG), limits) };
  });
}

/** The WebGPU kernel of a view op (transpose, slice). */
export const viewWgsl: WebGpuKernel<ViewAttrs> = {
  plan: ({ attrs, inShapes, limits }) => ({ dispatches: viewDispatches(attrs, numel(inShapes[0]), limits) }),
};

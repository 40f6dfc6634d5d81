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
  checkWhole(inElements, limits, 'the input');
  const r = v.dims.length;
  const dimFields: UniformField[] = [];
  for (let d = 0; d < r; d++) dimFields.push([`d${d}`, 'i32', v.dims[d]], [`s${d}`, 'i32', v.strides[d]]);
  const decompose: string[] = [];
  for (let d = r - 1; d >= 0; d--) {
    decompose.push(d > 0 ? `  src += (rem % u.d${d}) * u.s${d};\n  rem = rem / u.d${d};` : `  src += rem * u.s0;`);
  }
  return flatRunsOf(v.total, limits).map(({ first, count }) => {
    const y = sliceBinding({ output: true }, first, count, limits);
    const fields: UniformField[] = [['count', 'i32', count], ['first', 'i32', first], ['yBase', 'i32', y.base], ['base', 'i32', v.base], ...dimFields];
    const code = `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
${uniformsWgsl(fields, 2)}
@compute @workgroup_size(${WG})
fn main(${MAIN_PARAMS}) {
  ${THREAD}
  if (t >= u.count) { return; }
  var rem = u.first + t;
  var src = u.base;
${decompose.join('\n')}
  y[u.yBase + t] = x[src];
}
`;
    return { code, bindings: [{ buffer: { input: 0 } }, y.binding], uniforms: fields, workgroups: gridFor(Math.ceil(count / WG), limits) };
  });
}

/** The WebGPU kernel of a view op (transpose, slice). */
export const viewWgsl: WebGpuKernel<ViewAttrs> = {
  plan: ({ attrs, inShapes, limits }) => ({ dispatches: viewDispatches(attrs, numel(inShapes[0]), limits) }),
};

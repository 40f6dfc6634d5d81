/**
 * pad on WebGPU: one thread per output element maps its index, axis by axis, to the input
 * element it copies (or to the constant). The rank and the mode are in the shader text, the
 * sizes and pads in uniforms. The output is written in runs that fit one binding; the input is
 * bound whole.
 */
import { checkWhole, flatRunsOf, MAIN_PARAMS, THREAD, WG } from '../../kernels/wgsl/chunks.ts';
import { gridFor, sliceBinding, uniformsWgsl } from '../../kernels/wgsl/common.ts';
import { numel } from '../../tensor.ts';
import type { UniformField, WebGpuKernel } from '../types.ts';
import { stridesOf } from '../view.ts';
import type { PadAttrs } from './index.ts';

const MAP: Record<PadAttrs['mode'], string> = {
  constant: 'if (c < 0 || c >= n) { inside = false; }',
  edge: 'c = clamp(c, 0, n - 1);',
  reflect: 'if (c < 0) { c = -c; } if (c >= n) { c = 2 * (n - 1) - c; }',
};

export const padWgsl: WebGpuKernel<PadAttrs> = {
  plan({ attrs: a, limits }) {
    checkWhole(numel(a.inShape), limits, 'the input');
    const rank = a.inShape.length;
    const strides = stridesOf(a.inShape);
    const dimFields: UniformField[] = [];
    const steps: string[] = [];
    for (let d = rank - 1; d >= 0; d--) {
      dimFields.push([`o${d}`, 'i32', a.outShape[d]], [`n${d}`, 'i32', a.inShape[d]], [`b${d}`, 'i32', a.before[d]], [`s${d}`, 'i32', strides[d]]);
      steps.push(`  {
    let n = u.n${d};
    var c = rem % u.o${d} - u.b${d};
    rem = rem / u.o${d};
    ${MAP[a.mode]}
    src += c * u.s${d};
  }`);
    }
    const dispatches = flatRunsOf(a.total, limits).map(({ first, count }) => {
      const y = sliceBinding({ output: true }, first, count, limits);
      const fields: UniformField[] = [['count', 'i32', count], ['first', 'i32', first], ['yBase', 'i32', y.base], ['value', 'f32', a.value], ...dimFields];
      const code = `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
${uniformsWgsl(fields, 2)}
@compute @workgroup_size(${WG})
fn main(${MAIN_PARAMS}) {
  ${THREAD}
  if (t >= u.count) { return; }
  var rem = u.first + t;
  var src = 0;
  var inside = true;
${steps.join('\n')}
  y[u.yBase + t] = select(u.value, x[select(0, src, inside)], inside);
}
`;
      return { code, bindings: [{ buffer: { input: 0 } }, y.binding], uniforms: fields, workgroups: gridFor(Math.ceil(count / WG), limits) };
    });
    return { dispatches };
  },
};

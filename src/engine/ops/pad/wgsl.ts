/**
 * pad on WebGPU: one thread per output element maps its index, axis by axis, to the input
 * element it copies (or to the constant). The rank and the mode are in the shader text, the
 * sizes and pads in uniforms. The output is written in runs that fit one binding; the input is
 * bound whole.
 */
import { gatherDispatches } from '../../kernels/wgsl/strided.ts';
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
    const body = `  var src = 0;
  var inside = true;
${steps.join('\n')}
  y[u.yBase + t] = select(u.value, x[select(0, src, inside)], inside);`;
    const dispatches = gatherDispatches(a.total, numel(a.inShape), limits, [['value', 'f32', a.value], ...dimFields], body);
    return { dispatches };
  },
};

/**
 * LRN on WebGPU: one thread per (image, channel, 4 spatial positions) when planes are whole vec4s,
 * else per position. Each sums the squares over PyTorch's channel window [c - floor(size/2),
 * c + floor((size-1)/2)] clipped to the channels, directly rather than as a running sum (whose
 * subtractions would lose the small windows next to a large one). beta 0.75 and 0.5 take the
 * square-root forms, as on the CPU.
 */
import { gridFor, sliceBinding, uniformsWgsl } from '../../kernels/wgsl/common.ts';
import { MAIN_PARAMS, runsOf, THREAD, WG } from '../../kernels/wgsl/chunks.ts';
import type { GpuDispatch, UniformField, WebGpuKernel } from '../types.ts';
import type { LrnAttrs } from './index.ts';

export const lrnWgsl: WebGpuKernel<LrnAttrs> = {
  plan({ attrs: a, limits }) {
    const image = a.c * a.spatial;
    const dispatches: GpuDispatch[] = runsOf(a.n, image * 4, limits, 'one image').map(({ first, count }) => {
      const x = sliceBinding({ input: 0 }, first * image, count * image, limits);
      const y = sliceBinding({ output: true }, first * image, count * image, limits);
      const lanes = a.spatial % 4 === 0 && x.base % 4 === 0 && y.base % 4 === 0 ? 4 : 1;
      const ty = lanes === 4 ? 'vec4<f32>' : 'f32';
      const spatial = a.spatial / lanes;
      const total = count * a.c * spatial;
      const fields: UniformField[] = [
        ['total', 'i32', total],
        ['spatial', 'i32', spatial],
        ['c', 'i32', a.c],
        ['before', 'i32', Math.floor(a.size / 2)],
        ['after', 'i32', Math.floor((a.size - 1) / 2)],
        ['scale', 'f32', a.alpha / a.size],
        ['k', 'f32', a.k],
        ['beta', 'f32', a.beta],
        ['form', 'u32', a.beta === 0.75 ? 0 : a.beta === 0.5 ? 1 : 2],
        ['xBase', 'i32', x.base / lanes],
        ['yBase', 'i32', y.base / lanes],
      ];
      const code = `
@group(0) @binding(0) var<storage, read> x: array<${ty}>;
@group(0) @binding(1) var<storage, read_write> y: array<${ty}>;
${uniformsWgsl(fields, 2)}
@compute @workgroup_size(${WG})
fn main(${MAIN_PARAMS}) {
  ${THREAD}
  if (t >= u.total) { return; }
  let s = t % u.spatial;
  let r = t / u.spatial;
  let ch = r % u.c;
  let img = r / u.c;
  let lo = max(0, ch - u.before);
  let hi = min(u.c - 1, ch + u.after);
  var sum = ${ty}();
  for (var cc = lo; cc <= hi; cc++) {
    let v = x[u.xBase + (img * u.c + cc) * u.spatial + s];
    sum += v * v;
  }
  let d = u.k + u.scale * sum;
  var denom: ${ty};
  if (u.form == 0u) {
    let q = sqrt(d);
    denom = q * sqrt(q);
  } else if (u.form == 1u) {
    denom = sqrt(d);
  } else {
    denom = pow(d, ${ty}(u.beta));
  }
  y[u.yBase + t] = x[u.xBase + t] / denom;
}
`;
      return { code, bindings: [x.binding, y.binding], uniforms: fields, workgroups: gridFor(Math.ceil(total / WG), limits) };
    });
    return { dispatches };
  },
};

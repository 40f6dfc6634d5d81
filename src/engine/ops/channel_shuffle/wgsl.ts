/**
 * channel_shuffle on WebGPU: a permutation of whole planes (output channel j*g + i reads input
 * channel i*(C/g) + j), one thread per element, vec4 when planes are whole vec4s. Images are
 * independent, so large batches split into runs of whole images.
 */
import { gridFor, sliceBinding, uniformsWgsl } from '../../kernels/wgsl/common.ts';
import { MAIN_PARAMS, runsOf, THREAD, WG } from '../../kernels/wgsl/chunks.ts';
import type { GpuDispatch, UniformField, WebGpuKernel } from '../types.ts';
import type { ChannelShuffleAttrs } from './index.ts';

export const channelShuffleWgsl: WebGpuKernel<ChannelShuffleAttrs> = {
  plan({ attrs: a, limits }) {
    const image = a.c * a.plane;
    const dispatches: GpuDispatch[] = runsOf(a.n, image * 4, limits, 'one image').map(({ first, count }) => {
      const x = sliceBinding({ input: 0 }, first * image, count * image, limits);
      const y = sliceBinding({ output: true }, first * image, count * image, limits);
      const lanes = a.plane % 4 === 0 && x.base % 4 === 0 && y.base % 4 === 0 ? 4 : 1;
      const ty = lanes === 4 ? 'vec4<f32>' : 'f32';
      const plane = a.plane / lanes;
      const total = count * a.c * plane;
      const fields: UniformField[] = [
        ['total', 'i32', total],
        ['plane', 'i32', plane],
        ['c', 'i32', a.c],
        ['groups', 'i32', a.groups],
        ['perGroup', 'i32', a.c / a.groups],
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
  let p = t % u.plane;
  let r = t / u.plane;
  let oc = r % u.c;
  let img = r / u.c;
  let ic = (oc % u.groups) * u.perGroup + oc / u.groups;
  y[u.yBase + t] = x[u.xBase + (img * u.c + ic) * u.plane + p];
}
`;
      return { code, bindings: [x.binding, y.binding], uniforms: fields, workgroups: gridFor(Math.ceil(total / WG), limits) };
    });
    return { dispatches };
  },
};

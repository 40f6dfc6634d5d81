/**
 * batch_norm on WebGPU, folded as on the CPU: y = x * scale + (beta - mean * scale) with
 * scale = gamma / sqrt(var + eps). The four statistics plus input and output would be six storage
 * buffers, over the four a compatibility-mode stage may bind, so one small dispatch first folds
 * gamma, var and mean into scratch (scale, mean * scale per channel) and the element-wise dispatch
 * binds x, that scratch, beta and y. vec4 over planes that are whole vec4s.
 */
import { gridFor, sliceBinding, uniformsWgsl } from '../../kernels/wgsl/common.ts';
import { MAIN_PARAMS, runsOf, THREAD, WG } from '../../kernels/wgsl/chunks.ts';
import type { GpuDispatch, UniformField, WebGpuKernel } from '../types.ts';
import type { BatchNormAttrs } from './index.ts';

/** Weights in resolve's order. */
const GAMMA = 0;
const BETA = 1;
const MEAN = 2;
const VAR = 3;

export const batchNormWgsl: WebGpuKernel<BatchNormAttrs> = {
  plan({ attrs: a, limits }) {
    const foldFields: UniformField[] = [
      ['c', 'i32', a.c],
      ['eps', 'f32', a.eps],
    ];
    const fold: GpuDispatch = {
      code: `
@group(0) @binding(0) var<storage, read> gamma: array<f32>;
@group(0) @binding(1) var<storage, read> variance: array<f32>;
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(3) var<storage, read_write> folded: array<f32>;
${uniformsWgsl(foldFields, 4)}
@compute @workgroup_size(${WG})
fn main(${MAIN_PARAMS}) {
  ${THREAD}
  if (t >= u.c) { return; }
  let scale = gamma[t] / sqrt(variance[t] + u.eps);
  folded[t] = scale;
  folded[u.c + t] = mean[t] * scale;
}
`,
      bindings: [{ buffer: { weight: GAMMA } }, { buffer: { weight: VAR } }, { buffer: { weight: MEAN } }, { buffer: { scratch: 0 } }],
      uniforms: foldFields,
      workgroups: gridFor(Math.ceil(a.c / WG), limits),
    };

    const planes = a.n * a.c;
    const dispatches: GpuDispatch[] = [fold];
    for (const { first, count } of runsOf(planes, a.spatial * 4, limits, 'one channel plane')) {
      const x = sliceBinding({ input: 0 }, first * a.spatial, count * a.spatial, limits);
      const y = sliceBinding({ output: true }, first * a.spatial, count * a.spatial, limits);
      const lanes = a.spatial % 4 === 0 && x.base % 4 === 0 && y.base % 4 === 0 ? 4 : 1;
      const ty = lanes === 4 ? 'vec4<f32>' : 'f32';
      const total = (count * a.spatial) / lanes;
      const fields: UniformField[] = [
        ['total', 'i32', total],
        ['perPlane', 'i32', a.spatial / lanes],
        ['c', 'i32', a.c],
        // The run's first plane's channel: planes run n-major, so channel = (c0 + plane) % c.
        ['c0', 'i32', first % a.c],
        ['xBase', 'i32', x.base / lanes],
        ['yBase', 'i32', y.base / lanes],
      ];
      dispatches.push({
        code: `
@group(0) @binding(0) var<storage, read> x: array<${ty}>;
@group(0) @binding(1) var<storage, read> folded: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<${ty}>;
${uniformsWgsl(fields, 4)}
@compute @workgroup_size(${WG})
fn main(${MAIN_PARAMS}) {
  ${THREAD}
  if (t >= u.total) { return; }
  let ch = (u.c0 + t / u.perPlane) % u.c;
  let scale = folded[ch];
  y[u.yBase + t] = x[u.xBase + t] * scale + (beta[ch] - folded[u.c + ch]);
}
`,
        bindings: [x.binding, { buffer: { scratch: 0 }, access: 'read' }, { buffer: { weight: BETA } }, y.binding],
        uniforms: fields,
        workgroups: gridFor(Math.ceil(total / WG), limits),
      });
    }
    return { dispatches, scratch: [2 * a.c * 4] };
  },
};

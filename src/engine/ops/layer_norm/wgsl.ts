/**
 * layer_norm on WebGPU: one thread per row (two passes over it for the mean and the variance,
 * a third to write), the rows bound in runs whose slices fit a binding. Rows are short (a
 * ConvNeXt row is its 96 to 768 channels) and many (one per pixel), so a thread per row keeps
 * every lane busy without a workgroup reduction.
 */
import { gridFor, sliceBinding, uniformsWgsl } from '../../kernels/wgsl/common.ts';
import { MAIN_PARAMS, runsOf, THREAD, WG } from '../../kernels/wgsl/chunks.ts';
import type { GpuBinding, UniformField, WebGpuKernel } from '../types.ts';
import type { LayerNormAttrs } from './index.ts';

export const layerNormWgsl: WebGpuKernel<LayerNormAttrs> = {
  plan({ attrs: a, limits }) {
    const dispatches = runsOf(a.outer, a.inner * 4, limits, 'one normalised row').map(({ first, count }) => {
      const x = sliceBinding({ input: 0 }, first * a.inner, count * a.inner, limits);
      const y = sliceBinding({ output: true }, first * a.inner, count * a.inner, limits);
      const bindings: GpuBinding[] = [x.binding, ...(a.weight ? [{ buffer: { weight: 0 } }] : []), ...(a.bias ? [{ buffer: { weight: 1 } }] : []), y.binding];
      const fields: UniformField[] = [
        ['rows', 'i32', count],
        ['len', 'i32', a.inner],
        ['eps', 'f32', a.eps],
        ['xBase', 'i32', x.base],
        ['yBase', 'i32', y.base],
      ];
      let b = 1;
      const decl = [
        '@group(0) @binding(0) var<storage, read> x: array<f32>;',
        ...(a.weight ? [`@group(0) @binding(${b++}) var<storage, read> gamma: array<f32>;`] : []),
        ...(a.bias ? [`@group(0) @binding(${b++}) var<storage, read> beta: array<f32>;`] : []),
        `@group(0) @binding(${b++}) var<storage, read_write> y: array<f32>;`,
      ].join('\n');
      const code = `
${decl}
${uniformsWgsl(fields, b)}
@compute @workgroup_size(${WG})
fn main(${MAIN_PARAMS}) {
  ${THREAD}
  if (t >= u.rows) { return; }
  let xo = u.xBase + t * u.len;
  let yo = u.yBase + t * u.len;
  // Sums of x - x0, not x: a row far from 0 (a mean of 1000, a spread of 0.01) keeps its digits
  // in float32; x - x0 is exact when the values are close.
  let x0 = x[xo];
  var sum = 0.0;
  for (var i = 0; i < u.len; i++) { sum += x[xo + i] - x0; }
  let mean = sum / f32(u.len);
  var sq = 0.0;
  for (var i = 0; i < u.len; i++) { let d = (x[xo + i] - x0) - mean; sq += d * d; }
  let rstd = 1.0 / sqrt(sq / f32(u.len) + u.eps);
  for (var i = 0; i < u.len; i++) {
    let v = ((x[xo + i] - x0) - mean) * rstd;
    y[yo + i] = ${a.weight ? 'v * gamma[i]' : 'v'}${a.bias ? ' + beta[i]' : ''};
  }
}
`;
      return { code, bindings, uniforms: fields, workgroups: gridFor(Math.ceil(count / WG), limits) };
    });
    return { dispatches };
  },
};

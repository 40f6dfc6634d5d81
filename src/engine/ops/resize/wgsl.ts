/**
 * resize on WebGPU: one thread per output element computes its source coordinates with the
 * CPU's float32 formula (coordinate mode and nearest rounding in the shader text, sizes and
 * scales in uniforms) and reads one (nearest) or four (linear) input values. Runs of whole images
 * keep each dispatch's slices within one binding.
 */
import { MAIN_PARAMS, runsOf, THREAD, WG } from '../../kernels/wgsl/chunks.ts';
import { gridFor, sliceBinding, uniformsWgsl } from '../../kernels/wgsl/common.ts';
import type { GpuDispatch, UniformField, WebGpuKernel } from '../types.ts';
import type { CoordinateMode, NearestMode, ResizeAttrs } from './index.ts';

const COORDINATE: Record<CoordinateMode, string> = {
  half_pixel: '(f32(i) + 0.5) / scale - 0.5',
  pytorch_half_pixel: 'select(0.0, (f32(i) + 0.5) / scale - 0.5, outLen > 1)',
  align_corners: 'select(f32(i * (len - 1)) / f32(outLen - 1), 0.0, outLen == 1)',
  asymmetric: 'f32(i) / scale',
};

const ROUND: Record<NearestMode, string> = {
  floor: 'floor(v)',
  ceil: 'ceil(v)',
  // WGSL's round() takes halves to even; C's round() (onnxruntime's) takes them away from zero.
  round_prefer_ceil: 'sign(v) * floor(abs(v) + 0.5)',
  round_prefer_floor: 'select(sign(v) * floor(abs(v) + 0.5), floor(v), v == trunc(v) + 0.5)',
};

export const resizeWgsl: WebGpuKernel<ResizeAttrs> = {
  plan({ attrs: a, limits }) {
    const inImage = a.c * a.h * a.w;
    const outImage = a.c * a.ho * a.wo;
    const sample =
      a.mode === 'nearest'
        ? `
  let yi = nearest(coord(oy, u.h, u.ho, u.sh), u.h);
  let xi = nearest(coord(ox, u.w, u.wo, u.sw), u.w);
  y[u.yBase + t] = x[src + yi * u.w + xi];`
        : `
  let cy = clamp(coord(oy, u.h, u.ho, u.sh), 0.0, f32(u.h - 1));
  let cx = clamp(coord(ox, u.w, u.wo, u.sw), 0.0, f32(u.w - 1));
  let y0 = min(i32(floor(cy)), u.h - 1);
  let x0 = min(i32(floor(cx)), u.w - 1);
  let y1 = min(y0 + 1, u.h - 1);
  let x1 = min(x0 + 1, u.w - 1);
  let ty = cy - f32(y0);
  let tx = cx - f32(x0);
  let r0 = src + y0 * u.w;
  let r1 = src + y1 * u.w;
  let top = x[r0 + x0] + tx * (x[r0 + x1] - x[r0 + x0]);
  let bottom = x[r1 + x0] + tx * (x[r1 + x1] - x[r1 + x0]);
  y[u.yBase + t] = top + ty * (bottom - top);`;
    const dispatches: GpuDispatch[] = runsOf(a.n, Math.max(inImage, outImage) * 4, limits, 'one image').map(({ first, count }) => {
      const xs = sliceBinding({ input: 0 }, first * inImage, count * inImage, limits);
      const ys = sliceBinding({ output: true }, first * outImage, count * outImage, limits);
      const total = count * outImage;
      const fields: UniformField[] = [
        ['total', 'i32', total],
        ['xBase', 'i32', xs.base],
        ['yBase', 'i32', ys.base],
        ['h', 'i32', a.h],
        ['w', 'i32', a.w],
        ['ho', 'i32', a.ho],
        ['wo', 'i32', a.wo],
        ['sh', 'f32', a.scale[0]],
        ['sw', 'f32', a.scale[1]],
      ];
      const code = `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
${uniformsWgsl(fields, 2)}
fn coord(i: i32, len: i32, outLen: i32, scale: f32) -> f32 {
  return ${COORDINATE[a.coordinate]};
}
fn nearest(v: f32, len: i32) -> i32 {
  return clamp(i32(${ROUND[a.nearest]}), 0, len - 1);
}
@compute @workgroup_size(${WG})
fn main(${MAIN_PARAMS}) {
  ${THREAD}
  if (t >= u.total) { return; }
  let ox = t % u.wo;
  let oy = (t / u.wo) % u.ho;
  let plane = t / (u.wo * u.ho);
  let src = u.xBase + plane * u.h * u.w;
${sample}
}
`;
      return { code, bindings: [xs.binding, ys.binding], uniforms: fields, workgroups: gridFor(Math.ceil(total / WG), limits) };
    });
    return { dispatches };
  },
};

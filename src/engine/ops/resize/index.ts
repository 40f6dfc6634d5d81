import { fmt, nchw } from '../common.ts';
import type { OpDef } from '../types.ts';
import { resizeWgsl } from './wgsl.ts';

export const RESIZE_MODES = ['nearest', 'linear'] as const;
export const COORDINATE_MODES = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric'] as const;
export const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] as const;
export type CoordinateMode = (typeof COORDINATE_MODES)[number];
export type NearestMode = (typeof NEAREST_MODES)[number];

export interface ResizeAttrs {
  n: number;
  c: number;
  h: number;
  w: number;
  ho: number;
  wo: number;
  mode: 'nearest' | 'linear';
  coordinate: CoordinateMode;
  nearest: NearestMode;
  /** The float32 scales the coordinate transform divides by (given, or out / in). */
  scale: [number, number];
  /** The output size came from `sizes` (true) or from `scales` (false): how ONNX export says it. */
  fromSizes: boolean;
  /** Per output row / column: the input rows / columns read, and (linear) the weight of the second. */
  y0: number[];
  y1: number[];
  wy: number[];
  x0: number[];
  x1: number[];
  wx: number[];
}

/**
 * ONNX Resize (opset 11+) on NCHW over H and W, as torch.nn.Upsample / F.interpolate export it:
 * nearest or (bi)linear, the output size from `sizes` or from `scales` (floor(in * scale)), and
 * ONNX's coordinate_transformation_mode and nearest_mode. Coordinates are computed in float32
 * in the same order of operations as onnxruntime, so nearest picks the same rows at ties. Linear
 * clamps the source coordinate into the input, as ONNX does without extrapolation.
 */
export const resize: OpDef<ResizeAttrs> = {
  type: 'resize',
  category: 'structure',
  summary: 'Scales H and W, nearest or bilinear (ONNX Resize, nn.Upsample): nearest 0 FLOPs; linear 6 FLOPs per output (3 lerps); no params.',
  arity: [1, 1],
  resolve(p, [input]) {
    const [n, c, h, w] = nchw(p, input);
    const mode = p.oneOf('mode', RESIZE_MODES, 'nearest');
    const coordinate = p.oneOf('coordinate_transformation_mode', COORDINATE_MODES, 'half_pixel');
    const nearest = p.oneOf('nearest_mode', NEAREST_MODES, 'round_prefer_floor');
    if (mode !== 'nearest' && p.has('nearest_mode')) p.fail('nearest_mode', `is used only by mode "nearest", not "${mode}"`);
    const sizes = p.intList('sizes', { length: 2, min: 1 });
    const scales = p.numberList('scales', { length: 2, exclusiveMin: 0 });
    if ((sizes === undefined) === (scales === undefined)) {
      p.fail(sizes ? 'scales' : 'sizes', `${sizes ? 'cannot be given with sizes' : 'or scales is required'}: give the output [height, width] as sizes, or [scale_h, scale_w] as scales`);
    }
    const ins = [h, w];
    const out = sizes ?? ins.map((v, i) => Math.floor(Math.fround(v * Math.fround(scales![i]))));
    out.forEach((v, i) => {
      if (v < 1) p.fail('scales', `${JSON.stringify(scales)} makes the ${i === 0 ? 'height' : 'width'} ${ins[i]} * ${scales![i]} round down to 0`);
    });
    const scale = (sizes ? out.map((v, i) => Math.fround(v / ins[i])) : scales!.map(Math.fround)) as [number, number];
    const [ho, wo] = out;
    const ys = axisTable(ho, h, scale[0], mode, coordinate, nearest);
    const xs = axisTable(wo, w, scale[1], mode, coordinate, nearest);
    const outputs = n * c * ho * wo;
    const flops = mode === 'linear' ? 6 * outputs : 0;
    const how = `${mode}, ${coordinate}${mode === 'nearest' ? `, ${nearest}` : ''}: ${h}x${w} -> ${ho}x${wo}`;
    return {
      attrs: { n, c, h, w, ho, wo, mode, coordinate, nearest, scale, fromSizes: sizes !== undefined, y0: ys.i0, y1: ys.i1, wy: ys.t, x0: xs.i0, x1: xs.i1, wx: xs.t },
      output: [n, c, ho, wo],
      weights: [],
      counts: {
        macs: 0,
        flops,
        formula:
          mode === 'linear'
            ? `FLOPs = 6 * N*C*Ho*Wo = 6 * ${n}*${c}*${ho}*${wo} = ${fmt(flops)} (${how}; each output 4 reads and 3 lerps of 2 FLOPs)`
            : `FLOPs = 0 (${how}; copies ${fmt(outputs)} elements, ${fmt(outputs * 4)} bytes written)`,
      },
    };
  },
  cpu: {
    units: ({ attrs: a }) => a.n * a.c,
    run({ inputs: [x], out, attrs: a }, start, end) {
      const plane = a.h * a.w;
      const outPlane = a.ho * a.wo;
      for (let u = start; u < end; u++) {
        const src = u * plane;
        let o = u * outPlane;
        for (let i = 0; i < a.ho; i++) {
          const r0 = src + a.y0[i] * a.w;
          if (a.mode === 'nearest') {
            for (let j = 0; j < a.wo; j++) out[o++] = x[r0 + a.x0[j]];
            continue;
          }
          const r1 = src + a.y1[i] * a.w;
          const ty = a.wy[i];
          for (let j = 0; j < a.wo; j++) {
            const tx = a.wx[j];
            const top = x[r0 + a.x0[j]] + tx * (x[r0 + a.x1[j]] - x[r0 + a.x0[j]]);
            const bottom = x[r1 + a.x0[j]] + tx * (x[r1 + a.x1[j]] - x[r1 + a.x0[j]]);
            out[o++] = top + ty * (bottom - top);
          }
        }
      }
    },
  },
  webgpu: resizeWgsl,
};

/**
 * Where output index i reads along an axis of `len` inputs. float32 arithmetic in onnxruntime's
 * order (x_resized + 0.5) / scale - 0.5 (and so on), so ties round the way it rounds them.
 */
export function sourceCoordinate(i: number, len: number, outLen: number, scale: number, mode: CoordinateMode): number {
  const f = Math.fround;
  switch (mode) {
    case 'half_pixel':
      return f(f(f(i + 0.5) / scale) - 0.5);
    case 'pytorch_half_pixel':
      return outLen > 1 ? f(f(f(i + 0.5) / scale) - 0.5) : 0;
    case 'align_corners':
      return outLen === 1 ? 0 : f(f(i * (len - 1)) / (outLen - 1));
    case 'asymmetric':
      return f(i / scale);
  }
}

function roundNearest(v: number, mode: NearestMode): number {
  switch (mode) {
    case 'floor':
      return Math.floor(v);
    case 'ceil':
      return Math.ceil(v);
    case 'round_prefer_floor':
      return v === Math.trunc(v) + 0.5 ? Math.floor(v) : roundHalfAway(v);
    case 'round_prefer_ceil':
      return roundHalfAway(v);
  }
}

/** C's round(): halves away from zero (Math.round takes -0.5 to 0). */
function roundHalfAway(v: number): number {
  return Math.sign(v) * Math.round(Math.abs(v));
}

function axisTable(outLen: number, len: number, scale: number, mode: 'nearest' | 'linear', coordinate: CoordinateMode, nearest: NearestMode) {
  const i0: number[] = [];
  const i1: number[] = [];
  const t: number[] = [];
  for (let i = 0; i < outLen; i++) {
    const v = sourceCoordinate(i, len, outLen, scale, coordinate);
    if (mode === 'nearest') {
      const k = Math.min(Math.max(roundNearest(v, nearest), 0), len - 1);
      i0.push(k);
      i1.push(k);
      t.push(0);
      continue;
    }
    const c = Math.min(Math.max(v, 0), len - 1);
    const k = Math.min(Math.floor(c), len - 1);
    i0.push(k);
    i1.push(Math.min(k + 1, len - 1));
    t.push(Math.fround(c - k));
  }
  return { i0, i1, t };
}

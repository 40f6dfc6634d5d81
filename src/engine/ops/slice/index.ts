import { numel, shapeText } from '../../tensor.ts';
import type { OpDef } from '../types.ts';
import { collapseView, movedFormula, stridesOf, viewKernel, type ViewAttrs } from '../view.ts';
import { sliceWgsl } from './wgsl.ts';

export interface SliceAttrs extends ViewAttrs {
  /** Per input dimension, after clamping: the first index read, the step, and how many are read. */
  start: number[];
  step: number[];
  size: number[];
}

/**
 * ONNX Slice (and x[a:b:s] in PyTorch), any rank: along each of `axes`, indices start, start +
 * step, ... up to (not including) end. Negative starts and ends count from the end; out-of-range
 * values clamp as ONNX says ([0, dim] for a positive step, [-1, dim - 1] for a negative one), so
 * ends of INT64_MAX mean "to the end". A strided view of the input (ops/view.ts).
 */
export const slice: OpDef<SliceAttrs> = {
  type: 'slice',
  category: 'structure',
  summary: 'Takes a (strided, possibly reversed) window along some axes (ONNX Slice, x[a:b:s]): 0 FLOPs, no params; copies what it keeps.',
  arity: [1, 1],
  resolve(p, [input]) {
    const rank = input.length;
    const starts = p.intList('starts') ?? [];
    if (starts.length === 0) p.fail('starts', `is required: the first index along each sliced axis of ${shapeText(input)}`);
    const ends = p.intList('ends') ?? p.fail('ends', `is required: one end (exclusive) per start`);
    const k = starts.length;
    if (ends.length !== k) p.fail('ends', `has ${ends.length} values but starts has ${k}; give one end per start`);
    const axes = p.intList('axes', { default: [...Array(k).keys()], length: k, min: -rank, max: rank - 1 })!.map((a) => (a < 0 ? a + rank : a));
    if (new Set(axes).size !== k) p.fail('axes', `${JSON.stringify(axes)} names an axis twice`);
    const steps = p.intList('steps', { default: new Array<number>(k).fill(1), length: k })!;
    const start = new Array<number>(rank).fill(0);
    const step = new Array<number>(rank).fill(1);
    const size = [...input];
    axes.forEach((axis, i) => {
      const dim = input[axis];
      const s = steps[i];
      if (s === 0) p.fail('steps', `must not be 0 (axis ${axis})`);
      const { first: b, count: n } = sliceAxis(dim, starts[i], ends[i], s);
      if (n === 0) {
        p.fail('starts', `and ends select nothing along axis ${axis} of ${shapeText(input)} (start ${starts[i]}, end ${ends[i]}, step ${s}); an empty tensor cannot be profiled`);
      }
      start[axis] = b;
      step[axis] = s;
      size[axis] = n;
    });
    const inStrides = stridesOf(input);
    const base = start.reduce((sum, b, d) => sum + b * inStrides[d], 0);
    const view = collapseView(size, size.map((_, d) => inStrides[d] * step[d]), base);
    const what = axes.map((a) => `axis ${a}: ${start[a]}${step[a] === 1 ? '' : ` step ${step[a]}`} x ${size[a]}`).join(', ');
    return {
      attrs: { ...view, start, step, size },
      output: size,
      weights: [],
      counts: { macs: 0, flops: 0, formula: movedFormula(numel(size), what) },
    };
  },
  cpu: viewKernel,
  webgpu: sliceWgsl,
};

/**
 * One axis of an ONNX Slice after its clamping rules: the first index and how many are read
 * (0 when nothing is). The importer folds Slices of constants with the same rule.
 */
export function sliceAxis(dim: number, start: number, end: number, step: number): { first: number; count: number } {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  let b = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) [b, e] = [clamp(b, 0, dim), clamp(e, 0, dim)];
  else [b, e] = [clamp(b, 0, dim - 1), clamp(e, -1, dim - 1)];
  return { first: b, count: Math.max(0, Math.ceil((e - b) / step)) };
}

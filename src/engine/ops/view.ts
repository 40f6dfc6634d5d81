/**
 * Data movement as a strided view: output element (i_0, ..., i_{r-1}) of a transpose or slice
 * reads input element base + sum(i_d * stride_d). The view is collapsed first (sizes of 1
 * dropped, neighbours that are contiguous in the input merged), so a channel slice of NCHW is a
 * 2-D copy of whole planes and the CPU kernel moves runs with `set` wherever the last stride is 1.
 */
import { numel } from '../tensor.ts';
import type { CpuKernel } from './types.ts';

export interface ViewAttrs {
  total: number;
  /** Output sizes of the collapsed view (at least one). */
  dims: number[];
  /** Input element step per output step along each of `dims` (negative for reversed slices). */
  strides: number[];
  /** Input element of output element 0. */
  base: number;
}

/** Row-major element strides of `shape`. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let step = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = step;
    step *= shape[d];
  }
  return s;
}

/** The collapsed view of output sizes `dims` reading input strides `strides` from `base`. */
export function collapseView(dims: readonly number[], strides: readonly number[], base: number): ViewAttrs {
  const outDims: number[] = [];
  const outStrides: number[] = [];
  dims.forEach((n, d) => {
    if (n === 1) return;
    const last = outDims.length - 1;
    // Merging d into the previous axis is right when stepping the previous axis once equals stepping d n times.
    if (last >= 0 && outStrides[last] === strides[d] * n) {
      outDims[last] *= n;
      outStrides[last] = strides[d];
    } else {
      outDims.push(n);
      outStrides.push(strides[d]);
    }
  });
  if (outDims.length === 0) return { total: 1, dims: [1], strides: [1], base };
  return { total: numel(dims), dims: outDims, strides: outStrides, base };
}

/** Writes output elements [from, to) of the view into `out`. */
export function copyView(x: Float32Array, out: Float32Array, v: ViewAttrs, from: number, to: number): void {
  const r = v.dims.length;
  const idx = new Array<number>(r);
  let rem = from;
  let src = v.base;
  for (let d = r - 1; d >= 0; d--) {
    idx[d] = rem % v.dims[d];
    rem = Math.floor(rem / v.dims[d]);
    src += idx[d] * v.strides[d];
  }
  const last = r - 1;
  const n = v.dims[last];
  const step = v.strides[last];
  let o = from;
  while (o < to) {
    const len = Math.min(n - idx[last], to - o);
    if (step === 1) out.set(x.subarray(src, src + len), o);
    else for (let k = 0; k < len; k++) out[o + k] = x[src + k * step];
    o += len;
    src += len * step;
    idx[last] += len;
    for (let d = last; d > 0 && idx[d] === v.dims[d]; d--) {
      src += v.strides[d - 1] - v.dims[d] * v.strides[d];
      idx[d] = 0;
      idx[d - 1]++;
    }
  }
}

/** Output elements per CPU work unit of the data-movement ops. */
export const MOVE_CHUNK = 16384;

export function moveUnits(total: number): number {
  return Math.max(1, Math.ceil(total / MOVE_CHUNK));
}

/** The formula of an op that only moves data. */
export function movedFormula(elements: number, what: string): string {
  return `FLOPs = 0 (${what}: moves ${elements.toLocaleString('en-US')} elements, ${(elements * 4).toLocaleString('en-US')} bytes written)`;
}

/** The CPU kernel of a view op: units of MOVE_CHUNK output elements. */
export const viewKernel: CpuKernel<ViewAttrs> = {
  units: ({ attrs }) => moveUnits(attrs.total),
  run({ inputs: [x], out, attrs }, start, end) {
    copyView(x, out, attrs, start * MOVE_CHUNK, Math.min(end * MOVE_CHUNK, attrs.total));
  },
};

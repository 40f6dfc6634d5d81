/**
 * Import-time evaluation of the small integer (and float) constants that torch.onnx.export
 * computes shapes, split points and pads with: N-D broadcasting arithmetic, Slice, Range,
 * ConstantOfShape. Pure functions over plain arrays; the importer (onnx/import.ts) decides when a
 * node's inputs are all constant and turns failures into messages naming the node.
 */
import { sliceAxis } from '../ops/slice/index.ts';
import { numel } from '../tensor.ts';

/** A constant as the importer holds it: float tensors as float32, integer and boolean ones as numbers. */
export interface ConstData {
  dims: number[];
  data: Float32Array | number[];
  isFloat: boolean;
}

/** Constants computed at import stay small: a shape, a few split points, a pads vector. */
export const MAX_FOLDED_ELEMENTS = 1 << 20;

export type Arith = 'Add' | 'Sub' | 'Mul' | 'Div';

/** numpy-style broadcasting of two shapes, or null when they do not broadcast. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] | null {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Element-wise arithmetic with broadcasting; integer Div truncates toward zero as ONNX's does. */
export function arith(op: Arith, a: ConstData, b: ConstData): ConstData | string {
  const dims = broadcastShape(a.dims, b.dims);
  if (!dims) return `shapes [${a.dims.join(', ')}] and [${b.dims.join(', ')}] do not broadcast`;
  const n = numel(dims);
  if (n > MAX_FOLDED_ELEMENTS) return `the result has ${n} elements, more than a constant folded at import may (${MAX_FOLDED_ELEMENTS})`;
  const isFloat = a.isFloat || b.isFloat;
  const ia = broadcastIndex(a.dims, dims);
  const ib = broadcastIndex(b.dims, dims);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const x = a.data[ia(i)];
    const y = b.data[ib(i)];
    let v: number;
    if (op === 'Add') v = x + y;
    else if (op === 'Sub') v = x - y;
    else if (op === 'Mul') v = x * y;
    else if (isFloat) v = x / y;
    else if (y === 0) return 'integer division by zero';
    else v = Math.trunc(x / y);
    out[i] = v;
  }
  return { dims, data: isFloat ? Float32Array.from(out) : out, isFloat };
}

/** Maps a flat index of `to` to the flat index of the broadcast operand of shape `from`. */
function broadcastIndex(from: readonly number[], to: readonly number[]): (i: number) => number {
  const rank = to.length;
  const dims = [...new Array<number>(rank - from.length).fill(1), ...from];
  const strides = new Array<number>(rank);
  let step = 1;
  for (let d = rank - 1; d >= 0; d--) {
    strides[d] = dims[d] === 1 ? 0 : step;
    step *= dims[d];
  }
  return (i) => {
    let src = 0;
    for (let d = rank - 1; d >= 0; d--) {
      src += (i % to[d]) * strides[d];
      i = Math.floor(i / to[d]);
    }
    return src;
  };
}

/** ONNX Range: start, start + delta, ... while before limit. */
export function range(start: number, limit: number, delta: number, isFloat: boolean): ConstData | string {
  if (delta === 0) return 'delta must not be 0';
  const n = Math.max(Math.ceil((limit - start) / delta), 0);
  if (n > MAX_FOLDED_ELEMENTS) return `the range has ${n} elements, more than a constant folded at import may (${MAX_FOLDED_ELEMENTS})`;
  const data = Array.from({ length: n }, (_, i) => start + i * delta);
  return { dims: [n], data: isFloat ? Float32Array.from(data) : data, isFloat };
}

/** ONNX ConstantOfShape: `shape` filled with `value`. */
export function constantOfShape(shape: number[], value: number, isFloat: boolean): ConstData | string {
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) return `the shape [${shape.join(', ')}] has a negative or fractional size`;
  const n = numel(shape);
  if (n > MAX_FOLDED_ELEMENTS) return `the constant would have ${n} elements, more than a constant folded at import may (${MAX_FOLDED_ELEMENTS})`;
  return { dims: shape, data: isFloat ? new Float32Array(n).fill(value) : new Array<number>(n).fill(value), isFloat };
}

/** ONNX Slice of a constant (any rank; the empty result allowed, as ONNX allows it). */
export function sliceConst(c: ConstData, starts: number[], ends: number[], axes: number[], steps: number[]): ConstData | string {
  const rank = c.dims.length;
  const first = new Array<number>(rank).fill(0);
  const step = new Array<number>(rank).fill(1);
  const size = [...c.dims];
  for (let i = 0; i < starts.length; i++) {
    const axis = axes[i] < 0 ? axes[i] + rank : axes[i];
    if (axis < 0 || axis >= rank) return `axis ${axes[i]} is outside the ${rank}-D constant`;
    if (steps[i] === 0) return 'steps must not be 0';
    const s = sliceAxis(c.dims[axis], starts[i], ends[i], steps[i]);
    first[axis] = s.first;
    step[axis] = steps[i];
    size[axis] = s.count;
  }
  const n = numel(size);
  const strides = new Array<number>(rank);
  let acc = 1;
  for (let d = rank - 1; d >= 0; d--) {
    strides[d] = acc;
    acc *= c.dims[d];
  }
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let rem = i;
    let src = 0;
    for (let d = rank - 1; d >= 0; d--) {
      src += (first[d] + (rem % size[d]) * step[d]) * strides[d];
      rem = Math.floor(rem / size[d]);
    }
    out[i] = c.data[src];
  }
  return { dims: size, data: c.isFloat ? Float32Array.from(out) : out, isFloat: c.isFloat };
}

/** ONNX Transpose of a constant. */
export function transposeConst(c: ConstData, perm: number[]): ConstData | string {
  const rank = c.dims.length;
  if (perm.length !== rank || new Set(perm).size !== rank || perm.some((d) => d < 0 || d >= rank)) return `perm [${perm.join(', ')}] is not a permutation of the ${rank} axes`;
  const dims = perm.map((d) => c.dims[d]);
  const inStrides = new Array<number>(rank);
  let acc = 1;
  for (let d = rank - 1; d >= 0; d--) {
    inStrides[d] = acc;
    acc *= c.dims[d];
  }
  const n = numel(dims);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let rem = i;
    let src = 0;
    for (let d = rank - 1; d >= 0; d--) {
      src += (rem % dims[d]) * inStrides[perm[d]];
      rem = Math.floor(rem / dims[d]);
    }
    out[i] = c.data[src];
  }
  return { dims, data: c.isFloat ? Float32Array.from(out) : out, isFloat: c.isFloat };
}

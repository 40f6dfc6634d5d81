import type { ParamReader } from '../../params.ts';
import { numel, shapeText, type Shape } from '../../tensor.ts';
import { fmt, intList } from '../common.ts';
import type { CpuKernel, OpDef, WeightDecl } from '../types.ts';

export type BinaryKind = 'add' | 'sub' | 'mul' | 'div';

const SIGN: Record<BinaryKind, string> = { add: '+', sub: '-', mul: '*', div: '/' };

/**
 * The output is walked as `blocks` runs of `inner` contiguous elements. Within a run each input
 * either advances with the output (step 1) or repeats one value (step 0), so the inner loop is a
 * plain stream; only the start of a run needs the per-dimension stride arithmetic.
 */
export interface BinaryAttrs {
  kind: BinaryKind;
  total: number;
  /** Elements of each operand. */
  aSize: number;
  bSize: number;
  /**
   * Which operand is the op's weight (a constant: ConvNeXt's layer scale, a normalisation mean)
   * rather than an input: with one input, `b` (x op c) unless `weight_first` (c op x).
   */
  weight: 'a' | 'b' | null;
  /** Both inputs have the output's shape: one flat loop, no index arithmetic at all. */
  same: boolean;
  inner: number;
  aStep: 0 | 1;
  bStep: 0 | 1;
  /** Output dims outside the inner run, outermost first, with each input's element stride (0 = broadcast). */
  outerDims: number[];
  aStrides: number[];
  bStrides: number[];
}

/** Elements per work unit: large enough that a unit costs far more than its dispatch. */
const CHUNK = 65536;

/** NumPy / ONNX multidirectional broadcasting of two shapes, refused with both shapes named. */
export function broadcastShapes(p: ParamReader, kind: BinaryKind, a: Shape, b: Shape): Shape {
  const rank = Math.max(a.length, b.length);
  const out: Shape = [];
  for (let d = 0; d < rank; d++) {
    const da = a[d - (rank - a.length)] ?? 1;
    const db = b[d - (rank - b.length)] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      const channels = rank === 4 && d === 1 ? ' (the channel counts differ)' : '';
      p.error(
        `${kind} cannot broadcast ${shapeText(a)} with ${shapeText(b)} (dimension ${d}: ${da} vs ${db})${channels}; ` +
          `each dimension, aligned from the right, must be equal or 1 in one of the inputs`,
        'inputs',
      );
    }
    out.push(Math.max(da, db));
  }
  return out;
}

function contiguousStrides(shape: Shape, rank: number): number[] {
  const padded = [...Array(rank - shape.length).fill(1), ...shape];
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    strides[d] = padded[d] === 1 ? 0 : s;
    s *= padded[d];
  }
  return strides;
}

export function binaryAttrs(kind: BinaryKind, a: Shape, b: Shape, out: Shape, weight: BinaryAttrs['weight'] = null): BinaryAttrs {
  const rank = out.length;
  const total = numel(out);
  const sa = contiguousStrides(a, rank);
  const sb = contiguousStrides(b, rank);
  const same = numel(a) === total && numel(b) === total;
  // The inner run: the longest suffix of output dims over which each input is either contiguous
  // with the output or constant. Size-1 output dims fit any run.
  let inner = 1;
  let aStep: 0 | 1 | null = null;
  let bStep: 0 | 1 | null = null;
  let d = rank - 1;
  for (; d >= 0; d--) {
    if (out[d] === 1) continue;
    const ka: 0 | 1 = sa[d] === 0 ? 0 : 1;
    const kb: 0 | 1 = sb[d] === 0 ? 0 : 1;
    if ((aStep !== null && ka !== aStep) || (bStep !== null && kb !== bStep)) break;
    // A stepping input must also be contiguous across the run: its stride here equals the run so far.
    if ((ka === 1 && sa[d] !== inner) || (kb === 1 && sb[d] !== inner)) break;
    aStep = ka;
    bStep = kb;
    inner *= out[d];
  }
  const outerDims: number[] = [];
  const aStrides: number[] = [];
  const bStrides: number[] = [];
  for (let i = 0; i <= d; i++) {
    if (out[i] === 1) continue;
    outerDims.push(out[i]);
    aStrides.push(sa[i]);
    bStrides.push(sb[i]);
  }
  return { kind, total, aSize: numel(a), bSize: numel(b), weight, same, inner, aStep: aStep ?? 1, bStep: bStep ?? 1, outerDims, aStrides, bStrides };
}

/**
 * Walks output elements [lo, hi) of a broadcast in runs of at most `inner` elements along which each
 * input either advances by its step or stays on one value; calls `run(o, ao, bo, len)` with the
 * run's output offset and the two inputs' offsets. Both CPU paths (TypeScript, wasm) share it.
 */
export function forEachRun(t: BinaryAttrs, lo: number, hi: number, run: (o: number, ao: number, bo: number, len: number) => void): void {
  const L = t.inner;
  const nd = t.outerDims.length;
  let o = lo;
  while (o < hi) {
    const block = Math.floor(o / L);
    const i0 = o - block * L;
    const len = Math.min(L - i0, hi - o);
    let ao = 0;
    let bo = 0;
    let rest = block;
    for (let d = nd - 1; d >= 0; d--) {
      const size = t.outerDims[d];
      const idx = rest % size;
      rest = (rest - idx) / size;
      ao += idx * t.aStrides[d];
      bo += idx * t.bStrides[d];
    }
    run(o, ao + i0 * t.aStep, bo + i0 * t.bStep, len);
    o += len;
  }
}

/** The two operands, from the op's input(s) and weight, in a op b order. */
export function operands<T>(t: Pick<BinaryAttrs, 'weight'>, inputs: T[], weights: T[]): [T, T] {
  if (t.weight === 'a') return [weights[0], inputs[0]];
  if (t.weight === 'b') return [inputs[0], weights[0]];
  return [inputs[0], inputs[1]];
}

/** out[i] = a[ao] op b[bo] for i in [o, e), each operand advancing by its step (0 or 1). */
function apply(kind: BinaryKind, out: Float32Array, o: number, e: number, a: Float32Array, ao: number, as: number, b: Float32Array, bo: number, bs: number): void {
  switch (kind) {
    case 'add':
      for (let i = o; i < e; i++, ao += as, bo += bs) out[i] = a[ao] + b[bo];
      return;
    case 'sub':
      for (let i = o; i < e; i++, ao += as, bo += bs) out[i] = a[ao] - b[bo];
      return;
    case 'mul':
      for (let i = o; i < e; i++, ao += as, bo += bs) out[i] = a[ao] * b[bo];
      return;
    case 'div':
      for (let i = o; i < e; i++, ao += as, bo += bs) out[i] = a[ao] / b[bo];
      return;
  }
}

export const binaryCpu: CpuKernel<BinaryAttrs> = {
  units: ({ attrs }) => Math.ceil(attrs.total / CHUNK),
  run({ inputs, weights, out, attrs: t }, start, end) {
    const [a, b] = operands(t, inputs, weights);
    const lo = start * CHUNK;
    const hi = Math.min(end * CHUNK, t.total);
    // Both constant over a run cannot happen: a dimension both inputs broadcast has size 1. The
    // SE-scaling case, [N, C, H, W] x [N, C, 1, 1], has one scalar per plane (bStep 0).
    if (t.same) apply(t.kind, out, lo, hi, a, lo, 1, b, lo, 1);
    else forEachRun(t, lo, hi, (o, ao, bo, len) => apply(t.kind, out, o, o + len, a, ao, t.aStep, b, bo, t.bStep));
  },
};

/**
 * add, sub, mul and div differ only in the arithmetic; one definition keeps their broadcasting
 * identical. Two inputs, or one input and a weight of `weight_shape` as the other operand (a
 * constant the model holds: ConvNeXt's layer scale [C, 1, 1], a normalisation mean), counted
 * as params; `weight_first` makes it the left operand (c - x, c / x).
 */
export function binaryOp(kind: BinaryKind, summary: string): OpDef<BinaryAttrs> {
  const sign = SIGN[kind];
  return {
    type: kind,
    category: 'structure',
    summary,
    arity: [1, 2],
    resolve(p, inShapes) {
      const weightShape = intList(p, 'weight_shape', { min: 1 });
      const weightFirst = p.bool('weight_first', false);
      const weightValue = p.number('weight_value', { default: kind === 'mul' || kind === 'div' ? 1 : 0 });
      let weights: WeightDecl[] = [];
      let weight: BinaryAttrs['weight'] = null;
      let [a, b] = inShapes;
      if (inShapes.length === 1) {
        const ws = weightShape ?? p.error(`${kind} of one input needs weight_shape, the shape of the constant operand (or give two inputs)`, 'weight_shape');
        weights = [{ name: 'weight', shape: [...ws], role: 'param', init: { kind: 'const', value: weightValue } }];
        weight = weightFirst ? 'a' : 'b';
        [a, b] = weightFirst ? [ws, inShapes[0]] : [inShapes[0], ws];
      } else if (weightShape || p.has('weight_first') || p.has('weight_value')) {
        p.error(`${kind} of two inputs takes no weight; weight_shape, weight_first and weight_value are for one input and a constant`, weightShape ? 'weight_shape' : p.has('weight_first') ? 'weight_first' : 'weight_value');
      }
      const output = broadcastShapes(p, kind, a, b);
      const n = numel(output);
      const [an, bn] = [weight === 'a' ? 'c' : 'x', weight === 'b' ? 'c' : 'y'];
      const how = shapeText(a) === shapeText(b) ? '' : `, ${shapeText(a)} ${sign} ${shapeText(b)} broadcast to ${shapeText(output)}`;
      return {
        attrs: binaryAttrs(kind, a, b, output, weight),
        output,
        weights,
        counts: { macs: 0, flops: n, formula: `FLOPs = 1 * ${fmt(n)} output elements (${an} ${sign} ${bn}${how}${weight ? `; c is a ${shapeText(weights[0].shape)} weight` : ''})` },
      };
    },
    cpu: binaryCpu,
  };
}

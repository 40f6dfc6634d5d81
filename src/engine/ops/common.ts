import type { Pads, Pair, ParamReader } from '../params.ts';
import type { Shape } from '../tensor.ts';
import { numel, shapeText } from '../tensor.ts';

/** Requires an NCHW input and returns it as [n, c, h, w]. */
export function nchw(p: ParamReader, shape: Shape, which = 'input'): [number, number, number, number] {
  if (shape.length !== 4) {
    p.error(`expects a 4-D NCHW ${which}, got ${shapeText(shape)}; put a reshape/flatten elsewhere or feed it a feature map`);
  }
  return [shape[0], shape[1], shape[2], shape[3]];
}

/**
 * Output length of a sliding window along one axis:
 * floor((in + padBefore + padAfter - dilation * (k - 1) - 1) / stride) + 1 (ceil with ceilMode).
 * Refuses an empty output, naming the numbers that made it so.
 */
export function windowOutput(
  p: ParamReader,
  axis: 'height' | 'width',
  input: number,
  kernel: number,
  stride: number,
  padBefore: number,
  padAfter: number,
  dilation = 1,
  ceilMode = false,
): number {
  const span = dilation * (kernel - 1) + 1;
  const padded = input + padBefore + padAfter;
  const num = padded - span;
  let out = num < 0 ? 0 : (ceilMode ? Math.ceil(num / stride) : Math.floor(num / stride)) + 1;
  // PyTorch: with ceil_mode the last window must start inside the input or left padding.
  if (ceilMode && out > 0 && (out - 1) * stride >= input + padBefore) out -= 1;
  if (out <= 0) {
    p.error(
      `output ${axis} would be ${out}: a ${axis} of ${input} with padding ${padBefore}+${padAfter} is smaller than the ` +
        `kernel's span ${span} (kernel ${kernel}, dilation ${dilation}); use a smaller kernel or dilation, or more padding`,
      dilation > 1 ? 'dilation' : 'kernel',
    );
  }
  return out;
}

export function windowOutputs(
  p: ParamReader,
  h: number,
  w: number,
  kernel: Pair,
  stride: Pair,
  pads: Pads,
  dilation: Pair = [1, 1],
  ceilMode = false,
): [number, number] {
  return [
    windowOutput(p, 'height', h, kernel[0], stride[0], pads[0], pads[2], dilation[0], ceilMode),
    windowOutput(p, 'width', w, kernel[1], stride[1], pads[1], pads[3], dilation[1], ceilMode),
  ];
}

/** Thousands separators, for formulas that a person reads. */
export function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

/** Counts of an op that does `perElement` FLOPs on every output element and no MACs. */
export function elementwiseCounts(output: Shape, perElement: number, what: string) {
  const n = numel(output);
  return {
    macs: 0,
    flops: n * perElement,
    formula: `FLOPs = ${perElement === 1 ? '' : `${perElement} * `}${fmt(n)} output elements (${what})`,
  };
}

/** Splits `total` items into `parts` contiguous chunks; used to size work units. */
export function chunkCount(total: number, chunk: number): number {
  return Math.max(1, Math.ceil(total / chunk));
}

/**
 * Weights of an op whose output channel o is linear in weight row o (conv2d, linear), rewritten to
 * compute scale[o] * y[o] + shift[o]: rows scaled, bias (zero when absent) scaled and shifted. How
 * an inference batch norm after the op folds into it (see OpDef.foldScaleShift).
 */
export function scaleRowsShiftBias(weight: Float32Array, bias: Float32Array | undefined, scale: Float64Array, shift: Float64Array): [Float32Array, Float32Array] {
  const rows = scale.length;
  const per = weight.length / rows;
  const w = new Float32Array(weight.length);
  const b = new Float32Array(rows);
  for (let o = 0; o < rows; o++) {
    const k = scale[o];
    for (let i = o * per; i < (o + 1) * per; i++) w[i] = weight[i] * k;
    b[o] = (bias ? bias[o] : 0) * k + shift[o];
  }
  return [w, b];
}

/**
 * A list of integers parameter (`weight_shape`, `axes`, `normalized_shape`), each at least `min`;
 * undefined when absent. Refused, naming the parameter, when it is not a list of integers.
 */
export function intList(p: ParamReader, name: string, opts: { min?: number; nonEmpty?: boolean } = {}): number[] | undefined {
  const v = p.raw(name);
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x))) p.fail(name, `must be a list of integers, got ${JSON.stringify(v)}`);
  const list = v as number[];
  if (opts.nonEmpty && list.length === 0) p.fail(name, 'must not be empty');
  if (opts.min !== undefined && list.some((x) => x < opts.min!)) p.fail(name, `entries must be >= ${opts.min}, got ${JSON.stringify(v)}`);
  return list;
}

/** Axes given as a list (negative ones counting from the end) as sorted distinct dims of a rank-`rank` tensor. */
export function normalizeAxes(p: ParamReader, name: string, axes: number[], rank: number): number[] {
  const out = axes.map((a) => {
    if (a < -rank || a >= rank) p.fail(name, `axis ${a} is outside a ${rank}-D input (valid: ${-rank} to ${rank - 1})`);
    return a < 0 ? a + rank : a;
  });
  if (new Set(out).size !== out.length) p.fail(name, `names an axis twice: ${JSON.stringify(axes)}`);
  return out.sort((x, y) => x - y);
}

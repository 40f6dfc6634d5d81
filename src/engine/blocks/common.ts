/** Checks and padding rules the blocks share, so every block words its errors the same way. */
import type { Pair, ParamReader } from '../params.ts';
import { shapeText } from '../tensor.ts';
import type { ParamValue } from '../../shared/spec.ts';
import type { BlockBuilder } from './types.ts';

/** The block's (first) input as [n, c, h, w]; blocks of the minimum set all take feature maps. */
export function blockInput(p: ParamReader, b: BlockBuilder): [number, number, number, number] {
  const shape = b.inputs[0].shape;
  if (shape.length !== 4) {
    p.error(`${p.what} expects a 4-D NCHW input, got ${shapeText(shape)}; feed it a feature map`);
  }
  return [shape[0], shape[1], shape[2], shape[3]];
}

/** An optional integer that is still listed among the block's known parameters when absent. */
export function optionalInt(p: ParamReader, name: string, opts: { min?: number; max?: number } = {}): number | undefined {
  return p.raw(name) === undefined ? undefined : p.int(name, opts);
}

/**
 * The two divisibility rules of a grouped convolution, checked before any op is added so the
 * message names the user's layer and parameter rather than an op inside the block.
 */
export function checkGroups(p: ParamReader, cin: number, cout: number, groups: number, coutName = 'out_channels', groupsName = 'groups'): void {
  if (cout % groups !== 0) p.fail(coutName, `${cout} is not divisible by ${groupsName} ${groups}`);
  if (cin % groups !== 0) p.fail(groupsName, `${groups} does not divide the ${cin} input channels; use a divisor of ${cin}`);
}

/**
 * Padding that keeps H and W at stride 1 (ceil(in / stride) otherwise): symmetric [ph, pw] when
 * the dilated kernel's extent allows it, which every exporter and runtime understands, else
 * "same" (the extra row/column going to the bottom/right).
 */
export function keepSizePadding(kernel: Pair, dilation: Pair): ParamValue {
  const total = [0, 1].map((i) => dilation[i] * (kernel[i] - 1));
  if (total.every((t) => t % 2 === 0)) return [total[0] / 2, total[1] / 2];
  return 'same';
}

/**
 * Keras/TensorFlow "same" padding as explicit [top, left, bottom, right] for an input of h x w:
 * the output is ceil(in / stride), odd totals put the extra row/column at the bottom/right.
 * Explicit so that pooling ops need no knowledge of "same".
 */
export function tfSamePads(h: number, w: number, kernel: Pair, stride: Pair): number[] {
  const total = [h, w].map((size, i) => Math.max((Math.ceil(size / stride[i]) - 1) * stride[i] + kernel[i] - size, 0));
  const before = total.map((t) => Math.floor(t / 2));
  return before[0] === total[0] - before[0] && before[1] === total[1] - before[1]
    ? [before[0], before[1]]
    : [before[0], before[1], total[0] - before[0], total[1] - before[1]];
}

/** A list of positive integers (for example the channel widths of a module's tail). */
export function intList(p: ParamReader, name: string, dflt: number[]): number[] {
  const v = p.raw(name);
  if (v === undefined) return [...dflt];
  if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x) && x >= 1)) {
    p.fail(name, `must be a list of positive integers, got ${JSON.stringify(v)}`);
  }
  return [...v];
}

/**
 * Element-wise ops defined by one scalar function (silu, hardswish, hardsigmoid, clip, gelu): the
 * parameter rules, the shape (the input's, any rank), the counts, a TypeScript kernel in chunks and
 * the WGSL kernel from one expression, which is also what conv2d / linear apply when the op fuses
 * into them on WebGPU. One definition keeps the five identical in everything but the arithmetic.
 */
import type { ParamReader } from '../params.ts';
import { numel } from '../tensor.ts';
import { parametricElementwise } from '../kernels/wgsl/elementwise.ts';
import { elementwiseCounts } from './common.ts';
import type { OpDef } from './types.ts';

const CHUNK = 65536;

export interface UnaryDef<P> {
  type: string;
  summary: string;
  /** Reads the op's parameters (the attributes besides `size`). */
  params(p: ParamReader): P;
  /** FLOPs per element and the formula's description, for these parameters. */
  flops(p: P): { perElement: number; what: string };
  /** The function on float64, for these parameters: the CPU reference. */
  fn(p: P): (x: number) => number;
  /** The same function as a WGSL expression in `x` (an f32). */
  wgsl(p: P): string;
}

export function unaryOp<P extends object>(d: UnaryDef<P>): OpDef<P & { size: number }> {
  return {
    type: d.type,
    category: 'activation',
    summary: d.summary,
    arity: [1, 1],
    resolve(p, [input]) {
      const params = d.params(p);
      const { perElement, what } = d.flops(params);
      return { attrs: { ...params, size: numel(input) }, output: [...input], weights: [], counts: elementwiseCounts(input, perElement, what) };
    },
    cpu: {
      units: ({ attrs }) => Math.ceil(attrs.size / CHUNK),
      run({ inputs: [x], out, attrs }, start, end) {
        const f = d.fn(attrs);
        const hi = Math.min(end * CHUNK, x.length);
        for (let i = start * CHUNK; i < hi; i++) out[i] = f(x[i]);
      },
    },
    webgpu: parametricElementwise((attrs: P) => d.wgsl(attrs)),
  };
}

/** WGSL: logistic sigmoid of `v` without overflow (exp of a non-positive number only). */
export const WGSL_SIGMOID = (v: string) => `(select(exp(-abs(${v})), 1.0, ${v} >= 0.0) / (1.0 + exp(-abs(${v}))))`;

/** Logistic sigmoid in float64, exact at the tails (exp(-x) overflowing to Infinity gives 0). */
export function sigmoidOf(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

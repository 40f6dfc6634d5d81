/**
 * reduce_mean and reduce_max (ONNX ReduceMean / ReduceMax, torch.mean / amax over dims): over any
 * set of axes of an input of any rank. Neighbouring dims that are both kept or both reduced are
 * merged first, so a kernel walks at most ceil(rank / 2) kept and reduced dims: each output is
 * a base offset from its kept-dim index, plus the offsets of the reduced sub-block.
 */
import { checkWhole } from '../kernels/wgsl/chunks.ts';
import { gridFor, uniformsWgsl } from '../kernels/wgsl/common.ts';
import { MAIN_PARAMS, THREAD, WG } from '../kernels/wgsl/chunks.ts';
import { numel, shapeText } from '../tensor.ts';
import { fmt, intList, normalizeAxes } from './common.ts';
import type { OpDef, UniformField } from './types.ts';

export type ReduceKind = 'mean' | 'max';

export interface ReduceAttrs {
  kind: ReduceKind;
  /** Output elements. */
  total: number;
  /** Kept (merged) dims, outermost first, and their strides in the input. */
  keptDims: number[];
  keptStrides: number[];
  /** Reduced (merged) dims and their strides in the input. */
  redDims: number[];
  redStrides: number[];
  /** Elements reduced into each output. */
  count: number;
  /** The reduced axes as given (normalised, sorted): what an ONNX export states. */
  axes: number[];
}

/** Outputs per CPU work unit. */
const OUTPUTS_PER_UNIT = 1024;
/** Merged kept or reduced dims the WGSL kernel walks. */
const MAX_DIMS = 4;

function reduceAttrs(kind: ReduceKind, input: number[], reduced: Set<number>): ReduceAttrs {
  const strides = input.map((_, d) => numel(input.slice(d + 1)));
  const kept: [number, number][] = [];
  const red: [number, number][] = [];
  let prev: boolean | null = null;
  input.forEach((size, d) => {
    if (size === 1) return;
    const isRed = reduced.has(d);
    const list = isRed ? red : kept;
    // Merging into the previous dim of the same kind: it is contiguous with this one.
    if (prev === isRed && list.length > 0) list[list.length - 1] = [list[list.length - 1][0] * size, strides[d]];
    else list.push([size, strides[d]]);
    prev = isRed;
  });
  const count = red.reduce((a, [s]) => a * s, 1);
  return {
    kind,
    total: kept.reduce((a, [s]) => a * s, 1),
    keptDims: kept.map(([s]) => s),
    keptStrides: kept.map(([, st]) => st),
    redDims: red.map(([s]) => s),
    redStrides: red.map(([, st]) => st),
    count,
    axes: [...reduced].sort((x, y) => x - y),
  };
}

/** The input offset of position `i` of a row-major walk over `dims` with `strides`. */
function offsetOf(i: number, dims: number[], strides: number[]): number {
  let off = 0;
  for (let d = dims.length - 1; d >= 0; d--) {
    const idx = i % dims[d];
    i = (i - idx) / dims[d];
    off += idx * strides[d];
  }
  return off;
}

export function reduceOp(kind: ReduceKind, summary: string): OpDef<ReduceAttrs> {
  const type = `reduce_${kind}`;
  return {
    type,
    category: 'pooling',
    summary,
    arity: [1, 1],
    resolve(p, [input]) {
      const given = intList(p, 'axes');
      const keepdims = p.bool('keepdims', true);
      const axes = given === undefined ? input.map((_, d) => d) : normalizeAxes(p, 'axes', given, input.length);
      if (given !== undefined && given.length === 0) p.fail('axes', 'is empty; leave it out to reduce over every axis');
      const reduced = new Set(axes);
      const output = keepdims ? input.map((d, i) => (reduced.has(i) ? 1 : d)) : input.filter((_, i) => !reduced.has(i));
      // A scalar result keeps one dim: the engine's tensors have rank 1 or more.
      if (output.length === 0) output.push(1);
      const attrs = reduceAttrs(kind, input, reduced);
      const n = numel(input);
      const what = kind === 'mean' ? `${fmt(attrs.count)} - 1 adds + 1 divide per output` : `${fmt(attrs.count)} - 1 comparisons per output, counted as pooling's one per element`;
      return {
        attrs,
        output,
        weights: [],
        counts: { macs: 0, flops: n, formula: `FLOPs = ${fmt(n)} input elements (${shapeText(input)} over axes [${axes.join(', ')}]: ${what})` },
      };
    },
    cpu: {
      units: ({ attrs }) => Math.ceil(attrs.total / OUTPUTS_PER_UNIT),
      run({ inputs: [x], out, attrs: a }, start, end) {
        const offs = new Int32Array(a.count);
        for (let r = 0; r < a.count; r++) offs[r] = offsetOf(r, a.redDims, a.redStrides);
        const hi = Math.min(end * OUTPUTS_PER_UNIT, a.total);
        for (let o = start * OUTPUTS_PER_UNIT; o < hi; o++) {
          const base = offsetOf(o, a.keptDims, a.keptStrides);
          if (a.kind === 'mean') {
            let s = 0;
            for (let r = 0; r < a.count; r++) s += x[base + offs[r]];
            out[o] = s / a.count;
          } else {
            let m = -Infinity;
            for (let r = 0; r < a.count; r++) m = Math.max(m, x[base + offs[r]]);
            out[o] = m;
          }
        }
      },
    },
    webgpu: {
      plan({ attrs: a, inShapes, limits }) {
        if (a.keptDims.length > MAX_DIMS || a.redDims.length > MAX_DIMS) {
          throw new Error(`reducing ${shapeText(inShapes[0])} over interleaved axes needs more than ${MAX_DIMS} kept or reduced dim groups`);
        }
        checkWhole(numel(inShapes[0]), limits, 'the input');
        const fields: UniformField[] = [
          ['total', 'i32', a.total],
          ['count', 'i32', a.count],
        ];
        for (let d = 0; d < MAX_DIMS; d++) {
          fields.push([`k${d}`, 'i32', a.keptDims[d] ?? 1], [`ks${d}`, 'i32', a.keptStrides[d] ?? 0], [`r${d}`, 'i32', a.redDims[d] ?? 1], [`rs${d}`, 'i32', a.redStrides[d] ?? 0]);
        }
        // Unused dims are 1 with stride 0, so the walk over MAX_DIMS is exact for fewer.
        const walk = (v: string, dim: string, stride: string, into: string) =>
          Array.from({ length: MAX_DIMS }, (_, i) => MAX_DIMS - 1 - i)
            .map((d) => `    { let q = ${v} % u.${dim}${d}; ${v} = ${v} / u.${dim}${d}; ${into} += q * u.${stride}${d}; }`)
            .join('\n');
        const code = `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
${uniformsWgsl(fields, 2)}
@compute @workgroup_size(${WG})
fn main(${MAIN_PARAMS}) {
  ${THREAD}
  if (t >= u.total) { return; }
  var base = 0;
  var o = t;
${walk('o', 'k', 'ks', 'base')}
  var acc = ${kind === 'mean' ? '0.0' : '-3.4028234663852886e38'};
  for (var r = 0; r < u.count; r++) {
    var off = base;
    var i = r;
${walk('i', 'r', 'rs', 'off')}
    acc = ${kind === 'mean' ? 'acc + x[off]' : 'max(acc, x[off])'};
  }
  y[t] = ${kind === 'mean' ? 'acc / f32(u.count)' : 'acc'};
}
`;
        return { dispatches: [{ code, bindings: [{ buffer: { input: 0 } }, { buffer: { output: true } }], uniforms: fields, workgroups: gridFor(Math.ceil(a.total / WG), limits) }] };
      },
    },
  };
}

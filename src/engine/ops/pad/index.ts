import { numel, shapeText } from '../../tensor.ts';
import type { OpDef } from '../types.ts';
import { MOVE_CHUNK, movedFormula, stridesOf } from '../view.ts';
import { padWgsl } from './wgsl.ts';

export type PadMode = 'constant' | 'reflect' | 'edge';

export interface PadAttrs {
  inShape: number[];
  outShape: number[];
  /** Per dimension: elements added before (negative: removed). */
  before: number[];
  mode: PadMode;
  value: number;
  total: number;
  /** Output rows (the last dimension) per CPU work unit. */
  rowsPerUnit: number;
}

/**
 * ONNX Pad / torch.nn.functional.pad, any rank. `pads` is ONNX's layout: the begins of every
 * padded axis, then the ends ([x1_begin, x2_begin, ..., x1_end, x2_end, ...]); `axes` (ONNX 18)
 * names the padded axes, all of them by default. Negative pads crop. Modes: constant (`value`),
 * reflect (mirror without repeating the edge, as PyTorch's "reflect"; pads must be smaller than
 * the size), edge (repeat the edge, PyTorch's "replicate").
 */
export const pad: OpDef<PadAttrs> = {
  type: 'pad',
  category: 'structure',
  summary: 'Pads (or crops) any axes, constant / reflect / edge (ONNX Pad, F.pad): 0 FLOPs, no params; writes every output element once.',
  arity: [1, 1],
  resolve(p, [input]) {
    const rank = input.length;
    const axes = p.intList('axes', { default: [...input.keys()], min: -rank, max: rank - 1 })!.map((a) => (a < 0 ? a + rank : a));
    if (new Set(axes).size !== axes.length) p.fail('axes', `${JSON.stringify(axes)} names an axis twice`);
    const k = axes.length;
    const pads = p.intList('pads') ?? p.fail('pads', `is required: ${2 * k} integers, the begins of ${k === rank ? 'every axis' : `axes ${axes.join(', ')}`} then their ends`);
    if (pads.length !== 2 * k) {
      p.fail('pads', `has ${pads.length} values; ${shapeText(input)} padded along ${k} ${k === 1 ? 'axis' : 'axes'} needs ${2 * k} (the begins, then the ends)`);
    }
    const mode = p.oneOf<PadMode>('mode', ['constant', 'reflect', 'edge'], 'constant');
    const value = p.number('value', { default: 0 });
    if (mode !== 'constant' && value !== 0) p.fail('value', `is used only by mode "constant", not "${mode}"`);
    const before = new Array<number>(rank).fill(0);
    const after = new Array<number>(rank).fill(0);
    axes.forEach((axis, i) => {
      before[axis] = pads[i];
      after[axis] = pads[i + k];
    });
    const outShape = input.map((n, d) => n + before[d] + after[d]);
    outShape.forEach((n, d) => {
      if (n <= 0) p.fail('pads', `crop all of axis ${d} (size ${input[d]}, pads ${before[d]} and ${after[d]}); the output would be empty`);
      if (mode === 'reflect' && Math.max(before[d], after[d]) >= input[d]) {
        p.fail('pads', `of ${Math.max(before[d], after[d])} along axis ${d} reach past a reflection of its ${input[d]} elements; reflect pads must be smaller than the size (use "edge")`);
      }
    });
    const total = numel(outShape);
    const added = axes.map((a) => `${a}: ${before[a]}+${after[a]}`).join(', ');
    return {
      attrs: { inShape: [...input], outShape, before, mode, value, total, rowsPerUnit: Math.max(1, Math.floor(MOVE_CHUNK / outShape[rank - 1])) },
      output: outShape,
      weights: [],
      counts: { macs: 0, flops: 0, formula: movedFormula(total, `${mode} pad, axes ${added}`) },
    };
  },
  cpu: {
    units: ({ attrs: a }) => Math.ceil(a.total / a.outShape[a.outShape.length - 1] / a.rowsPerUnit),
    run({ inputs: [x], out, attrs: a }, start, end) {
      const rank = a.inShape.length;
      const last = rank - 1;
      const w = a.outShape[last];
      const inW = a.inShape[last];
      const b = a.before[last];
      const rows = a.total / w;
      const inStrides = stridesOf(a.inShape);
      // The output columns that read input columns 0..inW-1 in order.
      const lo = Math.max(0, b);
      const hi = Math.min(w, b + inW);
      for (let r = start * a.rowsPerUnit; r < Math.min(end * a.rowsPerUnit, rows); r++) {
        const o = r * w;
        let rem = r;
        let src = 0;
        let inside = true;
        for (let d = last - 1; d >= 0; d--) {
          const c = sourceIndex(rem % a.outShape[d], a.before[d], a.inShape[d], a.mode);
          rem = Math.floor(rem / a.outShape[d]);
          if (c < 0) inside = false;
          else src += c * inStrides[d];
        }
        if (!inside) {
          out.fill(a.value, o, o + w);
          continue;
        }
        if (hi > lo) out.set(x.subarray(src + lo - b, src + hi - b), o + lo);
        for (let j = 0; j < w; j++) {
          if (j >= lo && j < hi) {
            j = hi - 1;
            continue;
          }
          const c = sourceIndex(j, b, inW, a.mode);
          out[o + j] = c < 0 ? a.value : x[src + c];
        }
      }
    },
  },
  webgpu: padWgsl,
};

/** The input index output index `o` reads along one axis, or -1 for the constant. */
export function sourceIndex(o: number, before: number, n: number, mode: PadMode): number {
  const c = o - before;
  if (c >= 0 && c < n) return c;
  if (mode === 'constant') return -1;
  if (mode === 'edge') return c < 0 ? 0 : n - 1;
  return c < 0 ? -c : 2 * (n - 1) - c;
}

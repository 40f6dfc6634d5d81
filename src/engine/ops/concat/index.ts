import { numel, shapeText } from '../../tensor.ts';
import { fmt } from '../common.ts';
import type { OpDef } from '../types.ts';
import { concatWgsl } from './wgsl.ts';

export interface ConcatAttrs {
  axis: number;
  total: number;
  /** Elements of one output row: the output's size along the axis times `inner`. */
  rowLen: number;
  /** Per input, its contiguous slice of every output row: its size along the axis times `inner`. */
  sizes: number[];
}

const CHUNK = 65536;

/**
 * Joins 2+ tensors along `axis` (default 1, channels; negative counts from the end). The output
 * is `outer` rows, each the inputs' slices back to back, so a copy is a handful of block moves.
 */
export const concat: OpDef<ConcatAttrs> = {
  type: 'concat',
  category: 'structure',
  summary: 'Joins tensors along an axis (Inception / ShuffleNet stride-2 join): 0 FLOPs, only bytes moved.',
  arity: [2, Infinity],
  resolve(p, inShapes) {
    const first = inShapes[0];
    const rank = first.length;
    const given = p.int('axis', { default: 1 });
    if (given < -rank || given >= rank) p.fail('axis', `must be in [${-rank}, ${rank - 1}] for ${rank}-D inputs, got ${given}`);
    const axis = given < 0 ? given + rank : given;
    inShapes.forEach((s, i) => {
      if (s.length !== rank) {
        p.error(`concat input ${i} has shape ${shapeText(s)} (${s.length}-D) but input 0 has ${shapeText(first)} (${rank}-D); all inputs need the same rank`, 'inputs');
      }
      for (let d = 0; d < rank; d++) {
        if (d !== axis && s[d] !== first[d]) {
          p.error(
            `concat input ${i} has shape ${shapeText(s)}, which differs from input 0 ${shapeText(first)} at dimension ${d} (${s[d]} vs ${first[d]}); ` +
              `all dimensions except the concat axis ${axis} must match`,
            'inputs',
          );
        }
      }
    });
    const output = [...first];
    output[axis] = inShapes.reduce((s, sh) => s + sh[axis], 0);
    const inner = numel(first.slice(axis + 1));
    const total = numel(output);
    return {
      attrs: { axis, total, rowLen: output[axis] * inner, sizes: inShapes.map((s) => s[axis] * inner) },
      output,
      weights: [],
      counts: {
        macs: 0,
        flops: 0,
        formula: `FLOPs = 0 (copies ${fmt(total)} elements: ${inShapes.map((s) => s[axis]).join(' + ')} = ${output[axis]} along axis ${axis})`,
      },
    };
  },
  cpu: {
    units: ({ attrs }) => Math.ceil(attrs.total / CHUNK),
    run({ inputs, out, attrs: a }, start, end) {
      const hi = Math.min(end * CHUNK, a.total);
      let o = start * CHUNK;
      while (o < hi) {
        const row = Math.floor(o / a.rowLen);
        let q = o - row * a.rowLen;
        let k = 0;
        while (q >= a.sizes[k]) q -= a.sizes[k++];
        const len = Math.min(a.sizes[k] - q, hi - o);
        const src = row * a.sizes[k] + q;
        out.set(inputs[k].subarray(src, src + len), o);
        o += len;
      }
    },
  },
  webgpu: concatWgsl,
};

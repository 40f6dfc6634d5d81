import { numel, shapeText } from '../../tensor.ts';
import type { OpDef } from '../types.ts';
import { movedFormula, moveUnits, MOVE_CHUNK } from '../view.ts';
import { reshapeWgsl } from './wgsl.ts';

/**
 * torch.reshape / ONNX Reshape (allowzero 0), any rank: `shape` lists the output sizes, where 0
 * copies the input's size at the same position and one -1 takes whatever is left. The elements
 * keep their row-major order, so the kernel is a copy (as flatten's).
 */
export const reshape: OpDef<{ size: number }> = {
  type: 'reshape',
  category: 'structure',
  summary: 'Gives the tensor a new shape with the same elements in order (0 copies a size, -1 infers one): 0 FLOPs, no params; copies its input.',
  arity: [1, 1],
  resolve(p, [input]) {
    const shape = p.intList('shape', { min: -1 }) ?? [];
    if (shape.length === 0) p.fail('shape', `is required: the output sizes, e.g. [${input[0]}, -1] (0 copies the input's size there, -1 infers one)`);
    const out = shape.map((d, i) => {
      if (d !== 0) return d;
      if (i >= input.length) p.fail('shape', `${JSON.stringify(shape)} has 0 at position ${i}, but the input ${shapeText(input)} has no dimension ${i} to copy`);
      return input[i];
    });
    const free = out.filter((d) => d === -1).length;
    if (free > 1) p.fail('shape', `${JSON.stringify(shape)} has ${free} sizes of -1; at most one size can be inferred`);
    const total = numel(input);
    if (free === 1) {
      const known = numel(out.filter((d) => d !== -1));
      if (total % known !== 0) p.fail('shape', `${JSON.stringify(shape)}: the ${total} elements of ${shapeText(input)} do not divide into sizes of ${known}; -1 cannot be inferred`);
      out[out.indexOf(-1)] = total / known;
    }
    if (numel(out) !== total) {
      p.fail('shape', `${JSON.stringify(shape)} means ${shapeText(out)}, ${numel(out)} elements, but the input ${shapeText(input)} has ${total}; the sizes must multiply to ${total}`);
    }
    return {
      attrs: { size: total },
      output: out,
      weights: [],
      counts: { macs: 0, flops: 0, formula: movedFormula(total, `${shapeText(input)} -> ${shapeText(out)}, the same elements in order`) },
    };
  },
  cpu: {
    units: ({ attrs }) => moveUnits(attrs.size),
    run({ inputs: [x], out }, start, end) {
      out.set(x.subarray(start * MOVE_CHUNK, Math.min(end * MOVE_CHUNK, x.length)), start * MOVE_CHUNK);
    },
  },
  webgpu: reshapeWgsl,
};

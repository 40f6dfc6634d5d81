import { numel, shapeText } from '../../tensor.ts';
import type { OpDef } from '../types.ts';
import { collapseView, movedFormula, stridesOf, viewKernel, type ViewAttrs } from '../view.ts';
import { transposeWgsl } from './wgsl.ts';

export interface TransposeAttrs extends ViewAttrs {
  perm: number[];
}

/**
 * torch.permute / ONNX Transpose: output dimension d is input dimension perm[d], any rank. A
 * strided copy (ops/view.ts): dimensions that stay neighbours move as one, so NCHW -> NHWC is a
 * 3-D gather of rows and a permutation that keeps the order is a plain copy.
 */
export const transpose: OpDef<TransposeAttrs> = {
  type: 'transpose',
  category: 'structure',
  summary: 'Permutes dimensions (perm, any rank; ONNX Transpose, torch.permute): 0 FLOPs, no params; copies every element once.',
  arity: [1, 1],
  resolve(p, [input]) {
    const rank = input.length;
    const given = p.intList('perm', { length: rank, min: -rank, max: rank - 1 }) ?? p.fail('perm', `is required: a permutation of the ${rank} dimensions of ${shapeText(input)}, e.g. [${[...input.keys()].reverse().join(', ')}]`);
    const perm = given.map((d) => (d < 0 ? d + rank : d));
    if (new Set(perm).size !== rank) p.fail('perm', `${JSON.stringify(given)} is not a permutation of 0..${rank - 1}: each dimension must appear exactly once`);
    const output = perm.map((d) => input[d]);
    const inStrides = stridesOf(input);
    const view = collapseView(output, perm.map((d) => inStrides[d]), 0);
    return {
      attrs: { ...view, perm },
      output,
      weights: [],
      counts: { macs: 0, flops: 0, formula: movedFormula(numel(output), `perm [${perm.join(', ')}]`) },
    };
  },
  cpu: viewKernel,
  webgpu: transposeWgsl,
};

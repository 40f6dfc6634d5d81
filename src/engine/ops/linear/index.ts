import { shapeText } from '../../tensor.ts';
import { fmt, scaleRowsShiftBias } from '../common.ts';
import type { OpDef } from '../types.ts';
import { linearCpu } from './cpu.ts';
import { linearWgsl } from './wgsl.ts';

export interface LinearAttrs {
  n: number;
  inF: number;
  outF: number;
  bias: boolean;
}

/**
 * Fully connected layer, PyTorch nn.Linear: y = x W^T + b with W [out, in].
 * MACs = N * in * out; FLOPs = 2 * MACs + N * out bias adds.
 */
export const linear: OpDef<LinearAttrs> = {
  type: 'linear',
  category: 'linear',
  summary: 'Fully connected layer: in * out weights, MACs = N * in * out; often the bulk of the params (AlexNet fc6).',
  arity: [1, 1],
  resolve(p, [input]) {
    if (input.length !== 2) {
      const hint =
        input.length > 2
          ? `; add a flatten layer before it (it would give [${input[0]}, ${input.slice(1).reduce((a, b) => a * b, 1)}])`
          : '';
      p.error(`linear expects a 2-D input [N, in_features], got ${shapeText(input)}${hint}`, 'inputs');
    }
    const [n, inF] = input;
    const outF = p.int('out_features', { min: 1 });
    const bias = p.bool('bias', true);
    const macs = n * inF * outF;
    const biasFlops = bias ? n * outF : 0;
    return {
      attrs: { n, inF, outF, bias },
      output: [n, outF],
      weights: [
        { name: 'weight', shape: [outF, inF], role: 'param', init: { kind: 'uniform', bound: Math.sqrt(6 / inF) } },
        ...(bias ? [{ name: 'bias', shape: [outF], role: 'param' as const, init: { kind: 'uniform' as const, bound: 1 / Math.sqrt(inF) } }] : []),
      ],
      counts: {
        macs,
        flops: 2 * macs + biasFlops,
        formula: `MACs = N*in*out = ${n}*${inF}*${outF} = ${fmt(macs)}; FLOPs = 2*MACs${bias ? ` + N*out = ${fmt(biasFlops)} bias adds` : ''}`,
      },
    };
  },
  foldScaleShift(attrs, [weight, bias], scale, shift) {
    return { attrs: { ...attrs, bias: true }, weights: scaleRowsShiftBias(weight, attrs.bias ? bias : undefined, scale, shift) };
  },
  cpu: linearCpu,
  webgpu: linearWgsl,
};

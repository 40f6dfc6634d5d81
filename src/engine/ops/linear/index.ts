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
 * Fully connected layer, PyTorch nn.Linear: y = x W^T + b with W [out, in], over the last dim of
 * an input of any rank >= 2 (the leading dims are rows). MACs = rows * in * out; FLOPs = 2 * MACs
 * + rows * out bias adds.
 */
export const linear: OpDef<LinearAttrs> = {
  type: 'linear',
  category: 'linear',
  summary: 'Fully connected layer: in * out weights, MACs = N * in * out; often the bulk of the params (AlexNet fc6).',
  arity: [1, 1],
  resolve(p, [input]) {
    if (input.length < 2) {
      p.error(`linear expects an input [..., in_features] of rank 2 or more, got ${shapeText(input)}`, 'inputs');
    }
    // The leading dims are rows ([N, T, C] tokens, NHWC [N, H, W, C] as ConvNeXt's MLP reads it):
    // the kernels see one [rows, in] matrix.
    const inF = input[input.length - 1];
    const lead = input.slice(0, -1);
    const n = lead.reduce((a, b) => a * b, 1);
    const outF = p.int('out_features', { min: 1 });
    const bias = p.bool('bias', true);
    const macs = n * inF * outF;
    const biasFlops = bias ? n * outF : 0;
    return {
      attrs: { n, inF, outF, bias },
      output: [...lead, outF],
      weights: [
        { name: 'weight', shape: [outF, inF], role: 'param', init: { kind: 'uniform', bound: Math.sqrt(6 / inF) } },
        ...(bias ? [{ name: 'bias', shape: [outF], role: 'param' as const, init: { kind: 'uniform' as const, bound: 1 / Math.sqrt(inF) } }] : []),
      ],
      counts: {
        macs,
        flops: 2 * macs + biasFlops,
        formula: `MACs = ${lead.length > 1 ? 'rows' : 'N'}*in*out = ${n}${lead.length > 1 ? ` (${lead.join('*')})` : ''}*${inF}*${outF} = ${fmt(macs)}; FLOPs = 2*MACs${bias ? ` + ${lead.length > 1 ? 'rows' : 'N'}*out = ${fmt(biasFlops)} bias adds` : ''}`,
      },
    };
  },
  foldScaleShift(attrs, [weight, bias], scale, shift) {
    return { attrs: { ...attrs, bias: true }, weights: scaleRowsShiftBias(weight, attrs.bias ? bias : undefined, scale, shift) };
  },
  cpu: linearCpu,
  webgpu: linearWgsl,
};

import type { Pads, Pair } from '../../params.ts';
import { fmt, nchw, scaleRowsShiftBias, windowOutputs } from '../common.ts';
import type { OpDef } from '../types.ts';
import { conv2dCpu } from './cpu.ts';
import { conv2dWgsl } from './wgsl.ts';

export interface Conv2dAttrs {
  n: number;
  cin: number;
  h: number;
  w: number;
  cout: number;
  kernel: Pair;
  stride: Pair;
  pads: Pads;
  dilation: Pair;
  groups: number;
  bias: boolean;
  ho: number;
  wo: number;
}

/**
 * Standard, 1x1, grouped, depthwise, dilated and k x 1 / 1 x k convolution, PyTorch semantics.
 * Weight [C_out, C_in / groups, kh, kw]; MACs = N * C_out * H_out * W_out * (C_in / groups) * kh * kw.
 */
export const conv2d: OpDef<Conv2dAttrs> = {
  type: 'conv2d',
  category: 'convolution',
  summary:
    'Convolution (standard, 1x1, grouped, depthwise, dilated, k x 1): groups=g divides params and MACs by g; depthwise (groups=C) by C_out.',
  arity: [1, 1],
  resolve(p, [input]) {
    const [n, cin, h, w] = nchw(p, input);
    const cout = p.int('out_channels', { min: 1 });
    const kernel = p.pair('kernel', { min: 1 });
    const stride = p.pair('stride', { default: [1, 1], min: 1 });
    const dilation = p.pair('dilation', { default: [1, 1], min: 1 });
    const groups = p.int('groups', { default: 1, min: 1 });
    const bias = p.bool('bias', true);
    const pads = p.padding('padding', [h, w], kernel, stride, dilation);
    if (cin % groups !== 0) p.fail('groups', `${groups} does not divide the ${cin} input channels; use a divisor of ${cin}`);
    if (cout % groups !== 0) p.fail('out_channels', `${cout} is not divisible by groups ${groups}`);
    const [ho, wo] = windowOutputs(p, h, w, kernel, stride, pads, dilation);
    const cinG = cin / groups;
    const [kh, kw] = kernel;
    const macs = n * cout * ho * wo * cinG * kh * kw;
    const biasFlops = bias ? n * cout * ho * wo : 0;
    return {
      attrs: { n, cin, h, w, cout, kernel, stride, pads, dilation, groups, bias, ho, wo },
      output: [n, cout, ho, wo],
      weights: [
        { name: 'weight', shape: [cout, cinG, kh, kw], role: 'param', init: { kind: 'uniform', bound: Math.sqrt(6 / (cinG * kh * kw)) } },
        ...(bias ? [{ name: 'bias', shape: [cout], role: 'param' as const, init: { kind: 'uniform' as const, bound: 1 / Math.sqrt(cinG * kh * kw) } }] : []),
      ],
      counts: {
        macs,
        flops: 2 * macs + biasFlops,
        formula:
          `MACs = N*C_out*H_out*W_out*(C_in/groups)*kh*kw = ${n}*${cout}*${ho}*${wo}*(${cin}/${groups})*${kh}*${kw} = ${fmt(macs)}; ` +
          `FLOPs = 2*MACs${bias ? ` + ${fmt(biasFlops)} bias adds` : ''}`,
      },
    };
  },
  foldScaleShift(attrs, [weight, bias], scale, shift) {
    return { attrs: { ...attrs, bias: true }, weights: scaleRowsShiftBias(weight, attrs.bias ? bias : undefined, scale, shift) };
  },
  cpu: conv2dCpu,
  webgpu: conv2dWgsl,
};

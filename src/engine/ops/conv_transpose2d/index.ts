import type { Pads, Pair } from '../../params.ts';
import { fmt, nchw } from '../common.ts';
import type { OpDef } from '../types.ts';
import { convTranspose2dCpu } from './cpu.ts';
import { convTranspose2dWgsl } from './wgsl.ts';

export interface ConvTranspose2dAttrs {
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
 * Transposed ("fractionally strided") convolution, PyTorch nn.ConvTranspose2d semantics:
 * H_out = (H_in - 1) * stride - pad_top - pad_bottom + dilation * (k - 1) + output_padding + 1.
 * Weight [C_in, C_out / groups, kh, kw]; MACs = N * C_in * H_in * W_in * (C_out / groups) * kh * kw,
 * every input pixel times every tap, including taps that padding crops away.
 */
export const convTranspose2d: OpDef<ConvTranspose2dAttrs> = {
  type: 'conv_transpose2d',
  category: 'convolution',
  summary:
    'Transposed convolution (learned upsampling): each input pixel scatters a k x k stamp; MACs scale with the input size, not the output.',
  arity: [1, 1],
  resolve(p, [input]) {
    const [n, cin, h, w] = nchw(p, input);
    const cout = p.int('out_channels', { min: 1 });
    const kernel = p.pair('kernel', { min: 1 });
    const stride = p.pair('stride', { default: [1, 1], min: 1 });
    const dilation = p.pair('dilation', { default: [1, 1], min: 1 });
    const outputPadding = p.pair('output_padding', { default: [0, 0], min: 0 });
    const groups = p.int('groups', { default: 1, min: 1 });
    const bias = p.bool('bias', true);
    if (p.has('padding') && p.raw('padding') === 'same') {
      p.fail('padding', `"same" is not supported by conv_transpose2d; give an integer, [ph, pw] or [top, left, bottom, right]`);
    }
    const pads = p.padding('padding', [h, w], kernel, stride, dilation);
    (['height', 'width'] as const).forEach((axis, i) => {
      if (outputPadding[i] >= stride[i] && outputPadding[i] >= dilation[i]) {
        p.fail(
          'output_padding',
          `${outputPadding[i]} (${axis}) must be smaller than the stride ${stride[i]} or the dilation ${dilation[i]} (PyTorch's rule)`,
        );
      }
    });
    if (cin % groups !== 0) p.fail('groups', `${groups} does not divide the ${cin} input channels; use a divisor of ${cin}`);
    if (cout % groups !== 0) p.fail('out_channels', `${cout} is not divisible by groups ${groups}`);
    const [kh, kw] = kernel;
    const outSize = (axis: 'height' | 'width', i: number, size: number) => {
      const o = (size - 1) * stride[i] - pads[i] - pads[i + 2] + dilation[i] * (kernel[i] - 1) + outputPadding[i] + 1;
      if (o <= 0) {
        p.error(
          `output ${axis} would be ${o}: (${size} - 1) * stride ${stride[i]} - padding ${pads[i]}+${pads[i + 2]} + dilation ${dilation[i]} * ` +
            `(kernel ${kernel[i]} - 1) + output_padding ${outputPadding[i]} + 1; use less padding`,
          'padding',
        );
      }
      return o;
    };
    const ho = outSize('height', 0, h);
    const wo = outSize('width', 1, w);
    const coutG = cout / groups;
    const macs = n * cin * h * w * coutG * kh * kw;
    const biasFlops = bias ? n * cout * ho * wo : 0;
    // PyTorch's fan_in for a transposed conv weight [C_in, C_out/g, kh, kw] is dim 1 times the taps.
    const fanIn = coutG * kh * kw;
    return {
      attrs: { n, cin, h, w, cout, kernel, stride, pads, dilation, groups, bias, ho, wo },
      output: [n, cout, ho, wo],
      weights: [
        { name: 'weight', shape: [cin, coutG, kh, kw], role: 'param', init: { kind: 'uniform', bound: Math.sqrt(6 / fanIn) } },
        ...(bias ? [{ name: 'bias', shape: [cout], role: 'param' as const, init: { kind: 'uniform' as const, bound: 1 / Math.sqrt(fanIn) } }] : []),
      ],
      counts: {
        macs,
        flops: 2 * macs + biasFlops,
        formula:
          `MACs = N*C_in*H_in*W_in*(C_out/groups)*kh*kw = ${n}*${cin}*${h}*${w}*(${cout}/${groups})*${kh}*${kw} = ${fmt(macs)}; ` +
          `FLOPs = 2*MACs${bias ? ` + ${fmt(biasFlops)} bias adds` : ''}`,
      },
    };
  },
  cpu: convTranspose2dCpu,
  webgpu: convTranspose2dWgsl,
};

import { blockInput, keepSizePadding } from './common.ts';
import type { BlockDef } from './types.ts';

/**
 * Keras SeparableConv2D as Xception uses it (Chollet 2017): a k x k depthwise convolution (one
 * filter per input channel) straight into a 1x1 pointwise convolution, no BN or activation
 * between. Params C_in*k*k + C_in*C_out instead of C_in*C_out*k*k. No bias by default (Xception
 * follows every separable conv with BN); a bias, when asked for, sits on the pointwise output as
 * in Keras. Padding defaults to keeping the spatial size ("same").
 */
export const separableConv: BlockDef = {
  type: 'separable_conv',
  summary: 'Xception separable conv: k x k depthwise then 1x1 pointwise, no BN between; params C_in*k*k + C_in*C_out instead of C_in*C_out*k*k.',
  arity: [1, 1],
  expand(p, b) {
    const [, cin] = blockInput(p, b);
    const out = p.int('out_channels', { min: 1 });
    const kernel = p.pair('kernel', { default: [3, 3], min: 1 });
    const stride = p.pair('stride', { default: [1, 1], min: 1 });
    const dilation = p.pair('dilation', { default: [1, 1], min: 1 });
    const padding = p.raw('padding') ?? keepSizePadding(kernel, dilation);
    const bias = p.bool('bias', false);
    b.op('depthwise', 'conv2d', { out_channels: cin, kernel, stride, padding, dilation, groups: cin, bias: false });
    b.op('pointwise', 'conv2d', { out_channels: out, kernel: 1, bias });
  },
};

import { blockInput, optionalInt } from './common.ts';
import type { BlockDef } from './types.ts';

/**
 * Spatially separable convolution (the k x k -> k x 1, 1 x k factorisation of Inception v3,
 * Szegedy et al. 2016): a k x 1 convolution to mid_channels then a 1 x k convolution to
 * out_channels, padded to keep the size. With mid = out it costs 2/k of the k x k conv. The
 * stride, if any, is taken by each factor along its own axis.
 */
export const spatialSeparableConv: BlockDef = {
  type: 'spatial_separable_conv',
  summary: 'Spatially separable conv: k x 1 then 1 x k (size kept); params and MACs ~2/k of a k x k conv at the same width.',
  arity: [1, 1],
  expand(p, b) {
    blockInput(p, b);
    const out = p.int('out_channels', { min: 1 });
    const k = p.int('kernel', { default: 3, min: 1 });
    const stride = p.int('stride', { default: 1, min: 1 });
    const mid = optionalInt(p, 'mid_channels', { min: 1 }) ?? out;
    const bias = p.bool('bias', true);
    if (k % 2 === 0) p.fail('kernel', `${k} must be odd so that the k x 1 and 1 x k convolutions keep the size with symmetric padding`);
    const pad = (k - 1) / 2;
    b.op(`conv_${k}x1`, 'conv2d', { out_channels: mid, kernel: [k, 1], stride: [stride, 1], padding: [pad, 0], bias });
    b.op(`conv_1x${k}`, 'conv2d', { out_channels: out, kernel: [1, k], stride: [1, stride], padding: [0, pad], bias });
  },
};

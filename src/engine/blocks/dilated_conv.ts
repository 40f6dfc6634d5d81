import { blockInput, checkGroups, keepSizePadding } from './common.ts';
import type { BlockDef } from './types.ts';

/**
 * Dilated (atrous) convolution (Yu & Koltun 2016): a k x k kernel with gaps of dilation - 1,
 * padded so the output keeps the input's size (ceil(in / stride) with a stride). The receptive
 * field grows to dilation * (k - 1) + 1 at the params and MACs of the plain k x k conv.
 */
export const dilatedConv: BlockDef = {
  type: 'dilated_conv',
  summary: 'Dilated conv, size-keeping padding: receptive field d*(k-1)+1 for the params and MACs of a k x k conv.',
  arity: [1, 1],
  expand(p, b) {
    const [, cin] = blockInput(p, b);
    const out = p.int('out_channels', { min: 1 });
    const kernel = p.pair('kernel', { default: [3, 3], min: 1 });
    const dilation = p.pair('dilation', { default: [2, 2], min: 1 });
    const stride = p.pair('stride', { default: [1, 1], min: 1 });
    const groups = p.int('groups', { default: 1, min: 1 });
    const bias = p.bool('bias', true);
    checkGroups(p, cin, out, groups);
    b.op('conv', 'conv2d', { out_channels: out, kernel, stride, dilation, padding: keepSizePadding(kernel, dilation), groups, bias });
  },
};

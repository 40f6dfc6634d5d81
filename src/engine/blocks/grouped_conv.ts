import { blockInput, checkGroups } from './common.ts';
import type { BlockDef } from './types.ts';

/**
 * AlexNet's two-column convolution (Krizhevsky et al. 2012): the paper split conv2, conv4 and
 * conv5 across two GPUs, each half seeing only its own half of the input channels — exactly a
 * grouped convolution with groups = 2, followed by ReLU.
 */
export const groupedConv: BlockDef = {
  type: 'grouped_conv',
  summary: 'AlexNet two-column convolution: conv2d with groups (default 2) + ReLU; params and MACs are 1/groups of the dense conv.',
  arity: [1, 1],
  expand(p, b) {
    const [, cin] = blockInput(p, b);
    const out = p.int('out_channels', { min: 1 });
    const kernel = p.pair('kernel', { min: 1 });
    const stride = p.pair('stride', { default: [1, 1], min: 1 });
    const padding = p.raw('padding');
    const groups = p.int('groups', { default: 2, min: 1 });
    const bias = p.bool('bias', true);
    const relu = p.bool('relu', true);
    checkGroups(p, cin, out, groups);
    b.op('conv', 'conv2d', { out_channels: out, kernel, stride, groups, bias, ...(padding !== undefined ? { padding } : {}) });
    if (relu) b.op('relu', 'relu');
  },
};

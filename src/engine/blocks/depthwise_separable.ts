import { blockInput, keepSizePadding } from './common.ts';
import type { BlockDef } from './types.ts';

/**
 * MobileNet v1's depthwise separable layer (Howard et al. 2017, Fig. 3): 3x3 depthwise (with the
 * stride), BN, ReLU, 1x1 pointwise, BN, ReLU. Convolutions have no bias (BN follows them).
 */
export const depthwiseSeparable: BlockDef = {
  type: 'depthwise_separable',
  summary: 'MobileNet depthwise separable: 3x3 depthwise (stride), BN, ReLU, 1x1 pointwise, BN, ReLU; ~1/C_out + 1/9 of a 3x3 conv\'s MACs.',
  arity: [1, 1],
  expand(p, b) {
    const [, cin] = blockInput(p, b);
    const out = p.int('out_channels', { min: 1 });
    const kernel = p.pair('kernel', { default: [3, 3], min: 1 });
    const stride = p.pair('stride', { default: [1, 1], min: 1 });
    const activation = p.oneOf('activation', ['relu', 'relu6'] as const, 'relu');
    b.op('dw', 'conv2d', { out_channels: cin, kernel, stride, padding: keepSizePadding(kernel, [1, 1]), groups: cin, bias: false });
    b.op('dw_bn', 'batch_norm');
    b.op('dw_relu', activation);
    b.op('pw', 'conv2d', { out_channels: out, kernel: 1, bias: false });
    b.op('pw_bn', 'batch_norm');
    b.op('pw_relu', activation);
  },
};

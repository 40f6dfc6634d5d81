import { blockInput, checkGroups, keepSizePadding } from './common.ts';
import type { BlockDef } from './types.ts';

/**
 * Deformable convolution: DCN v1 (Dai et al. 2017) learns 2 offsets (dy, dx) per kernel tap and
 * offset group with a plain convolution of the same geometry as the main one; DCN v2 (Zhu et al.
 * 2019, `modulated: true`) adds one sigmoid-gated mask value per tap and offset group. The
 * offset and mask convolutions carry a bias, as in torchvision/mmcv. Padding defaults to keeping
 * the size, as deformable layers replace 3x3 convs in place.
 */
export const deformableConv: BlockDef = {
  type: 'deformable_conv',
  summary:
    'Deformable conv (v1; v2 with modulated: true): offset conv (2*G*k*k channels) [+ mask conv, sigmoid] then deform_conv2d with bilinear sampling.',
  arity: [1, 1],
  expand(p, b) {
    const [, cin] = blockInput(p, b);
    const out = p.int('out_channels', { min: 1 });
    const kernel = p.pair('kernel', { default: [3, 3], min: 1 });
    const stride = p.pair('stride', { default: [1, 1], min: 1 });
    const dilation = p.pair('dilation', { default: [1, 1], min: 1 });
    const padding = p.raw('padding') ?? keepSizePadding(kernel, dilation);
    const groups = p.int('groups', { default: 1, min: 1 });
    const offsetGroups = p.int('offset_groups', { default: 1, min: 1 });
    const bias = p.bool('bias', true);
    const modulated = p.bool('modulated', false);
    checkGroups(p, cin, out, groups);
    if (cin % offsetGroups !== 0) p.fail('offset_groups', `${offsetGroups} does not divide the ${cin} input channels; use a divisor of ${cin}`);
    const taps = offsetGroups * kernel[0] * kernel[1];
    const geometry = { kernel, stride, padding, dilation };
    const x = b.inputs[0];
    const offset = b.op('offset', 'conv2d', { out_channels: 2 * taps, ...geometry, bias: true }, [x]);
    const inputs = [x, offset];
    if (modulated) {
      b.op('mask', 'conv2d', { out_channels: taps, ...geometry, bias: true }, [x]);
      inputs.push(b.op('mask_sigmoid', 'sigmoid'));
    }
    b.op('deform', 'deform_conv2d', { out_channels: out, ...geometry, groups, offset_groups: offsetGroups, bias }, inputs);
  },
};

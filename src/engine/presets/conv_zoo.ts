import { SpecBuilder } from './builder.ts';
import type { Preset } from './types.ts';

/**
 * Every convolution kind side by side: each branch reads the same [1, 64, 56, 56] input and
 * produces 64 channels at 56x56, without bias, so the report's rows compare params, MACs and
 * time like for like. One concat joins them so the graph has a single output.
 */
export const convZoo: Preset = {
  id: 'conv_zoo',
  title: 'Convolution zoo (every kind at 64 -> 64 channels, 56x56)',
  description:
    'Standard 3x3, 1x1, grouped (g = 4), depthwise 3x3, Xception separable, MobileNet depthwise separable (with BN/ReLU), dilated (d = 2), ' +
    'spatially separable (3x1 + 1x3), transposed (3x3 stride-2 conv down, 4x4 stride-2 transposed conv back up) and deformable v1 / v2, ' +
    'each from the same [1, 64, 56, 56] input to [1, 64, 56, 56], concatenated at the end.',
  source: 'Convscope: a comparison bench; each branch follows the block or op it names',
  build() {
    const s = new SpecBuilder();
    const c = { out_channels: 64, bias: false };
    const x = ['input'];
    const branches = [
      s.op('standard', 'conv2d', { ...c, kernel: 3, padding: 1 }, x),
      s.op('pointwise', 'conv2d', { ...c, kernel: 1 }, x),
      s.op('grouped', 'conv2d', { ...c, kernel: 3, padding: 1, groups: 4 }, x),
      s.op('depthwise', 'conv2d', { ...c, kernel: 3, padding: 1, groups: 64 }, x),
      s.block('separable', 'separable_conv', { ...c, kernel: 3 }, x),
      s.block('depthwise_separable', 'depthwise_separable', { out_channels: 64 }, x),
      s.block('dilated', 'dilated_conv', { ...c, kernel: 3, dilation: 2 }, x),
      s.block('spatial_separable', 'spatial_separable_conv', { ...c, kernel: 3 }, x),
      s.op('transposed', 'conv_transpose2d', { ...c, kernel: 4, stride: 2, padding: 1 }, [
        s.op('transposed_down', 'conv2d', { ...c, kernel: 3, stride: 2, padding: 1 }, x),
      ]),
      s.block('deformable_v1', 'deformable_conv', { ...c, kernel: 3 }, x),
      s.block('deformable_v2', 'deformable_conv', { ...c, kernel: 3, modulated: true }, x),
    ];
    s.op('all', 'concat', { axis: 1 }, branches);
    return s.build('Convolution zoo', [1, 64, 56, 56]);
  },
};

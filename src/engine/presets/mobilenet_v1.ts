import { SpecBuilder } from './builder.ts';
import type { Preset } from './types.ts';

/** Table 1 of the paper: (out_channels, stride) of the 13 depthwise separable layers. */
const LAYERS: [number, number][] = [
  [64, 1],
  [128, 2],
  [128, 1],
  [256, 2],
  [256, 1],
  [512, 2],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [1024, 2],
  [1024, 1],
];

export const mobilenetV1: Preset = {
  id: 'mobilenet_v1',
  title: 'MobileNet v1 (1.0, 224x224)',
  description:
    'Howard et al. 2017, width multiplier 1.0: a 3x3 stride-2 conv then 13 depthwise separable layers (dw 3x3, BN, ReLU, pw 1x1, BN, ReLU), ' +
    'global average pool, 1000-way FC. 4,231,976 params including BN gamma/beta (paper: 4.2M), 568,740,352 MACs (paper: 569M mult-adds).',
  source: 'Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications", arXiv:1704.04861, Tables 1 and 8',
  build() {
    const s = new SpecBuilder();
    s.op('conv1', 'conv2d', { out_channels: 32, kernel: 3, stride: 2, padding: 1, bias: false });
    s.op('conv1_bn', 'batch_norm');
    s.op('conv1_relu', 'relu');
    LAYERS.forEach(([out, stride], i) => s.block(`ds${i + 1}`, 'depthwise_separable', { out_channels: out, stride }));
    s.op('avgpool', 'global_avg_pool');
    s.op('flatten', 'flatten', { start_dim: 1 });
    s.op('fc', 'linear', { out_features: 1000 });
    s.op('prob', 'softmax', { axis: 1 });
    return s.build('MobileNet v1 1.0', [1, 3, 224, 224]);
  },
};

import { SpecBuilder } from './builder.ts';
import type { Preset } from './types.ts';

const LRN = { size: 5, alpha: 1e-4, beta: 0.75, k: 2 };

/**
 * AlexNet as published: 227x227 input (the paper's "224" does not give its 55x55 conv1 output),
 * conv2/4/5 split into two columns (groups = 2, one per GPU), conv3 and the FC layers dense,
 * LRN after the ReLUs of conv1 and conv2, overlapping 3x3 stride-2 max pooling, dropout in fc6
 * and fc7, 1000-way softmax.
 */
export const alexnet: Preset = {
  id: 'alexnet',
  title: 'AlexNet (original, two columns, 227x227)',
  description:
    'Krizhevsky et al. 2012 with the paper\'s two-GPU split as grouped convolutions (groups 2 in conv2, conv4, conv5), ' +
    'LRN (size 5, alpha 1e-4, beta 0.75, k 2) after conv1 and conv2, 227x227 input. 60,965,224 params, 724,406,816 MACs.',
  source: 'Krizhevsky, Sutskever, Hinton, "ImageNet Classification with Deep Convolutional Neural Networks", NIPS 2012, Fig. 2 and Sec. 3',
  build() {
    const s = new SpecBuilder();
    s.op('conv1', 'conv2d', { out_channels: 96, kernel: 11, stride: 4 });
    s.op('relu1', 'relu');
    s.op('norm1', 'lrn', LRN);
    s.op('pool1', 'max_pool2d', { kernel: 3, stride: 2 });
    s.block('conv2', 'grouped_conv', { out_channels: 256, kernel: 5, padding: 2, groups: 2 });
    s.op('norm2', 'lrn', LRN);
    s.op('pool2', 'max_pool2d', { kernel: 3, stride: 2 });
    s.op('conv3', 'conv2d', { out_channels: 384, kernel: 3, padding: 1 });
    s.op('relu3', 'relu');
    s.block('conv4', 'grouped_conv', { out_channels: 384, kernel: 3, padding: 1, groups: 2 });
    s.block('conv5', 'grouped_conv', { out_channels: 256, kernel: 3, padding: 1, groups: 2 });
    s.op('pool5', 'max_pool2d', { kernel: 3, stride: 2 });
    s.op('flatten', 'flatten', { start_dim: 1 });
    s.op('fc6', 'linear', { out_features: 4096 });
    s.op('relu6', 'relu');
    s.op('drop6', 'dropout', { p: 0.5 });
    s.op('fc7', 'linear', { out_features: 4096 });
    s.op('relu7', 'relu');
    s.op('drop7', 'dropout', { p: 0.5 });
    s.op('fc8', 'linear', { out_features: 1000 });
    s.op('prob', 'softmax', { axis: 1 });
    return s.build('AlexNet (original, 227x227)', [1, 3, 227, 227]);
  },
};

import { SpecBuilder } from './builder.ts';
import type { Preset } from './types.ts';

/**
 * torchvision.models.alexnet: the single-tower variant of "One weird trick" (Krizhevsky 2014),
 * 64/192/384/256/256 filters, no LRN, at 224x224. torchvision's AdaptiveAvgPool2d((6, 6)) is the
 * identity at this input size (pool5 already gives 6x6), so it is left out.
 */
export const alexnetTorchvision: Preset = {
  id: 'alexnet_torchvision',
  title: 'AlexNet (torchvision, one tower, 224x224)',
  description:
    'torchvision.models.alexnet: one tower, 64-192-384-256-256 convolutions, no LRN, dropout before fc6 and fc7, 224x224 input ' +
    '(its adaptive 6x6 average pool is the identity at 224 and is omitted). 61,100,840 params, 714,188,480 MACs.',
  source: 'torchvision AlexNet_Weights.IMAGENET1K_V1 metadata (num_params 61,100,840; 0.714 GFLOPS = GMACs); Krizhevsky 2014, arXiv:1404.5997',
  build() {
    const s = new SpecBuilder();
    s.op('conv1', 'conv2d', { out_channels: 64, kernel: 11, stride: 4, padding: 2 });
    s.op('relu1', 'relu');
    s.op('pool1', 'max_pool2d', { kernel: 3, stride: 2 });
    s.op('conv2', 'conv2d', { out_channels: 192, kernel: 5, padding: 2 });
    s.op('relu2', 'relu');
    s.op('pool2', 'max_pool2d', { kernel: 3, stride: 2 });
    s.op('conv3', 'conv2d', { out_channels: 384, kernel: 3, padding: 1 });
    s.op('relu3', 'relu');
    s.op('conv4', 'conv2d', { out_channels: 256, kernel: 3, padding: 1 });
    s.op('relu4', 'relu');
    s.op('conv5', 'conv2d', { out_channels: 256, kernel: 3, padding: 1 });
    s.op('relu5', 'relu');
    s.op('pool5', 'max_pool2d', { kernel: 3, stride: 2 });
    s.op('flatten', 'flatten', { start_dim: 1 });
    s.op('drop6', 'dropout', { p: 0.5 });
    s.op('fc6', 'linear', { out_features: 4096 });
    s.op('relu6', 'relu');
    s.op('drop7', 'dropout', { p: 0.5 });
    s.op('fc7', 'linear', { out_features: 4096 });
    s.op('relu7', 'relu');
    s.op('fc8', 'linear', { out_features: 1000 });
    return s.build('AlexNet (torchvision)', [1, 3, 224, 224]);
  },
};

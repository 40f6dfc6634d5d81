import { SpecBuilder } from './builder.ts';
import type { Preset } from './types.ts';
import type { ModelSpec } from '../../shared/spec.ts';

const STAGES = [
  { blocks: 3, out: 256, stride: 1 },
  { blocks: 4, out: 512, stride: 2 },
  { blocks: 6, out: 1024, stride: 2 },
  { blocks: 3, out: 2048, stride: 2 },
];

/**
 * ResNet-50 in torchvision's layout (v1.5: the stride-2 of stages 3-5 sits in the bottleneck's
 * 3x3, which costs 4.09 GMACs against the paper's v1 3.86), optionally with SE (r = 16) in
 * every bottleneck. Layer ids follow torchvision's module names (layer3.2 is stage 4, block 3).
 */
function buildResnet50(withSe: boolean): ModelSpec {
  const s = new SpecBuilder();
  s.op('conv1', 'conv2d', { out_channels: 64, kernel: 7, stride: 2, padding: 3, bias: false });
  s.op('bn1', 'batch_norm');
  s.op('relu', 'relu');
  s.op('maxpool', 'max_pool2d', { kernel: 3, stride: 2, padding: 1 });
  STAGES.forEach((stage, i) => {
    for (let j = 0; j < stage.blocks; j++) {
      const params = { out_channels: stage.out, stride: j === 0 ? stage.stride : 1, ...(withSe ? { reduction: 16 } : {}) };
      s.block(`layer${i + 1}.${j}`, withSe ? 'se_resnet_bottleneck' : 'resnet_bottleneck', params);
    }
  });
  s.op('avgpool', 'global_avg_pool');
  s.op('flatten', 'flatten', { start_dim: 1 });
  s.op('fc', 'linear', { out_features: 1000 });
  return s.build(withSe ? 'SE-ResNet-50' : 'ResNet-50 (torchvision v1.5)', [1, 3, 224, 224]);
}

export const resnet50: Preset = {
  id: 'resnet50',
  title: 'ResNet-50 (torchvision v1.5, 224x224)',
  description:
    'He et al. 2016 bottleneck ResNet-50 in the torchvision layout ("v1.5": stride in the 3x3 convolution of each down-sampling block). ' +
    '25,557,032 params, 4,089,184,256 MACs (the paper\'s v1, stride in the first 1x1, has 3,857,973,248).',
  source: 'torchvision ResNet50_Weights.IMAGENET1K_V1 metadata (num_params 25,557,032; 4.089 GFLOPS = GMACs); He et al., CVPR 2016, Table 1',
  build: () => buildResnet50(false),
};

export const seResnet50: Preset = {
  id: 'se_resnet50',
  title: 'SE-ResNet-50 (r = 16, 224x224)',
  description:
    'ResNet-50 (torchvision v1.5 layout) with Squeeze-and-Excitation (reduction 16, FCs with bias) on every bottleneck\'s residual branch ' +
    'before the addition. 28,088,024 params (paper: 28.1M); the SE FCs add 2,530,992 params and 2,514,944 MACs to resnet50.',
  source: 'Hu, Shen, Sun, "Squeeze-and-Excitation Networks", CVPR 2018, Fig. 3 and Tables 1-2',
  build: () => buildResnet50(true),
};

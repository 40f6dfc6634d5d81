import { expandBottleneck } from './resnet_bottleneck.ts';
import type { BlockDef } from './types.ts';

export const seResnetBottleneck: BlockDef = {
  type: 'se_resnet_bottleneck',
  summary:
    'SE-ResNet bottleneck (Hu et al. 2018): the torchvision v1.5 bottleneck with Squeeze-and-Excitation (reduction r, default 16) on the branch before the add.',
  arity: [1, 1],
  expand: (p, b) => expandBottleneck(p, b, true),
};

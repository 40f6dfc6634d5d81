import { SpecBuilder } from './builder.ts';
import type { Preset } from './types.ts';

/** Table 1 of the paper, 1x: output channels of stages 2-4 for each number of groups. */
const WIDTHS: Record<number, [number, number, number]> = {
  1: [144, 288, 576],
  2: [200, 400, 800],
  3: [240, 480, 960],
  4: [272, 544, 1088],
  8: [384, 768, 1536],
};
const REPEATS = [4, 8, 4];
/** Table 2's complexity of ShuffleNet 1x, in MFLOPs (= mult-adds). */
const PAPER_MFLOPS: Record<number, number> = { 1: 143, 2: 140, 3: 137, 4: 133, 8: 137 };

function shufflenetV1(groups: number): Preset {
  const widths = WIDTHS[groups];
  return {
    id: `shufflenet_v1_g${groups}`,
    title: `ShuffleNet v1 1x, g = ${groups} (224x224)`,
    description:
      `Zhang et al. 2017, 1x, ${groups} group${groups > 1 ? 's' : ''}: 24-channel 3x3 stride-2 conv, 3x3 stride-2 max pool, ` +
      `stages of ${widths.join('/')} channels with 4/8/4 units (the first of each at stride 2; stage 2's first 1x1 not grouped), ` +
      `global average pool, 1000-way FC without bias as in Megvii's reference code. ` +
      `Paper: ${PAPER_MFLOPS[groups]} MFLOPs (mult-adds), which the conv MACs here match when the final FC is left out, as Table 2 evidently does.`,
    source:
      'Zhang, Zhou, Lin, Sun, "ShuffleNet: An Extremely Efficient Convolutional Neural Network for Mobile Devices", CVPR 2018, Tables 1-2; ' +
      'Megvii ShuffleNet-Series reference code (ShuffleNetV1)',
    build() {
      const s = new SpecBuilder();
      s.op('conv1', 'conv2d', { out_channels: 24, kernel: 3, stride: 2, padding: 1, bias: false });
      s.op('conv1_bn', 'batch_norm');
      s.op('conv1_relu', 'relu');
      s.op('maxpool', 'max_pool2d', { kernel: 3, stride: 2, padding: 1 });
      widths.forEach((out, i) => {
        for (let j = 0; j < REPEATS[i]; j++) {
          const first = j === 0;
          s.block(`stage${i + 2}.${j}`, 'shufflenet_unit', {
            out_channels: out,
            groups,
            stride: first ? 2 : 1,
            ...(i === 0 && first ? { first_group: false } : {}),
          });
        }
      });
      s.op('avgpool', 'global_avg_pool');
      s.op('flatten', 'flatten', { start_dim: 1 });
      s.op('fc', 'linear', { out_features: 1000, bias: false });
      return s.build(`ShuffleNet v1 1x g${groups}`, [1, 3, 224, 224]);
    },
  };
}

export const shufflenetV1Presets: Preset[] = [1, 2, 3, 4, 8].map(shufflenetV1);

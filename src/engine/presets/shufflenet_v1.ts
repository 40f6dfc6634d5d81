import { SpecBuilder } from './builder.ts';
import { familyValues } from './family.ts';
import type { Preset, PresetFamily } from './types.ts';

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

const SOURCE =
  'Zhang, Zhou, Lin, Sun, "ShuffleNet: An Extremely Efficient Convolutional Neural Network for Mobile Devices", CVPR 2018, Tables 1-2; ' +
  'Megvii ShuffleNet-Series reference code (ShuffleNetV1)';

/**
 * "ShuffleNet s x" scales Table 1's widths by s. Each width is rounded to a multiple of 4 * groups,
 * the smallest step that keeps every unit valid (a bottleneck of a quarter of the width, split into
 * `groups`); Table 1's own widths are such multiples, so s = 1 gives them exactly. The 24-channel
 * stem is kept at every scale.
 */
function stageWidths(groups: number, scale: number): number[] {
  const step = 4 * groups;
  return WIDTHS[groups].map((w) => Math.max(step, Math.round((w * scale) / step) * step));
}

function scaleText(scale: number): string {
  return `${scale}x`;
}

/** ShuffleNet v1 with its two knobs: what a sweep over groups (Table 2) or width varies. */
export const shufflenetV1Family: PresetFamily = {
  id: 'shufflenet_v1',
  title: 'ShuffleNet v1 (groups, width multiplier; 224x224)',
  description:
    'Zhang et al. 2017 with groups g in {1, 2, 3, 4, 8} at Table 1\'s widths for that g, scaled by the width multiplier s ' +
    '(each stage width rounded to a multiple of 4g; the 24-channel stem kept). shufflenet_v1_g<g> is s = 1.',
  source: SOURCE,
  parameters: [
    { name: 'groups', help: 'groups of the 1x1 convolutions (Table 1 has widths for 1, 2, 3, 4 and 8)', default: 3, choices: [1, 2, 3, 4, 8] },
    { name: 'scale', help: 'width multiplier s ("ShuffleNet s x"): stage widths times s', default: 1, min: 0, exclusiveMin: true },
  ],
  build(given) {
    const { groups, scale } = familyValues(this, given);
    const widths = stageWidths(groups, scale);
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
    return s.build(`ShuffleNet v1 ${scaleText(scale)} g${groups}`, [1, 3, 224, 224]);
  },
};

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
    source: SOURCE,
    build: () => shufflenetV1Family.build({ groups, scale: 1 }),
  };
}

export const shufflenetV1Presets: Preset[] = [1, 2, 3, 4, 8].map(shufflenetV1);

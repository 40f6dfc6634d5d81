/** The preset table: whole architectures by id, each checked against its published figures in test/presets.test.ts. */
import { alexnet } from './alexnet.ts';
import { alexnetTorchvision } from './alexnet_torchvision.ts';
import { convZoo } from './conv_zoo.ts';
import { mobilenetV1 } from './mobilenet_v1.ts';
import { resnet50, seResnet50 } from './resnet50.ts';
import { shufflenetV1Family, shufflenetV1Presets } from './shufflenet_v1.ts';
import type { Preset, PresetFamily } from './types.ts';
import { xception } from './xception.ts';

export type { Preset, PresetFamily, PresetParameter } from './types.ts';

const ALL: Preset[] = [alexnet, alexnetTorchvision, ...shufflenetV1Presets, xception, resnet50, seResnet50, mobilenetV1, convZoo];

export const PRESETS: ReadonlyMap<string, Preset> = new Map(ALL.map((p) => [p.id, p]));

/** Parameterised presets (what a sweep varies by `preset_param`), by id; ids apart from PRESETS'. */
export const PRESET_FAMILIES: ReadonlyMap<string, PresetFamily> = new Map([shufflenetV1Family].map((f) => [f.id, f]));

export function getPreset(id: string): Preset | undefined {
  return PRESETS.get(id);
}

export function getPresetFamily(id: string): PresetFamily | undefined {
  return PRESET_FAMILIES.get(id);
}

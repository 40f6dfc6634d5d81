import type { ModelSpec } from '../../shared/spec.ts';

/** A whole architecture a user can open, checked in tests against its published figures. */
export interface Preset {
  id: string;
  title: string;
  /** What the preset contains and which convention it follows where papers and libraries differ. */
  description: string;
  /** Where its layout and reference numbers come from. */
  source: string;
  build(): ModelSpec;
}

/** One knob of a parameterised preset (numbers only: they are what a sweep varies). */
export interface PresetParameter {
  name: string;
  help: string;
  default: number;
  /** The values the architecture defines (ShuffleNet's groups have Table 1 widths for these only). */
  choices?: number[];
  /** Otherwise a lower bound, exclusive when `exclusiveMin`. */
  min?: number;
  exclusiveMin?: boolean;
}

/**
 * An architecture with parameters (ShuffleNet v1: groups and the width multiplier): what a sweep
 * varies without the user editing every layer. Fixed presets such as shufflenet_v1_g3 are its
 * builds at given values. build() throws a SpecError naming the parameter for a value outside it.
 */
export interface PresetFamily {
  id: string;
  title: string;
  description: string;
  source: string;
  parameters: PresetParameter[];
  build(values?: Record<string, number>): ModelSpec;
}

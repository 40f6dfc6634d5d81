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

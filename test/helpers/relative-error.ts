import { expect } from 'vitest';

/** max |got - want| / max |want|: how far a whole output is from a reference, scaled by its largest magnitude. */
export function relativeError(got: Float32Array, want: Float32Array): number {
  expect(got.length).toBe(want.length);
  let scale = 1e-30;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / scale);
  return worst;
}

/**
 * Outputs checked against each other, so that a fast wrong answer cannot win: every runner's
 * output of a case is compared with every other's, the output that agrees with the most others
 * becomes the anchor (ties go to the engine's TypeScript reference kernels), and a runner whose
 * output does not agree with the anchor is marked wrong and left out of every ratio.
 *
 * The error of `a` against `b` is max|a - b| over the largest magnitude of either output: float32
 * summation in different orders moves results by ~1e-6 of their scale (more through a deep
 * network), while a wrong tap, padding or bias moves them by 1e-2 or more.
 */

export interface CheckResult {
  ok: boolean;
  /** Scale-relative max error against the anchor (0 for the anchor itself); null when the lengths differ. */
  maxErr: number | null;
  /** The runner whose output was the anchor. */
  against: string;
}

export function scaledError(a: Float32Array, b: Float32Array): number | null {
  if (a.length !== b.length) return null;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    // NaN compares false everywhere: make it the worst error instead of invisible.
    if (!(d <= diff)) diff = Number.isNaN(d) ? Infinity : d;
    const m = Math.max(Math.abs(a[i]), Math.abs(b[i]));
    if (m > scale) scale = m;
  }
  if (diff === 0) return 0;
  return diff / Math.max(scale, 1e-30);
}

export function crossCheck(outputs: ReadonlyMap<string, Float32Array>, tolerance: number, prefer?: string): Map<string, CheckResult> {
  const names = [...outputs.keys()];
  const agrees = (a: string, b: string) => {
    const e = scaledError(outputs.get(a)!, outputs.get(b)!);
    return e !== null && e <= tolerance;
  };
  let anchor = names[0];
  let best = -1;
  for (const a of names) {
    const votes = names.filter((b) => b !== a && agrees(a, b)).length;
    if (votes > best || (votes === best && a === prefer)) {
      best = votes;
      anchor = a;
    }
  }
  const result = new Map<string, CheckResult>();
  const ref = outputs.get(anchor)!;
  for (const name of names) {
    const maxErr = name === anchor ? 0 : scaledError(outputs.get(name)!, ref);
    result.set(name, { ok: maxErr !== null && maxErr <= tolerance, maxErr, against: anchor });
  }
  return result;
}

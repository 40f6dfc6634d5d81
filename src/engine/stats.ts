import type { TimeStats } from '../shared/report.ts';

/** Linear-interpolated percentile (q in [0, 1]) of unsorted samples. */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) throw new Error('percentile of no samples');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`percentile: q must be in [0, 1], got ${q}`);
  const s = [...samples].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export function timeStats(samples: readonly number[]): TimeStats {
  return { median: percentile(samples, 0.5), p10: percentile(samples, 0.1), p90: percentile(samples, 0.9) };
}

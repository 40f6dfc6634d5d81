/** The result of `convscope bench` (convscope.bench/v1): what `--json` prints and the Markdown is rendered from. */
import type { TimeStats } from '../../shared/report.ts';

export const BENCH_SCHEMA = 'convscope.bench/v1';

export type CaseStatus = 'ok' | 'wrong' | 'unsupported' | 'error' | 'unavailable';

export interface CaseResult {
  /** `wrong`: ran, but its output disagrees with the others (see compare.ts); never used in a ratio. */
  status: CaseStatus;
  reason?: string;
  time_ms?: TimeStats;
  /** (p90 - p10) / median. */
  spread?: number;
  runs?: number;
  /** The first run, which pays one-off costs (compilation, allocation); not in the statistics. */
  first_run_ms?: number;
  gflops_per_s?: number;
  gb_per_s?: number;
  /** Median GFLOP/s over the FMA peak of the benchmark's threads, when a peak is known. */
  of_fma_peak?: number | null;
  check?: { max_err: number | null; tolerance: number; against: string };
}

export interface CaseReport {
  id: string;
  title: string;
  group: 'ops' | 'models';
  bound: 'compute' | 'memory';
  macs: number;
  flops: number;
  /** Bytes read and written by all ops (inputs, weights, outputs), for GB/s. */
  bytes: number;
  output_shape: number[];
  /** By runner id. */
  results: Record<string, CaseResult>;
  /** ratios[backend][peer] = backend median time / peer median time (< 1: the backend is faster); null when either is not ok. */
  ratios: Record<string, Record<string, number | null>>;
}

export interface RunnerReport {
  id: string;
  kind: 'backend' | 'peer';
  label: string;
  status: 'ok' | 'unavailable' | 'failed';
  reason?: string;
  /** Runtime and version as the runner describes itself. */
  runtime?: string;
  timing?: string;
  threads?: number;
  /** Peak resident set size of the runner's own process (all its cases). */
  peak_rss_bytes: number | null;
}

export interface BenchReport {
  schema: typeof BENCH_SCHEMA;
  created: string;
  machine: { cpu: string; cores: number; memory_bytes: number; platform: string; node: string };
  /** rounds: each runner ran this many times in turns; per case the round with the lowest median is reported. */
  settings: { threads: number; warmup: number; repeat: number; min_time_ms: number; rounds: number; quick: boolean; tolerance: { ops: number; models: number } };
  peak: {
    /** The FMA peak of `threads` cores in GFLOP/s that `of_fma_peak` divides by; null when not given. */
    fma_gflops: number | null;
    /** Where fma_gflops comes from. */
    fma_source: string | null;
  };
  runners: RunnerReport[];
  cases: CaseReport[];
}

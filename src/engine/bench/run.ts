/**
 * `convscope bench`: every selected case on every selected runner, each runner in its own child
 * process, one after another so they never compete for the cores. Then the outputs are checked
 * against each other (compare.ts) and against the engine's TypeScript reference kernels, and
 * times become statistics, rates and ratios.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism, cpus, platform, arch, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { CpuBackend } from '../backends/cpu/backend.ts';
import { SpecError } from '../errors.ts';
import { percentile } from '../stats.ts';
import { makeInput, makeWeights } from '../weights.ts';
import type { BenchCase } from './cases.ts';
import type { ChildMessage, ChildRequest } from './child.ts';
import { crossCheck } from './compare.ts';
import { BENCH_SCHEMA, type BenchReport, type CaseReport, type CaseResult, type RunnerReport } from './report.ts';
import { ALL_RUNNERS, type RunnerInfo } from './runner.ts';

/** Scale-relative tolerance of the cross-check (see compare.ts); deep networks accumulate more rounding. */
export const TOLERANCE = { ops: 1e-4, models: 2e-3 };

/** The name the TypeScript reference kernels' outputs go by in the cross-check. */
export const REFERENCE = 'reference';

export interface BenchOptions {
  cases: BenchCase[];
  /** Runner ids (engine backends and peers), in the order they run. */
  runners: string[];
  threads?: number;
  /** Few runs, no minimum time: for checking that everything runs, not for numbers. */
  quick?: boolean;
  warmup?: number;
  repeat?: number;
  minTimeMs?: number;
  fmaPeakGflops?: number;
  fmaPeakSource?: string;
  /**
   * Runs every runner this many times, in turns (a, b, c, a, b, c, ...), and keeps for each case
   * and runner the round with the lowest median: on a machine other work shares, each runner then
   * has had the same chances at a quiet moment. Default 1.
   */
  rounds?: number;
  /** Human-readable progress (stderr in the CLI). */
  onProgress?(line: string): void;
  /** A child that sends nothing for this long is stopped and its remaining cases marked as errors. */
  stallTimeoutMs?: number;
  /** Test hook: replaces a runner's outputs before the cross-check. */
  tamper?(runner: string, caseId: string, output: Float32Array): Float32Array;
}

interface ChildOutcome {
  runner: RunnerReport;
  results: Map<string, { status: CaseResult['status']; reason?: string; times?: number[]; output?: Float32Array; firstRunMs?: number }>;
}

export function runnerInfo(id: string): RunnerInfo {
  const info = ALL_RUNNERS.find((r) => r.id === id);
  if (!info) throw new SpecError(`runner "${id}" is unknown; choose from ${ALL_RUNNERS.map((r) => r.id).join(', ')}`, undefined, 'runner');
  return info;
}

function runChildProcess(info: RunnerInfo, req: ChildRequest, opts: BenchOptions): Promise<ChildOutcome> {
  const entry = fileURLToPath(new URL('./child-entry.mjs', import.meta.url));
  const outcome: ChildOutcome = {
    runner: { id: info.id, kind: info.kind, label: info.label, status: 'failed', peak_rss_bytes: null },
    results: new Map(),
  };
  return new Promise((resolve) => {
    const child: ChildProcess = fork(entry, [], { serialization: 'advanced', stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.stdout!.resume();
    let timer: NodeJS.Timeout | undefined;
    let stalled = false;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        stalled = true;
        child.kill('SIGKILL');
      }, opts.stallTimeoutMs ?? 300_000);
    };
    arm();
    child.on('message', (msg: ChildMessage | { type: 'hello' }) => {
      arm();
      switch (msg.type) {
        case 'hello':
          child.send(req);
          break;
        case 'unavailable':
          outcome.runner.status = 'unavailable';
          outcome.runner.reason = msg.reason;
          break;
        case 'ready':
          outcome.runner.status = 'ok';
          outcome.runner.runtime = msg.describe;
          outcome.runner.timing = msg.timing;
          outcome.runner.threads = msg.threads;
          break;
        case 'progress':
          opts.onProgress?.(`  ${info.id}: ${msg.id}`);
          break;
        case 'case':
          if (msg.status === 'ok') outcome.results.set(msg.id, { status: 'ok', times: msg.times, output: msg.output, firstRunMs: msg.prepareMs });
          else outcome.results.set(msg.id, { status: msg.status, reason: msg.reason });
          break;
        case 'done':
          outcome.runner.peak_rss_bytes = msg.maxRssBytes;
          break;
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (outcome.runner.status === 'unavailable') {
        for (const id of req.cases) outcome.results.set(id, { status: 'unavailable', reason: outcome.runner.reason });
      } else {
        const why = stalled
          ? `stopped after ${((opts.stallTimeoutMs ?? 300_000) / 1000).toFixed(0)} s without progress`
          : `the runner's process exited (${signal ?? `code ${code}`})${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`;
        if (code !== 0 || stalled) {
          outcome.runner.status = 'failed';
          outcome.runner.reason = why;
        }
        for (const id of req.cases) if (!outcome.results.has(id)) outcome.results.set(id, { status: 'error', reason: why });
      }
      resolve(outcome);
    });
  });
}

/** Merges another round into `best`: per case, the ok result with the lower median wins. */
function keepBest(best: ChildOutcome, other: ChildOutcome): void {
  const median = (t?: number[]) => (t && t.length > 0 ? percentile(t, 0.5) : Infinity);
  if (best.runner.status !== 'ok' && other.runner.status === 'ok') best.runner = { ...other.runner, peak_rss_bytes: best.runner.peak_rss_bytes };
  best.runner.peak_rss_bytes = Math.max(best.runner.peak_rss_bytes ?? 0, other.runner.peak_rss_bytes ?? 0) || null;
  for (const [id, r] of other.results) {
    const mine = best.results.get(id);
    if (!mine || (r.status === 'ok' && (mine.status !== 'ok' || median(r.times) < median(mine.times)))) best.results.set(id, r);
  }
}

async function referenceOutputs(cases: BenchCase[], threads: number, onProgress?: (line: string) => void): Promise<Map<string, Float32Array>> {
  const backend = await CpuBackend.create({ threads, kernels: 'js' });
  const out = new Map<string, Float32Array>();
  try {
    for (const c of cases) {
      onProgress?.(`  reference (TypeScript kernels): ${c.id}`);
      const plan = c.plan();
      const model = await backend.prepare(plan, makeWeights(plan));
      try {
        out.set(c.id, await model.forward(makeInput(plan.seed, plan.inputShape)));
      } finally {
        await model.dispose();
      }
    }
  } finally {
    await backend.dispose();
  }
  return out;
}

function caseReport(c: BenchCase, outcomes: ChildOutcome[], reference: Float32Array | undefined, opts: BenchOptions): CaseReport {
  const plan = c.plan();
  const bytes = plan.nodes.reduce((s, n) => s + n.bytesMoved, 0);
  const tolerance = TOLERANCE[c.group];
  const outputs = new Map<string, Float32Array>();
  if (reference) outputs.set(REFERENCE, reference);
  for (const o of outcomes) {
    const r = o.results.get(c.id);
    if (r?.status === 'ok' && r.output) outputs.set(o.runner.id, opts.tamper ? opts.tamper(o.runner.id, c.id, r.output) : r.output);
  }
  const checks = crossCheck(outputs, tolerance, REFERENCE);
  const results: Record<string, CaseResult> = {};
  for (const o of outcomes) {
    const r = o.results.get(c.id) ?? { status: 'error' as const, reason: 'no result' };
    if (r.status !== 'ok' || !r.times) {
      results[o.runner.id] = { status: r.status, reason: r.reason };
      continue;
    }
    const median = percentile(r.times, 0.5);
    const p10 = percentile(r.times, 0.1);
    const p90 = percentile(r.times, 0.9);
    const check = checks.get(o.runner.id)!;
    const gflops = plan.totals.flops / median / 1e6;
    results[o.runner.id] = {
      status: check.ok ? 'ok' : 'wrong',
      ...(check.ok ? {} : { reason: `output differs from ${check.against}'s: scaled max error ${check.maxErr === null ? 'n/a (length differs)' : check.maxErr.toExponential(2)} > ${tolerance}` }),
      time_ms: { median, p10, p90 },
      spread: median > 0 ? (p90 - p10) / median : 0,
      runs: r.times.length,
      first_run_ms: r.firstRunMs,
      gflops_per_s: gflops,
      gb_per_s: bytes / median / 1e6,
      of_fma_peak: opts.fmaPeakGflops ? gflops / opts.fmaPeakGflops : null,
      check: { max_err: check.maxErr, tolerance, against: check.against },
    };
  }
  const ratios: Record<string, Record<string, number | null>> = {};
  for (const b of outcomes.filter((o) => o.runner.kind === 'backend')) {
    ratios[b.runner.id] = {};
    const mine = results[b.runner.id];
    for (const p of outcomes.filter((o) => o.runner.kind === 'peer')) {
      const theirs = results[p.runner.id];
      ratios[b.runner.id][p.runner.id] = mine.status === 'ok' && theirs.status === 'ok' ? mine.time_ms!.median / theirs.time_ms!.median : null;
    }
  }
  return { id: c.id, title: c.title, group: c.group, bound: c.bound, macs: plan.totals.macs, flops: plan.totals.flops, bytes, output_shape: plan.outputShape, results, ratios };
}

export async function runBench(opts: BenchOptions): Promise<BenchReport> {
  const threads = opts.threads ?? availableParallelism();
  const quick = opts.quick ?? false;
  const warmup = opts.warmup ?? (quick ? 0 : 3);
  const repeat = opts.repeat ?? (quick ? 2 : 10);
  const minTimeMs = opts.minTimeMs ?? (quick ? 0 : 400);
  if (opts.cases.length === 0) throw new SpecError('no benchmark case selected', undefined, 'cases');
  const infos = opts.runners.map(runnerInfo);
  const caseIds = opts.cases.map((c) => c.id);
  const rounds = opts.rounds ?? 1;
  if (!Number.isInteger(rounds) || rounds < 1) throw new SpecError(`--rounds must be an integer >= 1, got ${rounds}`, undefined, 'rounds');
  const outcomes: ChildOutcome[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const [i, info] of infos.entries()) {
      opts.onProgress?.(`${info.id}: ${info.label}${rounds > 1 ? ` (round ${round + 1} of ${rounds})` : ''}`);
      const o = await runChildProcess(info, { runner: info.id, cases: caseIds, threads, warmup, repeat, minTimeMs, maxRepeat: 500 }, opts);
      if (round === 0) outcomes.push(o);
      else keepBest(outcomes[i], o);
    }
  }
  const reference = await referenceOutputs(opts.cases, threads, opts.onProgress);
  return {
    schema: BENCH_SCHEMA,
    created: new Date().toISOString(),
    machine: {
      cpu: cpus()[0]?.model?.trim() ?? 'unknown CPU',
      cores: availableParallelism(),
      memory_bytes: totalmem(),
      platform: `${platform()}-${arch()}`,
      node: process.version,
    },
    settings: { threads, warmup, repeat, min_time_ms: minTimeMs, rounds, quick, tolerance: TOLERANCE },
    peak: { fma_gflops: opts.fmaPeakGflops ?? null, fma_source: opts.fmaPeakGflops ? (opts.fmaPeakSource ?? 'given with --fma-peak') : null },
    runners: outcomes.map((o) => o.runner),
    cases: opts.cases.map((c) => caseReport(c, outcomes, reference.get(c.id), opts)),
  };
}

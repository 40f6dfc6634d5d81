/**
 * profilePlan (runs, progress, cancellation), the statistics every report prints, buildReport's
 * derived fields, and the CPU worker pool against the inline reference.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/engine/backends/cpu/backend.ts';
import type { Backend, ForwardHooks } from '../src/engine/backends/types.ts';
import { CancelledError, SpecError } from '../src/engine/errors.ts';
import { buildPlan } from '../src/engine/graph/plan.ts';
import { getPreset } from '../src/engine/presets/index.ts';
import { profilePlan, type ProfileResult, type ProgressEvent } from '../src/engine/profiler.ts';
import { validateReport } from '../src/engine/report/json.ts';
import { buildReport } from '../src/engine/reporting.ts';
import { percentile, timeStats } from '../src/engine/stats.ts';
import { makeInput, makeWeights } from '../src/engine/weights.ts';
import { firstBitDifference, referenceForward, smallSpec } from './helpers/small-model.ts';

const ENV = { app_version: 'test', node: process.version, platform: 'test', cpu: 'test' };

const plan = buildPlan(smallSpec());
// minParallelWork 0: every op with more than one unit goes through the two worker threads.
const pooled = new CpuBackend(2, 0);
const inline = new CpuBackend(1);

afterAll(async () => {
  await pooled.dispose();
  await inline.dispose();
});

/**
 * A backend that forwards to another and records what profilePlan does with it: how many models
 * it prepared and disposed, and, through `onForward`, a hook into each forward pass.
 */
function spyBackend(inner: Backend, onForward?: (run: number, hooks: ForwardHooks) => ForwardHooks) {
  const stats = { prepared: 0, disposed: 0, forwards: 0 };
  const backend: Backend = {
    name: inner.name,
    adapter: inner.adapter,
    timing: inner.timing,
    runOp: (...args) => inner.runOp(...args),
    dispose: () => inner.dispose(),
    async prepare(p, w) {
      stats.prepared++;
      const model = await inner.prepare(p, w);
      return {
        forward: (input, hooks = {}) => model.forward(input, onForward ? onForward(stats.forwards++, hooks) : (stats.forwards++, hooks)),
        dispose: async () => {
          stats.disposed++;
          await model.dispose();
        },
      };
    },
  };
  return { backend, stats };
}

describe('profilePlan', () => {
  it('measures every node once per repeat, after one first run and the warm-ups', async () => {
    const { backend, stats } = spyBackend(pooled);
    const result = await profilePlan(plan, backend, { warmup: 2, repeat: 4 });
    expect(stats).toEqual({ prepared: 1, disposed: 1, forwards: 1 + 2 + 4 });
    expect(result.nodeTimes).toHaveLength(plan.nodes.length);
    for (const [i, times] of result.nodeTimes.entries()) {
      expect(times, plan.nodes[i].id).toHaveLength(4);
      expect(times.every((t) => Number.isFinite(t) && t >= 0), plan.nodes[i].id).toBe(true);
    }
    expect(result.e2eTimes).toHaveLength(4);
    // A forward pass takes at least as long as the ops inside it.
    result.e2eTimes.forEach((e2e, r) => {
      const ops = result.nodeTimes.reduce((s, times) => s + times[r], 0);
      expect(e2e).toBeGreaterThanOrEqual(ops - 1e-6);
    });
    expect(result.firstRunMs).toBeGreaterThan(0);
    expect({ warmup: result.warmup, repeat: result.repeat }).toEqual({ warmup: 2, repeat: 4 });
    expect(firstBitDifference(result.output, referenceForward(plan))).toBe(-1);
  });

  it('reports progress in order: prepare, warm-up x N, measure x M', async () => {
    const events: ProgressEvent[] = [];
    await profilePlan(plan, inline, { warmup: 3, repeat: 2, onProgress: (e) => events.push({ ...e }) });
    expect(events).toEqual([
      { phase: 'prepare', done: 0, total: 1 },
      { phase: 'prepare', done: 1, total: 1 },
      { phase: 'warmup', done: 1, total: 3 },
      { phase: 'warmup', done: 2, total: 3 },
      { phase: 'warmup', done: 3, total: 3 },
      { phase: 'measure', done: 1, total: 2 },
      { phase: 'measure', done: 2, total: 2 },
    ]);
    const none: ProgressEvent[] = [];
    await profilePlan(plan, inline, { warmup: 0, repeat: 1, onProgress: (e) => none.push({ ...e }) });
    expect(none.map((e) => e.phase)).toEqual(['prepare', 'prepare', 'measure']);
  });

  it('uses the given input instead of the seed\'s, and refuses one of the wrong size', async () => {
    const x = makeInput(12345, plan.inputShape);
    const result = await profilePlan(plan, pooled, { warmup: 0, repeat: 1, input: x });
    expect(firstBitDifference(result.output, referenceForward(plan, x))).toBe(-1);
    expect(firstBitDifference(result.output, referenceForward(plan))).not.toBe(-1);
    await expect(profilePlan(plan, pooled, { input: new Float32Array(10) })).rejects.toThrow(SpecError);
    await expect(profilePlan(plan, pooled, { input: new Float32Array(10) })).rejects.toThrow(/10 values.*\[1, 3, 32, 32\] = 3072/);
  });

  it('refuses warm-up and repeat counts that make no sense', async () => {
    await expect(profilePlan(plan, inline, { repeat: 0 })).rejects.toThrow(SpecError);
    await expect(profilePlan(plan, inline, { repeat: 1.5 })).rejects.toThrow(/repeat must be an integer >= 1/);
    await expect(profilePlan(plan, inline, { warmup: -1 })).rejects.toThrow(/warmup must be an integer >= 0/);
  });

  describe('cancellation', () => {
    it('an abort from onProgress after the first measured run rejects with CancelledError; the backend keeps working', async () => {
      const { backend, stats } = spyBackend(pooled);
      const controller = new AbortController();
      const events: string[] = [];
      const run = profilePlan(plan, backend, {
        warmup: 1,
        repeat: 5,
        signal: controller.signal,
        onProgress: (e) => {
          events.push(`${e.phase} ${e.done}`);
          if (e.phase === 'measure' && e.done === 1) controller.abort();
        },
      });
      await expect(run).rejects.toBeInstanceOf(CancelledError);
      expect(events).toEqual(['prepare 0', 'prepare 1', 'warmup 1', 'measure 1']);
      expect(stats.forwards).toBe(3);
      expect(stats.disposed).toBe(1); // the prepared model is released even when cancelled

      // The same backend (and its worker pool) runs the next profile normally.
      const again = await profilePlan(plan, pooled, { warmup: 0, repeat: 2 });
      expect(firstBitDifference(again.output, referenceForward(plan))).toBe(-1);
    });

    it('an abort in the middle of a forward pass stops before the next op', async () => {
      const controller = new AbortController();
      const seen: string[] = [];
      // Forwards count from 0: the first run, one warm-up, then measured runs; abort in the second measured run (#3) after its 4th op.
      const { backend, stats } = spyBackend(pooled, (run, hooks) => ({
        ...hooks,
        onNode: (i, node, ms) => {
          hooks.onNode?.(i, node, ms);
          if (run === 3) seen.push(node.id);
          if (run === 3 && i === 3) controller.abort();
        },
      }));
      await expect(profilePlan(plan, backend, { warmup: 1, repeat: 3, signal: controller.signal })).rejects.toBeInstanceOf(CancelledError);
      expect(seen).toEqual(plan.nodes.slice(0, 4).map((n) => n.id));
      expect(stats.disposed).toBe(1);
      const again = await profilePlan(plan, pooled, { warmup: 0, repeat: 1 });
      expect(firstBitDifference(again.output, referenceForward(plan))).toBe(-1);
    });

    it('a signal aborted before the start runs nothing', async () => {
      const { backend, stats } = spyBackend(inline);
      await expect(profilePlan(plan, backend, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(CancelledError);
      expect(stats.forwards).toBe(0);
      expect(stats.disposed).toBe(stats.prepared);
    });
  });
});

describe('percentile and timeStats', () => {
  // Linear interpolation between closest ranks (numpy's default): position (n - 1) * q.
  const ten = [7, 3, 10, 1, 9, 2, 8, 5, 4, 6]; // 1..10, unsorted

  it('match hand-computed values', () => {
    expect(percentile(ten, 0.1)).toBeCloseTo(1.9, 12); // position 0.9: 1 + 0.9 * (2 - 1)
    expect(percentile(ten, 0.5)).toBeCloseTo(5.5, 12); // position 4.5: 5 + 0.5 * (6 - 5)
    expect(percentile(ten, 0.9)).toBeCloseTo(9.1, 12); // position 8.1: 9 + 0.1 * (10 - 9)
    expect(percentile(ten, 0)).toBe(1);
    expect(percentile(ten, 1)).toBe(10);
    expect(percentile([0, 10], 0.25)).toBeCloseTo(2.5, 12);
    expect(percentile([4, 1, 2], 0.5)).toBe(2); // odd count: the middle sample
    expect(percentile([3.5], 0.9)).toBe(3.5);
    const s = timeStats(ten);
    expect(s.median).toBeCloseTo(5.5, 12);
    expect(s.p10).toBeCloseTo(1.9, 12);
    expect(s.p90).toBeCloseTo(9.1, 12);
    expect(timeStats([2, 2, 2])).toEqual({ median: 2, p10: 2, p90: 2 });
  });

  it('leave the samples alone and refuse an empty list', () => {
    const copy = [...ten];
    timeStats(ten);
    expect(ten).toEqual(copy);
    expect(() => percentile([], 0.5)).toThrow(/no samples/);
    expect(() => percentile(ten, 50)).toThrow(/q must be in \[0, 1\]/); // a fraction, not a percent
    expect(() => percentile(ten, Number.NaN)).toThrow(RangeError);
  });
});

describe('buildReport', () => {
  // Hand-made times so that every derived number is known exactly.
  const n = plan.nodes.length;
  const profile: ProfileResult = {
    nodeTimes: plan.nodes.map((_, i) => [3 * (i + 1), 1 * (i + 1), 2 * (i + 1)]), // median 2 * (i + 1) ms
    e2eTimes: [30, 10, 20],
    firstRunMs: 42,
    output: new Float32Array(10),
    warmup: 1,
    repeat: 3,
  };
  const backend = { name: 'cpu', adapter: 'test CPU, 2 threads', timing: 'host wall clock', threads: 2, fallbacks: [] };

  it('derives times, GFLOP/s and arithmetic intensity per layer, and the totals', () => {
    const report = buildReport(plan, { environment: ENV, backend, profile, created: '2025-01-01T00:00:00.000Z' });
    expect(validateReport(JSON.parse(JSON.stringify(report)))).toEqual(report);
    expect(report.created).toBe('2025-01-01T00:00:00.000Z');
    expect(report.layers).toHaveLength(n);
    plan.nodes.forEach((node, i) => {
      const l = report.layers[i];
      const median = 2 * (i + 1);
      expect(l.id).toBe(node.id);
      expect(l.time_ms!.median).toBe(median);
      expect(l.time_ms!.p10).toBeCloseTo((i + 1) * 1.2, 12); // position 0.2 of [1, 2, 3] * (i + 1)
      expect(l.time_ms!.p90).toBeCloseTo((i + 1) * 2.8, 12); // position 1.8
      // FLOPs / (median seconds * 1e9) = FLOPs / (median ms * 1e6)
      expect(l.gflops_per_s).toBe(node.counts.flops / (median * 1e6));
      expect(l.arithmetic_intensity).toBe(node.counts.flops / node.bytesMoved);
      expect({ params: l.params, buffers: l.buffers, macs: l.macs, flops: l.flops, bytes_moved: l.bytes_moved }).toEqual({
        params: node.params,
        buffers: node.buffers,
        macs: node.counts.macs,
        flops: node.counts.flops,
        bytes_moved: node.bytesMoved,
      });
    });
    // Spot-check against numbers computed by hand for the first conv:
    // 16 x 32 x 32 outputs, 3 * 3 * 3 MACs each = 442,368 MACs; FLOPs 2 * MACs + 16,384 bias adds.
    const c1 = report.layers[0];
    expect(c1.macs).toBe(442_368);
    expect(c1.flops).toBe(901_120);
    expect(c1.gflops_per_s).toBeCloseTo(901_120 / 2e6, 12); // median 2 ms
    // bytes moved: input 3,072 + weights 432 + bias 16 + output 16,384 floats, 4 bytes each
    expect(c1.bytes_moved).toBe((3072 + 432 + 16 + 16_384) * 4);
    expect(c1.arithmetic_intensity).toBeCloseTo(901_120 / 79_616, 12);
    const flatten = report.layers.find((l) => l.op === 'flatten')!;
    expect(flatten.gflops_per_s).toBe(0);
    expect(flatten.arithmetic_intensity).toBe(0);

    expect(report.totals.time_ms).toBe(20); // the median end-to-end time
    expect(report.totals).toMatchObject({ params: plan.totals.params, macs: plan.totals.macs, flops: plan.totals.flops, peak_bytes: plan.totals.peakBytes });
    expect(report.backend).toEqual({ ...backend, warmup: 1, repeat: 3, first_run_ms: 42, e2e_ms: { median: 20, p10: 12, p90: 28 } });
  });

  it('a layer timed at zero (below the clock resolution) has no GFLOP/s rather than infinity', () => {
    const zero = { ...profile, nodeTimes: profile.nodeTimes.map((t, i) => (i === 0 ? [0, 0, 0] : t)) };
    const report = buildReport(plan, { environment: ENV, backend, profile: zero });
    expect(report.layers[0].time_ms).toEqual({ median: 0, p10: 0, p90: 0 });
    expect(report.layers[0].gflops_per_s).toBeNull();
    expect(() => validateReport(JSON.parse(JSON.stringify(report)))).not.toThrow();
  });

  it('without a profile (inspect) every time is null', () => {
    const report = buildReport(plan, { environment: ENV });
    expect(report.backend).toBeNull();
    expect(report.totals.time_ms).toBeNull();
    expect(report.layers.every((l) => l.time_ms === null && l.gflops_per_s === null)).toBe(true);
    expect(report.layers[0].arithmetic_intensity).toBeCloseTo(901_120 / 79_616, 12);
    expect(Date.parse(report.created)).not.toBeNaN();
    expect(() => validateReport(JSON.parse(JSON.stringify(report)))).not.toThrow();
  });

  it('a real profile makes a valid report', async () => {
    const result = await profilePlan(plan, inline, { warmup: 0, repeat: 3 });
    const report = buildReport(plan, { environment: ENV, backend: { name: inline.name, adapter: inline.adapter, timing: inline.timing, threads: 1 }, profile: result });
    expect(() => validateReport(JSON.parse(JSON.stringify(report)))).not.toThrow();
    expect(report.totals.time_ms).toBe(timeStats(result.e2eTimes).median);
    report.layers.forEach((l, i) => expect(l.time_ms).toEqual(timeStats(result.nodeTimes[i])));
  });
});

describe('CPU worker pool', () => {
  it('forward on conv_zoo equals the inline reference bit for bit', async () => {
    // Every convolution kind (grouped, depthwise, dilated, transposed, deformable, ...) split
    // across two threads must write exactly what one thread writes.
    const zoo = buildPlan(getPreset('conv_zoo')!.build());
    const reference = referenceForward(zoo);
    const model = await pooled.prepare(zoo, makeWeights(zoo));
    try {
      const out = await model.forward(makeInput(zoo.seed, zoo.inputShape));
      expect(out.length).toBe(reference.length);
      const at = firstBitDifference(out, reference);
      expect(at, at >= 0 ? `first difference at ${at}: ${out[at]} vs ${reference[at]}` : '').toBe(-1);
      expect(out.every(Number.isFinite)).toBe(true);
    } finally {
      await model.dispose();
    }
  });
});

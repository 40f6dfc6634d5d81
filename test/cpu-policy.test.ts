/**
 * The CPU backend's thread policy on a loaded machine (backends/cpu/policy.ts): the decision as
 * logic (never by timing: this machine is shared), then the backend obeying it with a fixed load.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/engine/backends/cpu/backend.ts';
import { parseRunnable, smoothLoad, SPIN_MICROS, taskState, threadPlan } from '../src/engine/backends/cpu/policy.ts';
import { buildPlan } from '../src/engine/graph/plan.ts';
import { makeInput, makeWeights } from '../src/engine/weights.ts';
import { referenceForward, smallSpec } from './helpers/small-model.ts';

describe('threadPlan', () => {
  it('uses every thread and spins fully on a free machine', () => {
    expect(threadPlan(2, { cores: 2, external: 0 }, true)).toEqual({ threads: 2, spinMicros: SPIN_MICROS, reason: '' });
    expect(threadPlan(8, { cores: 8, external: 0 }, true)).toEqual({ threads: 8, spinMicros: SPIN_MICROS, reason: '' });
  });

  it('drops to one thread, which waits for no one, when other processes take the cores', () => {
    // The case measured: 5 busy loops on 2 cores.
    expect(threadPlan(2, { cores: 2, external: 5 }, true)).toEqual({ threads: 1, spinMicros: 0, reason: '1 of 2 threads used: 5 other runnable threads on 2 cores' });
    // 0.6 of a core taken: 1.4 left rounds to 1.
    expect(threadPlan(2, { cores: 2, external: 0.6 }, true).threads).toBe(1);
  });

  it('uses the cores left, rounded, and spins only as long as each thread keeps a core', () => {
    // 8 cores, 3 busy: 5 threads, each with a core of its own.
    expect(threadPlan(8, { cores: 8, external: 3 }, true)).toEqual({ threads: 5, spinMicros: SPIN_MICROS, reason: '5 of 8 threads used: 3 other runnable threads on 8 cores' });
    // 2 cores with 0.4 taken: both threads, the spin scaled to the 0.6 of a core left to the second.
    expect(threadPlan(2, { cores: 2, external: 0.4 }, true)).toEqual({ threads: 2, spinMicros: 600, reason: 'spin-wait 600 us: 0.4 other runnable threads on 2 cores' });
  });

  it('keeps a thread count that was asked for, but never spins without a core per thread', () => {
    expect(threadPlan(2, { cores: 2, external: 5 }, false)).toEqual({ threads: 2, spinMicros: 0, reason: 'no spin-wait: 5 other runnable threads on 2 cores' });
    // More threads than cores on a free machine: the rule the pool had before the load was read.
    expect(threadPlan(4, { cores: 2, external: 0 }, false).spinMicros).toBe(0);
    expect(threadPlan(2, { cores: 2, external: 0 }, false).spinMicros).toBe(SPIN_MICROS);
  });

  it('never plans fewer than one thread, nor spins on one', () => {
    expect(threadPlan(1, { cores: 1, external: 0 }, true)).toEqual({ threads: 1, spinMicros: 0, reason: '' });
    expect(threadPlan(4, { cores: 4, external: 40 }, true).threads).toBe(1);
    expect(threadPlan(4, { cores: 4, external: -1 }, true).threads).toBe(4);
  });
});

describe('load sampling', () => {
  it("reads the runnable count from /proc/loadavg's fourth field", () => {
    expect(parseRunnable('0.08 0.11 0.08 2/107 9307\n')).toBe(2);
    expect(parseRunnable('12.50 3.10 1.00 17/320 1234')).toBe(17);
    expect(parseRunnable('')).toBeNull();
    expect(parseRunnable('garbage')).toBeNull();
  });

  it("reads a thread's state after its name, which may hold spaces and parentheses", () => {
    expect(taskState('28841 (node) R 28641 28641 5329 0 -1')).toBe('R');
    expect(taskState('77 (Worker (x) 1) S 1 1 1 0 -1')).toBe('S');
  });

  it('smooths samples over about a second', () => {
    const first = smoothLoad(null, 5, 0);
    expect(first).toEqual({ value: 5, at: 0 });
    // One time constant later a new sample has moved the estimate 1 - 1/e of the way.
    expect(smoothLoad(first, 0, 1000).value).toBeCloseTo(5 / Math.E, 10);
    // Samples close together barely move it: one busy instant is not a loaded machine.
    expect(smoothLoad({ value: 0, at: 0 }, 10, 10).value).toBeCloseTo(10 * (1 - Math.exp(-0.01)), 10);
  });
});

describe('CpuBackend under a fixed load', () => {
  const backends: CpuBackend[] = [];
  afterEach(async () => {
    for (const b of backends.splice(0)) await b.dispose();
  });

  async function forward(b: CpuBackend): Promise<Float32Array> {
    const plan = buildPlan(smallSpec());
    const prepared = await b.prepare(plan, makeWeights(plan));
    try {
      return await prepared.forward(makeInput(plan.seed, plan.inputShape));
    } finally {
      await prepared.dispose();
    }
  }

  it('says in its adapter that it used one thread of two, and computes the same output', async () => {
    const loaded = await CpuBackend.create({ minParallelWork: 0, kernels: 'js', sampleLoad: () => ({ cores: 2, external: 5 }) });
    backends.push(loaded);
    expect(loaded.threads).toBeGreaterThanOrEqual(1);
    const y = await forward(loaded);
    if (loaded.threads > 1) expect(loaded.adapter).toMatch(new RegExp(`\\(1 of ${loaded.threads} threads used: 5 other runnable threads on 2 cores\\)$`));
    // The TypeScript kernels inline reproduce the reference bit for bit.
    expect(y).toEqual(referenceForward(buildPlan(smallSpec())));
  });

  it('keeps threads that were asked for and only stops spinning', async () => {
    const loaded = await CpuBackend.create({ threads: 2, minParallelWork: 0, kernels: 'js', sampleLoad: () => ({ cores: 2, external: 5 }) });
    const free = await CpuBackend.create({ threads: 2, minParallelWork: 0, kernels: 'js', sampleLoad: () => ({ cores: 2, external: 0 }) });
    backends.push(loaded, free);
    const [a, b] = [await forward(loaded), await forward(free)];
    expect(loaded.adapter).toMatch(/2 threads, .*\(no spin-wait: 5 other runnable threads on 2 cores\)$/);
    expect(free.adapter).not.toMatch(/runnable/);
    expect(a).toEqual(b);
  });
});

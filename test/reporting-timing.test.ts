/** A report states how its times were taken, even when one model was timed unlike its backend's usual way. */
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/engine/backends/cpu/backend.ts';
import type { Backend } from '../src/engine/backends/types.ts';
import { buildPlan } from '../src/engine/graph/plan.ts';
import { profilePlan } from '../src/engine/profiler.ts';
import { buildReport } from '../src/engine/reporting.ts';

const ENV = { app_version: 'test', node: process.version, platform: 'test', cpu: 'test' };
const plan = buildPlan({
  format: 'convscope/v1',
  name: 'tiny',
  input: { shape: [1, 4, 8, 8] },
  layers: [{ id: 'c', op: 'conv2d', params: { out_channels: 4, kernel: 3, padding: 1 } }, { id: 'r', op: 'relu' }],
});

async function report(backend: Backend) {
  const profile = await profilePlan(plan, backend, { warmup: 0, repeat: 1 });
  return buildReport(plan, { environment: ENV, backend: { name: backend.name, adapter: backend.adapter, timing: backend.timing }, profile });
}

describe('the timing method in a report', () => {
  it("is the backend's when the model is timed the usual way", async () => {
    const cpu = new CpuBackend(1);
    try {
      expect((await report(cpu)).backend!.timing).toBe(cpu.timing);
    } finally {
      await cpu.dispose();
    }
  });

  it("is the prepared model's when that model had to be timed another way", async () => {
    const cpu = new CpuBackend(1);
    const other = 'host time: too many dispatches for one timestamp query set';
    const wrapped: Backend = Object.assign(Object.create(cpu), {
      prepare: async (...args: Parameters<Backend['prepare']>) => ({ ...(await cpu.prepare(...args)), timing: other }),
    });
    try {
      expect((await report(wrapped)).backend!.timing).toBe(other);
    } finally {
      await cpu.dispose();
    }
  });
});

/**
 * The WebGPU backend as a whole: prepared models against the CPU backend, activation fusion and
 * how the report shows it, pipeline sharing, errors that name the op instead of hanging, adapter
 * choice, and `auto` falling back to the CPU with the reason.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/engine/backends/cpu/backend.ts';
import { assignSlots } from '../src/engine/backends/liveness.ts';
import { registerBackend, resolveBackend } from '../src/engine/backends/registry.ts';
import type { WebGpuBackend } from '../src/engine/backends/webgpu/backend.ts';
import { makeWebGpuProvider, webgpuProvider, type GpuSource } from '../src/engine/backends/webgpu/provider.ts';
import { EngineError, SpecError } from '../src/engine/errors.ts';
import { buildPlan, type Plan } from '../src/engine/graph/plan.ts';
import { getOp } from '../src/engine/ops/registry.ts';
import { profilePlan } from '../src/engine/profiler.ts';
import { buildReport } from '../src/engine/reporting.ts';
import { makeInput, makeWeights } from '../src/engine/weights.ts';
import type { LayerSpec } from '../src/shared/spec.ts';
import { runCli } from './helpers/cli-process.ts';
import { WEBGPU_TESTS, expectClose, openTestBackend } from './helpers/webgpu.ts';

/** Every op has a WGSL kernel today; a new op might not. Pretend, for one call, that these lack one. */
async function withoutWgsl<T>(types: string[], fn: () => Promise<T>): Promise<T> {
  const saved = types.map((t) => [getOp(t)!, getOp(t)!.webgpu] as const);
  for (const [op] of saved) delete op.webgpu;
  try {
    return await fn();
  } finally {
    for (const [op, kernel] of saved) op.webgpu = kernel;
  }
}

const ENV = { app_version: 'test', node: process.version, platform: 'test', cpu: 'test' };

function model(layers: LayerSpec[], input = [1, 3, 24, 24]): Plan {
  return buildPlan({ format: 'convscope/v1', name: 'webgpu test', input: { shape: input }, seed: 5, layers });
}

const CONV_RELU: LayerSpec[] = [
  { id: 'c1', op: 'conv2d', params: { out_channels: 16, kernel: 3, padding: 1 } },
  { id: 'r1', op: 'relu' },
  { id: 'dw', op: 'conv2d', params: { out_channels: 16, kernel: 3, stride: 2, padding: 1, groups: 16 } },
  { id: 'r2', op: 'relu' },
  { id: 'pw', op: 'conv2d', params: { out_channels: 8, kernel: 1 } },
];

describe.skipIf(!WEBGPU_TESTS)('WebGPU', () => {
  let gpu: WebGpuBackend;
  const cpu = new CpuBackend(1);
  beforeAll(async () => {
    gpu = await openTestBackend();
  });
  afterAll(async () => {
    await gpu?.dispose();
    await cpu.dispose();
  });

  async function forward(backend: WebGpuBackend | CpuBackend, plan: Plan): Promise<Float32Array> {
    const m = await backend.prepare(plan, makeWeights(plan));
    try {
      return await m.forward(makeInput(plan.seed, plan.inputShape));
    } finally {
      await m.dispose();
    }
  }

  describe('prepared models', () => {
    it('match the CPU backend, repeatably, fused or not', async () => {
      const plan = model(CONV_RELU);
      const want = await forward(cpu, plan);
      const m = await gpu.prepare(plan, makeWeights(plan));
      const input = makeInput(plan.seed, plan.inputShape);
      const first = await m.forward(input);
      expectClose(first, want);
      expect(await m.forward(input)).toEqual(first);
      expect([...m.fusedInto!]).toEqual([
        ['r1', 'c1'],
        ['r2', 'dw'],
      ]);
      await m.dispose();
      const unfused = await openTestBackend({ fuse: false });
      try {
        expectClose(await forward(unfused, plan), want);
      } finally {
        await unfused.dispose();
      }
    });

    it('fuses the new activations, with their parameters, into conv2d and linear (MobileNetV3, EfficientNet, ConvNeXt)', async () => {
      const plan = model([
        { id: 'c1', op: 'conv2d', params: { out_channels: 8, kernel: 3, padding: 1 } },
        { id: 'a1', op: 'hardswish' },
        { id: 'c2', op: 'conv2d', params: { out_channels: 8, kernel: 1 } },
        { id: 'a2', op: 'hardsigmoid', params: { alpha: 0.2, beta: 0.4 } },
        { id: 'c3', op: 'conv2d', params: { out_channels: 8, kernel: 1 } },
        { id: 'a3', op: 'silu' },
        { id: 'c4', op: 'conv2d', params: { out_channels: 8, kernel: 1 } },
        { id: 'a4', op: 'clip', params: { min: -0.2, max: 0.3 } },
        { id: 'f', op: 'flatten' },
        { id: 'l1', op: 'linear', params: { out_features: 16 } },
        { id: 'a5', op: 'gelu' },
        { id: 'l2', op: 'linear', params: { out_features: 8 } },
        { id: 'a6', op: 'gelu', params: { approximate: 'tanh' } },
        { id: 'l3', op: 'linear', params: { out_features: 4 } },
      ], [1, 3, 6, 6]);
      const m = await gpu.prepare(plan, makeWeights(plan));
      expect([...m.fusedInto!]).toEqual([
        ['a1', 'c1'],
        ['a2', 'c2'],
        ['a3', 'c3'],
        ['a4', 'c4'],
        ['a5', 'l1'],
        ['a6', 'l2'],
      ]);
      await m.dispose();
      expectClose(await forward(gpu, plan), await forward(cpu, plan));
    });

    it('does not fuse an activation into a conv whose output something else reads', async () => {
      const plan = model([
        { id: 'c1', op: 'conv2d', params: { out_channels: 8, kernel: 3, padding: 1 } },
        { id: 'r1', op: 'relu' },
        { id: 'c2', op: 'conv2d', params: { out_channels: 8, kernel: 1 }, inputs: ['c1'] },
        { id: 'c3', op: 'conv2d', params: { out_channels: 4, kernel: 1 }, inputs: ['r1'] },
        { id: 'r3', op: 'relu' },
      ]);
      const m = await gpu.prepare(plan, makeWeights(plan));
      expect([...m.fusedInto!]).toEqual([['r3', 'c3']]);
      await m.dispose();
      expectClose(await forward(gpu, plan), await forward(cpu, plan));
    });

    it('shares one pipeline between convolutions that differ only in shape', async () => {
      const fresh = await openTestBackend();
      try {
        const plan = model(
          [
            { id: 'a', op: 'conv2d', params: { out_channels: 16, kernel: 3, padding: 1 } },
            { id: 'b', op: 'conv2d', params: { out_channels: 16, kernel: 3, padding: 1, stride: 2 } },
            { id: 'c', op: 'conv2d', params: { out_channels: 16, kernel: 5, padding: 2 } },
          ],
          [1, 8, 16, 16],
        );
        await (await fresh.prepare(plan, makeWeights(plan))).dispose();
        expect(fresh.pipelineCount).toBe(1);
      } finally {
        await fresh.dispose();
      }
    });

    it('refuses a plan with ops that have no WGSL kernel, naming them', async () => {
      const plan = model([
        { id: 'c1', op: 'conv2d', params: { out_channels: 4, kernel: 3 } },
        { id: 'n', op: 'lrn', params: { size: 3 } },
        { id: 'p', op: 'max_pool2d', params: { kernel: 2 } },
      ]);
      await withoutWgsl(['lrn', 'max_pool2d'], () =>
        expect(gpu.prepare(plan, makeWeights(plan))).rejects.toThrow(/no WGSL kernel yet for lrn \(n\); max_pool2d \(p\)/),
      );
    });
  });

  describe('profile reports', () => {
    it('name the adapter, the timing method and the limits; fused rows say where their time went', async () => {
      const plan = model(CONV_RELU);
      const result = await profilePlan(plan, gpu, { warmup: 1, repeat: 3 });
      const report = buildReport(plan, {
        environment: ENV,
        backend: { name: gpu.name, adapter: gpu.adapter, timing: gpu.timing, fallbacks: gpu.fallbacks, limits: gpu.limits },
        profile: result,
      });
      expect(report.backend!.adapter).toBe(gpu.adapter);
      expect(report.backend!.timing).toMatch(gpu.hasTimestamps ? /timestamp queries/ : /onSubmittedWorkDone/);
      expect(report.backend!.limits!.maxStorageBufferBindingSize).toBeGreaterThan(0);
      const row = (id: string) => report.layers.find((l) => l.id === id)!;
      expect(row('r1').fused_into).toBe('c1');
      expect(row('r1').time_ms).toEqual({ median: 0, p10: 0, p90: 0 });
      expect(row('r1').gflops_per_s).toBeNull();
      expect(row('r1').flops).toBeGreaterThan(0);
      expect(row('c1').fused_into).toBeUndefined();
      expect(row('c1').time_ms!.median).toBeGreaterThan(0);
      expect(row('pw').time_ms!.median).toBeGreaterThan(0);
    });

    it('from the CLI: `profile --backend webgpu` names the adapter and timing', async () => {
      const spec = JSON.stringify({ format: 'convscope/v1', name: 'cli', input: { shape: [1, 3, 16, 16] }, layers: CONV_RELU });
      const file = join(mkdtempSync(join(tmpdir(), 'convscope-')), 'm.convscope.json');
      writeFileSync(file, spec);
      const ok = await runCli(['profile', file, '--backend', 'webgpu', '--json', '--quiet', '--repeat', '2']);
      expect(ok.code, ok.stderr).toBe(0);
      const report = JSON.parse(ok.stdout);
      expect(report.backend.name).toBe('webgpu');
      expect(report.backend.adapter).toMatch(/via Dawn/);
      expect(report.backend.timing).toMatch(/timestamp queries|onSubmittedWorkDone/);
      expect(report.layers.find((l: { id: string }) => l.id === 'r1').fused_into).toBe('c1');

      const none = await runCli(['profile', file, '--adapter', 'no-such-gpu-anywhere', '--quiet']);
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/--adapter "no-such-gpu-anywhere" matches none of the WebGPU adapters found: .*via Dawn/);
    });
  });

  describe('errors name the op and never hang', () => {
    it('a kernel whose WGSL does not compile', async () => {
      const conv = getOp('conv2d')!;
      const kernel = conv.webgpu!;
      conv.webgpu = { plan: () => ({ dispatches: [{ code: 'fn main() { let x: i32 = 1.5; }', bindings: [], workgroups: [1, 1, 1] }] }) };
      try {
        const plan = model([{ id: 'bad', op: 'conv2d', params: { out_channels: 2, kernel: 1 } }]);
        const err = await gpu.prepare(plan, makeWeights(plan)).catch((e) => e);
        expect(err).toBeInstanceOf(EngineError);
        expect(err.message).toMatch(/compiling the WebGPU kernel of op "bad" \(conv2d\)/);
        expect(err.node).toBe('bad');
      } finally {
        conv.webgpu = kernel;
      }
    });

    it('a lost device: forward rejects with an EngineError', async () => {
      const doomed = await openTestBackend({ timeoutMs: 10_000 });
      const plan = model(CONV_RELU);
      const m = await doomed.prepare(plan, makeWeights(plan));
      (doomed as unknown as { ctx: { device: GPUDevice } }).ctx.device.destroy();
      await expect(m.forward(makeInput(plan.seed, plan.inputShape))).rejects.toBeInstanceOf(EngineError);
      await doomed.dispose();
    });
  });

  describe('choosing a backend', () => {
    it('--adapter picks an adapter by a substring of its description', async () => {
      const first = await webgpuProvider.create({});
      const word = first.adapter.split(/[\s(),]+/).find((w) => w.length > 3)!;
      await first.dispose();
      const picked = await webgpuProvider.create({ adapter: word.toUpperCase() });
      expect(picked.adapter).toBe(first.adapter);
      await picked.dispose();
      await expect(webgpuProvider.create({ adapter: 'no-such-gpu-anywhere' })).rejects.toThrow(SpecError);
    });

    it('auto falls back to the CPU with the reason when no GPU works', async () => {
      const broken: GpuSource = { label: 'broken GPU', open: () => Promise.reject(new Error('driver crashed')), adapterOptions: [{}] };
      const empty: GpuSource = { label: 'empty GPU', open: () => ({ requestAdapter: async () => null }) as unknown as GPU, adapterOptions: [{}], noAdapterHint: () => ' (test)' };
      registerBackend(makeWebGpuProvider(async () => [broken, empty]));
      try {
        const { backend, fallbacks } = await resolveBackend('auto', { threads: 1 });
        expect(backend.name).toBe('cpu');
        expect(fallbacks).toEqual(['webgpu: no WebGPU adapter: broken GPU: driver crashed; empty GPU: no adapter (test)']);
        const plan = model(CONV_RELU);
        const report = buildReport(plan, { environment: ENV, backend: { name: backend.name, adapter: backend.adapter, timing: backend.timing, fallbacks }, profile: await profilePlan(plan, backend, { repeat: 1 }) });
        expect(report.backend!.fallbacks![0]).toMatch(/^webgpu: no WebGPU adapter/);
        await backend.dispose();
      } finally {
        registerBackend(webgpuProvider);
      }
    });

    it('auto falls back to the CPU when the model has ops without a WGSL kernel', async () => {
      const { backend, fallbacks } = await withoutWgsl(['lrn', 'softmax'], () => resolveBackend('auto', { threads: 1, ops: ['conv2d', 'lrn', 'softmax'] }));
      expect(backend.name).toBe('cpu');
      expect(fallbacks).toEqual(['webgpu: no WGSL kernel yet for lrn, softmax; the cpu backend runs every op']);
      await backend.dispose();
    });
  });

  describe('buffer reuse by liveness', () => {
    it('frees a tensor after its last reader and never writes over a step’s own input', () => {
      const { slotOf, slotBytes } = assignSlots(
        { id: 'input', bytes: 100 },
        [
          { id: 'a', bytes: 100, inputs: ['input'] },
          { id: 'b', bytes: 80, inputs: ['a'] },
          { id: 'c', bytes: 100, inputs: ['b', 'a'] },
          { id: 'd', bytes: 50, inputs: ['c'] },
        ],
        'd',
      );
      expect(slotOf.get('b')).toBe(slotOf.get('input'));
      expect(slotOf.get('c')).not.toBe(slotOf.get('a'));
      expect(slotOf.get('c')).not.toBe(slotOf.get('b'));
      expect(slotBytes.length).toBe(3);
    });
  });
});

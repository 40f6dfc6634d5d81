/**
 * `auto` and software GPU adapters: llvmpipe, lavapipe, SwiftShader and WARP are recognised from
 * GPUAdapterInfo, `auto` takes the CPU backend over them (the Node CPU backend outruns them) while
 * `--backend webgpu` still uses them, and every report says why its backend was chosen and labels
 * a software adapter as such. Scripted providers pin the rule down without a GPU; the last case
 * runs the real registry on this host.
 */
import { describe, expect, it } from 'vitest';
import { createBackendRegistry } from '../src/engine/backends/resolve.ts';
import type { Backend, BackendProvider } from '../src/engine/backends/types.ts';
import { softwareRenderer } from '../src/engine/backends/webgpu/adapters.ts';
import { makeWebGpuProvider } from '../src/engine/backends/webgpu/provider.ts';
import { createEngineService } from '../src/engine/engine-service.ts';
import { buildPlan } from '../src/engine/graph/plan.ts';
import { renderReport } from '../src/engine/report/index.ts';
import { backendInfo, buildReport } from '../src/engine/reporting.ts';
import { textTable } from '../src/cli/format.ts';
import { backendLabel } from '../src/shared/backend-label.ts';
import type { EngineMessage } from '../src/shared/protocol.ts';
import { reportSchema } from '../src/shared/report-schema.ts';

const ENV = { app_version: 'test', node: process.version, platform: 'test', cpu: 'test' };

describe('softwareRenderer', () => {
  it('names the software renderers from any GPUAdapterInfo field', () => {
    expect(softwareRenderer({ info: { vendor: 'mesa', architecture: '', device: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' } })).toBe('llvmpipe');
    expect(softwareRenderer({ info: { vendor: 'mesa', architecture: '', device: 'llvmpipe', description: '' } })).toBe('llvmpipe');
    expect(softwareRenderer({ info: { vendor: 'mesa', description: 'Vulkan: lavapipe (LLVM 15)' } })).toBe('lavapipe');
    expect(softwareRenderer({ info: { description: 'softpipe' } })).toBe('softpipe');
    expect(softwareRenderer({ info: { vendor: 'google', architecture: 'swiftshader', device: '', description: 'SwiftShader Device (Subzero)' } })).toBe('SwiftShader');
    expect(softwareRenderer({ info: { vendor: 'microsoft', description: 'Microsoft Basic Render Driver' } })).toBe('Microsoft Basic Render Driver');
  });

  it('takes isFallbackAdapter, on the info or (older hosts) the adapter, when the strings say nothing', () => {
    expect(softwareRenderer({ info: { vendor: 'x', isFallbackAdapter: true } })).toBe('fallback adapter');
    expect(softwareRenderer({ info: { vendor: 'x' }, isFallbackAdapter: true })).toBe('fallback adapter');
    expect(softwareRenderer({ info: { vendor: 'x', isFallbackAdapter: false }, isFallbackAdapter: true })).toBeNull();
  });

  it('leaves hardware GPUs alone', () => {
    expect(softwareRenderer({ info: { vendor: 'nvidia', architecture: 'ampere', device: '', description: 'NVIDIA GeForce RTX 3080' } })).toBeNull();
    expect(softwareRenderer({ info: { vendor: 'amd', description: 'AMD Radeon RX 7900 XTX (RADV NAVI31)' } })).toBeNull();
    expect(softwareRenderer({ info: { vendor: 'apple', architecture: 'metal-3', description: 'Apple M2' } })).toBeNull();
    expect(softwareRenderer({})).toBeNull();
  });
});

/** A backend that records its disposal; `software` marks a software adapter. */
function fake(name: string, software?: string): Backend & { disposed: boolean } {
  return {
    name,
    adapter: software ? `${software} (scripted), via test` : `${name} (scripted)`,
    timing: 'scripted',
    ...(software ? { software } : {}),
    disposed: false,
    prepare: () => Promise.reject(new Error('not used')),
    runOp: () => Promise.reject(new Error('not used')),
    async dispose() {
      this.disposed = true;
    },
  };
}

function provider(name: string, priority: number, make: () => Backend, outrunsSoftwareGpu = false): BackendProvider & { made: Backend[] } {
  const made: Backend[] = [];
  return { name, priority, outrunsSoftwareGpu, made, create: async () => (made.push(make()), made[made.length - 1]) };
}

describe('auto with a software adapter', () => {
  it('takes the CPU backend that outruns it, says why, and releases the GPU device', async () => {
    const gpu = provider('webgpu', 10, () => fake('webgpu', 'llvmpipe'));
    const cpu = provider('cpu', 0, () => fake('cpu'), true);
    const registry = createBackendRegistry([gpu, cpu]);
    const r = await registry.resolve('auto');
    expect(r.backend.name).toBe('cpu');
    expect(r.reason).toBe('auto: the only webgpu adapter is software (llvmpipe), the cpu backend is faster');
    expect(r.fallbacks).toEqual(['webgpu: its adapter is software (llvmpipe (scripted), via test); auto prefers the faster cpu backend (`--backend webgpu` runs on it)']);
    expect((gpu.made[0] as ReturnType<typeof fake>).disposed).toBe(true);
  });

  it('still runs on it when asked for by name, and says so', async () => {
    const registry = createBackendRegistry([provider('webgpu', 10, () => fake('webgpu', 'llvmpipe')), provider('cpu', 0, () => fake('cpu'), true)]);
    const r = await registry.resolve('webgpu');
    expect(r.backend.name).toBe('webgpu');
    expect(r.backend.software).toBe('llvmpipe');
    expect(r.reason).toMatch(/^webgpu, asked for by name \(its adapter is software, llvmpipe/);
  });

  it('keeps it when the CPU backend of the host is not faster (the browser Worker) or cannot start', async () => {
    const slowCpu = provider('cpu', 0, () => fake('cpu'));
    const keep = await createBackendRegistry([provider('webgpu', 10, () => fake('webgpu', 'SwiftShader')), slowCpu]).resolve('auto');
    expect(keep.backend.name).toBe('webgpu');
    expect(keep.reason).toBe('auto: the webgpu adapter is software (SwiftShader); kept, since the cpu backend of this host is not faster than it');
    expect(slowCpu.made).toHaveLength(0);

    const broken: BackendProvider = { name: 'cpu', priority: 0, outrunsSoftwareGpu: true, create: () => Promise.reject(new Error('no threads')) };
    const only = await createBackendRegistry([provider('webgpu', 10, () => fake('webgpu', 'llvmpipe')), broken]).resolve('auto');
    expect(only.backend.name).toBe('webgpu');
    expect(only.reason).toBe('auto: the webgpu adapter is software (llvmpipe), the only backend that could start');
    expect(only.fallbacks).toEqual(['cpu: no threads']);
  });

  it('takes a hardware GPU first, and says which backends could not start', async () => {
    const hw = await createBackendRegistry([provider('webgpu', 10, () => fake('webgpu')), provider('cpu', 0, () => fake('cpu'), true)]).resolve('auto');
    expect(hw.backend.name).toBe('webgpu');
    expect(hw.reason).toBe('auto: webgpu, the first backend by priority (webgpu, cpu)');
    const failing: BackendProvider = { name: 'webgpu', priority: 10, create: () => Promise.reject(new Error('no WebGPU adapter')) };
    const cpuOnly = await createBackendRegistry([failing, provider('cpu', 0, () => fake('cpu'), true)]).resolve('auto');
    expect(cpuOnly.reason).toBe('auto: cpu, the first backend that could start (webgpu could not; order webgpu, cpu)');
  });

  it('autoPick answers the same for the `backends` request', () => {
    const registry = createBackendRegistry([provider('webgpu', 10, () => fake('webgpu')), provider('cpu', 0, () => fake('cpu'), true)]);
    expect(registry.autoPick([{ name: 'webgpu', available: true, software: 'llvmpipe' }, { name: 'cpu', available: true }])).toEqual({
      name: 'cpu',
      reason: 'auto: the only webgpu adapter is software (llvmpipe), the cpu backend is faster',
    });
    expect(registry.autoPick([{ name: 'webgpu', available: true }, { name: 'cpu', available: true }])?.name).toBe('webgpu');
    expect(registry.autoPick([{ name: 'webgpu', available: false }, { name: 'cpu', available: false }])).toBeNull();
  });

  it('the WebGPU provider prefers a hardware adapter offered after a software one', async () => {
    const adapter = (description: string) => ({ info: { vendor: '', architecture: '', device: '', description }, features: new Set(), limits: {}, requestDevice: async () => ({ lost: new Promise(() => {}), limits: {} }) });
    const source = { label: 'scripted', open: () => ({ requestAdapter: async (o: { tag: string }) => adapter(o.tag) }) as unknown as GPU, adapterOptions: [{ tag: 'llvmpipe (LLVM 15)' }, { tag: 'Radeon RX 6600' }] as unknown as GPURequestAdapterOptions[] };
    const b = await makeWebGpuProvider(async () => [source]).create({});
    expect(b.adapter).toBe('Radeon RX 6600, via scripted');
    expect(b.software).toBeUndefined();
    const onlySoft = await makeWebGpuProvider(async () => [{ ...source, adapterOptions: source.adapterOptions.slice(0, 1) }]).create({});
    expect(onlySoft.software).toBe('llvmpipe');
  });
});

describe('reports of a software adapter', () => {
  const plan = buildPlan({ format: 'convscope/v1', name: 'sw', input: { shape: [1, 3, 8, 8] }, layers: [{ id: 'c', op: 'conv2d', params: { out_channels: 4, kernel: 3 } }] });
  const reason = 'webgpu, asked for by name (its adapter is software, llvmpipe)';
  const report = buildReport(plan, { environment: ENV, backend: backendInfo({ backend: fake('webgpu', 'llvmpipe'), fallbacks: [], reason }) });

  it('carry backend.software, the label and the reason in every format', () => {
    expect(report.backend).toMatchObject({ name: 'webgpu', label: 'webgpu (software adapter)', software: true, reason });
    expect(reportSchema.safeParse(JSON.parse(renderReport(report, 'json'))).success).toBe(true);
    expect(textTable(report)).toContain('backend   webgpu (software adapter) on llvmpipe (scripted), via test');
    expect(textTable(report)).toContain(`why: ${reason}`);
    expect(renderReport(report, 'md')).toContain('**Backend** webgpu (software adapter) on');
    expect(renderReport(report, 'md')).toContain(`**Why** ${reason}`);
    const html = renderReport(report, 'html', { readEcharts: () => '' });
    expect(html).toContain('<b>webgpu (software adapter)</b>');
    expect(html).toContain('<dt>Why</dt>');
  });

  it('a hardware backend keeps its plain name; an old report without the fields loads and shows its name', () => {
    const hw = backendInfo({ backend: fake('cpu'), fallbacks: [] });
    expect(hw).toMatchObject({ name: 'cpu', label: 'cpu' });
    expect(hw.software).toBeUndefined();
    const { label: _l, software: _s, reason: _r, ...old } = report.backend!;
    expect(backendLabel(old)).toBe('webgpu');
    expect(reportSchema.safeParse({ ...report, backend: old }).success).toBe(true);
  });
});

describe('the workbench engine', () => {
  it('lists the software adapter, answers auto with the reason, and profiles on the CPU', async () => {
    const gpu = provider('webgpu', 10, () => fake('webgpu', 'llvmpipe'));
    const { CpuBackend } = await import('../src/engine/backends/cpu/backend.ts');
    const cpu: BackendProvider = { name: 'cpu', priority: 0, outrunsSoftwareGpu: true, create: async () => new CpuBackend(1) };
    const messages: EngineMessage[] = [];
    const service = createEngineService({ post: (m) => messages.push(m), backends: createBackendRegistry([gpu, cpu]), environment: ENV, pid: 0 });
    const answer = (id: number) => messages.find((m) => 'id' in m && m.id === id && (m.type === 'result' || m.type === 'error'))!;
    try {
      await service.handle({ id: 1, type: 'backends' });
      expect(answer(1)).toMatchObject({
        type: 'result',
        result: { auto: 'cpu', auto_reason: 'auto: the only webgpu adapter is software (llvmpipe), the cpu backend is faster', backends: [{ name: 'webgpu', software: 'llvmpipe' }, { name: 'cpu' }] },
      });
      await service.handle({ id: 2, type: 'profile', spec: plan0(), backend: 'auto', warmup: 0, repeat: 1 });
      const r = answer(2) as Extract<EngineMessage, { type: 'result' }>;
      expect(r.type, JSON.stringify(r)).toBe('result');
      expect((r.result as { report: { backend: object } }).report.backend).toMatchObject({ name: 'cpu', label: 'cpu', reason: 'auto: the only webgpu adapter is software (llvmpipe), the cpu backend is faster' });
    } finally {
      await service.dispose();
    }
  });
});

function plan0() {
  return { format: 'convscope/v1', name: 'svc', input: { shape: [1, 3, 8, 8] }, seed: 1, layers: [{ id: 'c', op: 'conv2d', params: { out_channels: 4, kernel: 3 } }] };
}

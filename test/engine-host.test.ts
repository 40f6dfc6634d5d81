/** The engine host (src/engine/host): the workbench protocol, in plain Node, without a transport. */
import { afterAll, describe, expect, it } from 'vitest';
import { createEngineHost } from '../src/engine/host/index.ts';
import { REPORT_FORMATS, validateReport } from '../src/engine/report/index.ts';
import {
  engineMessageSchema,
  EXPORT_FORMATS,
  resultSchemas,
  type EngineMessage,
  type RequestParams,
  type RequestType,
  type ResultOf,
} from '../src/shared/protocol.ts';
import type { ModelSpec } from '../src/shared/spec.ts';

const messages: EngineMessage[] = [];
const host = createEngineHost({
  post: (m) => messages.push(engineMessageSchema.parse(JSON.parse(JSON.stringify(m)))),
  backendOptions: { threads: 2 },
});
afterAll(() => host.dispose());

let nextId = 1;

/** Sends a request; resolves with the validated result or rejects with the error message. */
async function call<T extends RequestType>(type: T, params: RequestParams<T>): Promise<{ result: ResultOf<T>; progress: EngineMessage[] }> {
  const id = nextId++;
  await host.handle({ id, type, ...params });
  const mine = messages.filter((m) => 'id' in m && m.id === id);
  const last = mine[mine.length - 1];
  expect(mine.filter((m) => m.type === 'result' || m.type === 'error')).toHaveLength(1);
  if (last.type === 'error') throw Object.assign(new Error(last.error.message), last.error);
  if (last.type !== 'result') throw new Error(`request ${id} ended with ${last.type}`);
  return { result: resultSchemas[type].parse(last.result) as ResultOf<T>, progress: mine.filter((m) => m.type === 'progress') };
}

const small: ModelSpec = {
  format: 'convscope/v1',
  name: 'small',
  input: { shape: [1, 24, 16, 16] },
  seed: 3,
  layers: [
    { id: 'u1', block: 'shufflenet_unit', params: { out_channels: 24, groups: 3 } },
    { id: 'se', block: 'se', params: { reduction: 4 } },
    { id: 'p', op: 'max_pool2d', params: { kernel: 2 } },
  ],
};

describe('engine host', () => {
  it('says hello with the protocol version and its pid', async () => {
    const { result } = await call('hello', {});
    expect(result).toMatchObject({ protocol: 1, pid: process.pid });
  });

  it('lists ops, blocks and presets with params and MACs', async () => {
    const { result } = await call('catalog', {});
    expect(result.ops.map((o) => o.name)).toContain('conv2d');
    expect(result.blocks.map((b) => b.name)).toContain('shufflenet_unit');
    const g3 = result.presets.find((p) => p.id === 'shufflenet_v1_g3')!;
    expect(g3.input_shape).toEqual([1, 3, 224, 224]);
    expect(g3.macs).toBeGreaterThan(100e6);
    expect(g3.params).toBeGreaterThan(1e6);
  });

  it('lists the backends with their adapters, and which one auto picks', async () => {
    const { result } = await call('backends', {});
    const cpu = result.backends.find((b) => b.name === 'cpu')!;
    expect(cpu.available).toBe(true);
    expect(cpu.adapter).toMatch(/2 threads/);
    expect(result.auto).not.toBeNull();
  });

  it('returns a preset spec, and names the presets when one is unknown', async () => {
    const { result } = await call('preset', { preset: 'mobilenet_v1' });
    expect(result.spec.name).toMatch(/MobileNet/i);
    await expect(call('preset', { preset: 'mobilenet_v9' })).rejects.toMatchObject({ kind: 'spec', message: expect.stringContaining('mobilenet_v1') });
  });

  it('suggests parameters that fit the input of a new layer', async () => {
    const { result } = await call('suggest', { kind: 'block', name: 'shufflenet_unit', input_shapes: [[1, 240, 28, 28]] });
    expect(result).toEqual({ params: { out_channels: 240, groups: 3, stride: 1 }, fits: true });
  });

  it('inspects a spec: counts, no times, and a memory timeline over the execution order', async () => {
    const { result } = await call('inspect', { spec: small });
    expect(() => validateReport(result.report)).not.toThrow();
    expect(result.report.totals.time_ms).toBeNull();
    expect(result.report.layers.some((l) => l.id === 'u1/shuffle')).toBe(true);
    expect(result.memory.steps.map((s) => s.id)).toEqual(result.report.layers.map((l) => l.id));
    expect(result.memory.peak).toBe(result.report.totals.peak_bytes);
  });

  it('refuses an invalid spec naming the layer and the parameter', async () => {
    const bad = { ...small, layers: [{ ...small.layers[0], params: { out_channels: 24, groups: 5 } }, ...small.layers.slice(1)] };
    await expect(call('inspect', { spec: bad })).rejects.toMatchObject({ kind: 'spec', layer: 'u1', param: 'out_channels' });
    const typo = { ...small, layers: [{ id: 'c', op: 'conv2d', params: { out_channels: 'abc', kernel: 3 } }] };
    await expect(call('inspect', { spec: typo })).rejects.toMatchObject({ kind: 'spec', layer: 'c', param: 'out_channels', message: expect.stringContaining('integer') });
  });

  it('applies the batch size', async () => {
    const { result } = await call('inspect', { spec: small, batch: 4 });
    expect(result.report.model.input_shape).toEqual([4, 24, 16, 16]);
  });

  it('profiles with progress events, then a timed report', async () => {
    const { result, progress } = await call('profile', { spec: small, backend: 'cpu', warmup: 1, repeat: 3 });
    expect(result.report.backend).toMatchObject({ name: 'cpu', warmup: 1, repeat: 3 });
    expect(result.report.totals.time_ms).toBeGreaterThan(0);
    for (const l of result.report.layers) expect(l.time_ms!.median).toBeGreaterThanOrEqual(0);
    const phases = progress.map((p) => (p.type === 'progress' ? `${p.phase} ${p.done}/${p.total}` : ''));
    expect(phases).toEqual(['prepare 0/1', 'prepare 1/1', 'warmup 1/1', 'measure 1/3', 'measure 2/3', 'measure 3/3']);
  });

  it('profiles on auto, reusing the named backend it resolves to', async () => {
    const { result } = await call('profile', { spec: small, backend: 'auto', warmup: 0, repeat: 1 });
    expect(result.report.backend!.name).not.toBe('auto');
  });

  it('cancels a running profile, which ends with a cancelled error; the next run still works', async () => {
    const id = nextId++;
    const done = host.handle({ id, type: 'profile', spec: small, backend: 'cpu', warmup: 0, repeat: 10000 });
    // Wait until it measures, then cancel it.
    while (!messages.some((m) => m.type === 'progress' && m.id === id && m.phase === 'measure')) {
      expect(messages.filter((m) => m.type === 'error' && m.id === id)).toEqual([]);
      await new Promise((r) => setTimeout(r, 5));
    }
    await call('cancel', { target: id }).then(({ result }) => expect(result.cancelled).toBe(true));
    await done;
    const end = messages.filter((m) => 'id' in m && m.id === id && (m.type === 'error' || m.type === 'result'));
    expect(end).toEqual([{ type: 'error', id, error: { kind: 'cancelled', message: 'the run was cancelled' } }]);
    expect((await call('cancel', { target: id })).result.cancelled).toBe(false);
    await expect(call('profile', { spec: small, backend: 'cpu', warmup: 0, repeat: 1 })).resolves.toBeTruthy();
  });

  it('refuses an unknown backend as a spec error', async () => {
    await expect(call('profile', { spec: small, backend: 'tpu', warmup: 0, repeat: 1 })).rejects.toMatchObject({ kind: 'spec', param: 'backend' });
  });

  it('exports a report in every format the engine renders', async () => {
    expect([...EXPORT_FORMATS]).toEqual([...REPORT_FORMATS]);
    const { result: inspected } = await call('profile', { spec: small, backend: 'cpu', warmup: 0, repeat: 1 });
    for (const format of EXPORT_FORMATS) {
      const { result } = await call('export', { report: inspected.report, format });
      expect(result.format).toBe(format);
      if (format === 'json') expect(validateReport(JSON.parse(result.text)).layers).toHaveLength(inspected.report.layers.length);
      const first = inspected.report.layers[0].id;
      expect(first).toBe('u1/gconv1');
      if (format === 'csv') expect(result.text.split('\n')[1].startsWith(`${first},u1,shufflenet_unit,conv2d,`)).toBe(true);
      if (format === 'md') expect(result.text).toContain(`| ${first}`);
      if (format === 'html') expect(result.text).toMatch(/^<!doctype html>/i);
      if (format === 'trace') expect(JSON.parse(result.text).traceEvents.length).toBeGreaterThan(0);
    }
  });

  it('refuses a trace of a report without timings, saying why', async () => {
    const { result } = await call('inspect', { spec: small });
    await expect(call('export', { report: result.report, format: 'trace' })).rejects.toMatchObject({ message: expect.stringContaining('no timings') });
  });

  it('inspects a model past the memory budget (it allocates nothing), and refuses to profile it, naming the layer', async () => {
    // Input and output of 4 x 64 x 2048 x 2048 floats: 4 GiB each, both live: twice the 4 GiB default.
    const huge: ModelSpec = { format: 'convscope/v1', name: 'huge', input: { shape: [4, 64, 2048, 2048] }, layers: [{ id: 'c', op: 'conv2d', params: { out_channels: 64, kernel: 1 } }] };
    const { result } = await call('inspect', { spec: huge });
    expect(result.report.totals.peak_bytes).toBe(2 * 4 * 1024 ** 3);
    await expect(call('profile', { spec: huge, backend: 'cpu', warmup: 0, repeat: 1 })).rejects.toMatchObject({ message: expect.stringContaining('peak at layer "c"') });
  });

  it('answers a malformed request with a protocol error for its id, or id -1', async () => {
    await host.handle({ id: 999, type: 'inspect' });
    expect(messages.at(-1)).toMatchObject({ type: 'error', id: 999, error: { kind: 'protocol', message: expect.stringContaining('spec') } });
    await host.handle({ id: 1000, type: 'launch_missiles' });
    expect(messages.at(-1)).toMatchObject({ type: 'error', id: 1000, error: { kind: 'protocol' } });
    await host.handle('hello');
    expect(messages.at(-1)).toMatchObject({ type: 'error', id: -1, error: { kind: 'protocol' } });
    await host.handle({ id: 1001, type: 'profile', spec: small, backend: 'cpu', warmup: 0, repeat: 0 });
    expect(messages.at(-1)).toMatchObject({ type: 'error', id: 1001, error: { kind: 'protocol', message: expect.stringContaining('repeat') } });
  });
});

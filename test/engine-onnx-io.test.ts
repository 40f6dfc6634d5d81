/** The workbench's ONNX open and export (protocol `import_onnx` / `export_onnx`), through the engine host. */
import { afterAll, describe, expect, it } from 'vitest';
import { createEngineHost } from '../src/engine/host/index.ts';
import { buildPlan } from '../src/engine/graph/plan.ts';
import { encodeBase64, decodeBase64 } from '../src/shared/base64.ts';
import { engineMessageSchema, resultSchemas, type EngineMessage, type RequestParams, type RequestType, type ResultOf } from '../src/shared/protocol.ts';
import type { ModelSpec } from '../src/shared/spec.ts';
import { OnnxGraphBuilder, string } from '../src/engine/onnx/builder.ts';
import { encodeModel } from '../src/engine/onnx/proto.ts';

const messages: EngineMessage[] = [];
const host = createEngineHost({ post: (m) => messages.push(engineMessageSchema.parse(JSON.parse(JSON.stringify(m)))) });
afterAll(() => host.dispose());

let nextId = 1;
async function call<T extends RequestType>(type: T, params: RequestParams<T>): Promise<ResultOf<T>> {
  const id = nextId++;
  await host.handle({ id, type, ...params });
  const last = messages.filter((m) => 'id' in m && m.id === id).at(-1)!;
  if (last.type === 'error') throw Object.assign(new Error(last.error.message), last.error);
  if (last.type !== 'result') throw new Error(`request ${id} ended with ${last.type}`);
  return resultSchemas[type].parse(last.result) as ResultOf<T>;
}

const design: ModelSpec = {
  format: 'convscope/v1',
  name: 'round trip',
  input: { shape: [1, 16, 12, 12] },
  seed: 5,
  layers: [
    { id: 'c1', op: 'conv2d', params: { out_channels: 24, kernel: 3, padding: 1, groups: 2 } },
    { id: 'bn', op: 'batch_norm' },
    { id: 'r', op: 'relu' },
    { id: 'p', op: 'max_pool2d', params: { kernel: 2 } },
    { id: 'g', op: 'global_avg_pool' },
    { id: 'f', op: 'flatten' },
    { id: 'fc', op: 'linear', params: { out_features: 10 } },
  ],
};

describe('ONNX in the workbench protocol', () => {
  it('exports a design as ONNX and opens the file again as the same design, from bytes and from base64', async () => {
    const exported = await call('export_onnx', { spec: design });
    expect(exported.extension).toBe('.onnx');
    const bytes = decodeBase64(exported.base64);
    expect(bytes.length).toBe(exported.bytes);
    const want = buildPlan(design).totals;
    for (const data of [bytes, encodeBase64(bytes)]) {
      const opened = await call('import_onnx', { name: 'round-trip.onnx', data });
      expect(opened.layers).toBe(design.layers.length);
      expect(opened.spec.name).toBe('round trip');
      const got = buildPlan(opened.spec).totals;
      expect([got.params, got.buffers, got.macs, got.flops]).toEqual([want.params, want.buffers, want.macs, want.flops]);
      expect(opened.spec.input.shape).toEqual([1, 16, 12, 12]);
    }
  });

  it('opens with another batch when asked', async () => {
    const { base64 } = await call('export_onnx', { spec: design, dynamic_batch: true });
    const opened = await call('import_onnx', { name: 'b.onnx', data: base64, batch: 4 });
    expect(opened.spec.input.shape).toEqual([4, 16, 12, 12]);
  });

  it('refuses a file that is not ONNX, a truncated one and one with an unsupported op, each as a spec error naming the file', async () => {
    const notOnnx = new TextEncoder().encode('{"format": "convscope/v1"}');
    await expect(call('import_onnx', { name: 'design.json', data: notOnnx })).rejects.toMatchObject({ kind: 'spec', message: expect.stringMatching(/^design\.json: /) });

    const { base64 } = await call('export_onnx', { spec: design });
    const whole = decodeBase64(base64);
    await expect(call('import_onnx', { name: 'cut.onnx', data: whole.subarray(0, Math.floor(whole.length * 0.6)) })).rejects.toMatchObject({
      kind: 'spec',
      message: expect.stringMatching(/^cut\.onnx: /),
    });

    const g = new OnnxGraphBuilder('einsum');
    g.input('x', [1, 4, 8, 8]);
    g.node('Einsum', ['x'], ['y'], { equation: string('nchw->nhwc') }, 'swap');
    g.output('y');
    const unsupported = encodeModel(g.toModel());
    await expect(call('import_onnx', { name: 'einsum.onnx', data: unsupported })).rejects.toMatchObject({ kind: 'spec', message: expect.stringContaining('Einsum') });

    await expect(call('import_onnx', { name: 'garbled.onnx', data: 'not base64!' })).rejects.toMatchObject({ kind: 'spec', message: expect.stringContaining('did not arrive intact') });
  });

  it('refuses to export a design whose weights would not fit one base64 string, pointing at the CLI', async () => {
    const huge: ModelSpec = { ...design, input: { shape: [1, 4096, 1, 1] }, layers: [{ id: 'f', op: 'flatten' }, { id: 'fc', op: 'linear', params: { out_features: 20000 } }] };
    await expect(call('export_onnx', { spec: huge })).rejects.toMatchObject({ kind: 'spec', message: expect.stringContaining('convscope export') });
  });
});

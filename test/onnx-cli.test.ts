/**
 * ONNX through the real `convscope` command (`node bin/convscope.mjs`): export, then inspect,
 * run and profile the .onnx file, checked against onnxruntime-node and against the design the
 * file came from. The end-to-end tolerance is the one test/onnx-roundtrip.test.ts states
 * (5e-3 of the output's largest magnitude).
 */
import * as ort from 'onnxruntime-node';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from '../src/engine/npy.ts';
import { int, ints, OnnxGraphBuilder } from '../src/engine/onnx/builder.ts';
import { getPreset } from '../src/engine/presets/index.ts';
import { fillUniform } from '../src/engine/rng.ts';
import { makeInput } from '../src/engine/weights.ts';
import type { Report } from '../src/shared/report.ts';
import { describeRun, runCli, type CliResult } from './helpers/cli-process.ts';
import { relativeError } from './helpers/relative-error.ts';

const E2E_TOLERANCE = 5e-3;

let dir: string;
const at = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'convscope-onnx-cli-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function ok(r: CliResult): CliResult {
  expect(r.code, describeRun(r)).toBe(0);
  return r;
}

function refused(r: CliResult, reason: RegExp): void {
  expect(r.code, describeRun(r)).toBe(2);
  expect(r.stderr).toMatch(reason);
  expect(r.stderr).not.toMatch(/internal error|at .*\.ts:\d+/);
}

async function ortRun(path: string, x: Float32Array, shape: number[], input = 'input', output = 'output'): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(path);
  try {
    return (await s.run({ [input]: new ort.Tensor('float32', x, shape) }))[output].data as Float32Array;
  } finally {
    await s.release();
  }
}

const argmax = (a: Float32Array) => a.reduce((best, v, i) => (v > a[best] ? i : best), 0);

describe('convscope export xception --onnx x.onnx', () => {
  it('run x.onnx agrees with onnxruntime on x.onnx, and inspect x.onnx counts what inspect xception counts', async () => {
    const x = at('x.onnx');
    const exported = ok(await runCli(['export', 'xception', '--onnx', x], { timeoutMs: 120_000 }));
    expect(exported.stderr).toContain(`wrote ${x}`);
    const [run, runPreset, inspectOnnx, inspectPreset] = await Promise.all([
      runCli(['run', x, '--output', at('a.npy')], { timeoutMs: 240_000 }),
      runCli(['run', 'xception', '--output', at('b.npy')], { timeoutMs: 240_000 }),
      runCli(['inspect', x, '--json'], { timeoutMs: 120_000 }),
      runCli(['inspect', 'xception', '--json'], { timeoutMs: 120_000 }),
    ]);
    ok(run);
    const out = readNpy(readFileSync(at('a.npy')));
    const plan = { seed: getPreset('xception')!.build().seed ?? 0, shape: [1, 3, 299, 299] };
    expect(out.shape).toEqual([1, 1000]);
    // `run` without --input feeds the seed's input; the file carries the seed, so onnxruntime gets the same.
    const want = await ortRun(x, makeInput(plan.seed, plan.shape), plan.shape);
    expect(relativeError(out.data, want)).toBeLessThanOrEqual(E2E_TOLERANCE);
    expect(argmax(out.data)).toBe(argmax(want));
    // Xception's softmax saturates on seeded weights; what pins the whole imported model down is
    // that the engine computes exactly the same output from the file as from the preset.
    ok(runPreset);
    const fromPreset = readNpy(readFileSync(at('b.npy'))).data;
    expect(Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength).equals(Buffer.from(fromPreset.buffer, fromPreset.byteOffset, fromPreset.byteLength))).toBe(true);

    const a = JSON.parse(ok(inspectOnnx).stdout) as Report;
    const b = JSON.parse(ok(inspectPreset).stdout) as Report;
    expect(a.totals.params).toBe(b.totals.params);
    expect(a.totals.macs).toBe(b.totals.macs);
    expect(a.totals.flops).toBe(b.totals.flops);
    expect(a.totals.buffers).toBe(b.totals.buffers);
    expect(a.model.input_shape).toEqual(b.model.input_shape);
    expect(a.layers.length).toBe(b.layers.length);
  });
});

describe('ONNX files as <model>', () => {
  it('--dynamic-batch: inspect takes --batch, profile runs the file', async () => {
    const spec = at('small.convscope.json');
    writeFileSync(
      spec,
      JSON.stringify({
        format: 'convscope/v1',
        name: 'small',
        input: { shape: [1, 6, 12, 12] },
        seed: 4,
        layers: [
          { id: 'u', block: 'shufflenet_unit', params: { out_channels: 16, groups: 2, stride: 2 } },
          { id: 'se', block: 'se', params: { reduction: 4 } },
          { id: 'gap', op: 'global_avg_pool' },
          { id: 'flat', op: 'flatten' },
          { id: 'fc', op: 'linear', params: { out_features: 4 } },
        ],
      }),
    );
    const file = at('small.onnx');
    ok(await runCli(['export', spec, '--onnx', file, '--dynamic-batch']));
    const [inspect, profile, fromSpec] = await Promise.all([
      runCli(['inspect', file, '--batch', '3', '--json']),
      runCli(['profile', file, '--backend', 'cpu', '--warmup', '0', '--repeat', '1', '--json', '--quiet']),
      runCli(['inspect', spec, '--batch', '3', '--json']),
    ]);
    const r = JSON.parse(ok(inspect).stdout) as Report;
    expect(r.model.input_shape).toEqual([3, 6, 12, 12]);
    expect(r.totals).toEqual((JSON.parse(ok(fromSpec).stdout) as Report).totals);
    const p = JSON.parse(ok(profile).stdout) as Report;
    expect(p.model.input_shape).toEqual([1, 6, 12, 12]);
    expect(p.layers.map((l) => l.id)).toContain('u.shuffle');
    expect(p.totals.time_ms).toBeGreaterThan(0);
  });

  it('run reads external data beside the model and agrees with onnxruntime', async () => {
    const g = new OnnxGraphBuilder('external');
    g.input('x', ['N', 3, 10, 10]);
    g.initializer('w', fillUniform(new Float32Array(16 * 3 * 9), 1, -0.5, 0.5), [16, 3, 3, 3]);
    g.node('Conv', ['x', 'w'], ['c'], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), group: int(1) }, 'conv');
    g.node('Relu', ['c'], ['y'], {}, 'relu');
    g.output('y');
    const ext = g.buildExternal('ext.weights');
    writeFileSync(at('ext.onnx'), ext.model);
    writeFileSync(at(ext.location), ext.data);
    const x = fillUniform(new Float32Array(2 * 3 * 10 * 10), 2, -1, 1);
    writeFileSync(at('x2.npy'), writeNpy([2, 3, 10, 10], x));
    ok(await runCli(['run', at('ext.onnx'), '--input', at('x2.npy'), '--output', at('y2.npy'), '--backend', 'cpu']));
    const got = readNpy(readFileSync(at('y2.npy')));
    expect(got.shape).toEqual([2, 16, 4, 4]);
    expect(relativeError(got.data, await ortRun(at('ext.onnx'), x, [2, 3, 10, 10], 'x', 'y'))).toBeLessThanOrEqual(1e-4);
    rmSync(at(ext.location));
    refused(await runCli(['inspect', at('ext.onnx')]), /external data of .*ext\.onnx: .*ext\.weights: cannot read it \(ENOENT/);
  });

  it('an unsupported op is exit 2 with every type and node named', async () => {
    const g = new OnnxGraphBuilder('unsupported');
    g.input('x', [1, 3, 8, 8]);
    g.node('Sin', ['x'], ['a'], {}, 'act');
    g.node('Tanh', ['a'], ['y'], {}, 'squash');
    g.output('y');
    writeFileSync(at('unsupported.onnx'), g.build());
    refused(await runCli(['inspect', at('unsupported.onnx')]), /2 ONNX op types are not supported by convscope:\n {2}Sin: node "act"\n {2}Tanh \(only inside GELU's tanh form[^\n]*\): node "squash"/);
    writeFileSync(at('garbage.onnx'), 'not a model at all');
    refused(await runCli(['inspect', at('garbage.onnx')]), /garbage\.onnx: not (a readable ONNX file|an ONNX model)/);
  });
});

describe('ONNX files with the data-movement ops', () => {
  it('a ShuffleNet v2 pair of units from torch.onnx.export runs on the cpu as onnxruntime does; a Tanh is refused with node, op type and opset', async () => {
    const file = join(import.meta.dirname, 'data', 'onnx', 'shufflenet_v2_units.onnx');
    const x = fillUniform(new Float32Array(8 * 12 * 12), 6, -1, 1);
    writeFileSync(at('sv2_x.npy'), writeNpy([1, 8, 12, 12], x));
    const [run, inspect] = await Promise.all([
      runCli(['run', file, '--backend', 'cpu', '--input', at('sv2_x.npy'), '--output', at('sv2_y.npy')]),
      runCli(['inspect', file, '--json']),
    ]);
    ok(run);
    const got = readNpy(readFileSync(at('sv2_y.npy')));
    expect(got.shape).toEqual([1, 16, 6, 6]);
    expect(relativeError(got.data, await ortRun(file, x, [1, 8, 12, 12], 'x', 'y'))).toBeLessThanOrEqual(1e-4);
    const ops = (JSON.parse(ok(inspect).stdout) as Report).layers.map((l) => l.op);
    expect(ops.filter((o) => o === 'channel_shuffle')).toHaveLength(2);

    const g = new OnnxGraphBuilder('tanh');
    g.input('x', [1, 3, 8, 8]);
    g.node('Tanh', ['x'], ['y'], {}, 'squash');
    g.output('y');
    writeFileSync(at('tanh.onnx'), g.build({ opset: 17 }));
    refused(await runCli(['inspect', at('tanh.onnx')]), /tanh\.onnx \(ONNX opset 17\): 1 ONNX op type is not supported by convscope:\n {2}Tanh \(only inside GELU's tanh form[^\n]*\): node "squash"/);
  });
});

describe('export refusals', () => {
  it('stochastic pooling in training mode, a file name without .onnx, no --onnx', async () => {
    const spec = at('training.convscope.json');
    writeFileSync(
      spec,
      JSON.stringify({ format: 'convscope/v1', name: 't', input: { shape: [1, 2, 8, 8] }, layers: [{ id: 'sp', op: 'stochastic_pool2d', params: { kernel: 2, training: true } }] }),
    );
    const [training, extension, missing] = await Promise.all([
      runCli(['export', spec, '--onnx', at('t.onnx')]),
      runCli(['export', 'alexnet', '--onnx', at('alexnet.txt')]),
      runCli(['export', 'alexnet']),
    ]);
    refused(training, /layer "sp": stochastic_pool2d in training mode/);
    refused(extension, /--onnx .*alexnet\.txt: give a file name ending in \.onnx/);
    refused(missing, /--onnx/);
  });
});

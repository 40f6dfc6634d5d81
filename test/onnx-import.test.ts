/**
 * Reading ONNX files into the engine (src/engine/onnx/import.ts). Files are built here with
 * OnnxGraphBuilder (or exported by convscope); each hand-built model is also run by
 * onnxruntime-node on the same input, and the engine's forward pass of the imported model must
 * agree with it to 1e-4 of the output's largest magnitude (float32 sums in another order; see
 * test/onnx-roundtrip.test.ts), so a weight read in the wrong layout or a default taken from
 * PyTorch instead of ONNX fails.
 */
import * as ort from 'onnxruntime-node';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNodeInline } from '../src/engine/backends/cpu/reference.ts';
import { SpecError } from '../src/engine/errors.ts';
import { buildPlan, INPUT, ModelWithWeights, type Plan } from '../src/engine/graph/plan.ts';
import { float, floatTensor, int, int64Tensor, ints, OnnxGraphBuilder, string, tensor } from '../src/engine/onnx/builder.ts';
import { exportOnnx } from '../src/engine/onnx/export.ts';
import { importOnnx, type ImportOptions } from '../src/engine/onnx/import.ts';
import { encodeModel } from '../src/engine/onnx/proto.ts';
import { PRESETS } from '../src/engine/presets/index.ts';
import { fillUniform } from '../src/engine/rng.ts';
import { numel, type Shape } from '../src/engine/tensor.ts';
import { makeInput, makeWeights } from '../src/engine/weights.ts';
import type { LayerSpec, ModelSpec } from '../src/shared/spec.ts';

const TOLERANCE = 1e-4;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'convscope-onnx-import-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function imported(bytes: Uint8Array, options: ImportOptions & { batch?: number } = {}): Plan {
  const { spec, weights } = importOnnx(bytes, options);
  return buildPlan(new ModelWithWeights(spec, weights), { batch: options.batch });
}

/** The engine's forward pass, op by op on this thread. */
function forward(plan: Plan, input: Float32Array): Float32Array {
  const weights = makeWeights(plan);
  const values = new Map<string, Float32Array>([[INPUT, input]]);
  for (const node of plan.nodes) values.set(node.id, runNodeInline(node, node.inputs.map((r) => values.get(r)!), weights.get(node.id)!, plan.seed));
  return values.get(plan.output)!;
}

function weight(n: number, seed: number, bound = 0.5): Float32Array {
  return fillUniform(new Float32Array(n), seed, -bound, bound);
}

/** onnxruntime's output for the file (bytes, or a path so that external data resolves). */
async function ortOutput(model: Uint8Array | string, x: Float32Array, shape: Shape, output = 'y'): Promise<Float32Array> {
  const s = typeof model === 'string' ? await ort.InferenceSession.create(model) : await ort.InferenceSession.create(model);
  try {
    const out = (await s.run({ x: new ort.Tensor('float32', x, shape) }))[output];
    return out.data as Float32Array;
  } finally {
    await s.release();
  }
}

function expectClose(got: Float32Array, want: Float32Array): void {
  expect(got.length).toBe(want.length);
  let scale = 1e-30;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / scale);
  expect(worst, `worst |engine - onnxruntime| / max|onnxruntime| (max ${scale})`).toBeLessThanOrEqual(TOLERANCE);
}

/** Imports the file, runs it on a random input in the engine and in onnxruntime, compares; returns the plan. */
async function agreesWithOrt(bytes: Uint8Array, options: ImportOptions & { batch?: number; path?: string } = {}): Promise<Plan> {
  const plan = imported(bytes, options);
  const x = fillUniform(new Float32Array(numel(plan.inputShape)), 5, -2, 2);
  expectClose(forward(plan, x), await ortOutput(options.path ?? bytes, x, plan.inputShape));
  return plan;
}

const ops = (plan: Plan) => plan.nodes.map((n) => n.op);

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

describe('a convscope export reads back as the design it came from', () => {
  const designs: [string, ModelSpec][] = [...PRESETS.values()].map((p) => [p.id, p.build()]);
  const extra = (name: string, layers: LayerSpec[]): [string, ModelSpec] => [name, { format: 'convscope/v1', name, input: { shape: [2, 6, 11, 10] }, seed: 9, layers }];
  designs.push(
    extra('min, stochastic and even-size LRN (the exporter\'s compositions)', [
      { id: 'min', op: 'min_pool2d', params: { kernel: 3, stride: 2, padding: 1, ceil_mode: true } },
      { id: 'stoch', op: 'stochastic_pool2d', params: { kernel: 2, stride: 1, padding: 1 } },
      { id: 'lrn', op: 'lrn', params: { size: 4, alpha: 0.001, beta: 0.6, k: 1.5 } },
      { id: 'lrn5', op: 'lrn', params: { size: 5 } },
      { id: 'r6', op: 'relu6' },
      { id: 'rows', op: 'flatten', params: { start_dim: 2 } },
      { id: 'drop', op: 'dropout', params: { p: 0.25 } },
      { id: 'sm', op: 'softmax', params: { axis: -1 } },
    ]),
    extra('transposed and deformable convolutions, concat along the width, no-bias linear', [
      { id: 'up', op: 'conv_transpose2d', params: { out_channels: 4, kernel: 3, stride: 2, padding: [1, 0, 1, 1], output_padding: 1, groups: 2 } },
      { id: 'dcn', block: 'deformable_conv', params: { out_channels: 4, modulated: true, offset_groups: 2 } },
      { id: 'cat', op: 'concat', params: { axis: 3 }, inputs: ['up', 'dcn'] },
      { id: 'avg', op: 'avg_pool2d', params: { kernel: 2, count_include_pad: false, padding: 1, ceil_mode: true } },
      { id: 'flat', op: 'flatten' },
      { id: 'fc', op: 'linear', params: { out_features: 3, bias: false } },
    ]),
  );

  for (const [name, spec] of designs) {
    it(name, () => {
      const plan = buildPlan(spec);
      const weights = makeWeights(plan);
      const back = imported(exportOnnx(plan, weights));
      expect(back.totals).toEqual(plan.totals);
      expect(back.spec.seed).toBe(plan.seed);
      expect(back.spec.name).toBe(plan.spec.name);
      expect(back.inputShape).toEqual(plan.inputShape);
      // The same ops on the same shapes with the same resolved attributes, ids with "/" as ".".
      const summary = (p: Plan, id: (s: string) => string) => p.nodes.map((n) => ({ id: id(n.id), op: n.op, inputs: n.inputs.map(id), inShapes: n.inShapes, out: n.outShape, attrs: n.attrs }));
      expect(summary(back, (s) => s)).toEqual(summary(plan, (s) => s.replace(/\//g, '.')));
      // The weights come from the file, bit for bit.
      const got = makeWeights(back);
      plan.nodes.forEach((n, i) => {
        const mine = got.get(back.nodes[i].id)!;
        weights.get(n.id)!.forEach((w, k) => expect(sameBits(mine[k], w), `${n.id} ${n.weights[k].name}`).toBe(true));
      });
    });
  }

  it('the file\'s weights, not the seed, drive the forward pass', () => {
    const plan = buildPlan({ format: 'convscope/v1', name: 'w', input: { shape: [1, 2, 4, 4] }, seed: 1, layers: [{ id: 'c', op: 'conv2d', params: { out_channels: 2, kernel: 1 } }] });
    const weights = new Map([['c', [new Float32Array([1, 0, 0, 1]), new Float32Array([10, 20])]]]);
    const back = imported(exportOnnx(plan, weights));
    const x = makeInput(1, [1, 2, 4, 4]);
    const y = forward(back, x);
    expect(Array.from(y.slice(0, 16))).toEqual(Array.from(x.slice(0, 16), (v) => Math.fround(v + 10)));
    expect(Array.from(y.slice(16))).toEqual(Array.from(x.slice(16), (v) => Math.fround(v + 20)));
  });
});

describe('a plan with given weights', () => {
  const spec = { format: 'convscope/v1', name: 'w', input: { shape: [1, 2, 4, 4] }, layers: [{ id: 'c', op: 'conv2d', params: { out_channels: 3, kernel: 1 } }, { id: 'r', op: 'relu' }] };
  it('checks them against every op\'s declared weights', () => {
    const plan = (weights: [string, Float32Array[]][]) => () => buildPlan(spec, { weights: new Map(weights) });
    expect(plan([['c', [new Float32Array(6), new Float32Array(3)]]])).not.toThrow();
    expect(plan([])).toThrow('layer "c": conv2d needs 2 weight tensor(s) (weight, bias), none are given');
    expect(plan([['c', [new Float32Array(5), new Float32Array(3)]]])).toThrow('layer "c": weight [3, 2, 1, 1] needs 6 values, the given tensor has 5');
    expect(plan([['c', [new Float32Array(6), new Float32Array(3)]], ['x', []]])).toThrow('weights are given for "x", which is not an op of the model');
  });
});

describe('linear layers: Gemm and MatMul in their usual forms', () => {
  it('Gemm transB 0 with alpha, beta and C [1, out]; Gemm transB 1 + Add bias; MatMul + Add; bare MatMul', async () => {
    const g = new OnnxGraphBuilder('gemms');
    g.input('x', [2, 3, 4, 4]);
    g.node('Flatten', ['x'], ['flat'], { axis: int(1) }, 'flatten');
    g.initializer('b1', weight(48 * 10, 1), [48, 10]);
    g.initializer('c1', weight(10, 2), [1, 10]);
    g.node('Gemm', ['flat', 'b1', 'c1'], ['h1'], { alpha: float(0.5), beta: float(2) }, 'fc1');
    g.node('Relu', ['h1'], ['a1'], {}, 'relu1');
    g.initializer('w2', weight(8 * 10, 3), [8, 10]);
    g.node('Gemm', ['a1', 'w2'], ['h2'], { transB: int(1) }, 'fc2');
    g.initializer('bias2', weight(8, 4), [8]);
    g.node('Add', ['bias2', 'h2'], ['a2'], {}, 'fc2_bias');
    g.initializer('w3', weight(8 * 6, 5), [8, 6]);
    g.node('MatMul', ['a2', 'w3'], ['h3'], {}, 'fc3');
    g.initializer('bias3', weight(6, 6), [1, 6]);
    g.node('Add', ['h3', 'bias3'], ['a3'], {}, 'fc3_bias');
    g.initializer('w4', weight(6 * 5, 7), [6, 5]);
    g.node('MatMul', ['a3', 'w4'], ['y'], {}, 'fc4');
    g.output('y');
    const plan = await agreesWithOrt(g.build());
    expect(ops(plan)).toEqual(['flatten', 'linear', 'relu', 'linear', 'linear', 'linear']);
    expect(plan.nodes.filter((n) => n.op === 'linear').map((n) => [n.id, n.weights.length])).toEqual([
      ['fc1', 2],
      ['fc2', 2],
      ['fc3', 2],
      ['fc4', 1],
    ]);
    expect(plan.totals.params).toBe(48 * 10 + 10 + 10 * 8 + 8 + 8 * 6 + 6 + 6 * 5);
    expect(plan.totals.macs).toBe(2 * (48 * 10 + 10 * 8 + 8 * 6 + 6 * 5));
  });
});

describe('patterns and constants', () => {
  it('Reshape -> Transpose -> Reshape folds into channel_shuffle, with shapes from Constant nodes (-1 and 0 entries) and initializers', async () => {
    const g = new OnnxGraphBuilder('shuffle');
    g.input('x', [2, 12, 5, 4]);
    g.initializer('w', weight(12 * 4, 8), [12, 4, 1, 1]);
    g.node('Conv', ['x', 'w'], ['c'], { kernel_shape: ints([1, 1]), group: int(3) }, 'gconv');
    g.node('Constant', [], ['split_shape'], { value: tensor(int64Tensor([0, 3, -1, 5, 4])) }, 'split_shape');
    g.node('Reshape', ['c', 'split_shape'], ['grouped'], {}, 'shuffle/split');
    g.node('Transpose', ['grouped'], ['swapped'], { perm: ints([0, 2, 1, 3, 4]) }, 'shuffle/transpose');
    g.int64Initializer('merged', [2, 12, 5, 4]);
    g.node('Reshape', ['swapped', 'merged'], ['s'], {}, 'shuffle');
    g.node('Relu', ['s'], ['y'], {}, 'relu');
    g.output('y');
    const plan = await agreesWithOrt(g.build());
    expect(ops(plan)).toEqual(['conv2d', 'channel_shuffle', 'relu']);
    expect(plan.nodes[1]).toMatchObject({ id: 'shuffle', attrs: { groups: 3 } });
  });

  it('a Transpose that is not a shuffle is the engine\'s transpose', async () => {
    const g = new OnnxGraphBuilder('transpose');
    g.input('x', [1, 4, 3, 3]);
    g.node('Transpose', ['x'], ['y'], { perm: ints([0, 2, 3, 1]) }, 'to_nhwc');
    g.output('y');
    const plan = await agreesWithOrt(g.build());
    expect(plan.nodes.map((n) => [n.id, n.op])).toEqual([['to_nhwc', 'transpose']]);
  });

  it('PyTorch-style graphs: Conv + Add bias, auto_pad SAME_UPPER, ONNX pool defaults, Clip(0, 6), BN, x.view(x.size(0), -1), Dropout, Identity, Softmax', async () => {
    const g = new OnnxGraphBuilder('torchish');
    g.input('x', [2, 3, 9, 9]);
    g.initializer('w1', weight(8 * 3 * 4 * 4, 11), [8, 3, 4, 4]);
    g.node('Conv', ['x', 'w1'], ['c1'], { kernel_shape: ints([4, 4]), strides: ints([2, 2]), auto_pad: string('SAME_UPPER') }, '/features/conv');
    g.initializer('b1', weight(8, 12), [1, 8, 1, 1]);
    g.node('Add', ['c1', 'b1'], ['c1b'], {}, '/features/conv_bias');
    g.node('BatchNormalization', ['c1b', g.initializer('gamma', weight(8, 13, 1), [8]), g.initializer('beta', weight(8, 14), [8]), g.initializer('mean', weight(8, 15), [8]), g.initializer('var', fillUniform(new Float32Array(8), 16, 0.5, 1.5), [8])], ['bn'], { epsilon: float(1e-3) }, '/features/bn');
    g.node('Clip', ['bn', g.initializer('lo', new Float32Array([0]), []), g.initializer('hi', new Float32Array([6]), [])], ['act'], {}, '/features/relu6');
    // ONNX pools: stride 1 and count_include_pad 0 unless given (PyTorch's defaults differ).
    g.node('MaxPool', ['act'], ['mp'], { kernel_shape: ints([2, 2]) }, '/features/maxpool');
    g.node('AveragePool', ['mp'], ['ap'], { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) }, '/features/avgpool');
    g.node('Shape', ['ap'], ['shape'], {}, '/Shape');
    g.node('Gather', ['shape', g.int64Initializer('zero', [0], [])], ['n'], { axis: int(0) }, '/Gather');
    g.node('Unsqueeze', ['n', g.int64Initializer('axes', [0])], ['n1'], {}, '/Unsqueeze');
    g.node('Concat', ['n1', g.int64Initializer('minus_one', [-1])], ['view'], { axis: int(0) }, '/Concat');
    g.node('Reshape', ['ap', 'view'], ['flat'], {}, '/Reshape');
    g.node('Dropout', ['flat', g.initializer('ratio', new Float32Array([0.2]), [])], ['drop'], {}, '/classifier/dropout');
    g.node('Identity', ['drop'], ['same'], {}, '/classifier/identity');
    g.node('Gemm', ['same', g.initializer('fcw', weight(5 * 128, 17), [5, 128]), g.initializer('fcb', weight(5, 18), [5])], ['logits'], { transB: int(1) }, '/classifier/fc');
    g.node('Softmax', ['logits'], ['y'], { axis: int(1) }, '/classifier/softmax');
    g.output('y');
    const plan = await agreesWithOrt(g.build());
    expect(plan.nodes.map((n) => `${n.id}:${n.op}`)).toEqual([
      'features.conv:conv2d',
      'features.bn:batch_norm',
      'features.relu6:relu6',
      'features.maxpool:max_pool2d',
      'features.avgpool:avg_pool2d',
      'Reshape:flatten',
      'classifier.dropout:dropout',
      'classifier.fc:linear',
      'classifier.softmax:softmax',
    ]);
    const conv = plan.spec.layers[0];
    expect(conv.params).toEqual({ out_channels: 8, kernel: 4, stride: 2, padding: [1, 1, 2, 2] });
    expect(plan.spec.layers[3].params).toEqual({ kernel: 2, stride: 1 });
    expect(plan.spec.layers[4].params).toEqual({ kernel: 3, stride: 1, padding: 1, count_include_pad: false });
    expect(plan.spec.layers[1].params).toEqual({ eps: 0.001 });
    expect(plan.spec.layers[6].params).toEqual({ p: 0.2 });
  });
});

describe('external data', () => {
  function externalModel() {
    const g = new OnnxGraphBuilder('external');
    g.input('x', [1, 4, 6, 6]);
    g.initializer('conv.weight', weight(8 * 4 * 3 * 3, 21), [8, 4, 3, 3]);
    g.initializer('conv.bias', weight(8, 22), [8]);
    g.node('Conv', ['x', 'conv.weight', 'conv.bias'], ['c'], { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) }, 'conv');
    g.node('GlobalAveragePool', ['c'], ['p'], {}, 'pool');
    g.node('Flatten', ['p'], ['f'], {}, 'flatten');
    g.initializer('fc.weight', weight(3 * 8, 23), [3, 8]);
    g.initializer('fc.bias', weight(3, 24), [3]);
    g.node('Gemm', ['f', 'fc.weight', 'fc.bias'], ['y'], { transB: int(1) }, 'fc');
    g.output('y');
    return g.buildExternal('weights.bin');
  }

  it('reads TensorProto data_location EXTERNAL from the side file (location, offset, length)', async () => {
    const ext = externalModel();
    const path = join(dir, 'external.onnx');
    writeFileSync(path, ext.model);
    writeFileSync(join(dir, ext.location), ext.data);
    expect(ext.model.length).toBeLessThan(ext.data.length);
    const read: string[] = [];
    const plan = await agreesWithOrt(ext.model, {
      path,
      readExternal: (location) => {
        read.push(location);
        return readFileSync(join(dir, location));
      },
    });
    expect(read).toEqual(['weights.bin']);
    expect(plan.totals.params).toBe(8 * 4 * 9 + 8 + 3 * 8 + 3);
  });

  it('refuses a file it cannot read and a location outside the model\'s folder', () => {
    const ext = externalModel();
    expect(() => importOnnx(ext.model)).toThrow(/stored in the external file "weights.bin", and no way to read it was given/);
    // Same length, so the protobuf framing stays valid.
    const bytes = Buffer.from(Buffer.from(ext.model).toString('latin1').replaceAll('weights.bin', '../ghts.bin'), 'latin1');
    expect(() => importOnnx(bytes, { readExternal: () => ext.data })).toThrow(/"\.\.\/ghts\.bin" is outside the model's folder/);
    expect(() => importOnnx(ext.model, { readExternal: () => ext.data.subarray(0, 100) })).toThrow(/are outside the file \(100 bytes\)/);
  });
});

describe('the batch', () => {
  function dynamic(batchDim: number | string) {
    const g = new OnnxGraphBuilder('dynamic');
    g.input('x', [batchDim, 2, 5, 5]);
    g.node('MaxPool', ['x'], ['p'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }, 'pool');
    g.node('Flatten', ['p'], ['f'], {}, 'flatten');
    g.node('Gemm', ['f', g.initializer('w', weight(4 * 8, 31), [4, 8])], ['y'], { transB: int(1) }, 'fc');
    g.output('y', [batchDim, 4]);
    return g.build();
  }

  it('a symbolic batch is 1 by default and takes --batch', async () => {
    expect(importOnnx(dynamic('N')).spec.input.shape).toEqual([1, 2, 5, 5]);
    expect(importOnnx(dynamic('N'), { batch: 3 }).spec.input.shape).toEqual([3, 2, 5, 5]);
    const plan = await agreesWithOrt(dynamic('batch_size'), { batch: 3 });
    expect(plan.inputShape).toEqual([3, 2, 5, 5]);
    expect(plan.totals.macs).toBe(3 * 8 * 4);
  });

  it('a fixed batch is the file\'s', () => {
    expect(importOnnx(dynamic(2), { batch: 5 }).spec.input.shape).toEqual([2, 2, 5, 5]);
  });
});

describe('what cannot be imported', () => {
  it('lists every unsupported op type with all of its nodes in one error', () => {
    const g = new OnnxGraphBuilder('unsupported');
    g.input('x', [1, 3, 8, 8]);
    g.node('LeakyRelu', ['x'], ['a'], { alpha: float(0.1) }, 'act1');
    g.node('LeakyRelu', ['a'], ['c'], {}, 'act2');
    g.node('Neg', ['c'], ['d'], {}, 'negate');
    g.node('Relu', ['d'], ['e'], {}, 'fine');
    g.node('Custom', ['e'], ['f'], {}, 'mystery');
    g.node('LeakyRelu', ['f'], ['y']);
    g.output('y');
    const m = g.toModel();
    m.graph.node[4].domain = 'com.example';
    m.opset_import.push({ domain: 'com.example', version: 1 });
    let error: unknown;
    try {
      importOnnx(encodeModel(m), { source: 'unsupported.onnx' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SpecError);
    const message = (error as Error).message;
    expect(message).toMatch(/^unsupported.onnx \(ONNX opset 19, domain com.example opset 1\): 3 ONNX op types are not supported by convscope:/);
    expect(message).toContain('LeakyRelu: nodes "act1", "act2", (unnamed, output "y")');
    expect(message).toContain('Neg (only as min pooling, Neg -> MaxPool -> Neg): node "negate"');
    expect(message).toContain('com.example.Custom: node "mystery"');
    expect(message).not.toContain('Relu: node "fine"');
  });

  it('refuses, naming the node, what a supported op cannot express in the engine', () => {
    const one = (build: (g: OnnxGraphBuilder) => void) => {
      const g = new OnnxGraphBuilder('bad');
      g.input('x', [1, 4, 6, 6]);
      build(g);
      g.output('y');
      return () => importOnnx(g.build(), { source: 'bad.onnx' });
    };
    expect(one((g) => g.node('Reshape', ['x', g.int64Initializer('s', [1, 5, -1])], ['y'], {}, 'odd'))).toThrow(
      'bad.onnx: node "odd" (Reshape): cannot reshape [1, 4, 6, 6] to [1, 5, -1]',
    );
    expect(
      one((g) => {
        g.node('Sub', [g.int64Initializer('a', [1, 2]), g.int64Initializer('b', [1, 2, 3])], ['d'], {}, 'minus');
        g.node('Reshape', ['x', 'd'], ['y']);
      }),
    ).toThrow(/node "minus" \(Sub\): cannot be evaluated at import: shapes \[2\] and \[3\] do not broadcast/);
    expect(one((g) => g.node('Erf', ['x'], ['y'], {}, 'erf'))).toThrow(/Erf \(only inside GELU as torch.onnx.export writes it: Div\(x, sqrt 2\) -> Erf -> Add 1 -> Mul x -> Mul 0.5\): node "erf"/);
    expect(one((g) => g.node('LRN', ['x'], ['y'], { size: int(2) }, 'lrn'))).toThrow(/node "lrn" \(LRN\): LRN size 2: ONNX puts the extra channel/);
    expect(one((g) => g.node('MatMul', ['x', 'x'], ['y'], {}, 'attention'))).toThrow(/node "attention" \(MatMul\): the weight \(input 1\) \(input 1 "x"\) must be a constant/);
    expect(one((g) => g.node('Conv', ['x', g.initializer('w', weight(2 * 3 * 9, 1), [2, 3, 3, 3])], ['y'], { kernel_shape: ints([3, 3]) }, 'conv'))).toThrow(
      'node "conv" (Conv): the weight [2, 3, 3, 3] with group 1 takes 3 input channels, the input [1, 4, 6, 6] has 4',
    );
  });

  it('refuses models that are not one float NCHW input', () => {
    const g = new OnnxGraphBuilder('two');
    g.input('a', [1, 2, 3, 3]);
    g.input('b', [1, 2, 3, 3]);
    g.node('Add', ['a', 'b'], ['y']);
    g.output('y');
    expect(() => importOnnx(g.build())).toThrow('convscope models take exactly one input tensor; this graph has 2 ("a", "b")');
    const h = new OnnxGraphBuilder('vector');
    h.input('x', [1, 8]);
    h.node('Relu', ['x'], ['y']);
    h.output('y');
    expect(() => importOnnx(h.build())).toThrow('input "x" has rank 2; convscope models take a 4-D NCHW input');
    const s = new OnnxGraphBuilder('symbolic');
    s.input('x', ['N', 3, 'H', 'W']);
    s.node('Relu', ['x'], ['y']);
    s.output('y');
    expect(() => importOnnx(s.build())).toThrow('dimension 2 is symbolic ("H"); only the batch (dimension 0) may be free');
    expect(() => importOnnx(new TextEncoder().encode('{"format": "convscope/v1"}'))).toThrow(SpecError);
  });
});

describe('the graph output', () => {
  it('is the last layer; read by another node too, it is passed on by an identity (dropout p = 0) at the end', async () => {
    const g = new OnnxGraphBuilder('output read');
    g.input('x', [1, 2, 4, 4]);
    g.node('Relu', ['x'], ['y'], {}, 'act');
    g.node('Sigmoid', ['y'], ['side'], {}, 'side');
    g.node('GlobalMaxPool', ['x'], ['unused'], {}, 'dead_end');
    g.output('y');
    const plan = await agreesWithOrt(g.build());
    expect(plan.spec.layers.map((l) => `${l.id}:${l.op}`)).toEqual(['act:relu', 'side:sigmoid', 'dead_end:global_max_pool', 'output:dropout']);
    expect(plan.spec.layers[3]).toMatchObject({ inputs: ['act'], params: { p: 0 } });
    // Nothing is dropped from the counts: the side branches are profiled too.
    expect(plan.totals.flops).toBe(32 + 32 + 32);
  });

  it('moves to the end when nothing reads it', async () => {
    const g = new OnnxGraphBuilder('output first');
    g.input('x', [1, 2, 4, 4]);
    g.node('Relu', ['x'], ['y'], {}, 'act');
    g.node('Sigmoid', ['x'], ['side'], {}, 'side');
    g.output('y');
    const plan = await agreesWithOrt(g.build());
    expect(plan.nodes.map((n) => n.id)).toEqual(['side', 'act']);
    expect(plan.output).toBe('act');
  });
});

describe('Constant node forms', () => {
  it('value (tensor), value_ints and value_float feed Reshape shapes and Clip bounds', async () => {
    const g = new OnnxGraphBuilder('constants');
    g.input('x', [1, 2, 3, 3]);
    g.node('Constant', [], ['lo'], { value: tensor(floatTensor(new Float32Array([0]), [])) });
    g.node('Constant', [], ['hi'], { value_float: float(6) });
    g.node('Clip', ['x', 'lo', 'hi'], ['c'], {}, 'clip');
    g.node('Constant', [], ['shape'], { value_ints: ints([1, -1]) });
    g.node('Reshape', ['c', 'shape'], ['y'], {}, 'flat');
    g.output('y');
    const plan = await agreesWithOrt(g.build());
    expect(ops(plan)).toEqual(['relu6', 'flatten']);
  });
});

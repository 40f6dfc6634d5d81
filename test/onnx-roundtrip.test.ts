/**
 * `convscope export` against onnxruntime-node: every preset and a set of op and block models is
 * exported with its seeded weights, run by onnxruntime on the seeded input, and compared with
 * the engine's CPU forward pass (CpuBackend, 2 worker threads) in two ways.
 *
 * Per op (OP_TOLERANCE = 1e-4 of the op output's largest magnitude): every engine op is run on
 * onnxruntime's own values of its inputs (the test exposes every intermediate value, which the
 * exporter names after its op id, as a graph output) and compared with onnxruntime's value of its
 * output. This pins each op's translation down independently of the ops before it; observed
 * errors are below 2e-6 (float32 sums in another order: im2col + GEMM against MLAS, float64
 * accumulators in some engine kernels), so a wrong stride, pad, weight layout or constant
 * (which moves outputs by 1e-2 or more) fails.
 *
 * End to end (E2E_TOLERANCE = 5e-3 of the output's largest magnitude): the engine's forward pass
 * against onnxruntime's output of the file as written (default session options). Those last-bit
 * differences compound through depth: the seeded weights are untrained He-uniform and BN
 * statistics are random, so deep presets carry activations of 1e3 to 1e5 and amplify
 * perturbations; se_resnet50, whose sigmoid gates multiply the residual branches 16 times, drifts
 * to about 7e-4 of its output's magnitude at the logits (resnet50, the same net without SE, stays
 * at 1e-6) while every op on its own agrees to 2e-6. 5e-3 leaves a margin over that drift;
 * a mistranslated op shows up as an error of order 1 of the magnitude, and the per-op check
 * catches subtler ones. (xception and alexnet end in softmax, which saturates on such logits: the
 * per-op check is what covers their logits.)
 */
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/engine/backends/cpu/backend.ts';
import { SpecError } from '../src/engine/errors.ts';
import { buildPlan, INPUT, type Plan } from '../src/engine/graph/plan.ts';
import { int, ints, OnnxGraphBuilder } from '../src/engine/onnx/builder.ts';
import { exportOnnx } from '../src/engine/onnx/export.ts';
import { DataType, decodeModel, encodeModel } from '../src/engine/onnx/proto.ts';
import { PRESETS } from '../src/engine/presets/index.ts';
import type { Shape } from '../src/engine/tensor.ts';
import { makeInput, makeWeights } from '../src/engine/weights.ts';
import type { LayerSpec, ModelSpec } from '../src/shared/spec.ts';

const OP_TOLERANCE = 1e-4;
const E2E_TOLERANCE = 5e-3;

const cpu = new CpuBackend(2);
afterAll(() => cpu.dispose());

/** Worst |got - want| relative to max |want|, with where it is; NaN anywhere counts as a failure. */
function compare(got: Float32Array, want: Float32Array, tolerance: number): string | null {
  if (got.length !== want.length) return `length ${got.length}, expected ${want.length}`;
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  scale = Math.max(scale, 1e-30);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) / scale;
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  if (worst <= tolerance) return null;
  return `worst at ${at}: engine ${got[at]}, onnxruntime ${want[at]}; |difference| / max|onnxruntime| = ${worst.toExponential(2)} (max ${scale.toExponential(3)}, tolerance ${tolerance})`;
}

async function session(bytes: Uint8Array, options: ort.InferenceSession.SessionOptions = {}) {
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: 2, ...options });
}

interface RoundTripOptions {
  dynamicBatch?: boolean;
  /** The batch to run at (the file's batch is symbolic with dynamicBatch). */
  runBatch?: number;
}

/**
 * Exports the spec, checks the file's structure, and compares onnxruntime with the engine per op
 * and end to end. Returns the plan it ran.
 */
async function roundTrip(spec: ModelSpec, options: RoundTripOptions = {}): Promise<Plan> {
  const plan = buildPlan(spec);
  const weights = makeWeights(plan);
  const bytes = exportOnnx(plan, weights, { dynamicBatch: options.dynamicBatch });

  const model = decodeModel(bytes);
  expect(model.ir_version).toBe(9);
  expect(model.opset_import).toEqual([{ domain: '', version: 19 }]);
  expect(model.graph.input.map((i) => i.name)).toEqual(['input']);
  expect(model.graph.output.map((o) => o.name)).toEqual(['output']);
  const inDims = model.graph.input[0].type!.tensor_type!.shape!.dim;
  expect(inDims[0]).toEqual(options.dynamicBatch ? { dim_param: 'N' } : { dim_value: plan.inputShape[0] });
  expect(inDims.slice(1).map((d) => d.dim_value)).toEqual(plan.inputShape.slice(1));
  // Each op's result comes from the ONNX node named after the op id.
  const valueOf = new Map<string, string>();
  for (const n of model.graph.node) if (n.name) valueOf.set(n.name, n.output[0]);
  for (const node of plan.nodes) expect(valueOf.has(node.id), `no ONNX node is named "${node.id}"`).toBe(true);
  expect(valueOf.get(plan.output)).toBe('output');

  const run = options.runBatch ? buildPlan(spec, { batch: options.runBatch }) : plan;
  const x = makeInput(run.seed, run.inputShape);
  const feeds = { input: new ort.Tensor('float32', x, run.inputShape) };

  // Every op's value as a graph output, in a session that fuses nothing.
  for (const node of plan.nodes) {
    if (node.id !== plan.output) model.graph.output.push({ name: valueOf.get(node.id)!, type: { tensor_type: { elem_type: DataType.FLOAT } } });
  }
  const all = await session(encodeModel(model), { graphOptimizationLevel: 'disabled' });
  let values: ort.InferenceSession.ReturnType;
  try {
    values = await all.run(feeds);
  } finally {
    await all.release();
  }
  const ortValue = (ref: string) => (ref === INPUT ? x : (values[valueOf.get(ref)!].data as Float32Array));
  const opErrors: string[] = [];
  for (const node of run.nodes) {
    const out = values[valueOf.get(node.id)!];
    expect([...out.dims], `shape of ${node.id}`).toEqual(node.outShape);
    const got = await cpu.runOp(node, node.inputs.map(ortValue), weights.get(node.id)!, run.seed);
    const problem = compare(got, out.data as Float32Array, OP_TOLERANCE);
    if (problem) opErrors.push(`${node.id} (${node.op}): ${problem}`);
  }
  if (opErrors.length > 0) throw new Error(`${opErrors.length} op(s) differ from onnxruntime:\n${opErrors.join('\n')}`);

  const plain = await session(bytes);
  let want: ort.Tensor;
  try {
    want = (await plain.run(feeds)).output;
  } finally {
    await plain.release();
  }
  const prepared = await cpu.prepare(run, weights);
  const got = await prepared.forward(x);
  await prepared.dispose();
  expect([...want.dims]).toEqual(run.outputShape);
  const e2e = compare(got, want.data as Float32Array, E2E_TOLERANCE);
  if (e2e) throw new Error(`end to end: ${e2e}`);
  return plan;
}

function model(name: string, shape: Shape, layers: LayerSpec[], seed = 3): ModelSpec {
  return { format: 'convscope/v1', name, input: { shape }, seed, layers };
}

describe('every preset exported to ONNX runs the same in onnxruntime', () => {
  for (const preset of PRESETS.values()) {
    it(preset.id, async () => {
      await roundTrip(preset.build());
    });
  }
});

describe('ops and blocks exported to ONNX', () => {
  const cases: [string, Shape, LayerSpec[]][] = [
    [
      'convolutions: k x 1 with asymmetric padding, "same" with an even kernel, dilated, grouped, strided, no bias',
      [2, 8, 13, 12],
      [
        { id: 'k31', op: 'conv2d', params: { out_channels: 8, kernel: [3, 1], padding: [1, 0, 1, 0] } },
        { id: 'same', op: 'conv2d', params: { out_channels: 8, kernel: 4, padding: 'same' } },
        { id: 'dil', op: 'conv2d', params: { out_channels: 12, kernel: 3, dilation: 2, padding: 2, groups: 4 } },
        { id: 'down', op: 'conv2d', params: { out_channels: 6, kernel: 3, stride: [2, 1], padding: [0, 1, 2, 1], bias: false } },
      ],
    ],
    [
      'transposed convolutions: stride 2 with output_padding, grouped without bias, dilated',
      [1, 6, 7, 6],
      [
        { id: 'up', op: 'conv_transpose2d', params: { out_channels: 4, kernel: 3, stride: 2, padding: 1, output_padding: 1 } },
        { id: 'grouped', op: 'conv_transpose2d', params: { out_channels: 6, kernel: [2, 3], stride: [2, 1], groups: 2, bias: false } },
        { id: 'dilated', op: 'conv_transpose2d', params: { out_channels: 3, kernel: 3, dilation: 2, padding: [1, 0, 2, 1] } },
      ],
    ],
    [
      'deformable convolutions v1 and v2 (DeformConv), offset groups',
      [1, 4, 9, 8],
      [
        { id: 'v1', block: 'deformable_conv', params: { out_channels: 6, kernel: 3, offset_groups: 2 } },
        { id: 'v2', block: 'deformable_conv', params: { out_channels: 4, kernel: 3, stride: 2, modulated: true, bias: false } },
      ],
    ],
    [
      'pooling: max with dilation and ceil_mode, average without counting padding, min, stochastic (inference), global',
      [2, 5, 15, 14],
      [
        { id: 'max', op: 'max_pool2d', params: { kernel: 3, stride: 2, padding: 1, dilation: 2, ceil_mode: true } },
        { id: 'avg', op: 'avg_pool2d', params: { kernel: 3, stride: 2, padding: 1, ceil_mode: true, count_include_pad: false }, inputs: ['input'] },
        { id: 'avg_pad', op: 'avg_pool2d', params: { kernel: 3, stride: 1, padding: 1 }, inputs: ['input'] },
        { id: 'min', op: 'min_pool2d', params: { kernel: [2, 3], stride: 2, padding: [1, 1] }, inputs: ['input'] },
        { id: 'stochastic', op: 'stochastic_pool2d', params: { kernel: 3, stride: 2, padding: 1 }, inputs: ['input'] },
        { id: 'gmax', op: 'global_max_pool', inputs: ['max'] },
        { id: 'gavg', op: 'global_avg_pool', inputs: ['avg'] },
        { id: 'gstoch', op: 'global_avg_pool', inputs: ['stochastic'] },
        { id: 'gmin', op: 'global_max_pool', inputs: ['min'] },
        { id: 'gpad', op: 'global_avg_pool', inputs: ['avg_pad'] },
        { id: 'join', op: 'concat', inputs: ['gmax', 'gavg', 'gstoch', 'gmin', 'gpad'] },
      ],
    ],
    [
      'normalisation and activations: BN (4-D and 2-D), relu6 as Clip, sigmoid, LRN odd (LRN) and even (written out), softmax',
      [2, 9, 6, 5],
      [
        { id: 'bn', op: 'batch_norm', params: { eps: 1e-3 } },
        { id: 'r6', op: 'relu6' },
        { id: 'lrn3', op: 'lrn', params: { size: 3, alpha: 0.5, beta: 0.75, k: 1 } },
        { id: 'lrn4', op: 'lrn', params: { size: 4, alpha: 0.3, beta: 0.6, k: 1.5 } },
        { id: 'sig', op: 'sigmoid' },
        { id: 'sm_c', op: 'softmax' },
        { id: 'sm_w', op: 'softmax', params: { axis: -1 }, inputs: ['bn'] },
        { id: 'both', op: 'mul', inputs: ['sm_c', 'sm_w'] },
        { id: 'flat', op: 'flatten' },
        { id: 'bn2', op: 'batch_norm' },
        { id: 'fc', op: 'linear', params: { out_features: 7, bias: false } },
        { id: 'sm', op: 'softmax' },
      ],
    ],
    [
      'structure: channel shuffle, broadcast mul and add, concat, flatten to [N, C, H*W] (Reshape), dropout, linear',
      [2, 12, 5, 4],
      [
        { id: 'shuffle', op: 'channel_shuffle', params: { groups: 3 } },
        { id: 'gap', op: 'global_avg_pool', inputs: ['input'] },
        { id: 'scaled', op: 'mul', inputs: ['shuffle', 'gap'] },
        { id: 'shifted', op: 'add', inputs: ['gap', 'scaled'] },
        { id: 'both', op: 'concat', params: { axis: -1 }, inputs: ['shifted', 'input'] },
        { id: 'rows', op: 'flatten', params: { start_dim: 2 } },
        { id: 'drop', op: 'dropout', params: { p: 0.3 } },
        { id: 'flat', op: 'flatten' },
        { id: 'fc', op: 'linear', params: { out_features: 5 } },
      ],
    ],
    [
      'blocks: grouped, separable, depthwise separable, spatial separable, dilated, SE',
      [1, 8, 12, 12],
      [
        { id: 'grouped', block: 'grouped_conv', params: { out_channels: 8, kernel: 3, padding: 1, groups: 2 } },
        { id: 'sep', block: 'separable_conv', params: { out_channels: 16, kernel: 3 } },
        { id: 'dws', block: 'depthwise_separable', params: { out_channels: 16, stride: 2 } },
        { id: 'spatial', block: 'spatial_separable_conv', params: { out_channels: 16, kernel: 3 } },
        { id: 'dilated', block: 'dilated_conv', params: { out_channels: 16, kernel: 3, dilation: 2 } },
        { id: 'se', block: 'se', params: { reduction: 4 } },
      ],
    ],
    [
      'blocks: ShuffleNet units at stride 1 and 2, SE-ResNet bottleneck, Xception modules',
      [1, 24, 16, 16],
      [
        { id: 'u1', block: 'shufflenet_unit', params: { out_channels: 48, groups: 3, stride: 2 } },
        { id: 'u2', block: 'shufflenet_unit', params: { out_channels: 48, groups: 3 } },
        { id: 'b', block: 'se_resnet_bottleneck', params: { out_channels: 64, reduction: 4 } },
        { id: 'entry', block: 'xception_entry', params: { out_channels: 32 } },
        { id: 'middle', block: 'xception_middle' },
        { id: 'exit', block: 'xception_exit', params: { mid_channels: 40, out_channels: 48, tail: [64, 96] } },
      ],
    ],
  ];
  for (const [name, shape, layers] of cases) {
    it(name, async () => {
      await roundTrip(model(name, shape, layers));
    });
  }

  it('a layer called "output" that is not the output, and a dead-end branch, keep their own values', async () => {
    await roundTrip(
      model('names', [1, 3, 6, 6], [
        { id: 'output', op: 'conv2d', params: { out_channels: 4, kernel: 3, padding: 1 } },
        { id: 'unused', op: 'relu' },
        { id: 'last', op: 'sigmoid', inputs: ['output'] },
      ]),
    );
  });
});

describe('--dynamic-batch', () => {
  it('declares the batch "N" and runs at another batch, shuffles and even LRN included (their Reshapes copy the batch)', async () => {
    const plan = await roundTrip(
      model('dynamic', [1, 6, 7, 7], [
        { id: 'shuffle', op: 'channel_shuffle', params: { groups: 2 } },
        { id: 'lrn', op: 'lrn', params: { size: 2, alpha: 1 } },
        { id: 'rows', op: 'flatten', params: { start_dim: 2 } },
        { id: 'flat', op: 'flatten' },
        { id: 'fc', op: 'linear', params: { out_features: 3 } },
      ]),
      { dynamicBatch: true, runBatch: 3 },
    );
    const out = decodeModel(exportOnnx(plan, makeWeights(plan), { dynamicBatch: true })).graph.output[0];
    expect(out.type!.tensor_type!.shape!.dim).toEqual([{ dim_param: 'N' }, { dim_value: 3 }]);
  });
});

describe('what cannot be exported is refused with the reason', () => {
  const exporting = (layers: LayerSpec[]) => () => {
    const plan = buildPlan(model('refused', [1, 4, 8, 8], layers));
    exportOnnx(plan, makeWeights(plan));
  };

  it('conv_transpose2d with output_padding >= stride (legal in PyTorch when below the dilation)', () => {
    const run = exporting([{ id: 'up', op: 'conv_transpose2d', params: { out_channels: 2, kernel: 3, dilation: 2, output_padding: 1 } }]);
    expect(run).toThrow(SpecError);
    expect(run).toThrow(/layer "up": conv_transpose2d with output_padding 1 >= stride 1 \(height\) cannot be exported: .*onnxruntime refuses/);
  });

  it('... which onnxruntime indeed refuses to run', async () => {
    const g = new OnnxGraphBuilder('output_padding');
    g.input('x', [1, 2, 5, 5]);
    g.initializer('w', new Float32Array(2 * 3 * 3 * 3).fill(0.1), [2, 3, 3, 3]);
    g.node('ConvTranspose', ['x', 'w'], ['y'], { kernel_shape: ints([3, 3]), dilations: ints([2, 2]), output_padding: ints([1, 1]), group: int(1) });
    g.output('y');
    const s = await session(g.build(), { logSeverityLevel: 4 });
    await expect(s.run({ x: new ort.Tensor('float32', new Float32Array(50), [1, 2, 5, 5]) })).rejects.toThrow(/output_padding/);
    await s.release();
  });

  it('stochastic_pool2d in training mode, listed together with every other refusal', () => {
    const run = exporting([
      { id: 'sample', op: 'stochastic_pool2d', params: { kernel: 2, training: true } },
      { id: 'up', op: 'conv_transpose2d', params: { out_channels: 2, kernel: 3, dilation: 2, output_padding: 1 } },
    ]);
    expect(run).toThrow(/layer "sample": stochastic_pool2d in training mode .* Set training: false[\s\S]*layer "up": conv_transpose2d/);
  });
});

/**
 * The engine's CPU kernels against onnxruntime-node, an independent implementation, on seeded
 * random tensors. Each case resolves one engine op with planNodeFor, makes its weights and inputs
 * from the seed exactly as a model run would (makeWeight / makeInput), writes the same
 * computation as a one-node (or few-node) ONNX model with those weights as initializers, and
 * compares onnxruntime's output with the engine's, on the calling thread (runNodeInline) and
 * through the worker pool (CpuBackend with 2 threads and no inline threshold).
 *
 * ONNX attributes are written from the case's own parameters, never from the engine's resolved
 * attributes, so a wrong shape or padding rule in the engine shows up as a mismatch.
 *
 * Tolerance: |engine - ort| <= 1e-4 * max(1, |ort|) per element (relative above 1, absolute
 * below). Both sides compute in float32 but in different orders: the engine's im2col + register-
 * tiled GEMM against MLAS's blocked kernels, float64 accumulators in some engine kernels (BN,
 * LRN, softmax) against float32 in onnxruntime, exp/pow from different libms. Summing K float32
 * products in another order moves the result by about sqrt(K) * 2^-24 * sum|terms| typically
 * (K * 2^-24 * sum|terms| at worst); the longest dot products here have K = 363 (11x11x3) with
 * He-uniform weights, which predicts ~1e-5 and is observed at up to ~1.4e-6 (linear, K = 300).
 * 1e-4 leaves that margin while any real indexing bug (a wrong tap, a missing bias, a wrong
 * divisor, a wrong window) moves outputs by 1e-2 or more; a 0.05% change of LRN's k already fails.
 */
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/engine/backends/cpu/backend.ts';
import { runNodeInline } from '../src/engine/backends/cpu/reference.ts';
import { planNodeFor } from '../src/engine/graph/plan.ts';
import { float, int, ints, OnnxGraphBuilder, string, type AttrValue } from '../src/engine/onnx/builder.ts';
import { AttributeType, DataType, decodeModel } from '../src/engine/onnx/proto.ts';
import { fillUniform, hashSeed } from '../src/engine/rng.ts';
import { numel, shapeText, type Shape } from '../src/engine/tensor.ts';
import { makeInput, makeWeight } from '../src/engine/weights.ts';
import type { ParamValue } from '../src/shared/spec.ts';

const TOLERANCE = 1e-4;
const SEED = 11;

const pooled = new CpuBackend(2, 0);
afterAll(() => pooled.dispose());

interface Io {
  /** Graph input names, one per engine input, in order. */
  x: string[];
  /** The initializer holding the engine weight of this declared name. */
  w(name: string): string;
  g: OnnxGraphBuilder;
}

interface OracleCase {
  name: string;
  op: string;
  params: Record<string, ParamValue>;
  shapes: Shape[];
  /** Adds the ONNX nodes computing the op; returns the name of the value to compare. */
  onnx(io: Io): string;
  /** Replaces the seeded U(-1, 1) inputs (e.g. to reach an activation's clipping range). */
  inputs?(shapes: Shape[]): Float32Array[];
  /** Asserts that the data reaches the situation the case is named after. */
  check?(engineOut: Float32Array): void;
}

/** The inputs a model run would see: input 0 as `makeInput`, further inputs from their own keys. */
function seededInputs(shapes: Shape[], scale = 1): Float32Array[] {
  return shapes.map((s, i) => {
    const a = i === 0 ? makeInput(SEED, s) : fillUniform(new Float32Array(numel(s)), hashSeed(SEED, 'input', String(i)), -1, 1);
    if (scale !== 1) for (let j = 0; j < a.length; j++) a[j] *= scale;
    return a;
  });
}

async function runOrt(bytes: Uint8Array, feeds: Record<string, { data: Float32Array; dims: Shape }>, output: string) {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1 });
  try {
    const tensors: Record<string, ort.Tensor> = {};
    for (const [name, { data, dims }] of Object.entries(feeds)) tensors[name] = new ort.Tensor('float32', data, dims);
    const result = (await session.run(tensors))[output];
    return { dims: [...result.dims], data: result.data as Float32Array };
  } finally {
    await session.release();
  }
}

/** How many elements are outside tolerance and the worst of them (NaN counts as outside), or null. */
function mismatch(got: Float32Array, want: Float32Array): string | null {
  if (got.length !== want.length) return `length ${got.length}, expected ${want.length}`;
  let worst = -1;
  let worstErr = 0;
  let bad = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i]));
    if (!(err <= TOLERANCE)) {
      bad++;
      if (worst < 0 || !(err <= worstErr)) {
        worst = i;
        worstErr = err;
      }
    }
  }
  if (bad === 0) return null;
  return `${bad} of ${want.length} elements differ; worst at ${worst}: engine ${got[worst]}, onnxruntime ${want[worst]} (relative error ${worstErr.toExponential(2)}, tolerance ${TOLERANCE})`;
}

function defineCase(c: OracleCase): void {
  it(c.name, async () => {
    const node = planNodeFor(c.op, c.params, c.shapes);
    const weights = node.weights.map((w) => makeWeight(SEED, node.id, w));
    const inputs = c.inputs ? c.inputs(c.shapes) : seededInputs(c.shapes);

    const g = new OnnxGraphBuilder(`${c.op}: ${c.name}`);
    const x = c.shapes.map((s, i) => g.input(`x${i}`, s));
    const names = new Map<string, string>();
    node.weights.forEach((decl, i) => names.set(decl.name, g.initializer(decl.name, weights[i], decl.shape)));
    const w = (name: string) => {
      const n = names.get(name);
      if (n === undefined) throw new Error(`${c.op} declares no weight "${name}" (it declares: ${[...names.keys()].join(', ') || 'none'})`);
      return n;
    };
    const y = c.onnx({ x, w, g });
    g.output(y);
    const feeds = Object.fromEntries(x.map((name, i) => [name, { data: inputs[i], dims: c.shapes[i] }]));
    const want = await runOrt(g.build(), feeds, y);

    expect(node.outShape).toEqual(want.dims);
    const inline = runNodeInline(node, inputs, weights, SEED);
    const inlineErr = mismatch(inline, want.data);
    if (inlineErr) throw new Error(`inline: ${inlineErr}`);
    const viaPool = await pooled.runOp(node, inputs, weights, SEED);
    const poolErr = mismatch(viaPool, want.data);
    if (poolErr) throw new Error(`2 worker threads: ${poolErr}`);
    c.check?.(inline);
  });
}

/** ONNX Conv / ConvTranspose / pool attributes from PyTorch-style numbers. */
interface WindowSpec {
  k: [number, number];
  s?: [number, number];
  /** [top, left, bottom, right]: ONNX's [x1_begin, x2_begin, x1_end, x2_end] is the same order. */
  p?: [number, number, number, number];
  d?: [number, number];
  group?: number;
}

function windowAttrs(spec: WindowSpec): Record<string, AttrValue> {
  return {
    kernel_shape: ints(spec.k),
    strides: ints(spec.s ?? [1, 1]),
    pads: ints(spec.p ?? [0, 0, 0, 0]),
    ...(spec.d ? { dilations: ints(spec.d) } : {}),
    ...(spec.group ? { group: int(spec.group) } : {}),
  };
}

/** Conv with the engine's weight and (when declared) bias. */
function onnxConv(spec: WindowSpec, bias = true) {
  return ({ x, w, g }: Io) => {
    g.node('Conv', [x[0], w('weight'), ...(bias ? [w('bias')] : [])], ['y'], windowAttrs(spec));
    return 'y';
  };
}

describe('ONNX builder and schema', () => {
  it('writes the official field numbers: a model decodes back with every field in place', () => {
    const g = new OnnxGraphBuilder('roundtrip');
    g.input('x', ['N', 2, 3, 3]);
    g.initializer('w', new Float32Array([1.5, -2, 0.25, 8]), [1, 4, 1, 1]);
    g.int64Initializer('shape', [1, -1]);
    g.node('Conv', ['x', 'w'], ['y'], { kernel_shape: ints([1, 1]), group: int(1) }, 'conv');
    g.node('LeakyRelu', ['y'], ['z'], { alpha: float(0.5) });
    g.output('z', ['N', 1, 3, 3]);
    const bytes = g.build({ metadata: { seed: '7' } });
    const m = decodeModel(bytes);
    expect(m.ir_version).toBe(9);
    expect(m.opset_import).toEqual([{ domain: '', version: 19 }]);
    expect(m.metadata_props).toEqual([{ key: 'seed', value: '7' }]);
    expect(m.graph.input[0].type!.tensor_type!.shape!.dim).toEqual([{ dim_param: 'N' }, { dim_value: 2 }, { dim_value: 3 }, { dim_value: 3 }]);
    expect(m.graph.input[0].type!.tensor_type!.elem_type).toBe(DataType.FLOAT);
    const [w, shape] = m.graph.initializer!;
    expect(w.dims).toEqual([1, 4, 1, 1]);
    expect(w.data_type).toBe(DataType.FLOAT);
    // Little-endian IEEE 754: 1.5 is 0x3FC00000.
    expect([...w.raw_data!.slice(0, 4)]).toEqual([0x00, 0x00, 0xc0, 0x3f]);
    expect(new Float32Array(new Uint8Array(w.raw_data!).buffer)).toEqual(new Float32Array([1.5, -2, 0.25, 8]));
    expect(shape.data_type).toBe(DataType.INT64);
    expect(new BigInt64Array(new Uint8Array(shape.raw_data!).buffer)).toEqual(new BigInt64Array([1n, -1n]));
    const [conv, leaky] = m.graph.node;
    expect(conv).toMatchObject({ op_type: 'Conv', name: 'conv', input: ['x', 'w'], output: ['y'] });
    expect(conv.attribute!.map((a) => [a.name, a.type, a.ints])).toEqual([
      ['kernel_shape', AttributeType.INTS, [1, 1]],
      ['group', AttributeType.INT, []],
    ]);
    expect(conv.attribute![1].i).toBe(1);
    expect(leaky.attribute![0]).toMatchObject({ name: 'alpha', type: AttributeType.FLOAT, f: 0.5 });
    expect(m.graph.output[0].name).toBe('z');
  });

  it('is accepted by onnxruntime and computes what it says (hand-checked 2x2 conv)', async () => {
    const g = new OnnxGraphBuilder('hand');
    g.input('x', [1, 1, 3, 3]);
    g.initializer('w', new Float32Array([1, 2, 3, 4]), [1, 1, 2, 2]);
    g.node('Conv', ['x', 'w'], ['y'], { kernel_shape: ints([2, 2]) });
    g.output('y');
    const out = await runOrt(g.build(), { x: { data: Float32Array.from({ length: 9 }, (_, i) => i), dims: [1, 1, 3, 3] } }, 'y');
    // x = [[0,1,2],[3,4,5],[6,7,8]]; y[0,0] = 0*1 + 1*2 + 3*3 + 4*4 = 27, and +10 per step right/+30 down.
    expect(out.dims).toEqual([1, 1, 2, 2]);
    expect([...out.data]).toEqual([27, 37, 57, 67]);
  });

  it('refuses graphs a runtime would reject, naming the value', () => {
    const g = new OnnxGraphBuilder('bad');
    g.input('x', [1, 1, 2, 2]);
    expect(() => g.node('Relu', ['nope'], ['y'])).toThrow('input "nope" is not defined');
    expect(() => g.input('x', [1])).toThrow('value "x" is already defined');
    expect(() => g.initializer('w', new Float32Array(3), [2, 2])).toThrow('need 4 values, got 3');
    expect(() => g.output('y')).toThrow('output "y" is not produced');
    expect(() => g.build()).toThrow('has no outputs');
    expect(() => g.node('Flatten', ['x'], ['f'], { axis: int(1.5) })).toThrow('1.5 is not an integer');
  });
});

describe('conv2d vs ONNX Conv', () => {
  const conv = (name: string, shape: Shape, params: Record<string, ParamValue>, spec: WindowSpec) =>
    defineCase({ name, op: 'conv2d', params, shapes: [shape], onnx: onnxConv(spec, params.bias !== false) });
  conv('standard 3x3', [2, 4, 9, 9], { out_channels: 8, kernel: 3 }, { k: [3, 3] });
  conv('3x3, padding 1, no bias', [1, 5, 8, 7], { out_channels: 6, kernel: 3, padding: 1, bias: false }, { k: [3, 3], p: [1, 1, 1, 1] });
  conv('5x5, stride 2, padding 2', [1, 3, 17, 15], { out_channels: 8, kernel: 5, stride: 2, padding: 2 }, { k: [5, 5], s: [2, 2], p: [2, 2, 2, 2] });
  conv('11x11 stride 4 (AlexNet conv1 shape, smaller input)', [1, 3, 63, 63], { out_channels: 16, kernel: 11, stride: 4, padding: 2 }, { k: [11, 11], s: [4, 4], p: [2, 2, 2, 2] });
  conv('groups 2 (AlexNet two towers)', [1, 8, 10, 10], { out_channels: 12, kernel: 3, padding: 1, groups: 2 }, { k: [3, 3], p: [1, 1, 1, 1], group: 2 });
  conv('depthwise 3x3 stride 2', [2, 16, 12, 12], { out_channels: 16, kernel: 3, stride: 2, padding: 1, groups: 16 }, { k: [3, 3], s: [2, 2], p: [1, 1, 1, 1], group: 16 });
  conv('depthwise with channel multiplier 2', [1, 6, 9, 9], { out_channels: 12, kernel: 3, padding: 1, groups: 6 }, { k: [3, 3], p: [1, 1, 1, 1], group: 6 });
  conv('dilation 2', [1, 4, 15, 15], { out_channels: 6, kernel: 3, dilation: 2, padding: 2 }, { k: [3, 3], d: [2, 2], p: [2, 2, 2, 2] });
  conv('dilation [2, 3] depthwise', [1, 4, 15, 16], { out_channels: 4, kernel: 3, dilation: [2, 3], groups: 4 }, { k: [3, 3], d: [2, 3], group: 4 });
  conv('1x1 pointwise', [2, 32, 7, 7], { out_channels: 24, kernel: 1 }, { k: [1, 1] });
  conv('1x1 stride 2 (ResNet downsample)', [1, 16, 14, 14], { out_channels: 8, kernel: 1, stride: 2, bias: false }, { k: [1, 1], s: [2, 2] });
  conv('7x1 with asymmetric padding [t, l, b, r] = [3, 0, 2, 1]', [1, 4, 12, 10], { out_channels: 5, kernel: [7, 1], padding: [3, 0, 2, 1] }, { k: [7, 1], p: [3, 0, 2, 1] });
  conv('1x7 with padding [0, 3]', [1, 4, 10, 12], { out_channels: 5, kernel: [1, 7], padding: [0, 3] }, { k: [1, 7], p: [0, 3, 0, 3] });
  conv('"same" with stride 2 on an even size (extra padding bottom/right)', [1, 3, 10, 10], { out_channels: 4, kernel: 3, stride: 2, padding: 'same' }, { k: [3, 3], s: [2, 2], p: [0, 0, 1, 1] });
  conv('large im2col: several column tiles per group', [1, 64, 24, 24], { out_channels: 32, kernel: 3, padding: 1, groups: 2 }, { k: [3, 3], p: [1, 1, 1, 1], group: 2 });
});

describe('conv_transpose2d vs ONNX ConvTranspose', () => {
  const convT = (name: string, shape: Shape, params: Record<string, ParamValue>, spec: WindowSpec, outputPadding?: [number, number]) =>
    defineCase({
      name,
      op: 'conv_transpose2d',
      params,
      shapes: [shape],
      onnx: ({ x, w, g }) => {
        const bias = params.bias !== false ? [w('bias')] : [];
        g.node('ConvTranspose', [x[0], w('weight'), ...bias], ['y'], {
          ...windowAttrs(spec),
          ...(outputPadding ? { output_padding: ints(outputPadding) } : {}),
        });
        return 'y';
      },
    });
  convT('3x3 stride 1', [1, 6, 7, 7], { out_channels: 4, kernel: 3 }, { k: [3, 3] });
  convT('4x4 stride 2 padding 1 (2x upsampling)', [2, 8, 6, 6], { out_channels: 4, kernel: 4, stride: 2, padding: 1 }, { k: [4, 4], s: [2, 2], p: [1, 1, 1, 1] });
  convT('3x3 stride 2 padding 1 output_padding 1', [1, 4, 5, 6], { out_channels: 6, kernel: 3, stride: 2, padding: 1, output_padding: 1 }, { k: [3, 3], s: [2, 2], p: [1, 1, 1, 1] }, [1, 1]);
  convT('groups 2, stride [2, 3], no bias', [1, 6, 5, 4], { out_channels: 4, kernel: [3, 2], stride: [2, 3], groups: 2, bias: false }, { k: [3, 2], s: [2, 3], group: 2 });
  convT('depthwise (groups = channels) stride 2', [1, 8, 6, 6], { out_channels: 8, kernel: 3, stride: 2, padding: 1, groups: 8, output_padding: 1 }, { k: [3, 3], s: [2, 2], p: [1, 1, 1, 1], group: 8 }, [1, 1]);
  convT('dilation 2, asymmetric padding', [1, 3, 6, 7], { out_channels: 5, kernel: 3, dilation: 2, padding: [1, 0, 2, 1] }, { k: [3, 3], d: [2, 2], p: [1, 0, 2, 1] });
});

/** Offsets U(-2.5, 2.5): fractional, some pointing outside the input to reach the border rules. */
function deformInputs(shapes: Shape[]): Float32Array[] {
  const [x, offset, mask] = seededInputs(shapes);
  for (let i = 0; i < offset.length; i++) offset[i] *= 2.5;
  if (mask) for (let i = 0; i < mask.length; i++) mask[i] = 0.5 * (mask[i] + 1); // a sigmoid's range, (0, 1)
  return mask ? [x, offset, mask] : [x, offset];
}

describe('deform_conv2d vs ONNX DeformConv (opset 19)', () => {
  const deform = (name: string, shapes: Shape[], params: Record<string, ParamValue>, spec: WindowSpec, offsetGroup = 1) =>
    defineCase({
      name,
      op: 'deform_conv2d',
      params,
      shapes,
      inputs: deformInputs,
      onnx: ({ x, w, g }) => {
        // DeformConv's inputs: X, W, offset, B, mask (B and mask optional; "" skips B).
        const bias = params.bias !== false ? w('bias') : '';
        const ins = [x[0], w('weight'), x[1], ...(x[2] ? [bias, x[2]] : bias ? [bias] : [])];
        g.node('DeformConv', ins, ['y'], { ...windowAttrs(spec), offset_group: int(offsetGroup) });
        return 'y';
      },
    });
  deform('v1 3x3 padding 1', [[1, 4, 8, 8], [1, 18, 8, 8]], { out_channels: 6, kernel: 3, padding: 1 }, { k: [3, 3], p: [1, 1, 1, 1] });
  deform('v2 (mask) 3x3 padding 1, batch 2', [[2, 4, 7, 7], [2, 18, 7, 7], [2, 9, 7, 7]], { out_channels: 6, kernel: 3, padding: 1 }, { k: [3, 3], p: [1, 1, 1, 1] });
  deform('v1 offset_groups 2, stride 2', [[1, 4, 9, 9], [1, 36, 4, 4]], { out_channels: 4, kernel: 3, stride: 2, offset_groups: 2 }, { k: [3, 3], s: [2, 2] }, 2);
  deform('v2 offset_groups 2, groups 2, dilation 2, no bias', [[1, 8, 10, 10], [1, 36, 6, 6], [1, 18, 6, 6]], { out_channels: 6, kernel: 3, dilation: 2, groups: 2, offset_groups: 2, bias: false }, { k: [3, 3], d: [2, 2], group: 2 }, 2);
  deform('v2 offset_groups 2, 2x3 kernel, asymmetric padding', [[1, 6, 7, 8], [1, 24, 7, 8], [1, 12, 7, 8]], { out_channels: 4, kernel: [2, 3], padding: [1, 1, 0, 1], offset_groups: 2 }, { k: [2, 3], p: [1, 1, 0, 1] }, 2);

  // Independent of DeformConv's implementation in onnxruntime: with zero offsets and a unit mask a
  // deformable convolution is a plain convolution, so it must match ONNX Conv.
  defineCase({
    name: 'zero offsets and unit mask equal ONNX Conv',
    op: 'deform_conv2d',
    params: { out_channels: 6, kernel: 3, padding: 1, stride: 2, offset_groups: 2 },
    shapes: [[1, 4, 9, 9], [1, 36, 5, 5], [1, 18, 5, 5]],
    inputs: (shapes) => [seededInputs(shapes)[0], new Float32Array(numel(shapes[1])), new Float32Array(numel(shapes[2])).fill(1)],
    onnx: ({ x, w, g }) => {
      g.node('Conv', [x[0], w('weight'), w('bias')], ['y'], windowAttrs({ k: [3, 3], s: [2, 2], p: [1, 1, 1, 1] }));
      // The offset and mask inputs must still be graph inputs: feed them through a no-op.
      g.node('Identity', [x[1]], ['unused_offset']);
      g.node('Identity', [x[2]], ['unused_mask']);
      return 'y';
    },
  });
});

describe('linear vs ONNX Gemm (transB = 1)', () => {
  const gemm = (name: string, shape: Shape, params: Record<string, ParamValue>) =>
    defineCase({
      name,
      op: 'linear',
      params,
      shapes: [shape],
      onnx: ({ x, w, g }) => {
        g.node('Gemm', [x[0], w('weight'), ...(params.bias !== false ? [w('bias')] : [])], ['y'], { transB: int(1) });
        return 'y';
      },
    });
  gemm('256 -> 100, batch 3', [3, 256], { out_features: 100 });
  gemm('batch 1, no bias', [1, 130], { out_features: 70, bias: false });
  gemm('batch 37 (several batch tiles)', [37, 300], { out_features: 129 });
});

describe('pooling vs ONNX MaxPool / AveragePool / Global*Pool', () => {
  const pool = (op: string, onnxOp: 'MaxPool' | 'AveragePool', name: string, shape: Shape, params: Record<string, ParamValue>, spec: WindowSpec, extra: Record<string, AttrValue> = {}) =>
    defineCase({
      name,
      op,
      params,
      shapes: [shape],
      onnx: ({ x, g }) => {
        g.node(onnxOp, [x[0]], ['y'], { ...windowAttrs(spec), ...extra });
        return 'y';
      },
    });
  const max = (name: string, shape: Shape, params: Record<string, ParamValue>, spec: WindowSpec, ceil = false) =>
    pool('max_pool2d', 'MaxPool', name, shape, params, spec, ceil ? { ceil_mode: int(1) } : {});
  max('3x3 stride 2 (AlexNet overlapping)', [2, 8, 13, 13], { kernel: 3, stride: 2 }, { k: [3, 3], s: [2, 2] });
  max('2x2 default stride', [1, 6, 10, 8], { kernel: 2 }, { k: [2, 2], s: [2, 2] });
  max('3x3 stride 2 padding 1 (ResNet stem)', [1, 4, 15, 16], { kernel: 3, stride: 2, padding: 1 }, { k: [3, 3], s: [2, 2], p: [1, 1, 1, 1] });
  max('ceil_mode 2x2 on 7x7', [1, 3, 7, 7], { kernel: 2, ceil_mode: true }, { k: [2, 2], s: [2, 2] }, true);
  max('ceil_mode 3x3 stride 2 on 14x14 (Xception-style)', [1, 3, 14, 14], { kernel: 3, stride: 2, ceil_mode: true }, { k: [3, 3], s: [2, 2] }, true);
  max('ceil_mode with padding: last window would start in the padding', [1, 2, 5, 5], { kernel: 2, stride: 2, padding: 1, ceil_mode: true }, { k: [2, 2], s: [2, 2], p: [1, 1, 1, 1] }, true);
  max('dilation 2', [1, 3, 11, 12], { kernel: 3, stride: 1, dilation: 2 }, { k: [3, 3], d: [2, 2] });
  max('dilation 2, padding 1, ceil_mode', [1, 3, 10, 9], { kernel: 3, stride: 2, dilation: 2, padding: 1, ceil_mode: true }, { k: [3, 3], s: [2, 2], d: [2, 2], p: [1, 1, 1, 1] }, true);
  max('kernel [3, 1], asymmetric padding [1, 0, 0, 0]', [1, 2, 6, 5], { kernel: [3, 1], stride: 1, padding: [1, 0, 0, 0] }, { k: [3, 1], p: [1, 0, 0, 0] });

  const avg = (name: string, shape: Shape, params: Record<string, ParamValue>, spec: WindowSpec, includePad: boolean, ceil = false) =>
    pool('avg_pool2d', 'AveragePool', name, shape, params, spec, { count_include_pad: int(includePad ? 1 : 0), ...(ceil ? { ceil_mode: int(1) } : {}) });
  avg('2x2 stride 2', [2, 4, 8, 8], { kernel: 2 }, { k: [2, 2], s: [2, 2] }, true);
  avg('3x3 stride 1 padding 1, count_include_pad', [1, 4, 7, 6], { kernel: 3, stride: 1, padding: 1 }, { k: [3, 3], p: [1, 1, 1, 1] }, true);
  avg('3x3 stride 1 padding 1, count_include_pad = false', [1, 4, 7, 6], { kernel: 3, stride: 1, padding: 1, count_include_pad: false }, { k: [3, 3], p: [1, 1, 1, 1] }, false);
  avg('3x3 stride 2 padding 1 (ShuffleNet shortcut), count_include_pad', [1, 6, 14, 14], { kernel: 3, stride: 2, padding: 1 }, { k: [3, 3], s: [2, 2], p: [1, 1, 1, 1] }, true);
  avg('ceil_mode 2x2 on 7x7, count_include_pad = false', [1, 3, 7, 7], { kernel: 2, ceil_mode: true, count_include_pad: false }, { k: [2, 2], s: [2, 2] }, false, true);
  avg('ceil_mode 2x2 on 7x7, count_include_pad (no padding)', [1, 3, 7, 7], { kernel: 2, ceil_mode: true }, { k: [2, 2], s: [2, 2] }, true, true);
  avg('ceil_mode 3x3 stride 2 padding 1 on 8x8, count_include_pad = false', [1, 3, 8, 8], { kernel: 3, stride: 2, padding: 1, ceil_mode: true, count_include_pad: false }, { k: [3, 3], s: [2, 2], p: [1, 1, 1, 1] }, false, true);
  avg('ceil_mode 3x3 stride 2 padding 1 on 8x8, count_include_pad', [1, 3, 8, 8], { kernel: 3, stride: 2, padding: 1, ceil_mode: true }, { k: [3, 3], s: [2, 2], p: [1, 1, 1, 1] }, true, true);

  const global = (op: string, onnxOp: string, name: string, shape: Shape) =>
    defineCase({
      name,
      op,
      params: {},
      shapes: [shape],
      onnx: ({ x, g }) => {
        g.node(onnxOp, [x[0]], ['y']);
        return 'y';
      },
    });
  global('global_avg_pool', 'GlobalAveragePool', 'global average 7x7', [2, 16, 7, 7]);
  global('global_avg_pool', 'GlobalAveragePool', 'global average 1x13 (non-square)', [1, 5, 1, 13]);
  global('global_max_pool', 'GlobalMaxPool', 'global max 7x7', [2, 16, 7, 7]);
  global('global_max_pool', 'GlobalMaxPool', 'global max 9x4', [1, 5, 9, 4]);
});

describe('min_pool2d as -MaxPool(-x)', () => {
  const min = (name: string, shape: Shape, params: Record<string, ParamValue>, spec: WindowSpec, ceil = false) =>
    defineCase({
      name,
      op: 'min_pool2d',
      params,
      shapes: [shape],
      onnx: ({ x, g }) => {
        g.node('Neg', [x[0]], ['negx']);
        g.node('MaxPool', ['negx'], ['m'], { ...windowAttrs(spec), ...(ceil ? { ceil_mode: int(1) } : {}) });
        g.node('Neg', ['m'], ['y']);
        return 'y';
      },
    });
  min('2x2 stride 2', [2, 4, 8, 8], { kernel: 2 }, { k: [2, 2], s: [2, 2] });
  min('3x3 stride 2 padding 1 (padding never wins)', [1, 4, 9, 10], { kernel: 3, stride: 2, padding: 1 }, { k: [3, 3], s: [2, 2], p: [1, 1, 1, 1] });
  min('dilation 2, ceil_mode', [1, 3, 10, 11], { kernel: 2, stride: 2, dilation: 2, ceil_mode: true }, { k: [2, 2], s: [2, 2], d: [2, 2] }, true);
});

describe('stochastic_pool2d (inference) as AveragePool(r^2) / AveragePool(r), r = Relu(x)', () => {
  const stochastic = (name: string, shape: Shape, params: Record<string, ParamValue>, spec: WindowSpec, check?: OracleCase['check']) =>
    defineCase({
      name,
      op: 'stochastic_pool2d',
      params,
      shapes: [shape],
      check,
      onnx: ({ x, g }) => {
        // sum(r^2)/sum(r) = mean(r^2)/mean(r) as long as both means use the same divisor. A window
        // with no positive value is 0/0 here; the engine defines it as 0, and so does this graph
        // (Where picks 0 wherever mean(r) is not > 0). U(-1, 1) data has such windows: with 2x2
        // windows about 1 in 16.
        const attrs = { ...windowAttrs(spec), count_include_pad: int(1) };
        g.node('Relu', [x[0]], ['r']);
        g.node('Mul', ['r', 'r'], ['r2']);
        g.node('AveragePool', ['r2'], ['num'], attrs);
        g.node('AveragePool', ['r'], ['den'], attrs);
        g.node('Div', ['num', 'den'], ['ratio']);
        g.initializer('zero', new Float32Array([0]), []);
        g.node('Greater', ['den', 'zero'], ['positive']);
        g.node('Where', ['positive', 'ratio', 'zero'], ['y']);
        return 'y';
      },
    });
  stochastic('2x2 stride 2 (has all-zero windows)', [2, 8, 12, 12], { kernel: 2 }, { k: [2, 2], s: [2, 2] }, (out) =>
    expect(out.filter((v) => v === 0).length).toBeGreaterThan(0),
  );
  stochastic('3x3 stride 2', [1, 4, 13, 13], { kernel: 3, stride: 2 }, { k: [3, 3], s: [2, 2] });
  stochastic('3x3 stride 2 padding 1 (padding counts as 0)', [1, 4, 10, 9], { kernel: 3, stride: 2, padding: 1 }, { k: [3, 3], s: [2, 2], p: [1, 1, 1, 1] });
  stochastic('explicit training: false', [1, 2, 6, 6], { kernel: 2, training: false }, { k: [2, 2], s: [2, 2] });
});

describe('batch_norm vs ONNX BatchNormalization (inference)', () => {
  const bn = (name: string, shape: Shape, params: Record<string, ParamValue>, eps = 1e-5) =>
    defineCase({
      name,
      op: 'batch_norm',
      params,
      shapes: [shape],
      onnx: ({ x, w, g }) => {
        g.node('BatchNormalization', [x[0], w('weight'), w('bias'), w('running_mean'), w('running_var')], ['y'], { epsilon: float(eps) });
        return 'y';
      },
    });
  bn('NCHW', [2, 16, 9, 7], {});
  bn('NCHW, eps 1e-3 (Keras)', [1, 8, 5, 5], { eps: 1e-3 }, 1e-3);
  bn('[N, C]', [4, 32], {});
});

describe('layer_norm vs ONNX LayerNormalization (opset 17+)', () => {
  const ln = (name: string, shape: Shape, params: Record<string, ParamValue>, axis: number, eps: number, bias = true, scale = 1) =>
    defineCase({
      name,
      op: 'layer_norm',
      params,
      shapes: [shape],
      inputs: (s) => seededInputs(s, scale),
      onnx: ({ x, w, g }) => {
        g.node('LayerNormalization', [x[0], w('weight'), ...(bias ? [w('bias')] : [])], ['y'], { axis: int(axis), epsilon: float(eps) });
        return 'y';
      },
    });
  ln('the last dim of NHWC [4, 14, 14, 96] (ConvNeXt; 784 rows: two CPU units)', [4, 14, 14, 96], {}, -1, 1e-5);
  ln('normalized_shape [4, 5] = axis -2, eps 1e-6 (ConvNeXt uses 1e-6)', [3, 6, 4, 5], { normalized_shape: [4, 5], eps: 1e-6 }, -2, 1e-6, true, 3);
  ln('axis 1 of NCHW, no bias', [2, 3, 4, 5], { axis: 1, bias: false }, 1, 1e-5, false);
});

describe('reduce_mean / reduce_max vs ONNX ReduceMean / ReduceMax (opset 18+: axes as an input)', () => {
  for (const [op, onnxOp] of [['reduce_mean', 'ReduceMean'], ['reduce_max', 'ReduceMax']] as const) {
    const reduce = (name: string, shape: Shape, axes: number[] | undefined, keepdims: boolean) =>
      defineCase({
        name: `${op}: ${name}`,
        op,
        params: { ...(axes ? { axes } : {}), ...(keepdims ? {} : { keepdims: false }) },
        shapes: [shape],
        onnx: ({ x, g }) => {
          const inputs = [x[0], ...(axes ? [g.int64Initializer('axes', axes)] : [])];
          g.node(onnxOp, inputs, ['y'], { keepdims: int(keepdims ? 1 : 0) });
          return 'y';
        },
      });
    reduce('H and W of NCHW, keepdims', [2, 16, 9, 9], [2, 3], true);
    reduce('axis -1 of [N, T, C], no keepdims', [2, 10, 48], [-1], false);
    reduce('axes 0 and 2 (interleaved)', [3, 4, 5, 6], [0, 2], true);
    reduce('every axis (no axes input)', [2, 3, 4, 5], undefined, true);
  }
});

describe('activations vs ONNX Relu / Sigmoid / Clip / Softmax / LRN', () => {
  const unary = (op: string, name: string, shape: Shape, build: (io: Io) => string, params: Record<string, ParamValue> = {}, scale = 1) =>
    defineCase({ name, op, params, shapes: [shape], inputs: (s) => seededInputs(s, scale), onnx: build });
  const single = (onnxOp: string, attrs: Record<string, AttrValue> = {}) => ({ x, g }: Io) => {
    g.node(onnxOp, [x[0]], ['y'], attrs);
    return 'y';
  };
  // 2*8*72*72 = 82,944 elements: more than one 65,536-element unit, so the pool splits the work.
  unary('relu', 'relu', [2, 8, 72, 72], single('Relu'));
  unary('sigmoid', 'sigmoid, inputs in (-8, 8)', [2, 8, 72, 72], single('Sigmoid'), {}, 8);
  unary('relu6', 'relu6 as Clip(0, 6), inputs in (-10, 10)', [2, 8, 72, 72], ({ x, g }) => {
    g.initializer('lo', new Float32Array([0]), []);
    g.initializer('hi', new Float32Array([6]), []);
    g.node('Clip', [x[0], 'lo', 'hi'], ['y']);
    return 'y';
  }, {}, 10);
  unary('softmax', 'softmax over 1000 classes, logits in (-10, 10)', [3, 1000], single('Softmax', { axis: int(1) }), {}, 10);
  unary('softmax', 'softmax over channels of NCHW (axis 1)', [2, 10, 5, 6], single('Softmax', { axis: int(1) }), {}, 5);
  unary('softmax', 'softmax over the last axis (axis -1)', [2, 3, 4, 50], single('Softmax', { axis: int(-1) }), { axis: -1 }, 5);
  unary('lrn', 'LRN AlexNet (size 5, alpha 1e-4, beta 0.75, k 2)', [2, 12, 9, 9], single('LRN', { size: int(5), alpha: float(1e-4), beta: float(0.75), bias: float(2) }), { size: 5, alpha: 1e-4, beta: 0.75, k: 2 }, 30);
  unary('lrn', 'LRN strong (size 3, alpha 1, beta 0.75, k 1)', [1, 7, 6, 5], single('LRN', { size: int(3), alpha: float(1), beta: float(0.75), bias: float(1) }), { size: 3, alpha: 1, beta: 0.75, k: 1 }, 2);
  // onnxruntime's LRN kernel refuses even sizes (it checks size % 2 == 1), so an even size is
  // checked against PyTorch's definition (the engine's convention) written out with ONNX ops:
  // F.local_response_norm pads size//2 channels before and (size-1)//2 after, so for size 4 the
  // window is two channels before and one after. (ONNX's LRN puts the extra channel after c:
  // the two conventions agree only for odd sizes.)
  unary('lrn', 'LRN even size 4 against the PyTorch formula (sum of squares as a [size, 1] Conv)', [2, 9, 4, 5], ({ x, g }) => {
    const [n, c, h, w] = [2, 9, 4, 5];
    const size = 4;
    const [alpha, beta, k] = [0.5, 0.5, 1];
    g.node('Mul', [x[0], x[0]], ['sq']);
    g.int64Initializer('cols', [n, 1, c, h * w]);
    g.node('Reshape', ['sq', 'cols'], ['sq_cols']);
    g.initializer('ones', new Float32Array(size).fill(1), [1, 1, size, 1]);
    g.node('Conv', ['sq_cols', 'ones'], ['sums'], windowAttrs({ k: [size, 1], p: [Math.floor(size / 2), 0, Math.floor((size - 1) / 2), 0] }));
    g.int64Initializer('nchw', [n, c, h, w]);
    g.node('Reshape', ['sums', 'nchw'], ['sum']);
    g.initializer('scale', new Float32Array([alpha / size]), []);
    g.initializer('k', new Float32Array([k]), []);
    g.initializer('beta', new Float32Array([beta]), []);
    g.node('Mul', ['sum', 'scale'], ['scaled']);
    g.node('Add', ['scaled', 'k'], ['base']);
    g.node('Pow', ['base', 'beta'], ['den']);
    g.node('Div', [x[0], 'den'], ['y']);
    return 'y';
  }, { size: 4, alpha: 0.5, beta: 0.5, k: 1 }, 2);
  unary('dropout', 'dropout is Identity at inference', [2, 8, 72, 72], single('Dropout'), { p: 0.3 });
});

describe('activations vs ONNX HardSwish / HardSigmoid / Clip / SiLU / GELU compositions', () => {
  const unary = (op: string, name: string, shape: Shape, build: (io: Io) => string, params: Record<string, ParamValue> = {}, scale = 1) =>
    defineCase({ name, op, params, shapes: [shape], inputs: (s) => seededInputs(s, scale), onnx: build });
  const scalar = (g: OnnxGraphBuilder, name: string, v: number) => g.initializer(name, new Float32Array([v]), []);
  unary('hardswish', 'hardswish vs HardSwish, inputs in (-5, 5)', [2, 8, 72, 72], ({ x, g }) => {
    g.node('HardSwish', [x[0]], ['y']);
    return 'y';
  }, {}, 5);
  unary('hardsigmoid', "hardsigmoid with ONNX's alpha 0.2, beta 0.5 vs HardSigmoid", [2, 8, 9, 9], ({ x, g }) => {
    g.node('HardSigmoid', [x[0]], ['y'], { alpha: float(0.2), beta: float(0.5) });
    return 'y';
  }, { alpha: 0.2, beta: 0.5 }, 4);
  unary('hardsigmoid', "hardsigmoid with PyTorch's defaults vs HardSigmoid(alpha 1/6)", [1, 16, 9, 9], ({ x, g }) => {
    g.node('HardSigmoid', [x[0]], ['y'], { alpha: float(1 / 6), beta: float(0.5) });
    return 'y';
  }, {}, 4);
  unary('clip', 'clip(-0.5, 0.25) vs Clip', [2, 3, 9, 9], ({ x, g }) => {
    g.node('Clip', [x[0], scalar(g, 'lo', -0.5), scalar(g, 'hi', 0.25)], ['y']);
    return 'y';
  }, { min: -0.5, max: 0.25 });
  unary('clip', 'clip with max only vs Clip(x, "", max)', [2, 3, 9, 9], ({ x, g }) => {
    g.node('Clip', [x[0], '', scalar(g, 'hi', 0.25)], ['y']);
    return 'y';
  }, { max: 0.25 });
  unary('silu', 'silu vs Mul(x, Sigmoid(x)), inputs in (-8, 8)', [2, 8, 72, 72], ({ x, g }) => {
    g.node('Sigmoid', [x[0]], ['s']);
    g.node('Mul', [x[0], 's'], ['y']);
    return 'y';
  }, {}, 8);
  unary('gelu', 'gelu (erf) vs 0.5 * x * (1 + Erf(x / sqrt 2)), inputs in (-6, 6)', [2, 8, 72, 72], ({ x, g }) => {
    g.node('Div', [x[0], scalar(g, 'sqrt2', Math.SQRT2)], ['d']);
    g.node('Erf', ['d'], ['e']);
    g.node('Add', ['e', scalar(g, 'one', 1)], ['e1']);
    g.node('Mul', [x[0], 'e1'], ['m']);
    g.node('Mul', ['m', scalar(g, 'half', 0.5)], ['y']);
    return 'y';
  }, {}, 6);
  unary('gelu', 'gelu (tanh) vs the tanh formula with Tanh / Pow', [2, 8, 9, 9], ({ x, g }) => {
    g.node('Pow', [x[0], scalar(g, 'three', 3)], ['x3']);
    g.node('Mul', ['x3', scalar(g, 'c', 0.044715)], ['cx3']);
    g.node('Add', [x[0], 'cx3'], ['inner']);
    g.node('Mul', ['inner', scalar(g, 'k', Math.sqrt(2 / Math.PI))], ['u']);
    g.node('Tanh', ['u'], ['t']);
    g.node('Add', ['t', scalar(g, 'one', 1)], ['t1']);
    g.node('Mul', [x[0], 't1'], ['m']);
    g.node('Mul', ['m', scalar(g, 'half', 0.5)], ['y']);
    return 'y';
  }, { approximate: 'tanh' }, 6);
});

describe('structure ops vs ONNX Add / Mul / Concat / Flatten / Reshape-Transpose-Reshape', () => {
  const binary = (op: 'add' | 'sub' | 'mul' | 'div', name: string, a: Shape, b: Shape) =>
    defineCase({
      name,
      op,
      params: {},
      shapes: [a, b],
      onnx: ({ x, g }) => {
        g.node({ add: 'Add', sub: 'Sub', mul: 'Mul', div: 'Div' }[op], [x[0], x[1]], ['y']);
        return 'y';
      },
    });
  for (const op of ['sub', 'div'] as const) {
    binary(op, `${op}: same shape`, [2, 8, 72, 72], [2, 8, 72, 72]);
    binary(op, `${op}: [N, C, 1, 1] with [N, C, H, W] (broadcast first, order kept)`, [2, 16, 1, 1], [2, 16, 9, 9]);
    binary(op, `${op}: [N, 1, H, W] with [1, C, 1, W] (both broadcast)`, [2, 1, 5, 7], [1, 3, 1, 7]);
  }
  const ONNX_BINARY = { add: 'Add', sub: 'Sub', mul: 'Mul', div: 'Div' } as const;
  for (const op of ['add', 'sub', 'mul', 'div'] as const) {
    for (const first of [false, true]) {
      defineCase({
        name: `${op}: one input and a constant [C, 1, 1] operand${first ? ' on the left' : ''}`,
        op,
        params: { weight_shape: [6, 1, 1], weight_value: 0.37, ...(first ? { weight_first: true } : {}) },
        shapes: [[2, 6, 5, 4]],
        onnx: ({ x, w, g }) => {
          g.node(ONNX_BINARY[op], first ? [w('weight'), x[0]] : [x[0], w('weight')], ['y']);
          return 'y';
        },
      });
    }
  }
  for (const op of ['add', 'mul'] as const) {
    binary(op, `${op}: same shape (residual)`, [2, 8, 72, 72], [2, 8, 72, 72]);
    binary(op, `${op}: [1, C, H, W] with [1, C, 1, 1] (SE scaling)`, [1, 16, 9, 9], [1, 16, 1, 1]);
    binary(op, `${op}: [N, C, 1, 1] with [N, C, H, W] (broadcast first)`, [2, 16, 1, 1], [2, 16, 9, 9]);
    binary(op, `${op}: [N, C, H, W] with [C, 1, 1] (lower rank)`, [2, 6, 5, 4], [6, 1, 1]);
    binary(op, `${op}: [N, 1, H, W] with [1, C, 1, W] (both broadcast)`, [2, 1, 5, 7], [1, 3, 1, 7]);
  }

  defineCase({
    name: 'concat of three along channels',
    op: 'concat',
    params: {},
    shapes: [[2, 3, 5, 5], [2, 4, 5, 5], [2, 1, 5, 5]],
    onnx: ({ x, g }) => {
      g.node('Concat', x, ['y'], { axis: int(1) });
      return 'y';
    },
  });
  defineCase({
    name: 'concat along the last axis (axis -1)',
    op: 'concat',
    params: { axis: -1 },
    shapes: [[1, 2, 3, 4], [1, 2, 3, 6]],
    onnx: ({ x, g }) => {
      g.node('Concat', x, ['y'], { axis: int(-1) });
      return 'y';
    },
  });

  const shuffle = (name: string, shape: Shape, groups: number) =>
    defineCase({
      name,
      op: 'channel_shuffle',
      params: { groups },
      shapes: [shape],
      onnx: ({ x, g }) => {
        const [n, c, h, w] = shape;
        g.int64Initializer('split', [n, groups, c / groups, h, w]);
        g.int64Initializer('merged', [n, c, h, w]);
        g.node('Reshape', [x[0], 'split'], ['grouped']);
        g.node('Transpose', ['grouped'], ['swapped'], { perm: ints([0, 2, 1, 3, 4]) });
        g.node('Reshape', ['swapped', 'merged'], ['y']);
        return 'y';
      },
    });
  shuffle('channel_shuffle groups 3 (ShuffleNet g=3)', [2, 12, 5, 5], 3);
  shuffle('channel_shuffle groups 4, 2 channels per group', [1, 8, 3, 4], 4);

  defineCase({
    name: 'flatten [N, C, H, W] -> [N, C*H*W] (Flatten axis 1)',
    op: 'flatten',
    params: {},
    shapes: [[2, 8, 72, 72]],
    onnx: ({ x, g }) => {
      g.node('Flatten', [x[0]], ['y'], { axis: int(1) });
      return 'y';
    },
  });
  defineCase({
    name: 'flatten start_dim 2 -> [N, C, H*W] (Reshape)',
    op: 'flatten',
    params: { start_dim: 2 },
    shapes: [[2, 3, 4, 5]],
    onnx: ({ x, g }) => {
      g.int64Initializer('shape', [2, 3, 20]);
      g.node('Reshape', [x[0], 'shape'], ['y']);
      return 'y';
    },
  });
});

describe('data movement vs ONNX Transpose / Reshape / Slice / Pad / Resize / Concat (any rank)', () => {
  const moved = (op: string, name: string, shapes: Shape[], params: Record<string, ParamValue>, onnx: (io: Io) => string) => defineCase({ name, op, params, shapes, onnx });
  const transposeCase = (shape: Shape, perm: number[]) =>
    moved('transpose', `transpose ${shapeText(shape)} perm [${perm.join(', ')}]`, [shape], { perm }, ({ x, g }) => {
      g.node('Transpose', [x[0]], ['y'], { perm: ints(perm) });
      return 'y';
    });
  transposeCase([2, 3, 5, 7], [0, 2, 3, 1]);
  transposeCase([2, 3, 5, 7], [3, 1, 0, 2]);
  transposeCase([1, 4, 3, 5, 6], [0, 2, 1, 3, 4]);
  transposeCase([3, 70, 90], [2, 0, 1]);
  transposeCase([6, 5], [1, 0]);

  const reshapeCase = (shape: Shape, target: number[]) =>
    moved('reshape', `reshape ${shapeText(shape)} to [${target.join(', ')}]`, [shape], { shape: target }, ({ x, g }) => {
      g.int64Initializer('shape', target);
      g.node('Reshape', [x[0], 'shape'], ['y']);
      return 'y';
    });
  reshapeCase([2, 6, 4, 5], [0, 3, -1, 5]);
  reshapeCase([2, 6, 4, 5], [-1]);
  reshapeCase([2, 6, 4, 5], [2, 2, 3, 2, 2, 5]);

  const sliceCase = (name: string, shape: Shape, starts: number[], ends: number[], axes: number[], steps: number[]) =>
    moved('slice', `slice ${name}`, [shape], { starts, ends, axes, steps }, ({ x, g }) => {
      g.int64Initializer('starts', starts);
      g.int64Initializer('ends', ends);
      g.int64Initializer('axes', axes);
      g.int64Initializer('steps', steps);
      g.node('Slice', [x[0], 'starts', 'ends', 'axes', 'steps'], ['y']);
      return 'y';
    });
  sliceCase('channel halves (ShuffleNet v2 split)', [2, 8, 5, 5], [4], [8], [1], [1]);
  sliceCase('negative step over H and W with clamping', [1, 3, 9, 8], [100, -2], [-100, 0], [2, 3], [-2, -3]);
  sliceCase('starts below 0, ends past the size, steps 3', [2, 5, 7, 11], [-100, 1], [100, 100], [3, 1], [3, 2]);
  sliceCase('5-D, three axes', [2, 3, 4, 5, 6], [1, 0, -3], [2, 4, 6], [0, 2, 4], [1, 3, 1]);

  const padCase = (name: string, shape: Shape, pads: number[], mode: 'constant' | 'reflect' | 'edge', axes?: number[], value?: number) =>
    moved('pad', `pad ${name}`, [shape], { pads, mode, ...(axes ? { axes } : {}), ...(value !== undefined ? { value } : {}) }, ({ x, g }) => {
      g.int64Initializer('pads', pads);
      const ins = [x[0], 'pads'];
      if (value !== undefined || axes) {
        if (value !== undefined) g.initializer('value', new Float32Array([value]), []);
        ins.push(value !== undefined ? 'value' : '');
      }
      if (axes) {
        g.int64Initializer('axes', axes);
        ins.push('axes');
      }
      g.node('Pad', ins, ['y'], { mode: string(mode) });
      return 'y';
    });
  padCase('constant on H and W', [2, 3, 6, 7], [0, 0, 1, 2, 0, 0, 3, 0], 'constant');
  padCase('constant 0.5, axes [2, 3] and a crop', [2, 3, 6, 7], [2, -1, 1, 3], 'constant', [2, 3], 0.5);
  padCase('reflect (F.pad reflect / ReflectionPad2d)', [1, 4, 6, 7], [0, 0, 3, 2, 0, 0, 1, 5], 'reflect');
  padCase('edge (ReplicationPad2d)', [1, 4, 6, 7], [0, 0, 3, 2, 0, 0, 1, 5], 'edge');
  padCase('edge on channels and 3-D', [3, 5, 4], [1, 2, 0, 3, 1, 1], 'edge');

  const resizeCase = (name: string, shape: Shape, params: Record<string, ParamValue>) =>
    moved('resize', `resize ${name}`, [shape], params, ({ x, g }) => {
      const ins = [x[0], ''];
      if (params.scales) {
        g.initializer('scales', new Float32Array([1, 1, ...(params.scales as number[])]), [4]);
        ins.push('scales');
      } else {
        g.int64Initializer('sizes', [shape[0], shape[1], ...(params.sizes as number[])]);
        ins.push('', 'sizes');
      }
      const attrs: Record<string, AttrValue> = { mode: string(params.mode as string ?? 'nearest') };
      if (params.coordinate_transformation_mode) attrs.coordinate_transformation_mode = string(params.coordinate_transformation_mode as string);
      if (params.nearest_mode) attrs.nearest_mode = string(params.nearest_mode as string);
      g.node('Resize', ins, ['y'], attrs);
      return 'y';
    });
  resizeCase('nearest x2 asymmetric floor (nn.Upsample)', [2, 3, 5, 6], { scales: [2, 2], coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
  resizeCase('nearest to [7, 10] with the ONNX defaults (half_pixel, round_prefer_floor)', [1, 3, 5, 6], { sizes: [7, 10] });
  resizeCase('nearest x1.5 half_pixel round_prefer_ceil', [1, 2, 6, 8], { scales: [1.5, 1.5], nearest_mode: 'round_prefer_ceil' });
  resizeCase('nearest downsample to [3, 2] asymmetric ceil', [1, 2, 7, 5], { sizes: [3, 2], coordinate_transformation_mode: 'asymmetric', nearest_mode: 'ceil' });
  resizeCase('nearest to [2, 5] align_corners round_prefer_ceil', [1, 2, 3, 7], { sizes: [2, 5], coordinate_transformation_mode: 'align_corners', nearest_mode: 'round_prefer_ceil' });
  resizeCase('bilinear x2 half_pixel (align_corners=False)', [2, 3, 5, 6], { mode: 'linear', scales: [2, 2] });
  resizeCase('bilinear x2 pytorch_half_pixel', [1, 3, 4, 5], { mode: 'linear', scales: [2, 2], coordinate_transformation_mode: 'pytorch_half_pixel' });
  resizeCase('bilinear to [9, 4] align_corners', [1, 2, 5, 6], { mode: 'linear', sizes: [9, 4], coordinate_transformation_mode: 'align_corners' });
  resizeCase('bilinear x0.5 asymmetric', [1, 2, 8, 6], { mode: 'linear', scales: [0.5, 0.5], coordinate_transformation_mode: 'asymmetric' });
  resizeCase('bilinear x[1.7, 2.3] half_pixel', [1, 2, 5, 6], { mode: 'linear', scales: [1.7, 2.3] });

  const concatCase = (shapes: Shape[], axis: number) =>
    moved('concat', `concat of ${shapes.length} ${shapes[0].length}-D along axis ${axis}`, shapes, { axis }, ({ x, g }) => {
      g.node('Concat', x, ['y'], { axis: int(axis) });
      return 'y';
    });
  concatCase([[2, 3, 4], [2, 5, 4]], 1);
  concatCase([[2, 3, 4, 5, 2], [2, 3, 4, 1, 2], [2, 3, 4, 3, 2]], 3);
  concatCase([[3, 7], [3, 2]], -1);
  concatCase([[1, 4, 6], [2, 4, 6]], 0);
});

/**
 * ONNX import of the data-movement ops (Transpose, Reshape, Slice, Split, Pad, Resize / Upsample,
 * Squeeze / Unsqueeze) and of the constant shape arithmetic torch.onnx.export emits around them.
 * Real exporter output: the fixtures in test/data/onnx/ were written by torch.onnx.export at opset
 * 17 (make_shape_fixtures.py). Every model is also run by onnxruntime-node on the same input; the
 * engine's forward pass (on this thread and on WebGPU) must agree with it to 1e-4 of the output's
 * largest magnitude.
 */
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNodeInline } from '../src/engine/backends/cpu/reference.ts';
import { resolveBackend } from '../src/engine/backends/registry.ts';
import type { Backend } from '../src/engine/backends/types.ts';
import { buildPlan, INPUT, ModelWithWeights, type Plan } from '../src/engine/graph/plan.ts';
import type { ModelSpec } from '../src/shared/spec.ts';
import { int, int64Tensor, ints, OnnxGraphBuilder, string, tensor } from '../src/engine/onnx/builder.ts';
import { exportOnnx } from '../src/engine/onnx/export.ts';
import { importOnnx } from '../src/engine/onnx/import.ts';
import { encodeModel } from '../src/engine/onnx/proto.ts';
import { fillUniform } from '../src/engine/rng.ts';
import { numel } from '../src/engine/tensor.ts';
import { makeWeights } from '../src/engine/weights.ts';
import { WEBGPU_TESTS } from './helpers/webgpu.ts';

const TOLERANCE = 1e-4;
const FIXTURES = join(import.meta.dirname, 'data', 'onnx');

let gpu: Backend | null = null;
beforeAll(async () => {
  if (WEBGPU_TESTS) gpu = (await resolveBackend('webgpu')).backend;
});
afterAll(() => gpu?.dispose());

function imported(bytes: Uint8Array): Plan {
  const { spec, weights } = importOnnx(bytes, { source: 'model.onnx' });
  return buildPlan(new ModelWithWeights(spec, weights));
}

function forward(plan: Plan, input: Float32Array): Float32Array {
  const weights = makeWeights(plan);
  const values = new Map<string, Float32Array>([[INPUT, input]]);
  for (const node of plan.nodes) values.set(node.id, runNodeInline(node, node.inputs.map((r) => values.get(r)!), weights.get(node.id)!, plan.seed));
  return values.get(plan.output)!;
}

async function ortOutput(bytes: Uint8Array, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes);
  try {
    return (await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, shape) }))[s.outputNames[0]].data as Float32Array;
  } finally {
    await s.release();
  }
}

function expectClose(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length, what).toBe(want.length);
  let scale = 1e-30;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / scale);
  expect(worst, `${what}: worst |engine - onnxruntime| / max|onnxruntime| (max ${scale})`).toBeLessThanOrEqual(TOLERANCE);
}

/** Imports, runs on the CPU reference and WebGPU and in onnxruntime, compares; returns the plan. */
async function agreesWithOrt(bytes: Uint8Array): Promise<Plan> {
  const plan = imported(bytes);
  const x = fillUniform(new Float32Array(numel(plan.inputShape)), 5, -2, 2);
  const want = await ortOutput(bytes, x, plan.inputShape);
  expect(plan.outputShape.reduce((a, b) => a * b, 1)).toBe(want.length);
  expectClose(forward(plan, x), want, 'cpu');
  if (gpu) {
    const prepared = await gpu.prepare(plan, makeWeights(plan));
    try {
      expectClose(await prepared.forward(x), want, 'webgpu');
    } finally {
      await prepared.dispose?.();
    }
  }
  return plan;
}

const ops = (plan: Plan) => plan.nodes.map((n) => n.op);
/** The spec parameters of the imported layers of one op (or of all layers), in order. */
const paramsOf = (plan: Plan, op?: string) => plan.spec.layers.filter((l) => op === undefined || l.op === op).map((l) => l.params);
const fixture = (name: string) => new Uint8Array(readFileSync(join(FIXTURES, name)));

describe('torch.onnx.export output (opset 17)', () => {
  it('two torchvision ShuffleNet v2 units: chunk as Slice from folded Shape/Gather/Add/Div/Mul, shuffle as channel_shuffle', async () => {
    const plan = await agreesWithOrt(fixture('shufflenet_v2_units.onnx'));
    expect(ops(plan).filter((o) => o === 'channel_shuffle')).toHaveLength(2);
    expect(ops(plan).filter((o) => o === 'slice')).toHaveLength(2);
    expect(ops(plan)).not.toContain('transpose');
    // x.chunk(2, dim=1) of 16 channels: 8..16 to branch 2, 0..8 passed on.
    const halves = paramsOf(plan, 'slice');
    expect(halves).toEqual(expect.arrayContaining([{ starts: [0], ends: [8], axes: [1] }, { starts: [8], ends: [16], axes: [1] }]));
  });

  it('nn.Upsample nearest x2 and F.interpolate bilinear to a size (align_corners False and True)', async () => {
    const plan = await agreesWithOrt(fixture('upsampling.onnx'));
    expect(paramsOf(plan, 'resize')).toEqual([
      { scales: [2, 2], coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' },
      // torch 1.13 writes align_corners=False as half_pixel (the ONNX default, so not in the spec).
      { mode: 'linear', sizes: [11, 13] },
      { mode: 'linear', sizes: [11, 13], coordinate_transformation_mode: 'align_corners' },
    ]);
    // 2 bilinear resizes of 4 channels to 11x13: 6 FLOPs per output.
    expect(plan.nodes.filter((n) => n.op === 'resize').map((n) => n.counts.flops)).toEqual([0, 6 * 4 * 11 * 13, 6 * 4 * 11 * 13]);
  });

  it('ReflectionPad2d, ReplicationPad2d, F.pad(value=0.5): the pads from folded ConstantOfShape/Concat/Reshape/Slice/Transpose', async () => {
    const plan = await agreesWithOrt(fixture('padding.onnx'));
    expect(paramsOf(plan, 'pad')).toEqual([
      { pads: [2, 1, 1, 2], axes: [2, 3], mode: 'reflect' },
      { pads: [1, 1, 1, 1], axes: [2, 3], mode: 'edge' },
      { pads: [2, 0, 0, 1], axes: [2, 3], value: 0.5 },
    ]);
  });

  it('permute, reshape(-1), strided and negative slicing, torch.split, unsqueeze / squeeze, flatten', async () => {
    const plan = await agreesWithOrt(fixture('views.onnx'));
    expect(ops(plan)).toEqual(expect.arrayContaining(['transpose', 'reshape', 'slice', 'concat']));
  });
});

describe('hand-built graphs across opsets', () => {
  const base = (name: string, shape: number[]) => {
    const g = new OnnxGraphBuilder(name);
    g.input('x', shape);
    return g;
  };

  it('Transpose with any perm and without one (reversed); the identity perm adds no layer', async () => {
    const g = base('t', [1, 3, 4, 5]);
    g.node('Transpose', ['x'], ['a'], { perm: ints([0, 2, 3, 1]) }, 'nhwc');
    g.node('Transpose', ['a'], ['b'], {}, 'reversed');
    g.node('Transpose', ['b'], ['y'], { perm: ints([0, 1, 2, 3]) }, 'same');
    g.output('y');
    const plan = await agreesWithOrt(g.build());
    expect(ops(plan)).toEqual(['transpose', 'transpose']);
    expect(paramsOf(plan)[1]).toEqual({ perm: [3, 2, 1, 0] });
    expect(plan.outputShape).toEqual([3, 5, 4, 1]);
  });

  it('Reshape that is not a flatten becomes reshape, keeping the batch as 0; a flatten stays flatten', async () => {
    const g = base('r', [2, 4, 6, 6]);
    g.node('Reshape', ['x', g.int64Initializer('s1', [2, 6, 4, 6])], ['a'], {}, 'swap');
    g.node('Reshape', ['a', g.int64Initializer('s2', [0, -1])], ['y'], {}, 'flat');
    g.output('y');
    const plan = await agreesWithOrt(g.build());
    expect(ops(plan)).toEqual(['reshape', 'flatten']);
    expect(paramsOf(plan)[0]).toEqual({ shape: [0, 6, 4, 6] });
  });

  it('Slice: inputs with negative steps (opset 19), attributes (opset 9), and a whole-axis Slice that adds nothing', async () => {
    const g = base('s', [1, 4, 7, 9]);
    g.node('Slice', ['x', g.int64Initializer('b', [-1, 1]), g.int64Initializer('e', [-Number.MAX_SAFE_INTEGER, 100]), g.int64Initializer('ax', [3, 1]), g.int64Initializer('st', [-2, 2])], ['a'], {}, 'rev');
    g.node('Slice', ['a', g.int64Initializer('b2', [0]), g.int64Initializer('e2', [Number.MAX_SAFE_INTEGER]), g.int64Initializer('ax2', [2])], ['y'], {}, 'whole');
    g.output('y');
    const plan = await agreesWithOrt(g.build());
    expect(ops(plan)).toEqual(['slice']);
    // Width 9 from 8 down by 2: 8, 6, 4, 2, 0; the end "before 0" written as -10.
    expect(paramsOf(plan)[0]).toEqual({ starts: [8, 1], ends: [-10, 5], axes: [3, 1], steps: [-2, 2] });
    expect(plan.outputShape).toEqual([1, 2, 7, 5]);

    const old = base('s9', [1, 4, 7, 9]);
    old.node('Slice', ['x'], ['y'], { starts: ints([1, -3]), ends: ints([3, 1000]), axes: ints([1, 3]) }, 'cut');
    old.output('y');
    const p9 = await agreesWithOrt(old.build({ opset: 9, irVersion: 7 }));
    expect(p9.outputShape).toEqual([1, 2, 7, 3]);
  });

  it('Split: the split input (13+), the split attribute (11), num_outputs (18), equal parts; unused outputs add no layer', async () => {
    const g = base('sp', [1, 6, 4, 4]);
    g.node('Split', ['x', g.int64Initializer('sizes', [1, 2, 3])], ['a', 'b', 'c'], { axis: int(1) }, 'three');
    g.node('Mul', ['a', 'c'], ['ac']);
    g.node('Split', ['b'], ['b0', 'b1'], { axis: int(-3), num_outputs: int(2) }, 'halves');
    g.node('Mul', ['b0', 'b1'], ['bb']);
    g.node('Concat', ['ac', 'bb'], ['y'], { axis: int(1) });
    g.output('y');
    const plan = await agreesWithOrt(g.build());
    expect(plan.nodes.filter((n) => n.op === 'slice').map((n) => n.id)).toEqual(['three.0', 'three.1', 'three.2', 'halves.0', 'halves.1']);

    const v11 = base('sp11', [1, 6, 4, 4]);
    v11.node('Split', ['x'], ['a', 'b'], { axis: int(1) }, 'equal');
    v11.node('Split', ['b'], ['c', 'd'], { axis: int(1), split: ints([1, 2]) }, 'uneven');
    v11.node('Relu', ['d'], ['y']);
    v11.output('y');
    const p11 = await agreesWithOrt(v11.build({ opset: 11, irVersion: 7 }));
    expect(ops(p11)).toEqual(['slice', 'slice', 'relu']);
    expect(paramsOf(p11, 'slice')).toEqual([{ starts: [3], ends: [6], axes: [1] }, { starts: [1], ends: [3], axes: [1] }]);

    const v18 = base('sp18', [1, 7, 4, 4]);
    v18.node('Split', ['x'], ['a', 'b', 'c'], { axis: int(1), num_outputs: int(3) }, 'ceil');
    v18.node('Relu', ['c'], ['y']);
    v18.output('y');
    const p18 = await agreesWithOrt(v18.build({ opset: 18 }));
    // 7 in 3: ceil(7 / 3) = 3, 3, 1.
    expect(paramsOf(p18)[0]).toEqual({ starts: [6], ends: [7], axes: [1] });
  });

  it('Pad: inputs with constant_value and axes (19), the attribute form (opset 10), all-zero pads add nothing', async () => {
    const g = base('p', [1, 2, 5, 6]);
    g.node('Pad', ['x', g.int64Initializer('pads', [1, 2, 0, 3]), g.initializer('v', new Float32Array([-0.25]), []), g.int64Initializer('axes', [-1, 1])], ['a'], {}, 'const');
    g.node('Pad', ['a', g.int64Initializer('pads2', [0, 0, 2, 1, 0, 0, 1, 2])], ['b'], { mode: string('reflect') }, 'reflect');
    g.node('Pad', ['b', g.int64Initializer('zero', [0, 0, 0, 0, 0, 0, 0, 0])], ['y'], { mode: string('edge') }, 'nothing');
    g.output('y');
    const plan = await agreesWithOrt(g.build());
    expect(ops(plan)).toEqual(['pad', 'pad']);
    expect(paramsOf(plan)[0]).toEqual({ pads: [1, 2, 0, 3], axes: [3, 1], value: -0.25 });

    const v10 = base('p10', [1, 2, 5, 6]);
    v10.node('Pad', ['x'], ['y'], { pads: ints([0, 0, 1, 1, 0, 0, 2, 2]), mode: string('edge') }, 'edge');
    v10.output('y');
    expect((await agreesWithOrt(v10.build({ opset: 10, irVersion: 7 }))).outputShape).toEqual([1, 2, 8, 9]);
  });

  it('Resize with scales or sizes (13+: empty roi and scales names skipped), Resize-10 and Upsample-9 (asymmetric)', async () => {
    const g = base('rs', [1, 2, 4, 5]);
    g.node('Resize', ['x', '', g.initializer('sc', new Float32Array([1, 1, 1.5, 2]), [4])], ['a'], { mode: string('nearest'), nearest_mode: string('round_prefer_ceil') }, 'near');
    g.node('Resize', ['a', '', '', g.int64Initializer('sz', [1, 2, 5, 7])], ['y'], { mode: string('linear'), coordinate_transformation_mode: string('align_corners') }, 'lin');
    g.output('y');
    const plan = await agreesWithOrt(g.build());
    expect(paramsOf(plan)).toEqual([
      { scales: [1.5, 2], nearest_mode: 'round_prefer_ceil' },
      { mode: 'linear', sizes: [5, 7], coordinate_transformation_mode: 'align_corners' },
    ]);

    for (const [op, opset] of [['Resize', 10], ['Upsample', 9]] as const) {
      const old = base(op, [1, 2, 4, 5]);
      old.node(op, ['x', old.initializer('scales', new Float32Array([1, 1, 2, 3]), [4])], ['y'], { mode: string('nearest') }, 'up');
      old.output('y');
      const p = await agreesWithOrt(old.build({ opset, irVersion: 7 }));
      expect(paramsOf(p)[0]).toEqual({ scales: [2, 3], coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
    }
  });

  it('Squeeze / Unsqueeze of computed tensors (axes as an input at 13+, an attribute at 11) as flatten or reshape', async () => {
    const g = base('sq', [1, 3, 1, 5]);
    g.node('Squeeze', ['x', g.int64Initializer('a1', [2])], ['a'], {}, 'squeeze');
    g.node('Unsqueeze', ['a', g.int64Initializer('a2', [1, -1])], ['y'], {}, 'unsqueeze');
    g.output('y');
    const plan = await agreesWithOrt(g.build());
    expect(plan.outputShape).toEqual([1, 1, 3, 5, 1]);
    expect(ops(plan)).toEqual(['flatten', 'reshape']);

    const v11 = base('sq11', [1, 3, 1, 5]);
    v11.node('Squeeze', ['x'], ['y'], { axes: ints([0, 2]) }, 'squeeze');
    v11.output('y');
    expect((await agreesWithOrt(v11.build({ opset: 11, irVersion: 7 }))).outputShape).toEqual([3, 5]);
  });

  it('Shape, Gather, Range, ConstantOfShape, Slice, Mul and integer Div fold into Reshape targets', async () => {
    const g = base('fold', [2, 3, 4, 5]);
    g.node('Shape', ['x'], ['shape']);
    g.node('Range', [g.int64Initializer('r0', [0], []), g.int64Initializer('r1', [2], []), g.int64Initializer('r2', [1], [])], ['first_two']);
    g.node('Gather', ['shape', 'first_two'], ['nc'], { axis: int(0) });
    g.node('ConstantOfShape', [g.int64Initializer('one', [1])], ['minus_one'], { value: tensor(int64Tensor([-1], [1])) });
    g.node('Concat', ['nc', 'minus_one'], ['t1'], { axis: int(0) });
    g.node('Reshape', ['x', 't1'], ['a'], {}, 'rows');
    g.node('Slice', ['shape', g.int64Initializer('s0', [0]), g.int64Initializer('s1', [1])], ['n']);
    g.node('Mul', [g.int64Initializer('twelve', [12]), g.int64Initializer('ten', [10])], ['p']);
    // 120 / -2 truncates toward zero like ONNX's integer Div: -60; Mul by -1 gives 60.
    g.node('Div', ['p', g.int64Initializer('m2', [-2])], ['q']);
    g.node('Mul', ['q', g.int64Initializer('m1', [-1])], ['r']);
    g.node('Concat', ['n', 'r'], ['t2'], { axis: int(0) });
    g.node('Reshape', ['a', 't2'], ['y'], {}, 'flat');
    g.output('y');
    const plan = await agreesWithOrt(g.build());
    expect(ops(plan)).toEqual(['flatten', 'flatten']);
    expect(plan.outputShape).toEqual([2, 60]);
  });
});

describe('refusals name the node, the op type and the opset', () => {
  const refusal = (build: (g: OnnxGraphBuilder) => void, opset?: number) => {
    const g = new OnnxGraphBuilder('bad');
    g.input('x', [1, 4, 6, 6]);
    build(g);
    g.output('y');
    try {
      importOnnx(g.build(opset ? { opset } : {}), { source: 'bad.onnx' });
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('imported');
  };

  it('an unsupported op lists the model opset and, for another domain, that domain\'s', () => {
    expect(refusal((g) => g.node('Tanh', ['x'], ['y'], {}, 'squash'), 17)).toMatch(/^bad\.onnx \(ONNX opset 17\): 1 ONNX op type is not supported by convscope:\n {2}Tanh \(only inside GELU's tanh form[^\n]*\): node "squash"\n/);
    const g = new OnnxGraphBuilder('custom');
    g.input('x', [1, 4, 6, 6]);
    g.node('FusedThing', ['x'], ['y'], {}, 'fused');
    g.output('y');
    const m = g.toModel();
    m.graph.node[0].domain = 'com.microsoft';
    m.opset_import.push({ domain: 'com.microsoft', version: 1 });
    expect(() => importOnnx(encodeModel(m), { source: 'custom.onnx' })).toThrow(/^custom\.onnx \(ONNX opset 19, domain com\.microsoft opset 1\): 1 ONNX op type is not supported by convscope:\n {2}com\.microsoft\.FusedThing: node "fused"/);
  });

  it('a supported op on inputs it cannot take is a SpecError naming node and opset, never an internal error', () => {
    // A Pad of a constant passes the op-type check and has no engine form.
    const padConst = (g: OnnxGraphBuilder) => {
      g.node('Pad', [g.initializer('w', new Float32Array(4), [1, 1, 2, 2]), g.int64Initializer('p', [0, 0, 1, 1, 0, 0, 1, 1])], ['t'], {}, 'pad_w');
      g.node('Concat', ['x', 't'], ['y'], { axis: int(1) });
    };
    expect(refusal(padConst, 17)).toBe('bad.onnx: node "pad_w" (Pad): Pad on these inputs is not supported by convscope (ONNX opset 17)');
    expect(refusal((g) => g.node('Pad', ['x', g.int64Initializer('p', [0, 0, 1, 1, 0, 0, 1, 1])], ['y'], { mode: string('wrap') }, 'wrap'))).toContain('node "wrap" (Pad): mode "wrap" is not supported');
    expect(refusal((g) => g.node('Resize', ['x', '', g.initializer('s', new Float32Array([1, 2, 2, 2]), [4])], ['y'], {}, 'up'))).toContain('node "up" (Resize): scales [1, 2, 2, 2] must be [1, 1, scale_h, scale_w]');
    expect(refusal((g) => g.node('Resize', ['x', '', g.initializer('s', new Float32Array([1, 1, 2, 2]), [4])], ['y'], { mode: string('cubic') }, 'up'))).toContain('mode "cubic" is not supported');
    expect(refusal((g) => g.node('Slice', ['x', g.int64Initializer('b', [3]), g.int64Initializer('e', [3]), g.int64Initializer('a', [1])], ['y'], {}, 'empty'))).toContain('node "empty" (Slice): selects nothing along axis 1');
    expect(refusal((g) => g.node('Squeeze', ['x', g.int64Initializer('a', [1])], ['y'], {}, 'sq'))).toContain('cannot squeeze axis 1 of [1, 4, 6, 6]: its size is 4');
    expect(refusal((g) => g.node('Split', ['x'], ['y', 'z', 'v'], { axis: int(1) }, 'sp'), 17)).toContain('node "sp" (Split): 4 elements along axis 1 do not split into 3 equal parts');
  });
});

describe('convscope export of the data-movement ops', () => {
  it('writes Transpose, Reshape, Slice, Pad and Resize that onnxruntime runs as the engine does, and that import back as the same ops', async () => {
    const spec: ModelSpec = {
      format: 'convscope/v1',
      name: 'moves',
      input: { shape: [2, 4, 6, 5] },
      seed: 3,
      layers: [
        { id: 'c', op: 'conv2d', params: { out_channels: 6, kernel: 1 } },
        { id: 'up', op: 'resize', params: { mode: 'linear', scales: [1.5, 2], coordinate_transformation_mode: 'align_corners' } },
        { id: 'near', op: 'resize', params: { sizes: [7, 9], nearest_mode: 'round_prefer_ceil' } },
        { id: 'pad', op: 'pad', params: { pads: [1, 0, 2, 3], axes: [2, 3], mode: 'reflect' } },
        { id: 'cpad', op: 'pad', params: { pads: [1, 1], axes: [1], value: 0.5 } },
        { id: 'rev', op: 'slice', params: { starts: [-1, 1], ends: [-100, 7], axes: [3, 1], steps: [-2, 3] } },
        { id: 't', op: 'transpose', params: { perm: [0, 2, 3, 1] } },
        { id: 'r', op: 'reshape', params: { shape: [0, 2, -1] } },
      ],
    };
    const plan = buildPlan(spec);
    const weights = makeWeights(plan);
    const bytes = exportOnnx(plan, weights);
    const x = fillUniform(new Float32Array(numel(plan.inputShape)), 8, -1, 1);
    expectClose(forward(plan, x), await ortOutput(bytes, x, plan.inputShape), 'export');
    const back = imported(bytes);
    expect(ops(back)).toEqual(ops(plan));
    expect(back.outputShape).toEqual(plan.outputShape);
    const counts = (p: Plan) => p.nodes.map((n) => [n.counts.macs, n.counts.flops, n.outShape]);
    expect(counts(back)).toEqual(counts(plan));
  });
});

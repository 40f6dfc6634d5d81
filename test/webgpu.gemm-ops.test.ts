/**
 * The WGSL kernels of linear, conv_transpose2d and deform_conv2d against the CPU reference on
 * seeded tensors: shapes that cross GEMM tile edges along M, N and K, odd sizes, every GEMV batch
 * (1 to 3) and the GEMM from batch 4; every stride phase of a transposed convolution (including
 * phases no tap reaches); deformable sampling at the input's edges (offsets on half-integers hit
 * y = -1 and y = H - 1 exactly) in both deform plans. Then weights and tensors sliced over the
 * binding limit (AlexNet FC6's 151 MB weight at the real 128 MiB limit, and small limits that
 * force many slices), and activations fused into all three ops in prepared models.
 * Tolerance 1e-4 relative, as test/ops.data.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/engine/backends/cpu/backend.ts';
import { runNodeInline } from '../src/engine/backends/cpu/reference.ts';
import type { WebGpuBackend } from '../src/engine/backends/webgpu/backend.ts';
import { buildPlan, planNodeFor, type Plan, type PlanNode } from '../src/engine/graph/plan.ts';
import { getOp } from '../src/engine/ops/registry.ts';
import type { GpuLimits, GpuOpPlan } from '../src/engine/ops/types.ts';
import { numel } from '../src/engine/tensor.ts';
import { makeInput, makeWeights } from '../src/engine/weights.ts';
import type { LayerSpec, ParamValue } from '../src/shared/spec.ts';
import { WEBGPU_TESTS, expectClose, openTestBackend, seeded } from './helpers/webgpu.ts';

interface Case {
  name: string;
  inputs: number[][];
  params: Record<string, ParamValue>;
  /** Offsets (input 1 of deform_conv2d) as multiples of 0.5 in [-4, 4] instead of U(-scale, scale). */
  halfSteps?: boolean;
  /** Scale of the offsets (input 1 of deform_conv2d). */
  scale?: number;
}

function setup(op: string, c: Case) {
  const node = planNodeFor(op, c.params, c.inputs);
  const inputs = c.inputs.map((shape, i) => {
    const v = seeded(numel(shape), 1 + i);
    if (op === 'deform_conv2d' && i === 1) {
      for (let j = 0; j < v.length; j++) v[j] = c.halfSteps ? Math.round(v[j] * 8) / 2 : v[j] * (c.scale ?? 2.5);
    }
    return v;
  });
  const weights = node.weights.map((w, i) => seeded(numel(w.shape), 10 + i));
  return { node, inputs, weights, want: runNodeInline(node, inputs, weights, 0) };
}

function planOf(node: PlanNode, limits: GpuLimits): GpuOpPlan {
  return getOp(node.op)!.webgpu!.plan({
    attrs: node.attrs,
    inShapes: node.inShapes,
    outShape: node.outShape,
    weightShapes: node.weights.map((w) => w.shape),
    limits,
    seed: 0,
  });
}

const LINEAR: Case[] = [
  { name: 'N = 1, 1000 -> 77: vec4 GEMV, a last workgroup of 1 feature', inputs: [[1, 1000]], params: { out_features: 77 } },
  { name: 'N = 1, 1001 -> 33, no bias: scalar GEMV', inputs: [[1, 1001]], params: { out_features: 33, bias: false } },
  { name: 'N = 2, 516 -> 130', inputs: [[2, 516]], params: { out_features: 130 } },
  { name: 'N = 3, 7 -> 9 (in smaller than the workgroup)', inputs: [[3, 7]], params: { out_features: 9 } },
  { name: 'N = 4: the GEMM, 37 -> 70', inputs: [[4, 37]], params: { out_features: 70 } },
  { name: 'N = 67, 300 -> 130: ragged tiles along M, N and K', inputs: [[67, 300]], params: { out_features: 130 } },
  { name: 'N = 33, 64 -> 65, no bias', inputs: [[33, 64]], params: { out_features: 65, bias: false } },
];

const CONV_T: Case[] = [
  { name: '4x4 stride 2 pad 1, 64 -> 32 @ 14 (4 phases of 2x2 taps)', inputs: [[1, 64, 14, 14]], params: { out_channels: 32, kernel: 4, stride: 2, padding: 1 } },
  { name: '3x3 stride 2 pad 1 output_padding 1, 5 -> 7, odd sizes', inputs: [[2, 5, 9, 7]], params: { out_channels: 7, kernel: 3, stride: 2, padding: 1, output_padding: 1 } },
  { name: 'kernel 5, stride 3, dilation 2 (gcd 1), groups 2', inputs: [[1, 6, 5, 6]], params: { out_channels: 4, kernel: 5, stride: 3, dilation: 2, groups: 2 } },
  { name: 'stride 2, dilation 2: odd phases get no tap, only bias', inputs: [[1, 3, 5, 5]], params: { out_channels: 5, kernel: 3, stride: 2, dilation: 2, output_padding: 1 } },
  { name: '1x1 stride 3: 8 of 9 phases bias only', inputs: [[2, 4, 4, 3]], params: { out_channels: 3, kernel: 1, stride: 3, output_padding: 2 } },
  { name: 'asymmetric padding [2, 0, 1, 3], stride [2, 3], kernel [3, 4]', inputs: [[1, 3, 6, 5]], params: { out_channels: 4, kernel: [3, 4], stride: [2, 3], padding: [2, 0, 1, 3] } },
  { name: 'stride 1, 3x3 pad 1: one phase, K = 9 C_in', inputs: [[1, 20, 11, 13]], params: { out_channels: 70, kernel: 3, padding: 1, bias: false } },
  { name: 'batch 3, groups 4, stride 2, kernel 2', inputs: [[3, 8, 5, 5]], params: { out_channels: 12, kernel: 2, stride: 2, groups: 4 } },
];

const DEFORM: Case[] = [
  { name: 'v1 3x3 pad 1, 64 -> 64 @ 12', inputs: [[1, 64, 12, 12], [1, 18, 12, 12]], params: { out_channels: 64, kernel: 3, padding: 1 } },
  {
    name: 'v2, offsets on half-integers (points exactly at -1 and H - 1)',
    inputs: [[1, 5, 7, 6], [1, 18, 7, 6], [1, 9, 7, 6]],
    params: { out_channels: 7, kernel: 3, padding: 1 },
    halfSteps: true,
  },
  {
    name: 'v2, groups 2, offset_groups 4, stride 2, dilation 2, no bias, batch 2',
    inputs: [[2, 8, 11, 9], [2, 72, 5, 4], [2, 36, 5, 4]],
    params: { out_channels: 6, kernel: 3, stride: 2, dilation: 2, padding: 1, groups: 2, offset_groups: 4, bias: false },
    scale: 4,
  },
  {
    name: 'v2, kernel [2, 3], offset_groups 3 spanning the weight groups, 70 output channels',
    inputs: [[1, 6, 9, 10], [1, 36, 8, 8], [1, 18, 8, 8]],
    params: { out_channels: 70, kernel: [2, 3], offset_groups: 3, groups: 2 },
  },
  { name: 'offsets far outside the input (all samples zero but some)', inputs: [[1, 3, 5, 5], [1, 18, 5, 5]], params: { out_channels: 2, kernel: 3, padding: 1 }, scale: 40 },
];

describe.skipIf(!WEBGPU_TESTS)('WebGPU', () => {
  let gpu: WebGpuBackend;
  let fourBuffers: WebGpuBackend;
  beforeAll(async () => {
    gpu = await openTestBackend();
    fourBuffers = await openTestBackend({ planLimits: { maxStorageBuffersPerShaderStage: 4 } });
  });
  afterAll(async () => {
    await gpu?.dispose();
    await fourBuffers?.dispose();
  });
  const limitsOf = (b: WebGpuBackend) => b.limits as unknown as GpuLimits;

  describe('linear matches the CPU reference', () => {
    for (const c of LINEAR) {
      it(c.name, async () => {
        const { node, inputs, weights, want } = setup('linear', c);
        expectClose(await gpu.runOp(node, inputs, weights, 0), want);
      });
    }
  });

  describe('conv_transpose2d matches the CPU reference', () => {
    for (const c of CONV_T) {
      it(c.name, async () => {
        const { node, inputs, weights, want } = setup('conv_transpose2d', c);
        expectClose(await gpu.runOp(node, inputs, weights, 0), want);
      });
    }
  });

  describe('deform_conv2d matches the CPU reference', () => {
    for (const c of DEFORM) {
      it(`fused: ${c.name}`, async () => {
        const { node, inputs, weights, want } = setup('deform_conv2d', c);
        expect(planOf(node, limitsOf(gpu)).dispatches).toHaveLength(1);
        expectClose(await gpu.runOp(node, inputs, weights, 0), want);
      });
      it(`4 storage buffers (sampling, then GEMM): ${c.name}`, async () => {
        const { node, inputs, weights, want } = setup('deform_conv2d', c);
        const plan = planOf(node, limitsOf(fourBuffers));
        expect(plan.dispatches).toHaveLength(2);
        for (const d of plan.dispatches) expect(d.bindings.length).toBeLessThanOrEqual(4);
        expectClose(await fourBuffers.runOp(node, inputs, weights, 0), want);
      });
    }
  });

  describe('weights and tensors larger than one binding are sliced', () => {
    it("AlexNet FC6 (9216 -> 4096, 151 MB) at the device's own limit: one dispatch per weight slice", async () => {
      const { node, inputs, weights, want } = setup('linear', { name: 'fc6', inputs: [[1, 9216]], params: { out_features: 4096 } });
      const limits = { ...limitsOf(gpu), maxStorageBufferBindingSize: Math.min(limitsOf(gpu).maxStorageBufferBindingSize, 128 * 1024 ** 2) };
      const plan = planOf(node, limits);
      expect(plan.dispatches).toHaveLength(2);
      const fc6 = limits.maxStorageBufferBindingSize === limitsOf(gpu).maxStorageBufferBindingSize ? gpu : await openTestBackend({ planLimits: limits });
      try {
        expectClose(await fc6.runOp(node, inputs, weights, 0), want);
      } finally {
        if (fc6 !== gpu) await fc6.dispose();
      }
    }, 60_000);

    // 24 KiB per binding with a 256-byte offset alignment: slices start mid-way into aligned ranges.
    const planLimits: Partial<GpuLimits> = { maxStorageBufferBindingSize: 24 * 1024, minStorageBufferOffsetAlignment: 256 };
    let small: WebGpuBackend;
    let smallFour: WebGpuBackend;
    beforeAll(async () => {
      small = await openTestBackend({ planLimits });
      smallFour = await openTestBackend({ planLimits: { ...planLimits, maxStorageBuffersPerShaderStage: 4 } });
    });
    afterAll(async () => {
      await small?.dispose();
      await smallFour?.dispose();
    });

    const sliced: [string, string, Case, number][] = [
      ['linear', 'GEMV, 1000 -> 70: 12 weight slices', { name: '', inputs: [[1, 1000]], params: { out_features: 70 } }, 12],
      ['linear', 'GEMV, batch 3, in 999 (scalar), no bias', { name: '', inputs: [[3, 999]], params: { out_features: 20, bias: false } }, 4],
      ['linear', 'GEMM, batch 21, 500 -> 70: 2 batch chunks x (a transpose + 6 weight slices)', { name: '', inputs: [[21, 500]], params: { out_features: 70 } }, 2 * 7],
      ['conv_transpose2d', 'stride 2, batch 5: 3 chunks x 4 phases', { name: '', inputs: [[5, 4, 10, 10]], params: { out_channels: 6, kernel: 3, stride: 2, padding: 1, output_padding: 1 } }, 3 * 4],
      ['deform_conv2d', 'v2, batch 5: 2 chunks', { name: '', inputs: [[5, 4, 9, 9], [5, 18, 9, 9], [5, 9, 9, 9]], params: { out_channels: 6, kernel: 3, padding: 1 } }, 2],
    ];
    for (const [op, name, c, dispatches] of sliced) {
      it(`${op}: ${name}`, async () => {
        const { node, inputs, weights, want } = setup(op, c);
        const plan = planOf(node, { ...limitsOf(small), ...planLimits });
        expect(plan.dispatches).toHaveLength(dispatches);
        expectClose(await small.runOp(node, inputs, weights, 0), want);
        if (op === 'deform_conv2d') {
          const split = planOf(node, { ...limitsOf(smallFour), ...planLimits, maxStorageBuffersPerShaderStage: 4 });
          // The scratch (6 floats per sample) takes more room than x: more chunks, two dispatches each.
          expect(split.dispatches.length).toBeGreaterThan(2 * dispatches);
          expectClose(await smallFour.runOp(node, inputs, weights, 0), want);
        }
      });
    }

    it('refuses a weight row larger than a binding, naming the op and the limit', async () => {
      const { node, inputs, weights } = setup('linear', { name: '', inputs: [[1, 6500]], params: { out_features: 2 } });
      await expect(small.runOp(node, inputs, weights, 0)).rejects.toThrow(/op "linear" \(linear\) cannot run on this GPU: one weight row of .* exceeds .*maxStorageBufferBindingSize/);
    });
  });

  describe('activations fuse into linear, conv_transpose2d and deform_conv2d', () => {
    const cpu = new CpuBackend(1);
    afterAll(() => cpu.dispose());

    function model(layers: LayerSpec[], input: number[]): Plan {
      return buildPlan({ format: 'convscope/v1', name: 'fusion', input: { shape: input }, seed: 3, layers });
    }
    async function forward(backend: WebGpuBackend | CpuBackend, plan: Plan) {
      const m = await backend.prepare(plan, makeWeights(plan));
      try {
        return { out: await m.forward(makeInput(plan.seed, plan.inputShape)), fused: [...(m.fusedInto ?? [])] };
      } finally {
        await m.dispose();
      }
    }

    const models: [string, number[], LayerSpec[], [string, string][]][] = [
      [
        'batch 1: flatten -> linear -> relu -> linear -> relu, as GEMVs',
        [1, 16, 3, 3],
        [
          { id: 'f', op: 'flatten' },
          { id: 'fc1', op: 'linear', params: { out_features: 50 } },
          { id: 'r1', op: 'relu' },
          { id: 'fc2', op: 'linear', params: { out_features: 10 } },
          { id: 'r2', op: 'relu' },
        ],
        [
          ['r1', 'fc1'],
          ['r2', 'fc2'],
        ],
      ],
      [
        'batch 6: linear -> relu as the tiled GEMM',
        [6, 16, 3, 3],
        [
          { id: 'f', op: 'flatten' },
          { id: 'fc', op: 'linear', params: { out_features: 70 } },
          { id: 'r', op: 'relu' },
        ],
        [['r', 'fc']],
      ],
      [
        'conv_transpose2d -> relu6, deform_conv2d -> sigmoid',
        [1, 4, 6, 6],
        [
          { id: 'up', op: 'conv_transpose2d', params: { out_channels: 8, kernel: 4, stride: 2, padding: 1 } },
          { id: 'r6', op: 'relu6' },
          { id: 'off', op: 'conv2d', params: { out_channels: 18, kernel: 3, padding: 1 } },
          { id: 'dcn', op: 'deform_conv2d', params: { out_channels: 5, kernel: 3, padding: 1 }, inputs: ['r6', 'off'] },
          { id: 's', op: 'sigmoid' },
        ],
        [
          ['r6', 'up'],
          ['s', 'dcn'],
        ],
      ],
    ];
    for (const [name, input, layers, fused] of models) {
      it(name, async () => {
        const plan = model(layers, input);
        const want = (await forward(cpu, plan)).out;
        const got = await forward(gpu, plan);
        expect(got.fused).toEqual(fused);
        expectClose(got.out, want);
        // The split deform plan applies the activation too.
        expectClose((await forward(fourBuffers, plan)).out, want);
      });
    }
  });
});

/**
 * conv2d's WGSL kernels against the CPU reference, over shapes chosen to reach every kernel
 * (implicit GEMM, 1x1 GEMM with and without vec4, depthwise), every tile size and the ragged edges
 * of tiles along M, N and K; and tensors sliced across dispatches when they exceed the binding
 * limit. Tolerance 1e-4 relative: the GPU sums in another order than the CPU.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNodeInline } from '../src/engine/backends/cpu/reference.ts';
import type { WebGpuBackend } from '../src/engine/backends/webgpu/backend.ts';
import { planNodeFor } from '../src/engine/graph/plan.ts';
import { conv2dWgsl } from '../src/engine/ops/conv2d/wgsl.ts';
import type { GpuLimits } from '../src/engine/ops/types.ts';
import type { ParamValue } from '../src/shared/spec.ts';
import { numel } from '../src/engine/tensor.ts';
import { WEBGPU_TESTS, expectClose, openTestBackend, seeded } from './helpers/webgpu.ts';

interface ConvCase {
  name: string;
  input: number[];
  params: Record<string, ParamValue>;
}

const CASES: ConvCase[] = [
  { name: '3x3 pad 1, 64 -> 64 (64 x 64 tiles)', input: [1, 64, 20, 20], params: { out_channels: 64, kernel: 3, padding: 1 } },
  { name: 'ragged M, N, K: 5 -> 70, stride 2, batch 2', input: [2, 5, 13, 11], params: { out_channels: 70, kernel: 3, stride: 2 } },
  { name: 'K = 333 (not a multiple of 16), 6x6', input: [1, 37, 6, 6], params: { out_channels: 40, kernel: 3, padding: 1 } },
  { name: 'grouped: 4 groups, batch 3 (grid z = n * groups)', input: [3, 8, 9, 9], params: { out_channels: 12, kernel: 3, padding: 1, groups: 4 } },
  { name: 'grouped 1x1 (ShuffleNet), 3 groups', input: [2, 24, 7, 7], params: { out_channels: 36, kernel: 1, groups: 3 } },
  { name: '1x1, H*W = 64: vec4 loads and stores', input: [2, 33, 8, 8], params: { out_channels: 65, kernel: 1 } },
  { name: '1x1, H*W = 49: scalar loads', input: [1, 20, 7, 7], params: { out_channels: 17, kernel: 1, bias: false } },
  { name: '1x1 stride 2 (implicit GEMM path)', input: [1, 16, 9, 9], params: { out_channels: 24, kernel: 1, stride: 2 } },
  { name: 'depthwise 3x3 stride 2 pad 1, multiplier 2, batch 2', input: [2, 32, 15, 15], params: { out_channels: 64, kernel: 3, stride: 2, padding: 1, groups: 32 } },
  { name: 'depthwise 5x5 dilation 2, W_out not a multiple of 4', input: [1, 10, 13, 9], params: { out_channels: 10, kernel: 5, padding: 4, dilation: 2, groups: 10 } },
  { name: 'depthwise stride [1, 3], no bias', input: [1, 4, 8, 17], params: { out_channels: 4, kernel: 3, stride: [1, 3], groups: 4, bias: false } },
  { name: 'depthwise 7x7 stride 2, padding [3, 1, 2, 0] (one output row per thread)', input: [1, 6, 19, 14], params: { out_channels: 6, kernel: 7, stride: 2, padding: [3, 1, 2, 0], groups: 6 } },
  { name: 'depthwise 13x13 (too many taps to unroll: the looped kernel)', input: [1, 3, 16, 16], params: { out_channels: 3, kernel: 13, padding: 6, groups: 3 } },
  { name: 'dilated 3x3, dilation 3', input: [1, 6, 14, 14], params: { out_channels: 10, kernel: 3, dilation: 3, padding: 3, bias: false } },
  { name: '7 x 1 kernel', input: [1, 8, 12, 5], params: { out_channels: 8, kernel: [7, 1], padding: [3, 0] } },
  { name: '11x11 stride 4 (AlexNet conv1 style)', input: [1, 3, 35, 35], params: { out_channels: 16, kernel: 11, stride: 4, padding: 2 } },
  { name: 'asymmetric padding [top, left, bottom, right]', input: [1, 3, 6, 7], params: { out_channels: 5, kernel: 3, padding: [0, 1, 2, 0] } },
  { name: 'same padding, dilation 2, stride [2, 1]', input: [2, 4, 10, 9], params: { out_channels: 6, kernel: 3, padding: 'same', dilation: 2 } },
];

function conv(c: ConvCase) {
  const node = planNodeFor('conv2d', c.params, [c.input]);
  const x = seeded(numel(c.input), 1);
  const weights = node.weights.map((w, i) => seeded(numel(w.shape), 10 + i));
  return { node, x, weights, want: runNodeInline(node, [x], weights, 0) };
}

describe.skipIf(!WEBGPU_TESTS)('WebGPU', () => {
  describe('conv2d WGSL kernels match the CPU reference', () => {
    let gpu: WebGpuBackend;
    beforeAll(async () => {
      gpu = await openTestBackend();
    });
    afterAll(() => gpu?.dispose());

    for (const c of CASES) {
      it(c.name, async () => {
        const { node, x, weights, want } = conv(c);
        expectClose(await gpu.runOp(node, [x], weights, 0), want);
      });
    }
  });

  describe('tensors larger than one binding are sliced across dispatches', () => {
    // One image of the first case is 4*20*20*4 = 6400 bytes in, 6*20*20*4 = 9600 out: a 24 KiB
    // binding limit takes 2 images per dispatch, and a 256-byte offset alignment makes the slices
    // start mid-way into aligned ranges (the shader adds the remainder).
    const planLimits: Partial<GpuLimits> = { maxStorageBufferBindingSize: 24 * 1024, minStorageBufferOffsetAlignment: 256 };
    let gpu: WebGpuBackend;
    beforeAll(async () => {
      gpu = await openTestBackend({ planLimits });
    });
    afterAll(() => gpu?.dispose());

    const sliced: ConvCase[] = [
      { name: 'implicit GEMM, batch 5', input: [5, 4, 20, 20], params: { out_channels: 6, kernel: 3, padding: 1 } },
      { name: 'depthwise, batch 5', input: [5, 6, 21, 19], params: { out_channels: 6, kernel: 3, padding: 1, groups: 6 } },
      { name: '1x1 with odd image sizes, batch 7', input: [7, 9, 9, 11], params: { out_channels: 3, kernel: 1 } },
    ];
    for (const c of sliced) {
      it(c.name, async () => {
        const { node, x, weights, want } = conv(c);
        const limits = { ...(gpu.limits as unknown as GpuLimits), ...planLimits };
        const plan = conv2dWgsl.plan({ attrs: node.attrs as never, inShapes: node.inShapes, outShape: node.outShape, weightShapes: [], limits, seed: 0 });
        expect(plan.dispatches.length).toBeGreaterThan(1);
        expectClose(await gpu.runOp(node, [x], weights, 0), want);
      });
    }

    it('relu in chunks of the binding limit', async () => {
      const node = planNodeFor('relu', {}, [[3, 7, 31, 33]]);
      const x = seeded(numel(node.outShape), 5);
      expectClose(await gpu.runOp(node, [x], [], 0), runNodeInline(node, [x], [], 0), 0);
    });

    it('refuses an image larger than a binding, naming the op and the limit', async () => {
      const node = planNodeFor('conv2d', { out_channels: 64, kernel: 3 }, [[1, 64, 20, 20]]);
      const weights = node.weights.map((w) => seeded(numel(w.shape), 3));
      await expect(gpu.runOp(node, [seeded(64 * 400, 2)], weights, 0)).rejects.toThrow(/op "conv2d" \(conv2d\) cannot run on this GPU: .*exceeds .*maxStorageBufferBindingSize/);
    });
  });
});

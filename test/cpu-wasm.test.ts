/**
 * The CPU backend's WebAssembly kernels against the TypeScript reference kernels (runNodeInline)
 * on seeded tensors big enough to reach every path the small data-driven cases miss: GEMM edges
 * (rows not a multiple of 4, columns not a multiple of 8), K-blocking (K > 256), several tiles and
 * channel blocks per call, Winograd's partial tiles, the 3x3 and the general window kernels,
 * strides 1, 2 and 3, dilation, asymmetric padding, ceil_mode, groups and batches. Each case runs on one thread
 * and on two (every op split, minParallelWork 0).
 *
 * Tolerance: max|wasm - ref| <= 1e-5 * max|ref| (scale-relative). Both sum in float32 but in other
 * orders (the GEMM in 4x8 tiles and K-blocks of 256, the reference row by row, some reference
 * kernels in float64), and Winograd transforms add a few roundings; for these K (at most 4608)
 * that moves results by ~1e-6 of their scale, while a wrong tap, edge or bias moves them by 1e-2
 * or more.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Arena } from '../src/engine/backends/cpu/arena.ts';
import { CpuBackend } from '../src/engine/backends/cpu/backend.ts';
import { runChunks } from '../src/engine/backends/cpu/pool.ts';
import { runNodeInline } from '../src/engine/backends/cpu/reference.ts';
import { instantiateKernels, loadKernelModule } from '../src/engine/backends/cpu/wasm/module.ts';
import { GEMM_KC, gemmTmpBytes, windowScratchBytes } from '../src/engine/backends/cpu/wasm/types.ts';
import { buildPlan, planNodeFor } from '../src/engine/graph/plan.ts';
import { getPreset } from '../src/engine/presets/index.ts';
import { fillUniform, hashSeed } from '../src/engine/rng.ts';
import { numel } from '../src/engine/tensor.ts';
import { makeInput, makeWeight, makeWeights } from '../src/engine/weights.ts';
import type { ParamValue } from '../src/shared/spec.ts';

const TOLERANCE = 1e-5;

let one: CpuBackend;
let two: CpuBackend;
let js: CpuBackend;
beforeAll(async () => {
  one = await CpuBackend.create({ threads: 1, kernels: 'wasm' });
  two = await CpuBackend.create({ threads: 2, minParallelWork: 0, kernels: 'wasm' });
  js = await CpuBackend.create({ threads: 2, kernels: 'js' });
});
afterAll(async () => {
  await one?.dispose();
  await two?.dispose();
  await js?.dispose();
});

function scaledError(got: Float32Array, want: Float32Array): number {
  expect(got.length).toBe(want.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= diff)) diff = Number.isNaN(d) ? Infinity : d;
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return diff === 0 ? 0 : diff / Math.max(scale, 1e-30);
}

type Case = [name: string, op: string, params: Record<string, ParamValue>, shapes: number[][]];

const CASES: Case[] = [
  ['3x3 pad 1, K 576 (two K-blocks), 3136 positions', 'conv2d', { out_channels: 64, kernel: 3, padding: 1 }, [[1, 64, 56, 56]]],
  ['3x3 stride 2, odd sizes, 13 rows, batch 2', 'conv2d', { out_channels: 13, kernel: 3, padding: 1, stride: 2 }, [[2, 5, 17, 19]]],
  ['stride 3, no bias', 'conv2d', { out_channels: 6, kernel: 3, stride: 3, bias: false }, [[1, 4, 20, 23]]],
  ['asymmetric padding, dilation [2, 1], 3x2 kernel', 'conv2d', { out_channels: 10, kernel: [3, 2], padding: [1, 0, 2, 1], dilation: [2, 1] }, [[1, 7, 11, 9]]],
  ['dilated 3x3 d=2, wide rows', 'conv2d', { out_channels: 16, kernel: 3, padding: 2, dilation: 2 }, [[1, 8, 12, 40]]],
  ['Winograd F(2x2, 3x3): odd output sizes, batch 2', 'conv2d', { out_channels: 20, kernel: 3, padding: 1 }, [[2, 17, 13, 11]]],
  ['Winograd: no padding, 15x14 input', 'conv2d', { out_channels: 24, kernel: 3, padding: 0 }, [[1, 16, 15, 14]]],
  ['Winograd: asymmetric padding, 13x13', 'conv2d', { out_channels: 32, kernel: 3, padding: [2, 1, 0, 1] }, [[1, 32, 13, 13]]],
  ['Winograd F(4x4, 3x3): odd output sizes 27x25, batch 2', 'conv2d', { out_channels: 20, kernel: 3, padding: 1 }, [[2, 17, 27, 25]]],
  ['Winograd F(4x4): no padding, 30x29 input, no bias', 'conv2d', { out_channels: 24, kernel: 3, padding: 0, bias: false }, [[1, 16, 30, 29]]],
  ['Winograd F(4x4): asymmetric padding, 128 channels at 28x28 (channel blocks)', 'conv2d', { out_channels: 128, kernel: 3, padding: [2, 1, 0, 1] }, [[1, 128, 28, 28]]],
  ['Winograd on a wide, short map: 2 bands, channel blocks, its input transformed in channel slices shared by the threads', 'conv2d', { out_channels: 64, kernel: 3, padding: 1 }, [[1, 32, 4, 40]]],
  ['Winograd: 256 channels at 12x12 (channel blocks), no bias', 'conv2d', { out_channels: 256, kernel: 3, padding: 1, bias: false }, [[1, 256, 12, 12]]],
  ['3x3 on a 7x7 map, 512 channels (too few tiles for Winograd: channel blocks, panels wrapping rows), no bias', 'conv2d', { out_channels: 512, kernel: 3, padding: 1, bias: false }, [[1, 512, 7, 7]]],
  ['1x1 on 7x7, 2048 -> 512 (one tile, channel blocks)', 'conv2d', { out_channels: 512, kernel: 1 }, [[1, 2048, 7, 7]]],
  ['1x1 on a 1x1 map, batch 2 (SE excitation: GEMV)', 'conv2d', { out_channels: 70, kernel: 1 }, [[2, 40, 1, 1]]],
  ['1x7 and 7x1', 'conv2d', { out_channels: 12, kernel: [1, 7], padding: [0, 3] }, [[1, 9, 10, 13]]],
  ['7x1', 'conv2d', { out_channels: 12, kernel: [7, 1], padding: [3, 0] }, [[1, 9, 13, 10]]],
  ['1x1 on 14x14, 300 -> 40 (last panel of 4 columns, two K blocks)', 'conv2d', { out_channels: 40, kernel: 1 }, [[1, 300, 14, 14]]],
  ['pointwise 1x1, 60 rows (not a multiple of 8 positions)', 'conv2d', { out_channels: 30, kernel: 1 }, [[2, 24, 9, 7]]],
  ['1x1 stride 2 (not pointwise: im2col)', 'conv2d', { out_channels: 20, kernel: 1, stride: 2 }, [[1, 16, 15, 15]]],
  ['grouped 1x1 g=3 (ShuffleNet)', 'conv2d', { out_channels: 60, kernel: 1, groups: 3, bias: false }, [[1, 240, 14, 14]]],
  ['grouped 3x3 g=2, K 1152', 'conv2d', { out_channels: 24, kernel: 3, padding: 1, groups: 2 }, [[1, 256, 9, 9]]],
  ['large M, few positions (channel blocks)', 'conv2d', { out_channels: 520, kernel: 1, bias: true }, [[1, 40, 5, 5]]],
  ['depthwise 3x3 s1', 'conv2d', { out_channels: 20, kernel: 3, padding: 1, groups: 20 }, [[2, 20, 19, 33]]],
  ['depthwise 3x3 s2', 'conv2d', { out_channels: 12, kernel: 3, padding: 1, stride: 2, groups: 12, bias: false }, [[1, 12, 28, 41]]],
  ['depthwise 5x5 dilation 2, multiplier 2', 'conv2d', { out_channels: 16, kernel: 5, padding: 4, dilation: 2, groups: 8 }, [[1, 8, 21, 30]]],
  ['depthwise stride 3 (scalar path)', 'conv2d', { out_channels: 6, kernel: 3, stride: 3, groups: 6 }, [[1, 6, 20, 26]]],
  ['transposed 4x4 s2 p1', 'conv_transpose2d', { out_channels: 32, kernel: 4, stride: 2, padding: 1 }, [[1, 64, 14, 14]]],
  ['transposed 3x3 s2 output_padding 1, groups 2, batch 2', 'conv_transpose2d', { out_channels: 6, kernel: 3, stride: 2, padding: 1, output_padding: 1, groups: 2 }, [[2, 4, 5, 7]]],
  ['transposed 2x2 s2, 300 input channels (two K blocks), channel blocks', 'conv_transpose2d', { out_channels: 70, kernel: 2, stride: 2 }, [[1, 300, 6, 5]]],
  ['transposed dilation 2, rectangular', 'conv_transpose2d', { out_channels: 5, kernel: [2, 3], stride: [1, 2], padding: [0, 1], dilation: 2 }, [[1, 3, 6, 9]]],
  ['linear batch 1 (GEMV), 1000 outputs', 'linear', { out_features: 1000 }, [[1, 515]]],
  ['linear batch 3 (GEMV)', 'linear', { out_features: 13 }, [[3, 50]]],
  ['linear batch 37 (GEMM)', 'linear', { out_features: 70 }, [[37, 50]]],
  ['linear batch 300 (two sample blocks), no bias', 'linear', { out_features: 90, bias: false }, [[300, 66]]],
  ['linear batch 9, 300 inputs (two K blocks of the packed rows)', 'linear', { out_features: 20 }, [[9, 300]]],
  ['max pool 3x3 s2 p1', 'max_pool2d', { kernel: 3, stride: 2, padding: 1 }, [[1, 4, 37, 40]]],
  ['max pool 2x2 s1 dilation 2', 'max_pool2d', { kernel: 2, stride: 1, dilation: 2 }, [[1, 3, 15, 30]]],
  ['max pool 3x3 s2 ceil_mode', 'max_pool2d', { kernel: 3, stride: 2, ceil_mode: true }, [[2, 3, 20, 34]]],
  ['max pool 3x3 s3 (scalar path)', 'max_pool2d', { kernel: 3, stride: 3, padding: 1 }, [[1, 2, 19, 25]]],
  ['min pool 3x3 s2 p1', 'min_pool2d', { kernel: 3, stride: 2, padding: 1 }, [[1, 4, 30, 40]]],
  ['avg pool 3x3 s2 p1 count_include_pad', 'avg_pool2d', { kernel: 3, stride: 2, padding: 1 }, [[1, 4, 31, 40]]],
  ['avg pool 3x3 s2 p1 excluding padding', 'avg_pool2d', { kernel: 3, stride: 2, padding: 1, count_include_pad: false }, [[1, 4, 31, 40]]],
  ['avg pool 3x3 s1 ceil_mode', 'avg_pool2d', { kernel: 3, stride: 2, padding: 1, ceil_mode: true }, [[1, 2, 24, 34]]],
  ['global average pool', 'global_avg_pool', {}, [[2, 21, 13, 17]]],
  ['batch norm NCHW', 'batch_norm', {}, [[2, 5, 11, 13]]],
  ['batch norm [N, C]', 'batch_norm', {}, [[7, 33]]],
  ['relu', 'relu', {}, [[3, 7, 11, 13]]],
  ['relu6', 'relu6', {}, [[3, 7, 11, 13]]],
  ['add, equal shapes', 'add', {}, [[2, 3, 17, 19], [2, 3, 17, 19]]],
  ['mul, SE scale [N, C, H, W] x [N, C, 1, 1]', 'mul', {}, [[2, 6, 9, 11], [2, 6, 1, 1]]],
  ['add, [1, C, 1, 1] + [N, C, H, W]', 'add', {}, [[1, 6, 1, 1], [2, 6, 9, 11]]],
  ['mul, short runs (TypeScript kernel)', 'mul', {}, [[2, 6, 9, 3], [1, 1, 9, 1]]],
];

function inputsFor(shapes: number[][], scale: number): Float32Array[] {
  return shapes.map((s, i) => {
    const a = i === 0 ? makeInput(21, s) : fillUniform(new Float32Array(numel(s)), hashSeed(21, 'input', String(i)), -1, 1);
    for (let j = 0; j < a.length; j++) a[j] *= scale;
    return a;
  });
}

describe('WebAssembly kernels against the TypeScript reference', () => {
  for (const [name, op, params, shapes] of CASES) {
    it(`${op}: ${name}`, async () => {
      const node = planNodeFor(op, params, shapes);
      const weights = node.weights.map((w) => makeWeight(9, node.id, w));
      // relu and relu6 see values past 6 and below 0.
      const inputs = inputsFor(shapes, op.startsWith('relu') ? 8 : 1);
      const want = runNodeInline(node, inputs, weights, 0);
      for (const backend of [one, two]) {
        const got = await backend.runOp(node, inputs, weights, 0);
        const err = scaledError(got, want);
        if (!(err <= TOLERANCE)) throw new Error(`${backend.threads} thread(s): scaled max error ${err} > ${TOLERANCE}`);
      }
    });
  }

  it('max and min pooling propagate NaN in the vector and the border paths; relu maps NaN to 0', async () => {
    const shape = [1, 1, 6, 40];
    const x = makeInput(3, shape);
    x[2 * 40 + 20] = NaN; // interior
    x[0] = NaN; // corner
    for (const op of ['max_pool2d', 'min_pool2d']) {
      const node = planNodeFor(op, { kernel: 3, stride: 1, padding: 1 }, [shape]);
      const want = runNodeInline(node, [x], [], 0);
      const got = await one.runOp(node, [x], [], 0);
      for (let i = 0; i < want.length; i++) expect(Number.isNaN(got[i])).toBe(Number.isNaN(want[i]));
      expect(want.some(Number.isNaN)).toBe(true);
    }
    const relu = planNodeFor('relu', {}, [shape]);
    expect(Array.from(await one.runOp(relu, [x], [], 0))).toEqual(Array.from(runNodeInline(relu, [x], [], 0)));
  });
});

/**
 * deform_conv2d: [name, params, input shape, offset scale]. Offsets of a few pixels push samples
 * past every border (corners dropped one by one, points past -1 or the size sampling 0); the
 * shapes reach K-blocking (K > 256), GEMM edges (13 rows, columns not a multiple of 8), offset
 * groups that split a weight group's channels, batches and tiles of one panel.
 */
const DEFORM_CASES: [name: string, params: Record<string, ParamValue>, shape: number[], offsetScale: number][] = [
  ['v1 3x3 pad 1, 64 -> 64 at 20x20 (K 576: three K blocks)', { out_channels: 64, kernel: 3, padding: 1 }, [1, 64, 20, 20], 3],
  ['v2, groups 2 with 4 offset groups (two per weight group), stride 2, dilation 2, 13 rows, batch 2', { out_channels: 26, kernel: 3, padding: 2, stride: 2, dilation: 2, groups: 2, offset_groups: 4, modulated: true }, [2, 8, 17, 19], 2],
  ['v2, 3 offset groups, one weight group, 5x5, no bias, offsets far past the borders', { out_channels: 10, kernel: 5, padding: [1, 2], offset_groups: 3, bias: false, modulated: true }, [1, 6, 11, 9], 6],
  ['v1 on a 5x5 map, batch 3 (one tile of a partial panel)', { out_channels: 7, kernel: 3, padding: 1 }, [3, 5, 5, 5], 1.5],
  ['v1 1x1 with zero offsets (a plain 1x1 conv)', { out_channels: 12, kernel: 1 }, [1, 9, 7, 13], 0],
];

describe('deform_conv2d: the WebAssembly kernel against the TypeScript reference', () => {
  for (const [name, params, shape, offsetScale] of DEFORM_CASES) {
    it(name, async () => {
      const { modulated, ...opParams } = params;
      const [kh, kw] = Array.isArray(params.kernel) ? (params.kernel as number[]) : [params.kernel as number, params.kernel as number];
      const og = (params.offset_groups as number | undefined) ?? 1;
      // The output size from a plain conv of the same geometry.
      const geometry = planNodeFor('conv2d', { out_channels: 1, kernel: params.kernel, padding: params.padding ?? 0, stride: params.stride ?? 1, dilation: params.dilation ?? 1 }, [shape]).outShape;
      const [n, , ho, wo] = geometry;
      const shapes = [shape, [n, 2 * og * kh * kw, ho, wo], ...(modulated ? [[n, og * kh * kw, ho, wo]] : [])];
      const node = planNodeFor('deform_conv2d', opParams, shapes);
      const weights = node.weights.map((w) => makeWeight(9, node.id, w));
      const inputs = [
        makeInput(21, shape),
        fillUniform(new Float32Array(numel(shapes[1])), hashSeed(21, 'offset'), -offsetScale, offsetScale),
        ...(modulated ? [fillUniform(new Float32Array(numel(shapes[2])), hashSeed(21, 'mask'), 0, 1)] : []),
      ];
      const want = runNodeInline(node, inputs, weights, 0);
      for (const backend of [one, two]) {
        const got = await backend.runOp(node, inputs, weights, 0);
        const err = scaledError(got, want);
        if (!(err <= TOLERANCE)) throw new Error(`${backend.threads} thread(s): scaled max error ${err} > ${TOLERANCE}`);
      }
    });
  }
});

describe('CPU backend with WebAssembly kernels', () => {
  it('says which kernels it runs', () => {
    expect(one.kernels).toBe('wasm');
    expect(one.adapter).toContain('WebAssembly SIMD kernels');
    expect(js.kernels).toBe('js');
    expect(js.adapter).toContain('TypeScript kernels');
  });

  it('runs whole presets as the TypeScript kernels do, forward after forward', async () => {
    // resnet50: its residual adds run in the epilogues of the last 1x1 of each block, or of the
    // downsample convolution where there is one. (se_resnet50's output, with these random weights,
    // moves by 4e-4 of its scale under any change of rounding, fused or not: not a useful check.)
    for (const id of ['shufflenet_v1_g3', 'mobilenet_v1', 'resnet50']) {
      const plan = buildPlan(getPreset(id)!.build(), { batch: 1 });
      const weights = makeWeights(plan);
      const input = makeInput(plan.seed, plan.inputShape);
      const ref = await js.prepare(plan, weights);
      const want = await ref.forward(input);
      await ref.dispose();
      const model = await two.prepare(plan, weights);
      const first = await model.forward(input);
      const second = await model.forward(input);
      await model.dispose();
      // Dozens of layers deep: rounding differences compound, still far below a wrong layer's.
      expect(scaledError(first, want)).toBeLessThan(1e-4);
      expect(Array.from(second)).toEqual(Array.from(first));
    }
  });

  it('gives its memory back when a model is disposed', async () => {
    const backend = await CpuBackend.create({ threads: 1, kernels: 'wasm' });
    try {
      const plan = buildPlan(getPreset('shufflenet_v1_g3')!.build(), { batch: 1 });
      const weights = makeWeights(plan);
      const cycle = async () => {
        const model = await backend.prepare(plan, weights);
        await model.forward(makeInput(plan.seed, plan.inputShape));
        const during = backend.arena.stats().usedBytes;
        await model.dispose();
        return during;
      };
      const during = await cycle();
      // What stays is the per-thread scratch, kept for the next model.
      const kept = backend.arena.stats().usedBytes;
      expect(during - kept).toBeGreaterThan(plan.totals.paramBytes);
      expect(await cycle()).toBe(during);
      expect(backend.arena.stats().usedBytes).toBe(kept);
    } finally {
      await backend.dispose();
    }
  });
});

describe('scratch sizes', () => {
  it('the drivers allocate what gemm.as uses', async () => {
    const k = instantiateKernels(await loadKernelModule(), new Arena().memory);
    for (const [M, N] of [[1, 1], [4, 8], [5, 9], [64, 112], [130, 7], [1024, 3]]) expect(gemmTmpBytes(M, N)).toBe(k.gemm_tmp_bytes(M, N));
  });

  it('the weight packers block K as gemm.as does', async () => {
    const k = instantiateKernels(await loadKernelModule(), new Arena().memory);
    expect(GEMM_KC).toBe(k.gemm_kc());
  });


  it('the driver allocates what window.as uses, for every geometry', async () => {
    const k = instantiateKernels(await loadKernelModule(), new Arena().memory);
    for (const [h, w, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, ceil] of [
      [56, 56, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0],
      [112, 112, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0],
      [19, 19, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0],
      [20, 34, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, 1],
      [21, 30, 5, 5, 1, 1, 4, 4, 4, 4, 2, 2, 0],
      [20, 26, 3, 3, 3, 3, 0, 0, 0, 0, 1, 1, 0],
      [7, 5, 2, 4, 1, 3, 1, 2, 0, 1, 1, 1, 0],
    ]) {
      const ho = Math.floor((h + pt + pb - dh * (kh - 1) - 1 + (ceil ? sh - 1 : 0)) / sh) + 1;
      const wo = Math.floor((w + pl + pr - dw * (kw - 1) - 1 + (ceil ? sw - 1 : 0)) / sw) + 1;
      expect(windowScratchBytes(h, w, [kh, kw], [sh, sw], [pt, pl, pb, pr], [dh, dw], ho, wo)).toBe(k.window_scratch(h, w, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, ho, wo));
    }
  });
});

describe('Arena', () => {
  it('hands out aligned, disjoint blocks, reuses freed ones and grows the memory', () => {
    const arena = new Arena();
    const a = arena.alloc(100);
    const b = arena.alloc(1000);
    expect(a % 64).toBe(0);
    expect(b % 64).toBe(0);
    expect(b).toBeGreaterThanOrEqual(a + 100);
    arena.release(a);
    const c = arena.alloc(50);
    expect(c).toBe(a);
    const big = arena.alloc(8 * 1024 * 1024);
    expect(arena.memory.buffer.byteLength).toBeGreaterThanOrEqual(big + 8 * 1024 * 1024);
    const view = arena.f32(big, 4);
    view.set([1, 2, 3, 4]);
    expect(Array.from(arena.f32(big, 4))).toEqual([1, 2, 3, 4]);
    arena.release(b);
    arena.release(c);
    arena.release(big);
    expect(arena.stats().usedBytes).toBe(0);
    // Everything coalesced back: one block as large as all three fits at the start again.
    expect(arena.alloc(8 * 1024 * 1024 + 2000)).toBe(a);
    expect(() => arena.release(12345)).toThrow('not an allocated block');
  });

  it('refuses more than a 32-bit memory holds, naming the limit', () => {
    const arena = new Arena();
    expect(() => arena.alloc(5 * 1024 ** 3)).toThrow('at most 4 GiB');
  });
});

describe('runChunks (the thread loop of every job)', () => {
  const counters = () => ({ counter: new Int32Array(new SharedArrayBuffer(4)), phase: new Int32Array(new SharedArrayBuffer(4)) });

  it('never hands a range that straddles the prologue, and counts the prologue units done', () => {
    const { counter, phase } = counters();
    const ranges: [number, number][] = [];
    runChunks(counter, phase, 10, 3, 4, (s, e) => ranges.push([s, e]));
    expect(ranges).toEqual([[0, 3], [3, 4], [4, 6], [6, 9], [9, 10]]);
    expect(phase[0]).toBe(4);
  });

  it('counts a prologue unit that throws, so no other thread waits for it forever', () => {
    const { counter, phase } = counters();
    expect(() => runChunks(counter, phase, 8, 2, 4, (s) => {
      if (s === 2) throw new Error('boom');
    })).toThrow('boom');
    expect(phase[0]).toBe(4);
  });

  it('is every unit, in order, without a prologue', () => {
    const { counter, phase } = counters();
    const seen: number[] = [];
    runChunks(counter, phase, 7, 2, 0, (s, e) => {
      for (let u = s; u < e; u++) seen.push(u);
    });
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});

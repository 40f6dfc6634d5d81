/**
 * The WGSL kernels of the pooling, normalisation, activation and structure ops against the CPU
 * reference (runNodeInline) on seeded tensors larger than the data cases: odd sizes, several
 * workgroups, ragged vec4 quads and every kernel path each op chooses between. Tolerance 1e-4
 * relative (the GPU sums in another order, in float32). Also:
 * - stochastic_pool2d in training mode bit for bit: its software float64 and mulberry32 against
 *   JavaScript's doubles, and whole outputs on adversarial inputs (subnormals, +inf, NaN, sums that
 *   round in float64);
 * - tensors sliced across dispatches (a 4 KiB binding limit with 256-byte offset alignment);
 * - plans within compatibility-mode limits (4 storage buffers, 128 invocations, 16 KiB of
 *   workgroup memory per stage), checked on the WGSL itself without a GPU;
 * - a prepared model chaining the ops, against the CPU backend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/engine/backends/cpu/backend.ts';
import { runNodeInline } from '../src/engine/backends/cpu/reference.ts';
import type { WebGpuBackend } from '../src/engine/backends/webgpu/backend.ts';
import { buildPlan, planNodeFor, type PlanNode } from '../src/engine/graph/plan.ts';
import { MULBERRY32_WGSL, SOFT_F64_WGSL } from '../src/engine/ops/stochastic_pool2d/wgsl.ts';
import { getOp } from '../src/engine/ops/registry.ts';
import type { GpuBinding, GpuLimits } from '../src/engine/ops/types.ts';
import { mulberry32 } from '../src/engine/rng.ts';
import { numel } from '../src/engine/tensor.ts';
import { makeInput, makeWeight, makeWeights } from '../src/engine/weights.ts';
import type { LayerSpec, ParamValue } from '../src/shared/spec.ts';
import { WEBGPU_TESTS, expectClose, firstGpuAdapter, openTestBackend, seeded } from './helpers/webgpu.ts';

interface OpCase {
  name: string;
  op: string;
  params?: Record<string, ParamValue>;
  inputs: number[][];
  /** Input values are seeded uniforms in [-1, 1) times this (default 1). */
  scale?: number;
}

const CASES: OpCase[] = [
  // Pools: W_out not a multiple of 4 (ragged quads), several workgroups, every padding rule.
  { name: 'max 3x3 s2 p1, W_out 21', op: 'max_pool2d', params: { kernel: 3, stride: 2, padding: 1 }, inputs: [[2, 5, 37, 41]] },
  { name: 'max 2x2 s1 dilation 2 ceil_mode', op: 'max_pool2d', params: { kernel: 2, stride: 1, dilation: 2, ceil_mode: true }, inputs: [[1, 3, 15, 30]] },
  { name: 'max 3x3 s2 ceil_mode', op: 'max_pool2d', params: { kernel: 3, stride: 2, ceil_mode: true }, inputs: [[2, 3, 20, 34]] },
  { name: 'max [3, 5] stride [2, 3] padding [1, 2] dilation [2, 1]', op: 'max_pool2d', params: { kernel: [3, 5], stride: [2, 3], padding: [1, 2], dilation: [2, 1] }, inputs: [[1, 4, 19, 23]] },
  { name: 'max 2x2 same padding (bottom/right only)', op: 'max_pool2d', params: { kernel: 2, stride: 1, padding: 'same' }, inputs: [[1, 3, 17, 18]] },
  { name: 'min 3x3 s2 p1', op: 'min_pool2d', params: { kernel: 3, stride: 2, padding: 1 }, inputs: [[2, 4, 33, 35]] },
  { name: 'min 3x3 dilation 3 padding 1 ceil_mode', op: 'min_pool2d', params: { kernel: 3, stride: 2, dilation: 3, padding: 1, ceil_mode: true }, inputs: [[1, 2, 26, 27]] },
  { name: 'avg 3x3 s2 p1 count_include_pad', op: 'avg_pool2d', params: { kernel: 3, stride: 2, padding: 1 }, inputs: [[2, 5, 37, 41]] },
  { name: 'avg 3x3 s2 p1 count_include_pad false', op: 'avg_pool2d', params: { kernel: 3, stride: 2, padding: 1, count_include_pad: false }, inputs: [[2, 5, 37, 41]] },
  { name: 'avg 3x3 s2 p1 ceil_mode (last window clipped to input + padding)', op: 'avg_pool2d', params: { kernel: 3, stride: 2, padding: 1, ceil_mode: true }, inputs: [[1, 3, 16, 18]] },
  { name: 'avg ceil_mode, count_include_pad false', op: 'avg_pool2d', params: { kernel: 3, stride: 2, padding: 1, ceil_mode: true, count_include_pad: false }, inputs: [[1, 3, 16, 18]] },
  { name: 'avg [2, 3] stride [1, 2]', op: 'avg_pool2d', params: { kernel: [2, 3], stride: [1, 2] }, inputs: [[1, 2, 11, 13]] },
  { name: 'avg 7x7 over a 7x7 plane', op: 'avg_pool2d', params: { kernel: 7 }, inputs: [[2, 130, 7, 7]] },
  { name: 'stochastic inference 3x3 s2 p1', op: 'stochastic_pool2d', params: { kernel: 3, stride: 2, padding: 1 }, inputs: [[2, 6, 29, 31]] },
  { name: 'stochastic inference 2x2', op: 'stochastic_pool2d', params: { kernel: 2 }, inputs: [[1, 3, 16, 17]] },
  // Global pools: one thread per small plane, a workgroup per large one, vec4 or not.
  { name: 'global avg, 9x9 planes (workgroup, scalar)', op: 'global_avg_pool', inputs: [[2, 37, 9, 9]] },
  { name: 'global avg, 7x7 planes (thread per plane, scalar)', op: 'global_avg_pool', inputs: [[3, 200, 7, 7]] },
  { name: 'global avg, 8x8 planes (thread per plane, vec4)', op: 'global_avg_pool', inputs: [[1, 150, 8, 8]] },
  { name: 'global avg, 30x30 planes (workgroup, vec4)', op: 'global_avg_pool', inputs: [[2, 5, 30, 30]] },
  { name: 'global avg, 1x1 planes', op: 'global_avg_pool', inputs: [[2, 3, 1, 1]] },
  { name: 'global max, 9x9 planes (workgroup, scalar)', op: 'global_max_pool', inputs: [[2, 37, 9, 9]] },
  { name: 'global max, 7x7 planes (thread per plane)', op: 'global_max_pool', inputs: [[3, 200, 7, 7]] },
  { name: 'global max, 30x30 planes (workgroup, vec4)', op: 'global_max_pool', inputs: [[2, 5, 30, 30]] },
  // Normalisation.
  { name: 'batch_norm NCHW 13x11 (scalar)', op: 'batch_norm', inputs: [[3, 7, 13, 11]] },
  { name: 'batch_norm NCHW 8x8 (vec4)', op: 'batch_norm', params: { eps: 1e-3 }, inputs: [[2, 16, 8, 8]] },
  { name: 'batch_norm [N, C]', op: 'batch_norm', inputs: [[37, 300]] },
  { name: 'lrn size 5 (AlexNet), beta 0.75', op: 'lrn', params: { size: 5, alpha: 1e-4, beta: 0.75, k: 2 }, inputs: [[2, 11, 9, 9]], scale: 30 },
  { name: 'lrn size 4 (even), beta 0.5, vec4', op: 'lrn', params: { size: 4, alpha: 1e-2, beta: 0.5, k: 2 }, inputs: [[1, 9, 8, 8]], scale: 5 },
  { name: 'lrn size 3, beta 1.3 (pow)', op: 'lrn', params: { size: 3, alpha: 0.5, beta: 1.3, k: 1 }, inputs: [[2, 6, 5, 7]], scale: 3 },
  { name: 'lrn 3-D input, size 2', op: 'lrn', params: { size: 2, alpha: 1, beta: 0.75 }, inputs: [[2, 7, 10]] },
  // softmax: a workgroup per long row (contiguous or strided), a thread per short one.
  { name: 'softmax [4, 1000] (classifier: workgroup per row)', op: 'softmax', inputs: [[4, 1000]], scale: 20 },
  { name: 'softmax [1, 4097] (ragged last stride)', op: 'softmax', inputs: [[1, 4097]], scale: 20 },
  { name: 'softmax [300, 70] (workgroup per row)', op: 'softmax', inputs: [[300, 70]], scale: 20 },
  { name: 'softmax [2, 10] axis -1 (thread per row)', op: 'softmax', params: { axis: -1 }, inputs: [[2, 10]], scale: 20 },
  { name: 'softmax NCHW over channels (thread per column)', op: 'softmax', inputs: [[2, 19, 7, 9]], scale: 20 },
  { name: 'softmax [3, 300, 5] axis 1 (workgroup per strided row)', op: 'softmax', inputs: [[3, 300, 5]], scale: 20 },
  { name: 'softmax axis 0', op: 'softmax', params: { axis: 0 }, inputs: [[5, 3, 4]], scale: 20 },
  // Activations.
  { name: 'sigmoid, saturating values', op: 'sigmoid', inputs: [[3, 7, 11, 13]], scale: 120 },
  { name: 'sigmoid, vec4', op: 'sigmoid', inputs: [[2, 8, 4, 4]], scale: 8 },
  { name: 'relu6', op: 'relu6', inputs: [[3, 7, 11, 13]], scale: 10 },
  // add / mul: equal shapes, per-run scalar (SE), general strides (scalar and vec4).
  { name: 'add, equal shapes (scalar)', op: 'add', inputs: [[2, 3, 17, 19], [2, 3, 17, 19]] },
  { name: 'add, equal shapes (vec4)', op: 'add', inputs: [[2, 8, 16, 16], [2, 8, 16, 16]] },
  { name: 'mul, SE scaling [N, C, H, W] x [N, C, 1, 1] (vec4)', op: 'mul', inputs: [[2, 24, 14, 14], [2, 24, 1, 1]] },
  { name: 'mul, SE scaling with the scale first, odd planes', op: 'mul', inputs: [[2, 24, 1, 1], [2, 24, 13, 13]] },
  { name: 'add, scalar-like [1] + [7]', op: 'add', inputs: [[1], [7]] },
  { name: 'add, [3, 1] + [1, 1001]', op: 'add', inputs: [[3, 1], [1, 1001]] },
  { name: 'add, [2, 3, 4, 8] + [3, 1, 8] (general, vec4)', op: 'add', inputs: [[2, 3, 4, 8], [3, 1, 8]] },
  { name: 'mul, [4, 1, 6] * [1, 5, 1] (general, both broadcast)', op: 'mul', inputs: [[4, 1, 6], [1, 5, 1]] },
  { name: 'mul, rank 5: [2, 3, 1, 4, 5] * [3, 4, 1]', op: 'mul', inputs: [[2, 3, 1, 4, 5], [3, 4, 1]] },
  { name: 'add, [1, 2, 2, 2] + [1, 1, 2, 1]', op: 'add', inputs: [[1, 2, 2, 2], [1, 1, 2, 1]] },
  // Structure.
  { name: 'concat channels, 2 inputs, odd planes', op: 'concat', inputs: [[2, 3, 5, 7], [2, 4, 5, 7]] },
  { name: 'concat 5 inputs on channels (vec4)', op: 'concat', inputs: [1, 2, 3, 4, 5].map((c) => [1, c, 6, 6]) },
  { name: 'concat 3 inputs on the last axis', op: 'concat', params: { axis: -1 }, inputs: [[2, 3, 5], [2, 3, 1], [2, 3, 8]] },
  { name: 'concat on axis 0', op: 'concat', params: { axis: 0 }, inputs: [[3, 4, 4], [1, 4, 4]] },
  { name: 'channel_shuffle 12 channels, 3 groups, 7x9', op: 'channel_shuffle', params: { groups: 3 }, inputs: [[2, 12, 7, 9]] },
  { name: 'channel_shuffle 16 channels, 4 groups, vec4', op: 'channel_shuffle', params: { groups: 4 }, inputs: [[1, 16, 8, 8]] },
  { name: 'flatten', op: 'flatten', inputs: [[2, 3, 5, 7]] },
  { name: 'dropout', op: 'dropout', inputs: [[3, 333]] },
];

const MODEL_SEED = 3;

function setup(c: OpCase) {
  const node = planNodeFor(c.op, c.params ?? {}, c.inputs);
  const inputs = c.inputs.map((s, i) => seeded(numel(s), 17 + 31 * i).map((v) => v * (c.scale ?? 1)));
  const weights = node.weights.map((w) => makeWeight(11, node.id, w));
  return { node, inputs, weights };
}

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

/** float32 bit patterns for stochastic pooling's corner cases, mixed with ordinary values. */
function adversarial(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const r = next() % 100;
    const frac = next() & 0x7fffff;
    if (r < 25) out[i] = (0x80000000 | ((100 + (next() % 50)) << 23) | frac) >>> 0; // negative
    else if (r < 30) out[i] = r < 28 ? 0 : 0x80000000; // +0, -0
    else if (r < 36) out[i] = frac || 1; // subnormal
    else if (r < 37) out[i] = 0x7fc00000 + (next() & 0xff); // NaN
    else if (r < 38) out[i] = 0x7f800000; // +inf
    else if (r < 60) out[i] = (((1 + (next() % 253)) << 23) | frac) >>> 0; // any exponent
    else if (r < 80) out[i] = ((127 << 23) | (next() & 3)) >>> 0; // near-equal values around 1
    else out[i] = (((110 + (next() % 20)) << 23) | frac) >>> 0; // ordinary
  }
  return new Float32Array(out.buffer);
}

describe.skipIf(!WEBGPU_TESTS)('WebGPU', () => {
  describe('op kernels match the CPU reference', () => {
    let gpu: WebGpuBackend;
    beforeAll(async () => {
      gpu = await openTestBackend();
    });
    afterAll(() => gpu?.dispose());

    for (const c of CASES) {
      it(`${c.op}: ${c.name}`, async () => {
        const { node, inputs, weights } = setup(c);
        const want = runNodeInline(node, inputs, weights, MODEL_SEED);
        expectClose(await gpu.runOp(node, inputs, weights, MODEL_SEED), want);
      });
    }

    it('global_avg_pool on 256 x 56 x 56 (an SE squeeze)', async () => {
      const node = planNodeFor('global_avg_pool', {}, [[1, 256, 56, 56]]);
      const x = seeded(256 * 56 * 56, 5).map((v) => v + 0.25);
      expectClose(await gpu.runOp(node, [x], [], 0), runNodeInline(node, [x], [], 0));
    });

    it('global_max_pool finds a single large value anywhere in a 56 x 56 plane', async () => {
      const node = planNodeFor('global_max_pool', {}, [[1, 64, 56, 56]]);
      const x = seeded(64 * 56 * 56, 6);
      for (let c = 0; c < 64; c++) x[c * 3136 + ((c * 977) % 3136)] = 2 + c;
      const got = await gpu.runOp(node, [x], [], 0);
      expect(Array.from(got)).toEqual(Array.from({ length: 64 }, (_, c) => 2 + c));
    });

    it('max and min pooling: an all-padding window gives -inf / +inf, as on the CPU', async () => {
      // Kernel height 2, dilation 10, padding 1 on 9 rows: the one row of windows has taps at
      // y = -1 and 9, both padding.
      for (const op of ['max_pool2d', 'min_pool2d']) {
        const node = planNodeFor(op, { kernel: [2, 1], dilation: [10, 1], padding: [1, 0] }, [[1, 2, 9, 5]]);
        const x = seeded(90, 9);
        const want = runNodeInline(node, [x], [], 0);
        expect(want.every((v) => v === (op === 'max_pool2d' ? -Infinity : Infinity))).toBe(true);
        expect(Array.from(await gpu.runOp(node, [x], [], 0))).toEqual(Array.from(want));
      }
    });

    it('max / min pooling, global max and relu6 keep a NaN, as on the CPU', async () => {
      const shape = [2, 3, 12, 16];
      const nodes = [
        planNodeFor('max_pool2d', { kernel: 3, stride: 2, padding: 1 }, [shape]),
        planNodeFor('min_pool2d', { kernel: 2 }, [shape]),
        planNodeFor('global_max_pool', {}, [shape]),
        planNodeFor('global_max_pool', {}, [[2, 3, 15, 15]]),
        planNodeFor('relu6', {}, [[3, 101]]),
      ];
      for (const node of nodes) {
        const input = seeded(numel(node.inShapes[0]), 12);
        for (let i = 0; i < input.length; i += 37) input[i] = NaN;
        const want = runNodeInline(node, [input], [], 0);
        expect(want.some(Number.isNaN)).toBe(true);
        expect(Array.from(await gpu.runOp(node, [input], [], 0))).toEqual(Array.from(want));
      }
    });

    describe('stochastic_pool2d training draws the CPU kernel\'s samples bit for bit', () => {
      const shapes: [string, Record<string, ParamValue>, number[]][] = [
        ['3x3 stride 2 padding 1', { kernel: 3, stride: 2, padding: 1 }, [2, 5, 23, 29]],
        ['2x2', { kernel: 2 }, [1, 7, 16, 18]],
        ['[3, 2] stride [1, 2]', { kernel: [3, 2], stride: [1, 2] }, [2, 3, 9, 11]],
      ];
      for (const [name, params, shape] of shapes) {
        it(`${name}: ordinary and adversarial inputs, several seeds`, async () => {
          const node = planNodeFor('stochastic_pool2d', { ...params, training: true }, [shape]);
          for (const [k, x] of [seeded(numel(shape), 4), adversarial(numel(shape), 8), adversarial(numel(shape), 9)].entries()) {
            for (const seed of [0, 1, 77]) {
              const want = runNodeInline(node, [x], [], seed);
              const got = await gpu.runOp(node, [x], [], seed);
              const w = bits(want);
              const g = bits(got);
              const bad = w.findIndex((v, i) => v !== g[i]);
              if (bad >= 0) throw new Error(`input ${k}, seed ${seed}: output ${bad} is ${got[bad]} (0x${g[bad].toString(16)}), the CPU picked ${want[bad]} (0x${w[bad].toString(16)})`);
            }
          }
        });
      }
    });
  });

  describe('software float64 and mulberry32 (stochastic_pool2d training) match JavaScript exactly', () => {
    // Held while the device lives: Dawn tears its instance down once the GPU object is collected.
    let _gpu: GPU | undefined;
    let device: GPUDevice;
    beforeAll(async () => {
      const found = await firstGpuAdapter();
      _gpu = found.gpu;
      device = await found.adapter.requestDevice();
    });
    afterAll(() => {
      device?.destroy();
      _gpu = undefined;
    });

    const PER_CASE_IN = 10; // count, draw, 8 float32 bit patterns
    const PER_CASE_OUT = 8; // sum (e, hi, lo), scaled draw (e, hi, lo), draw < sum, mulberry32 draw

    /** The sum of the float32 values in float64, the draw scaled by it, and their comparison, on the GPU. */
    async function runOnGpu(input: Uint32Array, cases: number): Promise<Uint32Array> {
      const code = `
@group(0) @binding(0) var<storage, read> inp: array<u32>;
@group(0) @binding(1) var<storage, read_write> outp: array<u32>;
${SOFT_F64_WGSL}
${MULBERRY32_WGSL}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= ${cases}u) { return; }
  let base = i * ${PER_CASE_IN}u;
  var s = F64(0, 0u, 0u);
  for (var k = 0u; k < inp[base]; k++) { s = f64Add(s, f64FromBits(inp[base + 2u + k])); }
  let r = f64Scale(inp[base + 1u], s);
  let o = i * ${PER_CASE_OUT}u;
  outp[o] = bitcast<u32>(s.e);
  outp[o + 1u] = s.hi;
  outp[o + 2u] = s.lo;
  outp[o + 3u] = bitcast<u32>(r.e);
  outp[o + 4u] = r.hi;
  outp[o + 5u] = r.lo;
  outp[o + 6u] = select(0u, 1u, f64Less(r, s));
  outp[o + 7u] = mulberry32Draw(inp[base + 1u], i);
}`;
      const STORAGE = 0x80, COPY_SRC = 0x4, COPY_DST = 0x8, MAP_READ = 0x1;
      const src = device.createBuffer({ size: input.byteLength, usage: STORAGE | COPY_DST });
      device.queue.writeBuffer(src, 0, input);
      const outBytes = cases * PER_CASE_OUT * 4;
      const dst = device.createBuffer({ size: outBytes, usage: STORAGE | COPY_SRC });
      const staging = device.createBuffer({ size: outBytes, usage: MAP_READ | COPY_DST });
      const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
      const group = device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: src } },
          { binding: 1, resource: { buffer: dst } },
        ],
      });
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(Math.ceil(cases / 64));
      pass.end();
      encoder.copyBufferToBuffer(dst, 0, staging, 0, outBytes);
      device.queue.submit([encoder.finish()]);
      await staging.mapAsync(MAP_READ);
      const out = new Uint32Array(staging.getMappedRange().slice(0));
      staging.unmap();
      [src, dst, staging].forEach((b) => b.destroy());
      return out;
    }

    /** A positive double as the kernel's (e, hi, lo): mantissa in [2^52, 2^53) times 2^e; zero is (0, 0, 0). */
    function parts(v: number): [number, number, number] {
      if (v === 0) return [0, 0, 0];
      const view = new DataView(new ArrayBuffer(8));
      view.setFloat64(0, v);
      const hiWord = view.getUint32(0);
      const exp = (hiWord >>> 20) & 0x7ff;
      return [exp - 1075, (hiWord & 0xfffff) | 0x100000, view.getUint32(4)];
    }

    it('on random sums of float32 values of every kind, crafted ties and carries, and edge draws', async () => {
      const f = new Float32Array(1);
      const u = new Uint32Array(f.buffer);
      const valueOf = (b: number) => ((u[0] = b), f[0]);
      const crafted: [number[], number][] = [
        [[1, 2 ** -53], 12345], // a tie: rounds to even (1)
        [[1, 2 ** -52, 2 ** -53], 0xffffffff], // a tie with an odd mantissa: rounds up
        [[1, 2 ** -53, 2 ** -53, 2 ** -53], 3],
        [[2 ** 20, 2 ** -33, 2 ** -34, 2 ** -60], 0x80000000],
        [[1.9999998807907104, 1.9999998807907104, 1.9999998807907104, 2 ** -51], 7], // mantissa carries
        [[3e38, 3e38, 3e38, 3e38], 0xfffffffe],
        [[1e-45, 1e-45, 3e-39], 5],
        [[1e-45], 1],
        [[1, 2 ** -24 * 3], 0],
        [[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], 0xdeadbeef],
      ];
      const random = 20000;
      const cases = crafted.length + random;
      const input = new Uint32Array(cases * PER_CASE_IN);
      crafted.forEach(([values, w], i) => {
        input[i * PER_CASE_IN] = values.length;
        input[i * PER_CASE_IN + 1] = w;
        values.forEach((v, k) => ((f[0] = v), (input[i * PER_CASE_IN + 2 + k] = u[0])));
      });
      let s = 99;
      const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
      for (let i = crafted.length; i < cases; i++) {
        const count = 1 + (next() % 8);
        const kind = next() % 4;
        input[i * PER_CASE_IN] = count;
        input[i * PER_CASE_IN + 1] = kind === 0 ? next() % 17 : kind === 1 ? 0xffffffff - (next() % 17) : next();
        for (let k = 0; k < count; k++) {
          const r = next() % 4;
          const frac = next() & 0x7fffff;
          input[i * PER_CASE_IN + 2 + k] =
            r === 0 ? frac || 1 : r === 1 ? (((1 + (next() % 253)) << 23) | frac) >>> 0 : r === 2 ? (((120 + (next() % 16)) << 23) | frac) >>> 0 : ((127 << 23) | (next() & 7)) >>> 0;
        }
      }
      const out = await runOnGpu(input, cases);
      const STEP = 0x6d2b79f5;
      for (let i = 0; i < cases; i++) {
        const b = i * PER_CASE_IN;
        let sum = 0;
        for (let k = 0; k < input[b]; k++) sum += valueOf(input[b + 2 + k]);
        const w = input[b + 1];
        const r = (w / 4294967296) * sum;
        const draw = Math.round(mulberry32((w + Math.imul(i, STEP)) >>> 0)() * 4294967296);
        const o = i * PER_CASE_OUT;
        const got = [out[o] | 0, out[o + 1], out[o + 2], out[o + 3] | 0, out[o + 4], out[o + 5], out[o + 6], out[o + 7]];
        const want = [...parts(sum), ...parts(r), r < sum ? 1 : 0, draw];
        if (got.some((v, j) => v !== want[j])) {
          const values = Array.from({ length: input[b] }, (_, k) => valueOf(input[b + 2 + k]));
          throw new Error(`case ${i}: values [${values.join(', ')}], draw ${w}: got [${got.join(', ')}], expected [${want.join(', ')}]`);
        }
      }
    });
  });

  describe('tensors larger than one binding are sliced across dispatches', () => {
    // 4 KiB bindings with 256-byte offset alignment: a few planes, rows or images per dispatch,
    // slices starting mid-way into aligned ranges.
    const planLimits: Partial<GpuLimits> = { maxStorageBufferBindingSize: 4096, minStorageBufferOffsetAlignment: 256 };
    let gpu: WebGpuBackend;
    beforeAll(async () => {
      gpu = await openTestBackend({ planLimits });
    });
    afterAll(() => gpu?.dispose());

    const sliced: OpCase[] = [
      { name: 'max pool, 2 planes per dispatch', op: 'max_pool2d', params: { kernel: 3, stride: 2, padding: 1 }, inputs: [[3, 4, 20, 20]] },
      { name: 'avg pool, count_include_pad false', op: 'avg_pool2d', params: { kernel: 3, stride: 2, padding: 1, count_include_pad: false }, inputs: [[3, 4, 20, 19]] },
      { name: 'stochastic pool, inference', op: 'stochastic_pool2d', params: { kernel: 2 }, inputs: [[3, 4, 20, 20]] },
      { name: 'global avg pool, workgroup per plane', op: 'global_avg_pool', inputs: [[3, 5, 20, 20]] },
      { name: 'global max pool, thread per plane', op: 'global_max_pool', inputs: [[2, 300, 7, 7]] },
      { name: 'batch_norm NCHW', op: 'batch_norm', inputs: [[3, 4, 20, 20]] },
      { name: 'batch_norm [N, C]: runs start mid-way through the channels', op: 'batch_norm', inputs: [[40, 300]] },
      { name: 'lrn, 3 images per dispatch', op: 'lrn', params: { size: 3 }, inputs: [[5, 3, 10, 10]], scale: 10 },
      { name: 'softmax rows', op: 'softmax', inputs: [[6, 300]], scale: 10 },
      { name: 'softmax over channels', op: 'softmax', inputs: [[4, 10, 7, 9]], scale: 10 },
      { name: 'add, equal shapes', op: 'add', inputs: [[3, 4, 20, 20], [3, 4, 20, 20]] },
      { name: 'mul, SE scaling', op: 'mul', inputs: [[3, 4, 20, 20], [3, 4, 1, 1]] },
      { name: 'add, general broadcast split along dim 0', op: 'add', inputs: [[6, 2, 10, 10], [1, 2, 1, 10]] },
      { name: 'concat channels, a row per dispatch', op: 'concat', inputs: [[3, 2, 10, 10], [3, 3, 10, 10]] },
      { name: 'concat axis 0, one row split into element runs', op: 'concat', params: { axis: 0 }, inputs: [[2, 30, 30], [1, 30, 30]] },
      { name: 'channel_shuffle', op: 'channel_shuffle', params: { groups: 2 }, inputs: [[4, 6, 10, 10]] },
      { name: 'flatten', op: 'flatten', inputs: [[5, 600]] },
      { name: 'sigmoid', op: 'sigmoid', inputs: [[5, 601]], scale: 10 },
    ];
    for (const c of sliced) {
      it(`${c.op}: ${c.name}`, async () => {
        const { node, inputs, weights } = setup(c);
        expectClose(await gpu.runOp(node, inputs, weights, MODEL_SEED), runNodeInline(node, inputs, weights, MODEL_SEED));
      });
    }

    it('stochastic pool training keeps the draw of each output across slices, bit for bit', async () => {
      const node = planNodeFor('stochastic_pool2d', { kernel: 2, training: true }, [[3, 4, 20, 20]]);
      const x = adversarial(3 * 4 * 400, 21);
      expect(Array.from(bits(await gpu.runOp(node, [x], [], 5)))).toEqual(Array.from(bits(runNodeInline(node, [x], [], 5))));
    });
  });

  describe('a prepared model chaining the ops matches the CPU backend', () => {
    it('stem, SE block, residual, concat, shuffle, pools, softmax', async () => {
      const layers: LayerSpec[] = [
        { id: 'stem', op: 'conv2d', params: { out_channels: 8, kernel: 3, padding: 1 } },
        { id: 'bn', op: 'batch_norm' },
        { id: 'act', op: 'relu6' },
        { id: 'pool', op: 'max_pool2d', params: { kernel: 3, stride: 2, padding: 1 } },
        { id: 'squeeze', op: 'global_avg_pool' },
        { id: 'fc1', op: 'conv2d', params: { out_channels: 4, kernel: 1 } },
        { id: 'r', op: 'relu' },
        { id: 'fc2', op: 'conv2d', params: { out_channels: 8, kernel: 1 } },
        { id: 'gate', op: 'sigmoid' },
        { id: 'scale', op: 'mul', inputs: ['pool', 'gate'] },
        { id: 'res', op: 'add', inputs: ['scale', 'pool'] },
        { id: 'bn2', op: 'batch_norm' },
        { id: 'cat', op: 'concat', inputs: ['bn2', 'pool'] },
        { id: 'shuffle', op: 'channel_shuffle', params: { groups: 2 } },
        { id: 'norm', op: 'lrn', params: { size: 3 } },
        { id: 'avg', op: 'avg_pool2d', params: { kernel: 2 } },
        { id: 'min', op: 'min_pool2d', params: { kernel: 2, ceil_mode: true } },
        { id: 'gmax', op: 'global_max_pool' },
        { id: 'flat', op: 'flatten' },
        { id: 'drop', op: 'dropout' },
        { id: 'prob', op: 'softmax' },
      ];
      const plan = buildPlan({ format: 'convscope/v1', name: 'ops chain', input: { shape: [2, 3, 20, 20] }, seed: 4, layers });
      const gpu = await openTestBackend();
      const cpu = new CpuBackend(1);
      try {
        const run = async (b: WebGpuBackend | CpuBackend) => {
          const m = await b.prepare(plan, makeWeights(plan));
          try {
            return await m.forward(makeInput(plan.seed, plan.inputShape));
          } finally {
            await m.dispose();
          }
        };
        expectClose(await run(gpu), await run(cpu));
      } finally {
        await gpu.dispose();
        await cpu.dispose();
      }
    });
  });
});

/** The least a compatibility-mode (OpenGL ES) device may offer. */
const COMPAT: GpuLimits = {
  maxStorageBufferBindingSize: 128 * 1024 * 1024,
  maxBufferSize: 256 * 1024 * 1024,
  maxStorageBuffersPerShaderStage: 4,
  maxComputeWorkgroupStorageSize: 16 * 1024,
  maxComputeInvocationsPerWorkgroup: 128,
  maxComputeWorkgroupSizeX: 128,
  maxComputeWorkgroupSizeY: 128,
  maxComputeWorkgroupsPerDimension: 65535,
  minStorageBufferOffsetAlignment: 256,
};

describe('WGSL plans stay within compatibility-mode limits', () => {
  const large: OpCase[] = [
    { name: 'add on 205 MB tensors', op: 'add', inputs: [[64, 256, 56, 56], [64, 256, 56, 56]] },
    { name: 'SE scaling on 205 MB', op: 'mul', inputs: [[64, 256, 56, 56], [64, 256, 1, 1]] },
    { name: 'global avg pool on 205 MB', op: 'global_avg_pool', inputs: [[64, 256, 56, 56]] },
    { name: 'max pool on 205 MB', op: 'max_pool2d', params: { kernel: 3, stride: 2, padding: 1 }, inputs: [[64, 256, 56, 56]] },
    { name: 'batch_norm on 205 MB', op: 'batch_norm', inputs: [[64, 256, 56, 56]] },
    { name: 'concat on 2 x 103 MB', op: 'concat', inputs: [[64, 128, 56, 56], [64, 128, 56, 56]] },
  ];

  function tensorBytes(node: PlanNode, ref: GpuBinding['buffer'], scratch: number[]): number {
    if ('input' in ref) return numel(node.inShapes[ref.input]) * 4;
    if ('weight' in ref) return numel(node.weights[ref.weight].shape) * 4;
    if ('scratch' in ref) return scratch[ref.scratch];
    return numel(node.outShape) * 4;
  }

  for (const c of [...CASES, ...large]) {
    it(`${c.op}: ${c.name}`, () => {
      const node = planNodeFor(c.op, c.params ?? {}, c.inputs);
      const plan = getOp(c.op)!.webgpu!.plan({ attrs: node.attrs, inShapes: node.inShapes, outShape: node.outShape, weightShapes: node.weights.map((w) => w.shape), limits: COMPAT, seed: 1 });
      expect(plan.dispatches.length).toBeGreaterThan(0);
      for (const d of plan.dispatches) {
        expect(d.bindings.length).toBeLessThanOrEqual(COMPAT.maxStorageBuffersPerShaderStage);
        expect(d.code.match(/var<storage/g)?.length).toBe(d.bindings.length);
        const size = /@workgroup_size\((\d+)\)/.exec(d.code);
        expect(Number(size![1])).toBeLessThanOrEqual(COMPAT.maxComputeInvocationsPerWorkgroup);
        const shared = [...d.code.matchAll(/var<workgroup>\s+\w+\s*:\s*array<f32,\s*(\d+)>/g)].reduce((s, m) => s + Number(m[1]) * 4, 0);
        expect(shared).toBeLessThanOrEqual(COMPAT.maxComputeWorkgroupStorageSize);
        for (const n of d.workgroups) expect(n).toBeLessThanOrEqual(COMPAT.maxComputeWorkgroupsPerDimension);
        for (const b of d.bindings) {
          const offset = b.offset ?? 0;
          const bytes = b.size ?? tensorBytes(node, b.buffer, plan.scratch ?? []) - offset;
          expect(offset % COMPAT.minStorageBufferOffsetAlignment).toBe(0);
          expect(bytes).toBeLessThanOrEqual(COMPAT.maxStorageBufferBindingSize);
          expect(offset + bytes).toBeLessThanOrEqual(tensorBytes(node, b.buffer, plan.scratch ?? []));
        }
      }
    });
  }
});

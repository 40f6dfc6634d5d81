/**
 * Runs every case of test/data/ops/*.json on every execution path: the CPU inline (the reference),
 * the CPU worker pool, and WebGPU for ops that have a WGSL kernel (Dawn; on a machine without a GPU,
 * Mesa's llvmpipe through OpenGL ES).
 *
 * WebGPU tolerance: 1e-4 relative (or the case's own, if looser). GPU kernels sum in a different
 * order than the CPU (tiles of 16 along K, fused multiply-adds), so float32 results differ in the
 * last bits; 1e-4 is far above that and far below any indexing mistake.
 * CONVSCOPE_WEBGPU_TESTS=0 skips the WebGPU path (see helpers/webgpu.ts).
 *
 * CPU WebAssembly paths (1 thread, and 2 threads with every op split): the SIMD kernels for ops
 * that have one, the TypeScript kernels on the shared arena for the rest. Tolerance: the case's,
 * as for the TypeScript kernels (1e-5 relative by default). The GEMM sums in K-blocks and 4- and
 * 8-wide vectors, in float32, so results move by a few ulps of the sum of |terms|; the cases'
 * sums are short (K of at most a few hundred), which keeps that far below 1e-5.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/engine/backends/cpu/backend.ts';
import { resolveBackend } from '../src/engine/backends/registry.ts';
import type { Backend } from '../src/engine/backends/types.ts';
import { OPS } from '../src/engine/ops/registry.ts';
import { runNodeInline } from '../src/engine/backends/cpu/reference.ts';
import { WASM_KERNELS } from '../src/engine/backends/cpu/wasm/kernels.ts';
import { planNodeFor } from '../src/engine/graph/plan.ts';
import { makeWeight } from '../src/engine/weights.ts';
import { numel } from '../src/engine/tensor.ts';
import { loadOpCaseFiles, materialize, type OpCase } from './helpers/op-cases.ts';
import { WEBGPU_TESTS } from './helpers/webgpu.ts';

const pooled = new CpuBackend(2, 0);
afterAll(() => pooled.dispose());

let wasm1: CpuBackend;
let wasm2: CpuBackend;
beforeAll(async () => {
  wasm1 = await CpuBackend.create({ threads: 1, kernels: 'wasm' });
  wasm2 = await CpuBackend.create({ threads: 2, minParallelWork: 0, kernels: 'wasm' });
});
afterAll(async () => {
  await wasm1?.dispose();
  await wasm2?.dispose();
});

/** Ops with a WebAssembly kernel. Exact, so the wasm path's coverage is always visible here. */
const WITH_WASM = ['add', 'avg_pool2d', 'batch_norm', 'conv2d', 'conv_transpose2d', 'deform_conv2d', 'global_avg_pool', 'linear', 'max_pool2d', 'min_pool2d', 'mul', 'relu', 'relu6'];

describe('CPU WebAssembly kernel coverage', () => {
  it('lists exactly the ops with a WebAssembly kernel', () => {
    expect([...WASM_KERNELS.keys()].sort()).toEqual(WITH_WASM);
  });
});

const WEBGPU = WEBGPU_TESTS;
const WEBGPU_TOLERANCE = 1e-4;
let gpu: Backend | null = null;
beforeAll(async () => {
  if (WEBGPU) gpu = (await resolveBackend('webgpu')).backend;
});
afterAll(() => gpu?.dispose());

/**
 * Ops that have no WGSL kernel yet. Exact: adding a kernel (or an op) fails this test until the
 * list is updated, so the WebGPU backend's coverage is always visible here.
 */
const WITHOUT_WGSL: string[] = [];

describe('WebGPU kernel coverage', () => {
  it('lists exactly the ops without a WGSL kernel', () => {
    const missing = [...OPS.values()].filter((op) => !op.webgpu).map((op) => op.type).sort();
    expect(missing).toEqual(WITHOUT_WGSL);
  });
});

type Runner = (c: OpCase) => Promise<Float32Array>;

function setup(op: string, c: OpCase) {
  const node = planNodeFor(op, c.params, c.inputs.map((i) => i.shape));
  const inputs = c.inputs.map((i) => materialize(i.data, numel(i.shape)));
  const weights = node.weights.map((w) => (c.weights?.[w.name] ? materialize(c.weights[w.name], numel(w.shape)) : makeWeight(c.seed ?? 0, node.id, w)));
  return { node, inputs, weights };
}

const runners = (op: string): Record<string, Runner> => ({
  'cpu (inline)': async (c) => {
    const { node, inputs, weights } = setup(op, c);
    return runNodeInline(node, inputs, weights, c.seed ?? 0);
  },
  'cpu (2 worker threads)': async (c) => {
    const { node, inputs, weights } = setup(op, c);
    return pooled.runOp(node, inputs, weights, c.seed ?? 0);
  },
  'cpu wasm (1 thread)': async (c) => {
    const { node, inputs, weights } = setup(op, c);
    return wasm1.runOp(node, inputs, weights, c.seed ?? 0);
  },
  'cpu wasm (2 threads)': async (c) => {
    const { node, inputs, weights } = setup(op, c);
    return wasm2.runOp(node, inputs, weights, c.seed ?? 0);
  },
  ...(WEBGPU && OPS.get(op)?.webgpu
    ? {
        webgpu: async (c: OpCase) => {
          const { node, inputs, weights } = setup(op, c);
          return gpu!.runOp(node, inputs, weights, c.seed ?? 0);
        },
      }
    : {}),
});

for (const file of loadOpCaseFiles()) {
  describe(`${file.op} (${file.file})`, () => {
    for (const [backend, run] of Object.entries(runners(file.op))) {
      for (const c of file.cases) {
        it(`${backend}: ${c.name}`, async () => {
          if (c.error !== undefined) {
            expect(() => setup(file.op, c)).toThrow(c.error);
            return;
          }
          const { node } = setup(file.op, c);
          expect(node.outShape).toEqual(c.expected!.shape);
          const got = await run(c);
          const want = materialize(c.expected!.data, numel(c.expected!.shape));
          const tol = backend === 'webgpu' ? Math.max(c.tolerance ?? 0, WEBGPU_TOLERANCE) : (c.tolerance ?? 1e-5);
          expect(got.length).toBe(want.length);
          for (let i = 0; i < want.length; i++) {
            if (!(Math.abs(got[i] - want[i]) <= tol * Math.max(1, Math.abs(want[i])))) {
              throw new Error(`element ${i}: got ${got[i]}, expected ${want[i]} (tolerance ${tol})`);
            }
          }
        });
      }
    }
  });
}

/**
 * ONNX's own backend node tests for every op the importer claims (IMPORTED_ONNX_OPS), on the CPU
 * reference (TypeScript kernels inline, unfused), the CPU backend (WebAssembly kernels, 2 threads,
 * every op split across both) and WebGPU (llvmpipe where there is no GPU; CONVSCOPE_WEBGPU_TESTS=0
 * skips it), each compared with ONNX's expected output at ONNX's tolerance (rtol 1e-3, atol 1e-7:
 * see test/helpers/onnx-node.ts, which also says how a node test's many inputs become one).
 *
 * A wrong result on any backend fails. A refusal at import (a clear SpecError) is fine when
 * test/helpers/onnx-node-refusals.ts expects it; for the ops listed there as reviewed, any other
 * refusal fails, so a case that used to pass cannot quietly start refusing.
 *
 * The data is generated, not committed: `/usr/bin/python3 scripts/onnx-node-tests/generate.py`
 * (Debian's python3-onnx; about 2 s, 27 MB in test/data/onnx-node, gitignored). Without it the
 * node tests skip, saying so; CONVSCOPE_ONNX_NODE_TESTS points at another copy of the data.
 * docs/onnx-node-tests.md is the pass table (`npx tsx scripts/onnx-node-tests/table.ts`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/engine/backends/cpu/backend.ts';
import { InlineCpuBackend } from '../src/engine/backends/cpu/inline.ts';
import { resolveBackend } from '../src/engine/backends/registry.ts';
import type { Backend } from '../src/engine/backends/types.ts';
import { floatTensor, int, int64Tensor, ints, OnnxGraphBuilder } from '../src/engine/onnx/builder.ts';
import { IMPORTED_ONNX_OPS } from '../src/engine/onnx/import.ts';
import { DataType, decodeModel } from '../src/engine/onnx/proto.ts';
import {
  allclose,
  GENERATE_COMMAND,
  listNodeTests,
  NODE_TESTS_DIR,
  nodeTestsPresent,
  nodeTestsVersion,
  prepare,
  runNodeTest,
  runOn,
  withOneInput,
  type NodeTest,
  type NodeTestResult,
} from './helpers/onnx-node.ts';
import { CASES, expectedRefusal, REVIEWED_OPS } from './helpers/onnx-node-refusals.ts';
import { WEBGPU_TESTS } from './helpers/webgpu.ts';

const PRESENT = nodeTestsPresent();
const TESTS = PRESENT ? listNodeTests() : [];
const CLAIMED = TESTS.filter((t) => t.claimed);
const REVIEWED = new Set(REVIEWED_OPS);

/** A one-node test case in memory: Conv(x, W) with W a graph input, as ONNX's node tests write it. */
function convCase(): NodeTest {
  const g = new OnnxGraphBuilder('conv case');
  g.input('x', [1, 1, 3, 3]);
  g.input('W', [1, 1, 2, 2]);
  g.node('Conv', ['x', 'W'], ['y'], { kernel_shape: ints([2, 2]) });
  g.output('y', [1, 1, 2, 2]);
  return { name: 'conv_case', dir: '', model: decodeModel(g.build()), opTypes: ['Conv'], op: 'Conv', claimed: true };
}

// x = 1..9 (3x3), W = [1, 0; 0, -1]: y[i][j] = x[i][j] - x[i+1][j+1] = -4 everywhere.
const X = floatTensor(Float32Array.from({ length: 9 }, (_, i) => i + 1), [1, 1, 3, 3]);
const W = floatTensor(new Float32Array([1, 0, 0, -1]), [1, 1, 2, 2]);

describe('ONNX node test harness', () => {
  it('keeps the first float input and turns every other input into an initializer with the data set value', () => {
    const { model, kept } = withOneInput(convCase().model, [X, W]);
    expect(kept).toBe(0);
    expect(model.graph.input.map((i) => i.name)).toEqual(['x']);
    expect(model.graph.initializer!.map((t) => [t.name, t.dims, t.raw_data])).toEqual([['W', [1, 1, 2, 2], W.raw_data]]);
  });

  it('keeps a float input that comes after an integer one, and the first input when none is float', () => {
    const m = convCase().model;
    const ints64 = structuredClone(m);
    ints64.graph.input[0].type!.tensor_type!.elem_type = DataType.INT64;
    const shape = int64Tensor([1, 4]);
    expect(withOneInput(ints64, [shape, W]).kept).toBe(1);
    expect(withOneInput(ints64, [shape, W]).model.graph.initializer!.map((t) => t.name)).toEqual(['x']);
    ints64.graph.input[1].type!.tensor_type!.elem_type = DataType.INT64;
    expect(withOneInput(ints64, [shape, shape]).kept).toBe(0);
  });

  it('compares as numpy.testing.assert_allclose(rtol=1e-3, atol=1e-7): within passes, just outside fails, NaN only matches NaN', () => {
    const want = new Float32Array([1000, 1e-9, 0, NaN, Infinity]);
    expect(allclose(new Float32Array([1000.99, 0, 9e-8, NaN, Infinity]), want)).toBeNull();
    expect(allclose(new Float32Array([1001.01, 0, 0, NaN, Infinity]), want)).toMatch(/^1 of 5 values differ; worst at 0/);
    expect(allclose(new Float32Array([1000, 0, 1.1e-7, NaN, Infinity]), want)).toMatch(/worst at 2/);
    expect(allclose(new Float32Array([1000, 0, 0, 0, Infinity]), want)).toMatch(/worst at 3/);
    expect(allclose(new Float32Array([1000, 0, 0, NaN, -Infinity]), want)).toMatch(/worst at 4/);
    expect(allclose(new Float32Array([1000]), want)).toBe('1 values, expected 5');
  });

  it('imports the rewritten case, runs it, and fails a wrong expected output', async () => {
    const reference = new InlineCpuBackend('node test harness');
    const p = prepare(convCase(), { name: 'set', inputs: [X, W], outputs: [floatTensor(new Float32Array(4).fill(-4), [1, 1, 2, 2])] });
    if (p.kind !== 'ready') throw new Error(`refused: ${p.message}`);
    expect(p.plan.nodes.map((n) => n.op)).toEqual(['conv2d']);
    expect(await runOn(reference, p)).toEqual({ status: 'passed' });
    p.expected.data[3] = -4.01;
    expect(await runOn(reference, p)).toEqual({ status: 'failed', detail: expect.stringMatching(/^1 of 4 values differ; worst at 3: got -4, expected -4.01/) });
    p.expected.dims = [1, 1, 4];
    expect(await runOn(reference, p)).toEqual({ status: 'failed', detail: 'output shape [1, 1, 2, 2], expected [1, 1, 4]' });
  });

  it('records a case the importer refuses with its SpecError', () => {
    // An even LRN window: ONNX centres it the other way from PyTorch, so the importer refuses it.
    const g = new OnnxGraphBuilder('lrn case');
    g.input('x', [1, 1, 2, 2]);
    g.node('LRN', ['x'], ['y'], { size: int(2) });
    g.output('y');
    const model = decodeModel(g.build());
    const p = prepare({ ...convCase(), model, opTypes: ['LRN'], op: 'LRN' }, { name: 'set', inputs: [X], outputs: [] });
    expect(p.kind).toBe('refused');
    expect(p.kind === 'refused' && p.message).toMatch(/LRN size 2: .*only odd sizes import/);
  });

  it('reviews only ops the importer claims', () => {
    expect(REVIEWED_OPS.filter((op) => !IMPORTED_ONNX_OPS.has(op))).toEqual([]);
  });
});

if (!PRESENT) {
  describe('ONNX node tests', () => {
    it.skip(`skipped: no data in ${NODE_TESTS_DIR}/node; generate it with ${GENERATE_COMMAND}`, () => {});
  });
}

describe.runIf(PRESENT)(`ONNX node tests${PRESENT ? ` (${nodeTestsVersion() ?? 'unknown onnx version'})` : ''} of the ops convscope imports`, () => {
  let cpu: CpuBackend;
  let webgpu: Backend | null = null;
  const reference = new InlineCpuBackend('node tests');
  const results = new Map<string, NodeTestResult>();
  beforeAll(async () => {
    cpu = await CpuBackend.create({ threads: 2, minParallelWork: 0, kernels: 'wasm' });
    if (WEBGPU_TESTS) webgpu = (await resolveBackend('webgpu')).backend;
  });
  afterAll(async () => {
    await cpu?.dispose();
    await webgpu?.dispose();
  });

  it('finds the node tests, and claims some of each reviewed op', () => {
    expect(TESTS.length).toBeGreaterThan(500);
    const claimedOps = new Set(CLAIMED.map((t) => t.op));
    // DeformConv has no node test before onnx 1.13 (opset 19).
    expect(REVIEWED_OPS.filter((op) => op !== 'DeformConv' && !claimedOps.has(op))).toEqual([]);
  });

  for (const t of CLAIMED) {
    it(`${t.op}: ${t.name}`, async () => {
      const r = await runNodeTest(t, { reference, cpu, webgpu }, { webgpu: 'CONVSCOPE_WEBGPU_TESTS=0' });
      results.set(t.name, r);
      if (r.status === 'refused') {
        const why = expectedRefusal(t.name, r.facts, r.refusal!);
        if (!why && REVIEWED.has(t.op)) {
          throw new Error(`${t.name} is refused, which test/helpers/onnx-node-refusals.ts does not expect:\n${r.refusal}\n(a regression, or add it there with the reason)`);
        }
        return;
      }
      const failed = Object.entries(r.backends).filter(([, o]) => o.status === 'failed');
      if (failed.length > 0) throw new Error(failed.map(([b, o]) => `${b}: ${'detail' in o ? o.detail : ''}`).join('\n'));
      expect(r.backends.reference?.status).toBe('passed');
      expect(r.backends.cpu?.status).toBe('passed');
    });
  }

  it('lists expected refusals only of claimed cases, and says which of them now pass', () => {
    const claimed = new Set(CLAIMED.map((t) => t.name));
    expect(Object.keys(CASES).filter((name) => !claimed.has(name))).toEqual([]);
    // An expected refusal that now imports and passes is progress, not a failure: say so, so the
    // entry is taken off the list (the pass table marks it too).
    const nowPass = Object.keys(CASES).filter((name) => results.get(name)?.status === 'ran');
    if (nowPass.length > 0) process.stderr.write(`expected refusals that now import: ${nowPass.join(', ')}; remove them from test/helpers/onnx-node-refusals.ts\n`);
  });
});

/**
 * ONNX's backend node tests (the test data of the onnx package: one model.onnx per case, with
 * test_data_set_N/input_J.pb and output_J.pb TensorProtos) run through convscope's importer and
 * backends. Shared by test/onnx-node.test.ts and scripts/onnx-node-tests/table.ts, which writes
 * docs/onnx-node-tests.md from the same run.
 *
 * A case is *claimed* when every op of its model is one the importer declares it reads
 * (IMPORTED_ONNX_OPS in src/engine/onnx/import.ts): an op added there is picked up here with no
 * change. Cases are attributed to the op they test: their single op type, or for a
 * `<case>_expanded` case (the op's function body written out in other ops) that of `<case>`.
 *
 * Convscope models take ONE input tensor, while node tests feed every operand as a graph input
 * (Conv's W, BatchNormalization's statistics, Reshape's shape, ...). So each data set is run on
 * a rewritten model: the first float32 graph input stays the model input (the first input at all
 * when none is float, so that the importer says why it refuses), and every other tensor input
 * becomes an initializer holding that data set's value, as an exported model would hold its
 * weights. The rewritten model is encoded to bytes with the repo's encoder and imported like any
 * file. Non-tensor inputs (sequences, optionals) stay inputs, and the importer refuses them.
 *
 * Tolerance: ONNX's backend runner (onnx.backend.test.runner) compares with
 * numpy.testing.assert_allclose(out, expected, rtol=1e-3, atol=1e-7), the tolerance every node
 * case is generated with: |got - want| <= 1e-7 + 1e-3 * |want| per element, NaN equal to NaN,
 * an infinity only to itself, and the shapes equal.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../../src/engine/backends/types.ts';
import { SpecError } from '../../src/engine/errors.ts';
import { buildPlan, ModelWithWeights, type Plan } from '../../src/engine/graph/plan.ts';
import { importOnnx, IMPORTED_ONNX_OPS } from '../../src/engine/onnx/import.ts';
import { DataType, decodeModel, decodeTensor, encodeModel, type Model, type Node, type TensorProto } from '../../src/engine/onnx/proto.ts';
import { numel, shapeText, type Shape } from '../../src/engine/tensor.ts';
import { makeWeights } from '../../src/engine/weights.ts';

/** The folder holding `node/test_*` (CONVSCOPE_ONNX_NODE_TESTS overrides, e.g. an onnx wheel's data folder). */
export const NODE_TESTS_DIR = process.env.CONVSCOPE_ONNX_NODE_TESTS || fileURLToPath(new URL('../data/onnx-node', import.meta.url));
export const GENERATE_COMMAND = '/usr/bin/python3 scripts/onnx-node-tests/generate.py';

export const RTOL = 1e-3;
export const ATOL = 1e-7;

export const BACKENDS = ['reference', 'cpu', 'webgpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface NodeTest {
  name: string;
  dir: string;
  model: Model;
  /** Distinct op types of the model's nodes (`domain.Op` outside the standard domain). */
  opTypes: string[];
  /** The op the case tests. */
  op: string;
  claimed: boolean;
}

export function nodeTestsPresent(dir = NODE_TESTS_DIR): boolean {
  return existsSync(join(dir, 'node'));
}

/** The onnx version the data was generated from (generate.py writes it), or null. */
export function nodeTestsVersion(dir = NODE_TESTS_DIR): string | null {
  const file = join(dir, 'VERSION');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : null;
}

function opTypeOf(n: Node): string {
  return n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.op_type}` : n.op_type;
}

export function listNodeTests(dir = NODE_TESTS_DIR): NodeTest[] {
  const root = join(dir, 'node');
  const found = readdirSync(root)
    .filter((name) => existsSync(join(root, name, 'model.onnx')))
    .sort()
    .map((name) => {
      const model = decodeModel(readFileSync(join(root, name, 'model.onnx')));
      return { name, dir: join(root, name), model, opTypes: [...new Set(model.graph.node.map(opTypeOf))].sort() };
    });
  const byName = new Map(found.map((t) => [t.name, t]));
  return found.map((t) => {
    const base = t.name.endsWith('_expanded') ? byName.get(t.name.slice(0, -'_expanded'.length)) : undefined;
    const first = (base ?? t).model.graph.node[0];
    return { ...t, op: first ? opTypeOf(first) : '(no node)', claimed: t.opTypes.length > 0 && t.opTypes.every((o) => IMPORTED_ONNX_OPS.has(o)) };
  });
}

export interface DataSet {
  name: string;
  inputs: TensorProto[];
  outputs: TensorProto[];
}

export function dataSets(test: NodeTest): DataSet[] {
  const numbered = (folder: string, prefix: string) =>
    readdirSync(folder)
      .map((f) => new RegExp(`^${prefix}_(\\d+)\\.pb$`).exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .sort((a, b) => Number(a[1]) - Number(b[1]))
      .map((m) => decodeTensor(readFileSync(join(folder, m[0]))));
  return readdirSync(test.dir)
    .filter((f) => f.startsWith('test_data_set_'))
    .sort()
    .map((name) => ({ name, inputs: numbered(join(test.dir, name), 'input'), outputs: numbered(join(test.dir, name), 'output') }));
}

/**
 * The model with one input: the first float32 graph input (else the first) stays, every other
 * tensor input becomes an initializer holding `values` at its position. Returns the kept input's
 * position too (-1 for a graph without inputs).
 */
export function withOneInput(model: Model, values: TensorProto[]): { model: Model; kept: number } {
  const g = model.graph;
  const initialized = new Set((g.initializer ?? []).map((t) => t.name));
  const real = g.input.map((vi, at) => ({ vi, at })).filter(({ vi }) => !initialized.has(vi.name));
  const keep = real.find(({ vi }) => vi.type?.tensor_type?.elem_type === DataType.FLOAT) ?? real[0];
  const moved = real.filter((r) => r !== keep && r.vi.type?.tensor_type && values[r.at]);
  const movedNames = new Set(moved.map((r) => r.vi.name));
  const graph = {
    ...g,
    input: g.input.filter((vi) => !movedNames.has(vi.name)),
    initializer: [...(g.initializer ?? []), ...moved.map(({ vi, at }) => ({ ...values[at], name: vi.name }))],
  };
  return { model: { ...model, graph }, kept: keep?.at ?? -1 };
}

/** A float32 (or float64) TensorProto's values; null for any other element type. */
export function tensorFloats(t: TensorProto): Float32Array | null {
  const n = numel((t.dims ?? []).map(Number));
  const raw = t.raw_data && t.raw_data.length > 0 ? t.raw_data : null;
  if (t.data_type === DataType.FLOAT) {
    if (!raw) return Float32Array.from(t.float_data ?? []);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    return Float32Array.from({ length: n }, (_, i) => view.getFloat32(i * 4, true));
  }
  if (t.data_type === DataType.DOUBLE) {
    if (!raw) return Float32Array.from(t.double_data ?? []);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    return Float32Array.from({ length: n }, (_, i) => view.getFloat64(i * 8, true));
  }
  return null;
}

/** What the refusal rules look at: the model as the importer sees it after withOneInput. */
export interface CaseFacts {
  /** The kept input's rank and element type (ONNX DataType), or null when it has no tensor type. */
  inputRank: number | null;
  inputType: number | null;
  /** Graph inputs the rewrite left (1 unless some are not tensors, 0 when the graph has none). */
  inputs: number;
  graphOutputs: number;
}

export type Prepared =
  | { kind: 'refused'; message: string; facts: CaseFacts }
  | { kind: 'ready'; plan: Plan; input: Float32Array; expected: { dims: Shape; data: Float32Array }; facts: CaseFacts };

/** Imports one data set's rewritten model; a SpecError from the importer or the planner is a refusal. */
export function prepare(test: NodeTest, set: DataSet): Prepared {
  const { model, kept } = withOneInput(test.model, set.inputs);
  const tt = kept >= 0 ? test.model.graph.input[kept].type?.tensor_type : undefined;
  const facts: CaseFacts = {
    inputRank: tt ? (tt.shape?.dim ?? []).length : null,
    inputType: tt ? tt.elem_type : null,
    inputs: model.graph.input.length,
    graphOutputs: model.graph.output.length,
  };
  let plan: Plan;
  try {
    const { spec, weights } = importOnnx(encodeModel(model), { source: test.name });
    plan = buildPlan(new ModelWithWeights(spec, weights));
  } catch (err) {
    if (err instanceof SpecError) return { kind: 'refused', message: err.message, facts };
    throw err;
  }
  const input = tensorFloats(set.inputs[kept]);
  const want = set.outputs[0];
  const data = want ? tensorFloats(want) : null;
  if (!input) throw new Error(`${test.name}: convscope imported a model whose input is not float`);
  if (!want || !data) throw new Error(`${test.name}: output_0 is ${want ? `of element type ${want.data_type}` : 'missing'}; convscope computes float32`);
  return { kind: 'ready', plan, input, expected: { dims: (want.dims ?? []).map(Number), data }, facts };
}

/** numpy.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-7): null, or what differs. */
export function allclose(got: Float32Array, want: Float32Array, rtol = RTOL, atol = ATOL): string | null {
  if (got.length !== want.length) return `${got.length} values, expected ${want.length}`;
  let bad = 0;
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    const g = got[i];
    const ok = Number.isNaN(w) ? Number.isNaN(g) : Number.isFinite(w) ? Math.abs(g - w) <= atol + rtol * Math.abs(w) : g === w;
    if (ok) continue;
    bad++;
    const excess = Math.abs(g - w) / (atol + rtol * Math.abs(w));
    if (worst < 0 || !(excess <= worstExcess)) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (bad === 0) return null;
  return `${bad} of ${want.length} values differ; worst at ${worst}: got ${got[worst]}, expected ${want[worst]} (allowed ${atol} + ${rtol} * |expected|)`;
}

export type BackendOutcome =
  | { status: 'passed' }
  | { status: 'failed'; detail: string }
  /** The backend has no kernel for one of the ops (prepare() said so with a SpecError). */
  | { status: 'unsupported'; detail: string }
  | { status: 'skipped'; detail: string };

export interface NodeTestResult {
  name: string;
  op: string;
  /** `refused` carries the importer's message; `ran` has one outcome per backend. */
  status: 'ran' | 'refused';
  refusal?: string;
  facts?: CaseFacts;
  backends: Partial<Record<BackendName, BackendOutcome>>;
}

/** Runs the prepared plan on one backend and compares with ONNX's expected output. */
export async function runOn(backend: Backend, p: Extract<Prepared, { kind: 'ready' }>): Promise<BackendOutcome> {
  let model;
  try {
    model = await backend.prepare(p.plan, makeWeights(p.plan));
  } catch (err) {
    // Only a backend without a kernel for an op may say no (WebGPU before an op's WGSL lands).
    if (err instanceof SpecError && /no WGSL kernel/.test(err.message)) return { status: 'unsupported', detail: err.message };
    return { status: 'failed', detail: `prepare: ${(err as Error).message}` };
  }
  try {
    if (!sameShape(p.plan.outputShape, p.expected.dims)) {
      return { status: 'failed', detail: `output shape ${shapeText(p.plan.outputShape)}, expected ${shapeText(p.expected.dims)}` };
    }
    const got = await model.forward(p.input);
    const diff = allclose(got, p.expected.data);
    return diff ? { status: 'failed', detail: diff } : { status: 'passed' };
  } catch (err) {
    return { status: 'failed', detail: `forward: ${(err as Error).message}` };
  } finally {
    await model.dispose();
  }
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Every data set of a claimed case on each backend given (null: skipped, with the reason). A
 * refusal of any data set refuses the case.
 */
export async function runNodeTest(test: NodeTest, backends: Record<BackendName, Backend | null>, skipped: Partial<Record<BackendName, string>> = {}): Promise<NodeTestResult> {
  const result: NodeTestResult = { name: test.name, op: test.op, status: 'ran', backends: {} };
  for (const set of dataSets(test)) {
    const p = prepare(test, set);
    result.facts = p.facts;
    if (p.kind === 'refused') return { ...result, status: 'refused', refusal: p.message, backends: {} };
    for (const name of BACKENDS) {
      const backend = backends[name];
      const outcome: BackendOutcome = backend ? await runOn(backend, p) : { status: 'skipped', detail: skipped[name] ?? 'not run' };
      const before = result.backends[name];
      if (!before || before.status === 'passed') result.backends[name] = outcome;
    }
  }
  return result;
}

/**
 * An ONNX model as a convscope/v1 spec plus the weights stored in the file. Each ONNX node (or
 * a few nodes that together mean one engine op) becomes one primitive layer, resolved through
 * the engine's own op rules as it is added, so shapes, params and MACs come out exactly as for a
 * spec written by hand. Layer ids are the node names with "/" (which separates a block's ops in
 * convscope) written as ".".
 *
 * Read as one op each: Conv, ConvTranspose, DeformConv, MaxPool, AveragePool, GlobalAveragePool,
 * GlobalMaxPool, BatchNormalization, Relu, Clip (0, 6) as relu6 (and (0, inf) as relu), Sigmoid,
 * Gemm and MatMul as linear (a following Add of a constant vector becomes the bias, as it does
 * after a Conv without one), Add, Mul, Concat, Reshape and Flatten (as flatten, when they merge
 * neighbouring dimensions, else reshape), Dropout, Softmax, LRN (odd sizes), Identity; the data
 * movement of any rank as transpose, slice (Slice, and Split as a slice per output), pad, resize
 * (Resize, Upsample) and reshape (Squeeze, Unsqueeze). Folded together: Reshape ->
 * Transpose(0, 2, 1, 3, 4) -> Reshape as channel_shuffle, and the exporter's own compositions
 * (min pooling, stochastic pooling, even-size LRN) back into their ops. Constants (initializers,
 * Constant nodes, and Shape / Gather / Unsqueeze / Squeeze / Concat / Cast / Slice / Reshape /
 * Transpose / Range / ConstantOfShape / arithmetic over them, onnx/shape-fold.ts) feed Reshape
 * shapes, Slice bounds, pads and similar inputs.
 *
 * Anything else is refused before a layer is built: one SpecError lists every unsupported op
 * type with the names of its nodes, so nothing is ever silently counted as zero.
 *
 * Pure: the caller hands over the file's bytes and a reader for external data files.
 */
import { SpecError } from '../errors.ts';
import { INPUT, planNodeFor } from '../graph/plan.ts';
import { numel, shapeText, type Shape } from '../tensor.ts';
import { SPEC_FORMAT, type LayerSpec, type ModelSpec, type ParamValue } from '../../shared/spec.ts';
import { META_NAME, META_SEED } from './export.ts';
import { DataLocation, DataType, decodeModel, type Attribute, type Model, type Node, type TensorProto } from './proto.ts';
import { arith, constantOfShape, range, sliceConst, transposeConst, type ConstData } from './shape-fold.ts';
import { sliceAxis } from '../ops/slice/index.ts';

export interface ImportOptions {
  /** The size of a symbolic (or unknown) batch dimension; default 1. */
  batch?: number;
  /**
   * Reads an external data file named by a tensor (TensorProto location), relative to the
   * model's folder. Without it a model with external data is refused.
   */
  readExternal?: (location: string) => Uint8Array;
  /** What to call the model in messages (e.g. its file name) and, failing a name in the file, the model's name. */
  source?: string;
  /**
   * The caller gives `bytes` away (the CLI's freshly read file): the importer may move each
   * unaligned float tensor 1-3 bytes within them so that every weight is a view onto them, and
   * they are no longer a valid ONNX file afterwards. Without it, unaligned tensors are copied.
   */
  ownBytes?: boolean;
}

export interface ImportedModel {
  spec: ModelSpec;
  /** By layer id (= op id), in each op's declared weight order. */
  weights: Map<string, Float32Array[]>;
}

/** A constant: an initializer, a Constant node, or something computed from those alone. */
interface Const {
  kind: 'const';
  dims: number[];
  /** Float tensors as float32; integer and boolean tensors as numbers. */
  data: Float32Array | number[];
  isFloat: boolean;
}

/** A tensor the engine computes: the model input or a layer's output. */
interface Computed {
  kind: 'tensor';
  ref: string;
  shape: Shape;
}

type Value = Const | Computed;

const STANDARD_DOMAINS = new Set(['', 'ai.onnx']);

/** Ops that become one layer (or an alias) on their own. */
const DIRECT = new Set([
  'Conv',
  'ConvTranspose',
  'DeformConv',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'ReduceMean',
  'ReduceMax',
  'BatchNormalization',
  'LayerNormalization',
  'Relu',
  'Clip',
  'Sigmoid',
  'HardSwish',
  'HardSigmoid',
  'Gemm',
  'MatMul',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Concat',
  'Reshape',
  'Flatten',
  'Dropout',
  'Softmax',
  'LRN',
  'Identity',
  'Constant',
]);

/** Ops evaluated at import time when every input is a constant (shape arithmetic). */
const CONST_FOLDABLE = new Set(['Shape', 'Gather', 'Unsqueeze', 'Squeeze', 'Cast', 'Concat', 'Identity', 'Constant']);

/** Data-movement ops read on computed tensors, as the engine's transpose, reshape, slice, pad and resize. */
const SHAPE_OPS = new Set(['Transpose', 'Slice', 'Split', 'Pad', 'Resize', 'Upsample', 'Squeeze', 'Unsqueeze']);

/** Folded at import when every input is a constant: the shape arithmetic torch.onnx.export emits. */
const SHAPE_FOLDABLE = new Set(['Slice', 'Add', 'Sub', 'Mul', 'Div', 'ConstantOfShape', 'Range', 'Reshape', 'Transpose']);

/** Ops that exist only inside a folded pattern: said so when one appears elsewhere. */
const PATTERN_ONLY: Record<string, string> = {
  Erf: "only inside GELU as torch.onnx.export writes it: Div(x, sqrt 2) -> Erf -> Add 1 -> Mul x -> Mul 0.5",
  Tanh: "only inside GELU's tanh form as torch.onnx.export writes it (0.5 * x * (1 + Tanh(sqrt(2/pi) * (x + 0.044715 x^3))))",
  Neg: 'only as min pooling, Neg -> MaxPool -> Neg',
  Greater: "only inside the exporter's stochastic pooling",
  Where: "only inside the exporter's stochastic pooling",
  Pow: "only inside the exporter's even-size LRN (torch writes GELU's x^3 as Mul)",
};

type PatternKind = 'min_pool' | 'channel_shuffle' | 'stochastic_pool' | 'even_lrn' | 'silu' | 'gelu_erf' | 'gelu_tanh';

interface Pattern {
  kind: PatternKind;
  /** Node indices, first to last (the one producing the result, where the op is added). */
  nodes: number[];
}

export function importOnnx(bytes: Uint8Array, options: ImportOptions = {}): ImportedModel {
  const source = options.source ?? 'ONNX model';
  let model: Model;
  try {
    model = decodeModel(bytes);
  } catch (err) {
    throw new SpecError(`${source}: not a readable ONNX file (${(err as Error).message})`, undefined, 'model');
  }
  if (!model.graph || !model.graph.node) throw new SpecError(`${source}: not an ONNX model (no graph)`, undefined, 'model');
  return new Importer(model, source, options).run();
}

class Importer {
  private readonly graph: Model['graph'];
  private readonly model: Model;
  private readonly opset: number;
  private nodes: Node[] = [];
  private readonly initializers = new Map<string, TensorProto>();
  private readonly values = new Map<string, Value>();
  /** Value name -> the (node index, input slot) pairs that read it. */
  private readonly uses = new Map<string, { node: number; slot: number }[]>();
  private readonly graphOutputs = new Set<string>();
  private readonly patternAt = new Map<number, Pattern>();
  /** Nodes already accounted for (inside a pattern or folded into another node's op). */
  private readonly claimed = new Set<number>();
  private readonly layers: LayerSpec[] = [];
  private readonly weights = new Map<string, Float32Array[]>();
  private readonly ids = new Set<string>([INPUT]);
  private readonly externalFiles = new Map<string, Uint8Array>();

  constructor(
    model: Model,
    private readonly source: string,
    private readonly options: ImportOptions,
  ) {
    this.graph = model.graph;
    this.opset = model.opset_import?.find((o) => STANDARD_DOMAINS.has(o.domain ?? ''))?.version ?? 1;
    this.model = model;
  }

  run(): ImportedModel {
    for (const t of this.graph.initializer ?? []) if (t.name) this.initializers.set(t.name, t);
    const input = this.modelInput();
    this.nodes = this.topologicalNodes();
    this.nodes.forEach((n, i) =>
      n.input.forEach((v, slot) => {
        if (!v) return;
        const list = this.uses.get(v) ?? [];
        list.push({ node: i, slot });
        this.uses.set(v, list);
      }),
    );
    for (const o of this.graph.output) this.graphOutputs.add(o.name);
    if (this.graph.output.length === 0) throw new SpecError(`${this.source}: the graph has no outputs`, undefined, 'model');

    this.findPatterns();
    this.refuseUnsupported();

    this.values.set(input.name, { kind: 'tensor', ref: INPUT, shape: input.shape });
    this.nodes.forEach((node, i) => {
      if (this.patternAt.has(i)) this.addPattern(this.patternAt.get(i)!);
      else if (!this.claimed.has(i)) this.addNode(node, i);
    });

    const outName = this.graph.output[0].name;
    const out = this.values.get(outName);
    if (!out) throw new SpecError(`${this.source}: graph output "${outName}" is produced by no node`, undefined, 'model');
    if (out.kind !== 'tensor' || out.ref === INPUT) {
      throw new SpecError(`${this.source}: graph output "${outName}" is ${out.kind === 'const' ? 'a constant' : 'the input itself'}; there is nothing to profile`, undefined, 'model');
    }
    this.putOutputLast(out);

    const meta = new Map((this.model.metadata_props ?? []).map((e) => [e.key, e.value]));
    const seed = Number(meta.get(META_SEED));
    const spec: ModelSpec = {
      format: SPEC_FORMAT,
      name: meta.get(META_NAME) || this.graph.name || this.source,
      input: { shape: input.shape },
      ...(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32 ? { seed } : {}),
      layers: this.layers,
    };
    return { spec, weights: this.weights };
  }

  // ---- structure -------------------------------------------------------------------------

  private modelInput(): { name: string; shape: Shape } {
    const real = this.graph.input.filter((i) => !this.initializers.has(i.name));
    if (real.length !== 1) {
      const names = real.map((i) => `"${i.name}"`).join(', ') || 'none';
      throw new SpecError(`${this.source}: convscope models take exactly one input tensor; this graph has ${real.length} (${names})`, undefined, 'input');
    }
    const [vi] = real;
    const tt = vi.type?.tensor_type;
    if (!tt) throw new SpecError(`${this.source}: input "${vi.name}" is not a tensor`, undefined, 'input');
    if (tt.elem_type !== DataType.FLOAT) {
      throw new SpecError(`${this.source}: input "${vi.name}" has element type ${dataTypeName(tt.elem_type)}; convscope runs float32 models`, undefined, 'input');
    }
    const dims = tt.shape?.dim ?? [];
    if (dims.length !== 4) {
      throw new SpecError(`${this.source}: input "${vi.name}" has ${tt.shape ? `rank ${dims.length}` : 'no shape'}; convscope models take a 4-D NCHW input`, undefined, 'input');
    }
    const batch = this.options.batch ?? 1;
    if (!Number.isInteger(batch) || batch < 1) throw new SpecError(`--batch must be a positive integer, got ${batch}`, undefined, 'batch');
    const shape = dims.map((d, i) => {
      if (d.dim_value !== undefined && d.dim_value > 0) return d.dim_value;
      if (i === 0) return batch;
      const what = d.dim_param ? `symbolic ("${d.dim_param}")` : 'unknown';
      throw new SpecError(`${this.source}: input "${vi.name}" dimension ${i} is ${what}; only the batch (dimension 0) may be free, the others need fixed sizes`, undefined, 'input');
    });
    return { name: vi.name, shape };
  }

  /** Nodes in an order where every input is defined first (ONNX asks for it; not every file obeys). */
  private topologicalNodes(): Node[] {
    const nodes = this.graph.node;
    const known = new Set<string>([...this.graph.input.map((i) => i.name), ...this.initializers.keys(), '']);
    const done = new Array<boolean>(nodes.length).fill(false);
    const order: Node[] = [];
    let progress = true;
    while (order.length < nodes.length && progress) {
      progress = false;
      nodes.forEach((n, i) => {
        if (done[i] || !n.input.every((v) => known.has(v))) return;
        done[i] = true;
        progress = true;
        order.push(n);
        n.output.forEach((o) => known.add(o));
      });
    }
    if (order.length < nodes.length) {
      const stuck = nodes.find((n, i) => !done[i])!;
      const missing = stuck.input.find((v) => !known.has(v));
      throw new SpecError(`${this.source}: node ${nodeLabel(stuck)} reads "${missing}", which no input, initializer or node defines (or the graph has a cycle)`, undefined, 'model');
    }
    return order;
  }

  /** The only node reading `value` (at any slots), or -1; a graph output counts as another reader. */
  private onlyUser(value: string, opType: string): number {
    if (this.graphOutputs.has(value)) return -1;
    const users = new Set((this.uses.get(value) ?? []).map((u) => u.node));
    if (users.size !== 1) return -1;
    const [i] = users;
    return this.nodes[i].op_type === opType && isStandard(this.nodes[i]) && !this.claimed.has(i) ? i : -1;
  }

  private usersOf(value: string): number[] {
    return [...new Set((this.uses.get(value) ?? []).map((u) => u.node))];
  }

  private findPatterns(): void {
    const claim = (kind: PatternKind, nodes: number[]) => {
      if (nodes.some((i) => i < 0 || this.claimed.has(i))) return false;
      nodes.forEach((i) => this.claimed.add(i));
      // Added where its last node was: constants the later nodes read (the channel shuffle's
      // second Reshape shape, a Constant node torch.onnx.export puts after the Transpose) exist by then.
      this.patternAt.set(nodes[nodes.length - 1], { kind, nodes });
      return true;
    };
    this.nodes.forEach((n, i) => {
      if (this.claimed.has(i) || !isStandard(n)) return;
      const out = n.output[0];
      if (n.op_type === 'Neg') {
        const max = this.onlyUser(out, 'MaxPool');
        if (max < 0 || this.nodes[max].input[0] !== out || usedExtraOutputs(this.nodes[max], this)) return;
        claim('min_pool', [i, max, this.onlyUser(this.nodes[max].output[0], 'Neg')]);
      } else if (n.op_type === 'Reshape') {
        const t = this.onlyUser(out, 'Transpose');
        if (t < 0 || !sameInts(attr(this.nodes[t], 'perm')?.ints, [0, 2, 1, 3, 4])) return;
        const back = this.onlyUser(this.nodes[t].output[0], 'Reshape');
        if (back >= 0 && this.nodes[back].input[0] === this.nodes[t].output[0]) claim('channel_shuffle', [i, t, back]);
      } else if (n.op_type === 'Relu') {
        this.findStochastic(i, claim);
      } else if (n.op_type === 'Mul' && n.input[0] === n.input[1]) {
        this.findEvenLrn(i, claim);
        if (!this.claimed.has(i)) this.findGeluTanh(i, claim);
      } else if (n.op_type === 'Sigmoid') {
        this.findSilu(i, claim);
      } else if (n.op_type === 'Div') {
        this.findGeluErf(i, claim);
      }
    });
  }

  /** Relu -> Mul(r, r) -> AveragePool = num; AveragePool(r) = den; Where(den > 0, num / den, 0). */
  private findStochastic(relu: number, claim: (k: PatternKind, nodes: number[]) => boolean): void {
    const r = this.nodes[relu].output[0];
    if (this.graphOutputs.has(r)) return;
    const users = this.usersOf(r);
    if (users.length !== 2) return;
    const mul = users.find((u) => this.nodes[u].op_type === 'Mul' && this.nodes[u].input[0] === r && this.nodes[u].input[1] === r);
    const den = users.find((u) => this.nodes[u].op_type === 'AveragePool' && this.nodes[u].input[0] === r);
    if (mul === undefined || den === undefined) return;
    const num = this.onlyUser(this.nodes[mul].output[0], 'AveragePool');
    if (num < 0) return;
    const div = this.onlyUser(this.nodes[num].output[0], 'Div');
    if (div < 0 || this.nodes[div].input[0] !== this.nodes[num].output[0] || this.nodes[div].input[1] !== this.nodes[den].output[0]) return;
    const denOut = this.nodes[den].output[0];
    if (this.graphOutputs.has(denOut)) return;
    const denUsers = this.usersOf(denOut);
    const greater = denUsers.find((u) => this.nodes[u].op_type === 'Greater' && this.nodes[u].input[0] === denOut);
    if (denUsers.length !== 2 || greater === undefined) return;
    const where = this.onlyUser(this.nodes[div].output[0], 'Where');
    if (where < 0 || this.onlyUser(this.nodes[greater].output[0], 'Where') !== where) return;
    const w = this.nodes[where];
    if (w.input[0] !== this.nodes[greater].output[0] || w.input[1] !== this.nodes[div].output[0]) return;
    claim('stochastic_pool', [relu, mul, num, den, div, greater, where]);
  }

  /** Mul(x, x) -> Reshape -> Conv(ones) -> Reshape -> Mul -> Add -> Pow -> Div(x, .): the exporter's even-size LRN. */
  private findEvenLrn(sq: number, claim: (k: PatternKind, nodes: number[]) => boolean): void {
    const chain = [sq];
    for (const op of ['Reshape', 'Conv', 'Reshape', 'Mul', 'Add', 'Pow', 'Div']) {
      const prev = this.nodes[chain[chain.length - 1]];
      const next = this.onlyUser(prev.output[0], op);
      if (next < 0) return;
      const slot = op === 'Div' ? 1 : 0;
      if (this.nodes[next].input[slot] !== prev.output[0]) return;
      chain.push(next);
    }
    const div = this.nodes[chain[chain.length - 1]];
    if (div.input[0] !== this.nodes[sq].input[0]) return;
    claim('even_lrn', chain);
  }

  // ---- activation patterns (torch.onnx.export's SiLU and GELU) ----

  /** The scalar a value holds when it is an initializer or a Constant node's output, else undefined. */
  private peekScalar(name: string): number | undefined {
    let c: Const | undefined;
    if (this.initializers.has(name)) c = this.initializerValue(name);
    else {
      const node = this.nodes.find((n) => n.output[0] === name);
      if (!node || node.op_type !== 'Constant' || !isStandard(node)) return undefined;
      c = this.constantNode(node, new Attrs(node));
    }
    return c.data.length === 1 ? Number(c.data[0]) : undefined;
  }

  private isScalar(name: string, want: number): boolean {
    const v = this.peekScalar(name);
    return v !== undefined && Math.abs(v - want) <= 1e-6 * Math.abs(want);
  }

  /**
   * The node that alone reads `value` when it is an `op` (Add and Mul either way round), and its
   * other input; -1 when there is none.
   */
  private step(value: string, op: string): { at: number; other: string } {
    const at = this.onlyUser(value, op);
    if (at < 0) return { at: -1, other: '' };
    const ins = this.nodes[at].input;
    if (ins.length === 1) return ins[0] === value ? { at, other: '' } : { at: -1, other: '' };
    if (ins[0] === value) return { at, other: ins[1] };
    if (ins[1] === value && (op === 'Add' || op === 'Mul')) return { at, other: ins[0] };
    return { at: -1, other: '' };
  }

  /** Sigmoid(x) -> Mul(x, s): SiLU as torch 1.13 exports nn.SiLU. */
  private findSilu(sig: number, claim: (k: PatternKind, nodes: number[]) => boolean): void {
    const x = this.nodes[sig].input[0];
    const mul = this.step(this.nodes[sig].output[0], 'Mul');
    if (mul.at >= 0 && mul.other === x) claim('silu', [sig, mul.at]);
  }

  /** Div(x, sqrt 2) -> Erf -> Add 1 -> Mul x -> Mul 0.5: torch's nn.GELU() (opset < 20). */
  private findGeluErf(div: number, claim: (k: PatternKind, nodes: number[]) => boolean): void {
    const d = this.nodes[div];
    const x = d.input[0];
    if (!this.isScalar(d.input[1], Math.SQRT2)) return;
    const erf = this.step(d.output[0], 'Erf');
    if (erf.at < 0) return;
    const one = this.step(this.nodes[erf.at].output[0], 'Add');
    if (one.at < 0 || !this.isScalar(one.other, 1)) return;
    const byX = this.step(this.nodes[one.at].output[0], 'Mul');
    if (byX.at < 0 || byX.other !== x) return;
    const half = this.step(this.nodes[byX.at].output[0], 'Mul');
    if (half.at < 0 || !this.isScalar(half.other, 0.5)) return;
    claim('gelu_erf', [div, erf.at, one.at, byX.at, half.at]);
  }

  /**
   * Mul(x, x) -> Mul x -> Mul 0.044715 -> Add x -> Mul sqrt(2/pi) -> Tanh -> Add 1 -> Mul x ->
   * Mul 0.5: torch's nn.GELU(approximate="tanh").
   */
  private findGeluTanh(sq: number, claim: (k: PatternKind, nodes: number[]) => boolean): void {
    const x = this.nodes[sq].input[0];
    const chain = [sq];
    const steps: [string, (other: string) => boolean][] = [
      ['Mul', (o) => o === x],
      ['Mul', (o) => this.isScalar(o, 0.044715)],
      ['Add', (o) => o === x],
      ['Mul', (o) => this.isScalar(o, Math.sqrt(2 / Math.PI))],
      ['Tanh', () => true],
      ['Add', (o) => this.isScalar(o, 1)],
      ['Mul', (o) => o === x],
      ['Mul', (o) => this.isScalar(o, 0.5)],
    ];
    for (const [op, ok] of steps) {
      const next = this.step(this.nodes[chain[chain.length - 1]].output[0], op);
      if (next.at < 0 || !ok(next.other)) return;
      chain.push(next.at);
    }
    claim('gelu_tanh', chain);
  }

  /** One SpecError naming every op type the importer cannot read, with all of its nodes. */
  private refuseUnsupported(): void {
    const constValues = new Set<string>([...this.initializers.keys()]);
    const bad = new Map<string, string[]>();
    const domains = new Set<string>();
    this.nodes.forEach((n, i) => {
      const allConst = n.input.every((v) => v === '' || constValues.has(v));
      if (isStandard(n) && (n.op_type === 'Shape' || ((CONST_FOLDABLE.has(n.op_type) || SHAPE_FOLDABLE.has(n.op_type)) && allConst))) {
        n.output.forEach((o) => constValues.add(o));
        return;
      }
      if (this.claimed.has(i)) return;
      if (isStandard(n) && DIRECT.has(n.op_type)) return;
      if (isStandard(n) && SHAPE_OPS.has(n.op_type)) return;
      const type = isStandard(n) ? n.op_type : `${n.domain}.${n.op_type}`;
      if (!isStandard(n)) domains.add(n.domain ?? '');
      bad.set(type, [...(bad.get(type) ?? []), n.name ? `"${n.name}"` : `(unnamed, output "${n.output[0]}")`]);
    });
    if (bad.size === 0) return;
    const list = [...bad].map(([type, names]) => {
      const hint = PATTERN_ONLY[type] ? ` (${PATTERN_ONLY[type]})` : CONST_FOLDABLE.has(type) ? ' (only on constants)' : '';
      return `${type}${hint}: ${names.length === 1 ? 'node' : 'nodes'} ${names.join(', ')}`;
    });
    throw new SpecError(
      `${this.source} (${[this.opsetText(), ...[...domains].map((d) => this.domainOpset(d))].join(', ')}): ${bad.size} ONNX op type${bad.size === 1 ? ' is' : 's are'} not supported by convscope:\n  ${list.join('\n  ')}\n` +
        `convscope imports ${[...DIRECT, ...SHAPE_OPS].filter((t) => t !== 'Constant').join(', ')} (see docs/guide.md, "ONNX")`,
      undefined,
      'model',
    );
  }

  /**
   * The spec's output is its last layer. Move the output's layer to the end when nothing reads
   * it; if something does, end with an identity (dropout p = 0) that reads it.
   */
  private putOutputLast(out: Computed): void {
    const at = this.layers.findIndex((l) => l.id === out.ref);
    if (at === this.layers.length - 1) return;
    const readers = this.layers.some((l) => l.inputs!.includes(out.ref));
    if (!readers) {
      this.layers.push(...this.layers.splice(at, 1));
      return;
    }
    const id = this.layerId('output', 'Identity');
    this.layers.push({ id, op: 'dropout', params: { p: 0 }, inputs: [out.ref] });
  }

  // ---- values ----------------------------------------------------------------------------

  private value(node: Node, slot: number): Value {
    const name = node.input[slot];
    const v = this.values.get(name) ?? (this.initializers.has(name) ? this.initializerValue(name) : undefined);
    if (!v) throw this.fail(node, `input ${slot} "${name}" is not defined`);
    return v;
  }

  private has(node: Node, slot: number): boolean {
    return (node.input[slot] ?? '') !== '';
  }

  private tensor(node: Node, slot: number): Computed {
    const v = this.value(node, slot);
    if (v.kind !== 'tensor') throw this.fail(node, `input ${slot} "${node.input[slot]}" is a constant; convscope needs it computed from the model input`);
    return v;
  }

  private constant(node: Node, slot: number, what: string): Const {
    const v = this.value(node, slot);
    if (v.kind !== 'const') {
      throw this.fail(node, `${what} (input ${slot} "${node.input[slot]}") must be a constant (an initializer or a Constant node); weights computed at run time are not supported`);
    }
    return v;
  }

  private floats(node: Node, slot: number, what: string, dims?: number): Const & { data: Float32Array } {
    const c = this.constant(node, slot, what);
    if (!c.isFloat) throw this.fail(node, `${what} must be a float tensor`);
    if (dims !== undefined && c.dims.length !== dims) throw this.fail(node, `${what} must be ${dims}-D, got ${shapeText(c.dims)}`);
    return c as Const & { data: Float32Array };
  }

  private scalar(node: Node, slot: number, what: string): number {
    const c = this.constant(node, slot, what);
    if (c.data.length !== 1) throw this.fail(node, `${what} must be a single value, got ${shapeText(c.dims)}`);
    return c.data[0];
  }

  private initializerValue(name: string): Const {
    const v = this.decodeTensor(this.initializers.get(name)!, `initializer "${name}"`);
    this.values.set(name, v);
    return v;
  }

  private decodeTensor(t: TensorProto, what: string): Const {
    const dims = (t.dims ?? []).map(Number);
    const n = numel(dims);
    const type = t.data_type;
    const width = ELEMENT_BYTES[type];
    if (width === undefined) {
      throw new SpecError(`${this.source}: ${what} has element type ${dataTypeName(type)}; convscope reads float32/float64 weights and integer or boolean constants`, undefined, 'model');
    }
    let raw: Uint8Array | undefined = t.raw_data && t.raw_data.length > 0 ? t.raw_data : undefined;
    const external = t.data_location === DataLocation.EXTERNAL;
    if (external) raw = this.externalBytes(t, what, n * width);
    const isFloat = type === DataType.FLOAT || type === DataType.DOUBLE;
    if (raw) {
      if (raw.length !== n * width) throw new SpecError(`${this.source}: ${what} ${shapeText(dims)} needs ${n * width} bytes, the file holds ${raw.length}`, undefined, 'model');
      if (type === DataType.FLOAT) {
        const data = float32Data(raw, n, !external && this.options.ownBytes === true);
        // Moved data stays where it now is: decoding this tensor again must not move it again.
        if (!external && data.byteOffset !== raw.byteOffset) t.raw_data = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
        return { kind: 'const', dims, data, isFloat };
      }
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      if (type === DataType.DOUBLE) return { kind: 'const', dims, data: Float32Array.from({ length: n }, (_, i) => view.getFloat64(i * 8, true)), isFloat };
      const read = (i: number) =>
        type === DataType.INT64 ? Number(view.getBigInt64(i * 8, true)) : type === DataType.INT32 ? view.getInt32(i * 4, true) : view.getUint8(i);
      return { kind: 'const', dims, data: Array.from({ length: n }, (_, i) => read(i)), isFloat };
    }
    const fields = type === DataType.FLOAT ? t.float_data : type === DataType.DOUBLE ? t.double_data : type === DataType.INT64 ? t.int64_data : t.int32_data;
    const list = (fields ?? []).map(Number);
    if (list.length !== n) throw new SpecError(`${this.source}: ${what} ${shapeText(dims)} needs ${n} values, the file holds ${list.length}`, undefined, 'model');
    return { kind: 'const', dims, data: isFloat ? Float32Array.from(list) : list, isFloat };
  }

  private externalBytes(t: TensorProto, what: string, need: number): Uint8Array {
    const entries = new Map((t.external_data ?? []).map((e) => [e.key, e.value]));
    const location = entries.get('location');
    if (!location) throw new SpecError(`${this.source}: ${what} is stored externally but names no location`, undefined, 'model');
    // Like ONNX's own checker: external data lives in the model's folder or below it.
    if (/^([a-zA-Z]:)?[\\/]/.test(location) || location.split(/[\\/]/).includes('..')) {
      throw new SpecError(`${this.source}: ${what}: external data location "${location}" is outside the model's folder; it must be a relative path below it`, undefined, 'model');
    }
    if (!this.options.readExternal) throw new SpecError(`${this.source}: ${what} is stored in the external file "${location}", and no way to read it was given`, undefined, 'model');
    let file = this.externalFiles.get(location);
    if (!file) {
      file = this.options.readExternal(location);
      this.externalFiles.set(location, file);
    }
    const offset = Number(entries.get('offset') ?? 0);
    const length = entries.has('length') ? Number(entries.get('length')) : need;
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > file.length) {
      throw new SpecError(`${this.source}: ${what}: bytes ${offset}..${offset + length} of "${location}" are outside the file (${file.length} bytes)`, undefined, 'model');
    }
    return file.subarray(offset, offset + length);
  }

  // ---- layers ----------------------------------------------------------------------------

  private fail(node: Node, reason: string): SpecError {
    const id = node.name || node.output[0];
    return new SpecError(`${this.source}: node ${nodeLabel(node)}: ${reason}`, id, 'model');
  }

  private layerId(name: string, opType: string): string {
    const base = name.replace(/^\/+/, '').replace(/\//g, '.') || `${opType.replace(/[^A-Za-z0-9]+/g, '_').toLowerCase()}_${this.layers.length}`;
    let id = base;
    for (let i = 1; this.ids.has(id); i++) id = `${base}_${i}`;
    this.ids.add(id);
    return id;
  }

  /**
   * Adds one engine op named after `node`, resolved by the op's own rules (which check every
   * parameter and shape), with its weights by declared name. Returns its output.
   */
  private add(node: Node, op: string, params: Record<string, ParamValue>, inputs: Computed[], weights: Record<string, Float32Array> = {}): Computed {
    const id = this.layerId(node.name ?? '', node.op_type);
    let resolved;
    try {
      resolved = planNodeFor(op, params, inputs.map((i) => i.shape), id);
    } catch (err) {
      if (err instanceof SpecError) throw this.fail(node, `as ${op}: ${err.message}`);
      throw err;
    }
    const ws = resolved.weights.map((decl) => {
      const w = weights[decl.name];
      if (!w) throw new Error(`import: ${op} declares weight ${decl.name} that ${node.op_type} did not supply`);
      if (w.length !== numel(decl.shape)) throw this.fail(node, `${decl.name} has ${w.length} values; ${op} ${shapeText(decl.shape)} needs ${numel(decl.shape)}`);
      return w;
    });
    this.layers.push({ id, op, ...(Object.keys(params).length > 0 ? { params } : {}), inputs: inputs.map((i) => i.ref) });
    if (ws.length > 0) this.weights.set(id, ws);
    return { kind: 'tensor', ref: id, shape: resolved.outShape };
  }

  private set(name: string, v: Value): void {
    this.values.set(name, v);
  }

  /** A second output (MaxPool indices, BN statistics, Dropout mask) is fine only when nothing reads it. */
  private onlyFirstOutput(node: Node): void {
    if (usedExtraOutputs(node, this)) throw this.fail(node, `only its first output can be used; "${node.output.slice(1).find((o) => o && this.isUsed(o))}" is read`);
  }

  isUsed(value: string): boolean {
    return this.graphOutputs.has(value) || (this.uses.get(value)?.length ?? 0) > 0;
  }

  private addNode(node: Node, index: number): void {
    if (isStandard(node) && this.shapeNode(node)) return;
    this.onlyFirstOutput(node);
    const out = node.output[0];
    const a = new Attrs(node);
    switch (node.op_type) {
      case 'Constant':
        return this.set(out, this.constantNode(node, a));
      case 'Identity':
        return this.set(out, this.value(node, 0));
      case 'Shape':
      case 'Gather':
      case 'Unsqueeze':
      case 'Squeeze':
      case 'Cast':
        return this.set(out, this.fold(node, a));
      case 'Conv':
        return this.conv(node, a, index);
      case 'ConvTranspose':
        return this.convTranspose(node, a);
      case 'DeformConv':
        return this.deformConv(node, a);
      case 'MaxPool':
      case 'AveragePool':
        return this.set(out, this.pool(node, a, this.tensor(node, 0)));
      case 'GlobalAveragePool':
        return this.set(out, this.add(node, 'global_avg_pool', {}, [this.tensor(node, 0)]));
      case 'GlobalMaxPool':
        return this.set(out, this.add(node, 'global_max_pool', {}, [this.tensor(node, 0)]));
      case 'BatchNormalization':
        return this.batchNorm(node, a);
      case 'Relu':
        return this.set(out, this.add(node, 'relu', {}, [this.tensor(node, 0)]));
      case 'Sigmoid':
        return this.set(out, this.add(node, 'sigmoid', {}, [this.tensor(node, 0)]));
      case 'HardSwish':
        return this.set(out, this.add(node, 'hardswish', {}, [this.tensor(node, 0)]));
      case 'HardSigmoid':
        return this.hardSigmoid(node, a);
      case 'LayerNormalization':
        return this.layerNorm(node, a);
      case 'ReduceMean':
      case 'ReduceMax':
        return this.reduce(node, a);
      case 'Clip':
        return this.clip(node, a);
      case 'Gemm':
        return this.gemm(node, a, index);
      case 'MatMul':
        return this.matmul(node, index);
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div':
        return this.binary(node);
      case 'Concat':
        return this.concat(node, a);
      case 'Reshape':
        return this.reshape(node, a);
      case 'Flatten':
        return this.flatten(node, a);
      case 'Dropout':
        return this.dropout(node, a);
      case 'Softmax':
        return this.softmax(node, a);
      case 'LRN':
        return this.lrn(node, a);
      default:
        // refuseUnsupported lets through only what this switch maps; a node reaching here is an
        // op on inputs it cannot take (a Transpose of a constant, a Gather of a computed tensor).
        throw this.fail(node, `${node.op_type} on these inputs is not supported by convscope (${this.opsetText()})`);
    }
  }

  private constantNode(node: Node, a: Attrs): Const {
    const t = a.get('value');
    if (t?.t) return this.decodeTensor(t.t, `Constant ${nodeLabel(node)}`);
    const f = a.get('value_float');
    if (f) return { kind: 'const', dims: [], data: new Float32Array([f.f ?? 0]), isFloat: true };
    const fs = a.get('value_floats');
    if (fs) return { kind: 'const', dims: [fs.floats!.length], data: Float32Array.from(fs.floats!), isFloat: true };
    const i = a.get('value_int');
    if (i) return { kind: 'const', dims: [], data: [Number(i.i ?? 0)], isFloat: false };
    const is = a.get('value_ints');
    if (is) return { kind: 'const', dims: [is.ints!.length], data: is.ints!.map(Number), isFloat: false };
    throw this.fail(node, 'only tensor, float(s) and int(s) constants are supported');
  }

  /** Shape arithmetic on constants (and on the static shapes of computed tensors). */
  private fold(node: Node, a: Attrs): Const {
    const ints = (data: number[], dims = [data.length]): Const => ({ kind: 'const', dims, data, isFloat: false });
    if (node.op_type === 'Shape') {
      const v = this.value(node, 0);
      const shape = v.kind === 'tensor' ? v.shape : v.dims;
      const rank = shape.length;
      const clampAxis = (d: number) => Math.min(Math.max(d < 0 ? d + rank : d, 0), rank);
      return ints(shape.slice(clampAxis(a.int('start', 0)), clampAxis(a.int('end', rank))));
    }
    const c = this.constant(node, 0, 'the data');
    const data = Array.from(c.data);
    switch (node.op_type) {
      case 'Cast': {
        const to = a.int('to', DataType.FLOAT);
        const isFloat = to === DataType.FLOAT || to === DataType.DOUBLE;
        return { kind: 'const', dims: c.dims, data: isFloat ? Float32Array.from(data) : data.map(Math.trunc), isFloat };
      }
      case 'Gather': {
        const axis = a.int('axis', 0);
        if (c.dims.length !== 1 || (axis !== 0 && axis !== -1)) throw this.fail(node, 'only gathers from 1-D constants are supported');
        const idx = this.constant(node, 1, 'the indices');
        const picked = Array.from(idx.data).map((i) => data[i < 0 ? i + data.length : i]);
        return { kind: 'const', dims: idx.dims, data: c.isFloat ? Float32Array.from(picked) : picked, isFloat: c.isFloat };
      }
      case 'Unsqueeze':
      case 'Squeeze': {
        return { ...c, dims: this.squeezed(node, a, c.dims) };
      }
      default:
        throw new Error(`import: cannot fold ${node.op_type}`);
    }
  }

  /** Window attributes (kernel_shape, strides, pads / auto_pad, dilations) as engine params. */
  private window(node: Node, a: Attrs, input: Shape, kernel: number[]): { stride: number[]; dilation: number[]; pads: number[] } {
    if (kernel.length !== 2 || input.length !== 4) throw this.fail(node, `only 2-D windows over 4-D NCHW tensors are supported (input ${shapeText(input)}, kernel_shape [${kernel.join(', ')}])`);
    const stride = a.ints('strides') ?? [1, 1];
    const dilation = a.ints('dilations') ?? [1, 1];
    const autoPad = a.string('auto_pad', 'NOTSET');
    let pads: number[];
    if (autoPad === 'NOTSET' || autoPad === '') pads = a.ints('pads') ?? [0, 0, 0, 0];
    else if (autoPad === 'VALID') pads = [0, 0, 0, 0];
    else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const total = [0, 1].map((i) => {
        const size = input[2 + i];
        const out = Math.ceil(size / stride[i]);
        return Math.max((out - 1) * stride[i] + (kernel[i] - 1) * dilation[i] + 1 - size, 0);
      });
      const first = (t: number) => (autoPad === 'SAME_UPPER' ? Math.floor(t / 2) : Math.ceil(t / 2));
      pads = [first(total[0]), first(total[1]), total[0] - first(total[0]), total[1] - first(total[1])];
    } else throw this.fail(node, `auto_pad "${autoPad}" is not an ONNX value`);
    if (stride.length !== 2 || dilation.length !== 2 || pads.length !== 4) throw this.fail(node, 'strides, dilations and pads must describe a 2-D window');
    return { stride, dilation, pads };
  }

  /** Pools always state the stride: ONNX's default is 1, the engine's (PyTorch's) the kernel. */
  private windowParams(w: { stride: number[]; dilation: number[]; pads: number[] }, kernel: number[], opts: { dilation: boolean; pool?: boolean }): Record<string, ParamValue> {
    const out: Record<string, ParamValue> = { kernel: pair(kernel) };
    if (opts.pool || w.stride.some((s) => s !== 1)) out.stride = pair(w.stride);
    if (w.pads.some((p) => p !== 0)) out.padding = padding(w.pads);
    if (opts.dilation && w.dilation.some((d) => d !== 1)) out.dilation = pair(w.dilation);
    return out;
  }

  private conv(node: Node, a: Attrs, index: number): void {
    const x = this.tensor(node, 0);
    const w = this.floats(node, 1, 'the weight', 4);
    const kernel = a.ints('kernel_shape') ?? w.dims.slice(2);
    const win = this.window(node, a, x.shape, kernel);
    const groups = a.int('group', 1);
    const cout = w.dims[0];
    if (w.dims[1] * groups !== x.shape[1]) {
      throw this.fail(node, `the weight ${shapeText(w.dims)} with group ${groups} takes ${w.dims[1] * groups} input channels, the input ${shapeText(x.shape)} has ${x.shape[1]}`);
    }
    let bias = this.has(node, 2) ? this.floats(node, 2, 'the bias').data : undefined;
    let out = node.output[0];
    if (!bias) {
      const folded = this.foldBias(index, cout, 4);
      if (folded) ({ bias, out } = folded);
    }
    const params: Record<string, ParamValue> = { out_channels: cout, ...this.windowParams(win, kernel, { dilation: true }) };
    if (groups !== 1) params.groups = groups;
    if (!bias) params.bias = false;
    this.set(out, this.add(node, 'conv2d', params, [x], { weight: w.data, ...(bias ? { bias } : {}) }));
  }

  /**
   * An Add of a constant per-channel vector right after a Conv / MatMul / Gemm without bias is
   * that op's bias (PyTorch exports nn.Linear as MatMul + Add): fold it in.
   */
  private foldBias(index: number, channels: number, rank: number, axis = 1): { bias: Float32Array; out: string } | null {
    const producer = this.nodes[index];
    const addAt = this.onlyUser(producer.output[0], 'Add');
    if (addAt < 0) return null;
    const add = this.nodes[addAt];
    const slot = add.input[0] === producer.output[0] ? 1 : 0;
    if (add.input[1 - slot] !== producer.output[0] || add.input[slot] === producer.output[0]) return null;
    const v = this.values.get(add.input[slot]) ?? (this.initializers.has(add.input[slot]) ? this.initializerValue(add.input[slot]) : undefined);
    if (!v || v.kind !== 'const' || !v.isFloat || v.data.length !== channels) return null;
    // The vector must run along the channel axis (axis 1 of a Conv's output, the last of a MatMul's).
    const dims = v.dims;
    const aligned = [...new Array<number>(Math.max(rank - dims.length, 0)).fill(1), ...dims];
    if (aligned.length !== rank || aligned.some((d, i) => (i === axis ? d !== channels : d !== 1))) return null;
    this.claimed.add(addAt);
    return { bias: Float32Array.from(v.data), out: add.output[0] };
  }

  private convTranspose(node: Node, a: Attrs): void {
    const x = this.tensor(node, 0);
    const w = this.floats(node, 1, 'the weight', 4);
    const kernel = a.ints('kernel_shape') ?? w.dims.slice(2);
    const groups = a.int('group', 1);
    const autoPad = a.string('auto_pad', 'NOTSET');
    if (autoPad !== 'NOTSET' && autoPad !== '' && autoPad !== 'VALID') throw this.fail(node, `auto_pad ${autoPad} is not supported for ConvTranspose; give pads`);
    const win = this.window(node, a, x.shape, kernel);
    const outPad = a.ints('output_padding') ?? [0, 0];
    const outputShape = a.ints('output_shape');
    if (outputShape) {
      // ONNX: total padding = stride * (in - 1) + output_padding + (k - 1) * dilation + 1 - out,
      // the odd unit going to the end (NOTSET) as onnxruntime does.
      const want = outputShape.slice(-2);
      const pads = [0, 0, 0, 0];
      [0, 1].forEach((i) => {
        const total = win.stride[i] * (x.shape[2 + i] - 1) + outPad[i] + (kernel[i] - 1) * win.dilation[i] + 1 - want[i];
        if (total < 0) throw this.fail(node, `output_shape ${shapeText(outputShape)} needs output padding; give output_padding and pads instead`);
        pads[i] = total - Math.floor(total / 2);
        pads[i + 2] = Math.floor(total / 2);
      });
      win.pads = pads;
    }
    const cout = w.dims[1] * groups;
    const bias = this.has(node, 2) ? this.floats(node, 2, 'the bias').data : undefined;
    const params: Record<string, ParamValue> = { out_channels: cout, ...this.windowParams(win, kernel, { dilation: true }) };
    if (outPad.some((p) => p !== 0)) params.output_padding = pair(outPad);
    if (groups !== 1) params.groups = groups;
    if (!bias) params.bias = false;
    this.set(node.output[0], this.add(node, 'conv_transpose2d', params, [x], { weight: w.data, ...(bias ? { bias } : {}) }));
  }

  private deformConv(node: Node, a: Attrs): void {
    const x = this.tensor(node, 0);
    const w = this.floats(node, 1, 'the weight', 4);
    const offset = this.tensor(node, 2);
    const bias = this.has(node, 3) ? this.floats(node, 3, 'the bias').data : undefined;
    const mask = this.has(node, 4) ? this.tensor(node, 4) : undefined;
    const kernel = a.ints('kernel_shape') ?? w.dims.slice(2);
    const win = this.window(node, a, x.shape, kernel);
    const params: Record<string, ParamValue> = { out_channels: w.dims[0], ...this.windowParams(win, kernel, { dilation: true }) };
    const groups = a.int('group', 1);
    const offsetGroups = a.int('offset_group', 1);
    if (groups !== 1) params.groups = groups;
    if (offsetGroups !== 1) params.offset_groups = offsetGroups;
    if (!bias) params.bias = false;
    this.set(node.output[0], this.add(node, 'deform_conv2d', params, mask ? [x, offset, mask] : [x, offset], { weight: w.data, ...(bias ? { bias } : {}) }));
  }

  private pool(node: Node, a: Attrs, x: Computed, as?: string): Computed {
    const kernel = a.ints('kernel_shape');
    if (!kernel) throw this.fail(node, 'kernel_shape is required');
    const win = this.window(node, a, x.shape, kernel);
    const max = node.op_type !== 'AveragePool';
    if (!max && win.dilation.some((d) => d !== 1)) throw this.fail(node, 'AveragePool with dilations is not supported (PyTorch avg_pool2d has none)');
    const params = this.windowParams(win, kernel, { dilation: max, pool: true });
    if (a.int('ceil_mode', 0) === 1) params.ceil_mode = true;
    // ONNX's default is count_include_pad = 0, the engine's (PyTorch's) true: always say which.
    if (!max && !as) params.count_include_pad = a.int('count_include_pad', 0) === 1;
    return this.add(node, as ?? (max ? 'max_pool2d' : 'avg_pool2d'), params, [x]);
  }

  private batchNorm(node: Node, a: Attrs): void {
    if (a.int('training_mode', 0) !== 0) throw this.fail(node, 'training_mode BatchNormalization is not supported (inference only)');
    const x = this.tensor(node, 0);
    const [weight, bias, mean, variance] = [1, 2, 3, 4].map((i) => this.floats(node, i, ['', 'scale', 'B', 'input_mean', 'input_var'][i]).data);
    const eps = float32Param(a.float('epsilon', 1e-5));
    this.set(node.output[0], this.add(node, 'batch_norm', eps === 1e-5 ? {} : { eps }, [x], { weight, bias, running_mean: mean, running_var: variance }));
  }

  private clip(node: Node, a: Attrs): void {
    const x = this.tensor(node, 0);
    const bound = (slot: number, name: 'min' | 'max', dflt: number) =>
      this.opset >= 11 ? (this.has(node, slot) ? this.scalar(node, slot, name) : dflt) : a.float(name, dflt);
    const lo = bound(1, 'min', -Infinity);
    const hi = bound(2, 'max', Infinity);
    if (lo === 0 && hi === 6) return this.set(node.output[0], this.add(node, 'relu6', {}, [x]));
    if (lo === 0 && hi === Infinity) return this.set(node.output[0], this.add(node, 'relu', {}, [x]));
    const params: Record<string, ParamValue> = {};
    if (lo !== -Infinity) params.min = float32Param(lo);
    if (hi !== Infinity) params.max = float32Param(hi);
    this.set(node.output[0], this.add(node, 'clip', params, [x]));
  }

  private gemm(node: Node, a: Attrs, index: number): void {
    const x = this.tensor(node, 0);
    if (a.int('transA', 0) !== 0) throw this.fail(node, 'transA = 1 is not supported (the input must be [N, in])');
    const b = this.floats(node, 1, 'B (the weight)', 2);
    const alpha = a.float('alpha', 1);
    const beta = a.float('beta', 1);
    const transB = a.int('transB', 0) === 1;
    const outF = transB ? b.dims[0] : b.dims[1];
    // b.data may be a view onto the file (float32Data): scale a copy, never the file.
    let weight = transB ? b.data : transpose(b.data, b.dims[0], b.dims[1]);
    if (alpha !== 1) weight = weight.map((v) => v * alpha);
    let bias: Float32Array | undefined;
    let out = node.output[0];
    if (this.has(node, 2)) {
      const c = this.floats(node, 2, 'C (the bias)');
      const perRow = c.dims.length === 0 || c.dims.every((d, i) => i === c.dims.length - 1 || d === 1);
      if (!perRow || (c.data.length !== outF && c.data.length !== 1)) {
        throw this.fail(node, `C ${shapeText(c.dims)} must be one bias per output ([${outF}] or [1, ${outF}]) or a scalar`);
      }
      bias = c.data.length === 1 ? new Float32Array(outF).fill(c.data[0] * beta) : Float32Array.from(c.data, (v) => v * beta);
    } else {
      const folded = this.foldBias(index, outF, 2);
      if (folded) ({ bias, out } = folded);
    }
    this.set(out, this.add(node, 'linear', { out_features: outF, ...(bias ? {} : { bias: false }) }, [x], { weight, ...(bias ? { bias } : {}) }));
  }

  private matmul(node: Node, index: number): void {
    const x = this.tensor(node, 0);
    const b = this.floats(node, 1, 'the weight (input 1)', 2);
    if (x.shape.length < 2) throw this.fail(node, `MatMul of a ${x.shape.length}-D input ${shapeText(x.shape)} is not supported; only [..., in] x [in, out] (a linear layer)`);
    const [, outF] = b.dims;
    const folded = this.foldBias(index, outF, x.shape.length, x.shape.length - 1);
    const weight = transpose(b.data, b.dims[0], b.dims[1]);
    this.set(folded?.out ?? node.output[0], this.add(node, 'linear', { out_features: outF, ...(folded ? {} : { bias: false }) }, [x], { weight, ...(folded ? { bias: folded.bias } : {}) }));
  }

  /**
   * Add / Sub / Mul / Div: of two computed tensors (broadcast); of a tensor and a constant (the
   * constant becomes the op's weight, counted as params: ConvNeXt's layer scale, a normalisation
   * mean); of two constants, folded here (torch's Shape arithmetic).
   */
  private binary(node: Node): void {
    const [l, r] = [this.value(node, 0), this.value(node, 1)];
    const op = node.op_type.toLowerCase();
    // Two constants never reach here: the shape-arithmetic folding (foldShapeConst) evaluates them first.
    if (l.kind === 'const' && r.kind === 'const') throw new Error(`import: ${nodeLabel(node)} of two constants was not folded`);
    if (l.kind === 'tensor' && r.kind === 'tensor') return this.set(node.output[0], this.add(node, op, {}, [l, r]));
    const [x, c, first] = l.kind === 'tensor' ? [l, r as Const, false] : [r as Computed, l, true];
    const params: Record<string, ParamValue> = { weight_shape: [...c.dims] };
    if (first) params.weight_first = true;
    this.set(node.output[0], this.add(node, op, params, [x], { weight: Float32Array.from(c.data) }));
  }

  private hardSigmoid(node: Node, a: Attrs): void {
    // ONNX's defaults (alpha 0.2), not the engine's (PyTorch's 1/6): always state both.
    const params = { alpha: float32Param(a.float('alpha', 0.2)), beta: float32Param(a.float('beta', 0.5)) };
    this.set(node.output[0], this.add(node, 'hardsigmoid', params, [this.tensor(node, 0)]));
  }

  private layerNorm(node: Node, a: Attrs): void {
    const x = this.tensor(node, 0);
    const scale = this.floats(node, 1, 'Scale').data;
    const bias = this.has(node, 2) ? this.floats(node, 2, 'B').data : undefined;
    const eps = float32Param(a.float('epsilon', 1e-5));
    const axis = a.int('axis', -1);
    const params: Record<string, ParamValue> = { ...(axis === -1 ? {} : { axis }), ...(eps === 1e-5 ? {} : { eps }), ...(bias ? {} : { bias: false }) };
    this.set(node.output[0], this.add(node, 'layer_norm', params, [x], { weight: scale, ...(bias ? { bias } : {}) }));
  }

  private reduce(node: Node, a: Attrs): void {
    const x = this.tensor(node, 0);
    const axes = this.opset >= 18 || this.has(node, 1) ? (this.has(node, 1) ? Array.from(this.constant(node, 1, 'the axes').data) : undefined) : a.ints('axes');
    if ((axes === undefined || axes.length === 0) && a.int('noop_with_empty_axes', 0) === 1) return this.set(node.output[0], x);
    const params: Record<string, ParamValue> = {};
    if (axes && axes.length > 0) params.axes = axes;
    if (a.int('keepdims', 1) === 0) params.keepdims = false;
    this.set(node.output[0], this.add(node, node.op_type === 'ReduceMean' ? 'reduce_mean' : 'reduce_max', params, [x]));
  }

  private concat(node: Node, a: Attrs): void {
    const ins = node.input.map((_, i) => this.value(node, i));
    const axis = a.int('axis', 0);
    if (ins.every((v) => v.kind === 'const')) {
      const cs = ins as Const[];
      if (cs.some((c) => c.dims.length !== 1)) throw this.fail(node, 'only 1-D constants can be concatenated at import time');
      const data = cs.flatMap((c) => Array.from(c.data));
      const isFloat = cs.some((c) => c.isFloat);
      return this.set(node.output[0], { kind: 'const', dims: [data.length], data: isFloat ? Float32Array.from(data) : data, isFloat });
    }
    if (ins.some((v) => v.kind === 'const')) throw this.fail(node, 'concatenating a constant with computed tensors is not supported');
    const tensors = ins as Computed[];
    // torch.cat of a one-element list (DenseNet's first dense layer) exports a Concat of one input.
    if (tensors.length === 1) return this.set(node.output[0], tensors[0]);
    const rank = tensors[0].shape.length;
    const norm = axis < 0 ? axis + rank : axis;
    this.set(node.output[0], this.add(node, 'concat', norm === 1 ? {} : { axis: norm }, tensors));
  }

  private reshape(node: Node, a: Attrs): void {
    const x = this.tensor(node, 0);
    const shape = Array.from(this.constant(node, 1, 'the shape').data);
    const target = reshapeTarget(x.shape, shape, a.int('allowzero', 0) === 1, (why) => this.fail(node, why));
    this.set(node.output[0], this.reshapeTo(node, x, target));
  }

  private flatten(node: Node, a: Attrs): void {
    const x = this.tensor(node, 0);
    const rank = x.shape.length;
    const given = a.int('axis', 1);
    const axis = given < 0 ? given + rank : given;
    this.set(node.output[0], this.reshapeTo(node, x, [numel(x.shape.slice(0, axis)), numel(x.shape.slice(axis))]));
  }

  /** A reshape the engine has: none at all, or one flatten of neighbouring dimensions. */
  private reshapeTo(node: Node, x: Computed, to: Shape): Computed {
    const from = x.shape;
    if (sameInts(from, to)) return x;
    const merged = from.length - to.length;
    // start_dim 1 first: the usual [N, ...] -> [N, rest], whatever sizes of 1 allow otherwise.
    const starts = [1, ...to.keys()].filter((s, i, all) => all.indexOf(s) === i && s < to.length);
    for (const s of merged > 0 ? starts : []) {
      const e = s + merged;
      if (sameInts(from.slice(0, s), to.slice(0, s)) && numel(from.slice(s, e + 1)) === to[s] && sameInts(from.slice(e + 1), to.slice(s + 1))) {
        const params: Record<string, ParamValue> = {};
        if (s !== 1) params.start_dim = s;
        if (e !== from.length - 1) params.end_dim = e;
        return this.add(node, 'flatten', params, [x]);
      }
    }
    // Any other reshape is the engine's own; 0 keeps the batch free (--batch) where it stays put.
    return this.add(node, 'reshape', { shape: to[0] === from[0] ? [0, ...to.slice(1)] : [...to] }, [x]);
  }

  private dropout(node: Node, a: Attrs): void {
    const x = this.tensor(node, 0);
    let p = 0.5;
    if (this.opset >= 12) {
      if (this.has(node, 1)) p = float32Param(this.scalar(node, 1, 'the ratio'));
      if (this.has(node, 2) && this.scalar(node, 2, 'training_mode') !== 0) throw this.fail(node, 'training_mode Dropout is not supported (inference only)');
    } else {
      p = float32Param(a.float('ratio', 0.5));
    }
    this.set(node.output[0], this.add(node, 'dropout', p === 0.5 ? {} : { p }, [x]));
  }

  private softmax(node: Node, a: Attrs): void {
    const x = this.tensor(node, 0);
    const rank = x.shape.length;
    const given = a.int('axis', this.opset >= 13 ? -1 : 1);
    const axis = given < 0 ? given + rank : given;
    // Before opset 13 Softmax normalises over all dimensions from `axis` on together.
    if (this.opset < 13 && numel(x.shape.slice(axis + 1)) !== 1) {
      throw this.fail(node, `Softmax (opset ${this.opset}) over dimensions ${axis}..${rank - 1} of ${shapeText(x.shape)} together is not supported; convscope's softmax runs along one axis`);
    }
    this.set(node.output[0], this.add(node, 'softmax', axis === 1 ? {} : { axis }, [x]));
  }

  private lrn(node: Node, a: Attrs): void {
    const x = this.tensor(node, 0);
    const size = a.int('size', 0);
    if (size % 2 === 0) {
      throw this.fail(node, `LRN size ${size}: ONNX puts the extra channel of an even window after c, convscope (like PyTorch) before it, so the results differ; only odd sizes import`);
    }
    const params = { size, alpha: float32Param(a.float('alpha', 1e-4)), beta: float32Param(a.float('beta', 0.75)), k: float32Param(a.float('bias', 1)) };
    this.set(node.output[0], this.add(node, 'lrn', params, [x]));
  }

  // ---- folded patterns -------------------------------------------------------------------

  private addPattern(p: Pattern): void {
    const first = this.nodes[p.nodes[0]];
    const last = this.nodes[p.nodes[p.nodes.length - 1]];
    // The result takes the name of the node that produces it: the exporter gives that node the op id.
    const named = { ...last, op_type: p.nodes.map((i) => this.nodes[i].op_type).join('/') };
    for (const i of p.nodes) this.onlyFirstOutput(this.nodes[i]);
    switch (p.kind) {
      case 'min_pool': {
        const max = this.nodes[p.nodes[1]];
        return this.set(last.output[0], this.pool({ ...max, name: last.name, op_type: named.op_type }, new Attrs(max), this.tensor(first, 0), 'min_pool2d'));
      }
      case 'channel_shuffle':
        return this.set(last.output[0], this.channelShuffle(p, named));
      case 'stochastic_pool':
        return this.set(last.output[0], this.stochasticPool(p, named));
      case 'even_lrn':
        return this.set(last.output[0], this.evenLrn(p, named));
      case 'silu':
        return this.set(last.output[0], this.add(named, 'silu', {}, [this.tensor(first, 0)]));
      case 'gelu_erf':
        return this.set(last.output[0], this.add(named, 'gelu', {}, [this.tensor(first, 0)]));
      case 'gelu_tanh':
        return this.set(last.output[0], this.add(named, 'gelu', { approximate: 'tanh' }, [this.tensor(first, 0)]));
    }
  }

  private channelShuffle(p: Pattern, named: Node): Computed {
    const [split, , merge] = p.nodes.map((i) => this.nodes[i]);
    const x = this.tensor(split, 0);
    const fail = () => this.fail(named, `Reshape -> Transpose(0, 2, 1, 3, 4) -> Reshape of ${shapeText(x.shape)} is not a channel shuffle`);
    if (x.shape.length !== 4) throw fail();
    const [n, c, h, w] = x.shape;
    const grouped = reshapeTarget(x.shape, Array.from(this.constant(split, 1, 'the shape').data), false, () => fail());
    if (grouped.length !== 5 || grouped[0] !== n || grouped[3] !== h || grouped[4] !== w || grouped[1] * grouped[2] !== c) throw fail();
    const swapped = [n, grouped[2], grouped[1], h, w];
    const back = reshapeTarget(swapped, Array.from(this.constant(merge, 1, 'the shape').data), false, () => fail());
    if (!sameInts(back, x.shape)) throw fail();
    return this.add(named, 'channel_shuffle', { groups: grouped[1] }, [x]);
  }

  private stochasticPool(p: Pattern, named: Node): Computed {
    const [relu, , num, den, , greater, where] = p.nodes.map((i) => this.nodes[i]);
    const x = this.tensor(relu, 0);
    const [an, ad] = [new Attrs(num), new Attrs(den)];
    for (const key of ['kernel_shape', 'strides', 'pads', 'ceil_mode', 'auto_pad', 'dilations']) {
      if (JSON.stringify(an.get(key) ?? null) !== JSON.stringify(ad.get(key) ?? null)) {
        throw this.fail(named, `the two AveragePools of the stochastic pooling pattern differ in ${key}`);
      }
    }
    if (this.scalar(greater, 1, 'the threshold') !== 0 || this.scalar(where, 2, 'the fallback') !== 0) {
      throw this.fail(named, 'the stochastic pooling pattern must compare with 0 and fall back to 0');
    }
    if (an.int('ceil_mode', 0) === 1) throw this.fail(named, 'stochastic pooling with ceil_mode is not supported');
    const kernel = an.ints('kernel_shape');
    if (!kernel) throw this.fail(named, 'kernel_shape is required');
    const win = this.window(named, an, x.shape, kernel);
    return this.add(named, 'stochastic_pool2d', this.windowParams(win, kernel, { dilation: false, pool: true }), [x]);
  }

  private evenLrn(p: Pattern, named: Node): Computed {
    const [sq, toCols, conv, back, scale, addK, pow] = p.nodes.map((i) => this.nodes[i]);
    const x = this.tensor(sq, 0);
    const fail = (why: string) => this.fail(named, `not the even-size LRN pattern: ${why}`);
    if (x.shape.length < 3) throw fail(`input ${shapeText(x.shape)} has no channel axis`);
    const c = x.shape[1];
    const cols = reshapeTarget(x.shape, Array.from(this.constant(toCols, 1, 'the shape').data), false, (why) => fail(why));
    if (cols.length !== 4 || cols[0] !== x.shape[0] || cols[1] !== 1 || cols[2] !== c) throw fail(`the first Reshape gives ${shapeText(cols)}`);
    const ones = this.floats(conv, 1, 'the window', 4);
    const size = ones.dims[2];
    const ca = new Attrs(conv);
    const pads = ca.ints('pads') ?? [0, 0, 0, 0];
    if (this.has(conv, 2) || !sameInts(ones.dims, [1, 1, size, 1]) || Array.from(ones.data).some((v) => v !== 1) || !sameInts(pads, [Math.floor(size / 2), 0, Math.floor((size - 1) / 2), 0]) || (ca.ints('strides') ?? [1, 1]).some((s) => s !== 1) || (ca.ints('dilations') ?? [1, 1]).some((s) => s !== 1)) {
      throw fail('the Conv is not a sum over the window of channels');
    }
    const restored = reshapeTarget(cols, Array.from(this.constant(back, 1, 'the shape').data), false, (why) => fail(why));
    if (!sameInts(restored, x.shape)) throw fail(`the second Reshape gives ${shapeText(restored)}`);
    // findEvenLrn put each step's input from the chain at slot 0: the constant is at slot 1.
    const alphaOverSize = this.scalar(scale, 1, 'alpha / size');
    const k = this.scalar(addK, 1, 'k');
    const beta = this.scalar(pow, 1, 'beta');
    return this.add(named, 'lrn', { size, alpha: float32Param(alphaOverSize * size), beta: float32Param(beta), k: float32Param(k) }, [x]);
  }

  // ---- data movement and shape arithmetic ------------------------------------------------

  /** "opset 17" (of the standard domain), for messages about what is not supported. */
  private opsetText(): string {
    return `ONNX opset ${this.opset}`;
  }

  /** "domain com.example opset 1" for a domain other than the standard one. */
  private domainOpset(domain: string): string {
    const v = this.model.opset_import?.find((o) => (o.domain ?? '') === domain)?.version;
    return `domain ${domain} ${v === undefined ? 'not in the model\'s opset_import' : `opset ${v}`}`;
  }

  /** Integers from a constant input (Slice's starts, Pad's pads, Split's split ...). */
  private intsInput(node: Node, slot: number, what: string): number[] {
    const c = this.constant(node, slot, what);
    if (c.isFloat) throw this.fail(node, `${what} must be an integer tensor`);
    return Array.from(c.data);
  }

  /**
   * The data-movement ops (SHAPE_OPS) on a computed tensor, and the constant shape arithmetic
   * (SHAPE_FOLDABLE) when every input is a constant. False for any other node.
   */
  private shapeNode(node: Node): boolean {
    const op = node.op_type;
    const a = new Attrs(node);
    const isConst = (slot: number) => node.input[slot] === '' || this.value(node, slot).kind === 'const';
    if (SHAPE_FOLDABLE.has(op) && node.input.every((_, i) => isConst(i))) {
      this.onlyFirstOutput(node);
      this.set(node.output[0], this.foldShapeConst(node, a));
      return true;
    }
    if (!SHAPE_OPS.has(op) || node.input.length === 0 || isConst(0)) return false;
    const out = node.output[0];
    if (op === 'Split') {
      this.split(node, a);
      return true;
    }
    this.onlyFirstOutput(node);
    const x = this.tensor(node, 0);
    switch (op) {
      case 'Transpose':
        this.set(out, this.transposeTensor(node, a, x));
        break;
      case 'Slice':
        this.set(out, this.sliceTensor(node, a, x));
        break;
      case 'Pad':
        this.set(out, this.padTensor(node, a, x));
        break;
      case 'Resize':
      case 'Upsample':
        this.set(out, this.resizeTensor(node, a, x));
        break;
      case 'Squeeze':
      case 'Unsqueeze':
        this.set(out, this.reshapeTo(node, x, this.squeezed(node, a, x.shape)));
        break;
    }
    return true;
  }

  private foldShapeConst(node: Node, a: Attrs): Const {
    const fail = (why: string) => this.fail(node, `cannot be evaluated at import: ${why}`);
    const done = (r: ConstData | string): Const => {
      if (typeof r === 'string') throw fail(r);
      return { kind: 'const', ...r };
    };
    switch (node.op_type) {
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div':
        return done(arith(node.op_type, this.constant(node, 0, 'A'), this.constant(node, 1, 'B')));
      case 'Range': {
        const [start, limit, delta] = [0, 1, 2].map((i) => this.scalar(node, i, ['start', 'limit', 'delta'][i]));
        return done(range(start, limit, delta, this.constant(node, 0, 'start').isFloat));
      }
      case 'ConstantOfShape': {
        const t = a.get('value')?.t;
        const v = t ? this.decodeTensor(t, `the value of ${nodeLabel(node)}`) : undefined;
        return done(constantOfShape(this.intsInput(node, 0, 'the shape'), v ? v.data[0] : 0, v ? v.isFloat : true));
      }
      case 'Reshape': {
        const c = this.constant(node, 0, 'the data');
        const dims = reshapeTarget(c.dims, this.intsInput(node, 1, 'the shape'), a.int('allowzero', 0) === 1, (why) => fail(why));
        return { ...c, dims };
      }
      case 'Transpose': {
        const c = this.constant(node, 0, 'the data');
        return done(transposeConst(c, a.ints('perm') ?? [...c.dims.keys()].reverse()));
      }
      case 'Slice': {
        const c = this.constant(node, 0, 'the data');
        const { starts, ends, axes, steps } = this.sliceArgs(node, a, c.dims.length);
        return done(sliceConst(c, starts, ends, axes, steps));
      }
      default:
        throw new Error(`import: cannot fold ${node.op_type}`);
    }
  }

  /** Squeeze / Unsqueeze: the dims after removing (or inserting) `axes` (opset 13+: an input). */
  private squeezed(node: Node, a: Attrs, from: Shape): Shape {
    const axes = this.opset >= 13 ? (this.has(node, 1) ? this.intsInput(node, 1, 'the axes') : undefined) : a.ints('axes');
    if (node.op_type === 'Unsqueeze') {
      const rank = from.length + (axes?.length ?? 0);
      const at = new Set((axes ?? []).map((d) => (d < 0 ? d + rank : d)));
      const dims: number[] = [];
      for (let d = 0, k = 0; d < rank; d++) dims.push(at.has(d) ? 1 : from[k++]);
      return dims;
    }
    const at = new Set((axes ?? from.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)).map((d) => (d < 0 ? d + from.length : d)));
    for (const d of at) if (from[d] !== 1) throw this.fail(node, `cannot squeeze axis ${d} of ${shapeText(from)}: its size is ${from[d]}, not 1`);
    return from.filter((_, i) => !at.has(i));
  }

  private transposeTensor(node: Node, a: Attrs, x: Computed): Computed {
    const perm = a.ints('perm') ?? [...x.shape.keys()].reverse();
    if (isIdentityPerm(perm)) return x;
    return this.add(node, 'transpose', { perm }, [x]);
  }

  /** Slice's starts, ends, axes and steps: inputs from opset 10, attributes before. */
  private sliceArgs(node: Node, a: Attrs, rank: number): { starts: number[]; ends: number[]; axes: number[]; steps: number[] } {
    let starts: number[];
    let ends: number[];
    let axes: number[] | undefined;
    let steps: number[] | undefined;
    if (this.opset >= 10) {
      starts = this.intsInput(node, 1, 'starts');
      ends = this.intsInput(node, 2, 'ends');
      if (this.has(node, 3)) axes = this.intsInput(node, 3, 'axes');
      if (this.has(node, 4)) steps = this.intsInput(node, 4, 'steps');
    } else {
      starts = a.ints('starts') ?? [];
      ends = a.ints('ends') ?? [];
      axes = a.ints('axes');
    }
    if (starts.length !== ends.length || (axes && axes.length !== starts.length) || (steps && steps.length !== starts.length)) {
      throw this.fail(node, `starts, ends, axes and steps must have one value per sliced axis (got ${starts.length}, ${ends.length}, ${axes?.length ?? '-'}, ${steps?.length ?? '-'})`);
    }
    axes = (axes ?? starts.map((_, i) => i)).map((d) => (d < 0 ? d + rank : d));
    return { starts, ends, axes, steps: steps ?? starts.map(() => 1) };
  }

  /** A Slice of a computed tensor as the engine's slice, with the bounds clamped as ONNX clamps them. */
  private sliceTensor(node: Node, a: Attrs, x: Computed): Computed {
    const { starts, ends, axes, steps } = this.sliceArgs(node, a, x.shape.length);
    const p = { starts: [] as number[], ends: [] as number[], axes: [] as number[], steps: [] as number[] };
    axes.forEach((axis, i) => {
      const dim = x.shape[axis];
      if (dim === undefined) throw this.fail(node, `axis ${axis} is outside the ${x.shape.length}-D input ${shapeText(x.shape)}`);
      if (steps[i] === 0) throw this.fail(node, 'steps must not be 0');
      const { first, count } = sliceAxis(dim, starts[i], ends[i], steps[i]);
      if (count === 0) throw this.fail(node, `selects nothing along axis ${axis} of ${shapeText(x.shape)}; an empty tensor cannot be profiled`);
      if (first === 0 && count === dim && steps[i] === 1) return;
      const end = first + count * steps[i];
      p.starts.push(first);
      // A reversed slice that runs to the front ends "before 0": -dim - 1 clamps to -1.
      p.ends.push(end < 0 ? -dim - 1 : end);
      p.axes.push(axis);
      p.steps.push(steps[i]);
    });
    if (p.axes.length === 0) return x;
    const { steps: st, ...rest } = p;
    return this.add(node, 'slice', st.every((s) => s === 1) ? rest : p, [x]);
  }

  /** Split as one slice per used output: `split` (an input from opset 13), num_outputs (18), or equal parts. */
  private split(node: Node, a: Attrs): void {
    const x = this.tensor(node, 0);
    const rank = x.shape.length;
    const given = a.int('axis', 0);
    const axis = given < 0 ? given + rank : given;
    const dim = x.shape[axis];
    if (dim === undefined) throw this.fail(node, `axis ${given} is outside the ${rank}-D input ${shapeText(x.shape)}`);
    const k = node.output.length;
    let sizes: number[];
    if (this.opset >= 13 && this.has(node, 1)) sizes = this.intsInput(node, 1, 'split');
    else if (this.opset < 13 && a.ints('split')) sizes = a.ints('split')!;
    else if (this.opset >= 18 && a.get('num_outputs')) {
      const n = a.int('num_outputs', k);
      const per = Math.ceil(dim / n);
      sizes = Array.from({ length: n }, (_, i) => Math.max(0, Math.min(per, dim - i * per)));
    } else {
      if (dim % k !== 0) throw this.fail(node, `${dim} elements along axis ${axis} do not split into ${k} equal parts; give split`);
      sizes = new Array<number>(k).fill(dim / k);
    }
    if (sizes.length !== k || sizes.reduce((s, v) => s + v, 0) !== dim) {
      throw this.fail(node, `split [${sizes.join(', ')}] must give ${k} sizes adding up to the ${dim} elements along axis ${axis}`);
    }
    let at = 0;
    node.output.forEach((name, i) => {
      if (name !== '' && this.isUsed(name)) {
        if (sizes[i] === 0) throw this.fail(node, `output ${i} "${name}" is empty and is read`);
        const part = sizes[i] === dim ? x : this.add({ ...node, name: `${node.name || `split_${this.layers.length}`}/${i}` }, 'slice', { starts: [at], ends: [at + sizes[i]], axes: [axis] }, [x]);
        this.set(name, part);
      }
      at += sizes[i];
    });
  }

  /** Pad: pads, constant_value and axes are inputs from opset 11 (axes from 18), attributes before. */
  private padTensor(node: Node, a: Attrs, x: Computed): Computed {
    const rank = x.shape.length;
    const mode = a.string('mode', 'constant');
    if (mode !== 'constant' && mode !== 'reflect' && mode !== 'edge') throw this.fail(node, `mode "${mode}" is not supported; convscope pads with constant, reflect and edge`);
    let pads: number[];
    let value = 0;
    let axes = [...x.shape.keys()];
    if (this.opset >= 11) {
      pads = this.intsInput(node, 1, 'the pads');
      if (this.has(node, 2)) value = this.scalar(node, 2, 'the constant value');
      if (this.has(node, 3)) axes = this.intsInput(node, 3, 'the axes').map((d) => (d < 0 ? d + rank : d));
    } else {
      pads = a.ints('pads') ?? [];
      value = a.float('value', 0);
    }
    if (pads.length !== 2 * axes.length) throw this.fail(node, `pads has ${pads.length} values; ${axes.length} padded axes need ${2 * axes.length}`);
    // Only the axes that change, in the engine's layout (begins, then ends).
    const used = axes.map((axis, i) => ({ axis, b: pads[i], e: pads[i + axes.length] })).filter((q) => q.b !== 0 || q.e !== 0);
    if (used.length === 0) return x;
    const params: Record<string, ParamValue> = { pads: [...used.map((q) => q.b), ...used.map((q) => q.e)] };
    if (used.length !== rank) params.axes = used.map((q) => q.axis);
    if (mode !== 'constant') params.mode = mode;
    else if (value !== 0) params.value = float32Param(value);
    return this.add(node, 'pad', params, [x]);
  }

  /**
   * Resize (opset 10: scales only, asymmetric; 11+: roi, scales, sizes and the transform
   * attributes) and Upsample (scales as an attribute to opset 8, an input at 9) as the engine's
   * resize over H and W of NCHW.
   */
  private resizeTensor(node: Node, a: Attrs, x: Computed): Computed {
    if (x.shape.length !== 4) throw this.fail(node, `only 4-D NCHW inputs are resized (got ${shapeText(x.shape)})`);
    const mode = a.string('mode', 'nearest');
    if (mode !== 'nearest' && mode !== 'linear') throw this.fail(node, `mode "${mode}" is not supported; convscope resizes with nearest and linear`);
    const modern = node.op_type === 'Resize' && this.opset >= 11;
    let scales: number[] | undefined;
    let sizes: number[] | undefined;
    if (node.op_type === 'Upsample' && this.opset < 9) scales = (a.get('scales')?.floats ?? []).map(Number);
    else if (!modern) scales = Array.from(this.floats(node, 1, 'the scales').data);
    else {
      if (this.has(node, 2)) {
        const c = this.floats(node, 2, 'the scales');
        if (c.data.length > 0) scales = Array.from(c.data);
      }
      if (this.has(node, 3)) sizes = this.intsInput(node, 3, 'the sizes');
      if (a.int('antialias', 0) !== 0) throw this.fail(node, 'antialias = 1 is not supported');
      const axes = a.ints('axes');
      if (axes && !sameInts(axes.map((d) => (d < 0 ? d + 4 : d)), [2, 3])) throw this.fail(node, `axes [${axes.join(', ')}] is not supported; convscope resizes H and W (axes [2, 3])`);
      if (axes) {
        scales = scales && [1, 1, ...scales];
        sizes = sizes && [x.shape[0], x.shape[1], ...sizes];
      }
      if (sizes && a.string('keep_aspect_ratio_policy', 'stretch') !== 'stretch') throw this.fail(node, 'keep_aspect_ratio_policy other than "stretch" is not supported');
    }
    const [n, c] = x.shape;
    if (scales && (scales.length !== 4 || scales[0] !== 1 || scales[1] !== 1)) throw this.fail(node, `scales [${scales.join(', ')}] must be [1, 1, scale_h, scale_w]: convscope resizes H and W only`);
    if (sizes && (sizes.length !== 4 || sizes[0] !== n || sizes[1] !== c)) throw this.fail(node, `sizes [${sizes.join(', ')}] must keep N and C (${n}, ${c}): convscope resizes H and W only`);
    if (!scales && !sizes) throw this.fail(node, 'needs scales or sizes');
    const params: Record<string, ParamValue> = mode === 'linear' ? { mode } : {};
    if (sizes) params.sizes = sizes.slice(2);
    else params.scales = scales!.slice(2).map(float32Param);
    if (modern) {
      const coordinate = a.string('coordinate_transformation_mode', 'half_pixel');
      if (coordinate !== 'half_pixel') params.coordinate_transformation_mode = coordinate;
      const nearest = a.string('nearest_mode', 'round_prefer_floor');
      if (mode === 'nearest' && nearest !== 'round_prefer_floor') params.nearest_mode = nearest;
    } else {
      // Before Resize-11 coordinates are asymmetric, and onnxruntime rounds nearest down when
      // enlarging and up when shrinking.
      params.coordinate_transformation_mode = 'asymmetric';
      const up = scales!.slice(2).every((s) => s >= 1);
      if (!up && !scales!.slice(2).every((s) => s < 1)) throw this.fail(node, `scales [${scales!.join(', ')}] enlarge one axis and shrink the other; opset ${this.opset} rounds those differently, which convscope does not reproduce`);
      if (mode === 'nearest') params.nearest_mode = up ? 'floor' : 'ceil';
    }
    return this.add(node, 'resize', params, [x]);
  }
}

// ---- helpers ----------------------------------------------------------------------------

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The float32 values of `raw`, copied only when nothing else works, so that a 500 MB model is
 * in memory once (the file's bytes) rather than twice: a view onto the bytes where they are
 * 4-byte aligned; where they are not and `movable` (the importer owns the file's bytes), the data
 * is first moved back 1-3 bytes inside the file, over its own protobuf tag and length, which
 * decoding has already read (a length-delimited field of 128 bytes or more has at least 3 of
 * them: one tag byte, two or more length bytes); else a copy. Big-endian hosts always copy.
 */
function float32Data(raw: Uint8Array, n: number, movable: boolean): Float32Array {
  if (LITTLE_ENDIAN) {
    const shift = raw.byteOffset % 4;
    if (shift === 0) return new Float32Array(raw.buffer, raw.byteOffset, n);
    if (movable && raw.byteLength >= 128) {
      const to = raw.byteOffset - shift;
      new Uint8Array(raw.buffer).copyWithin(to, raw.byteOffset, raw.byteOffset + raw.byteLength);
      return new Float32Array(raw.buffer, to, n);
    }
    // A copy through the Uint8Array constructor: a Node Buffer's slice() is a view, not a copy.
    return new Float32Array(new Uint8Array(raw).buffer, 0, n);
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return Float32Array.from({ length: n }, (_, i) => view.getFloat32(i * 4, true));
}

const ELEMENT_BYTES: Record<number, number> = { [DataType.FLOAT]: 4, [DataType.DOUBLE]: 8, [DataType.INT64]: 8, [DataType.INT32]: 4, 9: 1 };

const DATA_TYPE_NAMES = ['UNDEFINED', 'FLOAT', 'UINT8', 'INT8', 'UINT16', 'INT16', 'INT32', 'INT64', 'STRING', 'BOOL', 'FLOAT16', 'DOUBLE', 'UINT32', 'UINT64', 'COMPLEX64', 'COMPLEX128', 'BFLOAT16'];

function dataTypeName(t: number | undefined): string {
  return DATA_TYPE_NAMES[t ?? 0] ?? `data type ${t}`;
}

function isStandard(n: Node): boolean {
  return STANDARD_DOMAINS.has(n.domain ?? '');
}

function nodeLabel(n: Node): string {
  return `${n.name ? `"${n.name}"` : `(unnamed, output "${n.output[0]}")`} (${n.op_type})`;
}

function usedExtraOutputs(n: Node, imp: { isUsed(v: string): boolean }): boolean {
  return n.output.slice(1).some((o) => o !== '' && imp.isUsed(o));
}

function attr(n: Node, name: string): Attribute | undefined {
  return n.attribute?.find((a) => a.name === name);
}

function sameInts(a: readonly number[] | undefined, b: readonly number[]): boolean {
  return a !== undefined && a.length === b.length && a.every((v, i) => Number(v) === b[i]);
}

function isIdentityPerm(perm: number[] | undefined): boolean {
  return perm !== undefined && perm.length > 0 && perm.every((p, i) => Number(p) === i);
}

class Attrs {
  private readonly map: Map<string, Attribute>;
  constructor(node: Node) {
    this.map = new Map((node.attribute ?? []).map((a) => [a.name, a]));
  }
  get(name: string): Attribute | undefined {
    return this.map.get(name);
  }
  int(name: string, dflt: number): number {
    const a = this.map.get(name);
    return a ? Number(a.i ?? 0) : dflt;
  }
  float(name: string, dflt: number): number {
    const a = this.map.get(name);
    return a ? (a.f ?? 0) : dflt;
  }
  ints(name: string): number[] | undefined {
    const a = this.map.get(name);
    return a ? (a.ints ?? []).map(Number) : undefined;
  }
  string(name: string, dflt: string): string {
    const a = this.map.get(name);
    return a?.s ? new TextDecoder().decode(a.s) : dflt;
  }
}

/** ONNX Reshape's target: 0 copies the input's size (unless allowzero), one -1 takes the rest. */
function reshapeTarget(from: Shape, shape: number[], allowZero: boolean, fail: (why: string) => Error): Shape {
  if (allowZero && shape.includes(0)) throw fail('allowzero with a 0 in the shape makes an empty tensor');
  const out = shape.map((d, i) => (d === 0 ? from[i] : d));
  const free = out.filter((d) => d === -1).length;
  if (free > 1 || out.some((d) => d === undefined || d < -1)) throw fail(`shape [${shape.join(', ')}] is not a valid Reshape target for ${shapeText(from)}`);
  if (free === 1) {
    const known = numel(out.filter((d) => d !== -1));
    out[out.indexOf(-1)] = numel(from) / known;
  }
  if (numel(out) !== numel(from) || out.some((d) => !Number.isInteger(d))) throw fail(`cannot reshape ${shapeText(from)} to [${shape.join(', ')}]`);
  return out;
}

function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

function pair(v: readonly number[]): ParamValue {
  return v[0] === v[1] ? v[0] : [v[0], v[1]];
}

/** [top, left, bottom, right] in the shortest spec form. */
function padding(p: readonly number[]): ParamValue {
  if (p[0] === p[2] && p[1] === p[3]) return pair([p[0], p[1]]);
  return [...p];
}

/**
 * A float attribute is float32 in ONNX: 1e-3 reads back as 0.0010000000474974513. The shortest
 * decimal that is the same float32 is what the user wrote, and what the spec should say.
 */
function float32Param(v: number): number {
  if (!Number.isFinite(v)) return v;
  const f = Math.fround(v);
  for (let digits = 1; digits <= 9; digits++) {
    const d = Number(f.toPrecision(digits));
    if (Math.fround(d) === f) return d;
  }
  return f;
}

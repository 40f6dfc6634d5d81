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
 * neighbouring dimensions), Dropout, Softmax, LRN (odd sizes), Identity. Folded together:
 * Reshape -> Transpose(0, 2, 1, 3, 4) -> Reshape as channel_shuffle, and the exporter's own
 * compositions (min pooling, stochastic pooling, even-size LRN) back into their ops. Constants
 * (initializers, Constant nodes, and Shape / Gather / Unsqueeze / Squeeze / Concat / Cast over
 * them) feed Reshape shapes and similar inputs.
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
  'BatchNormalization',
  'Relu',
  'Clip',
  'Sigmoid',
  'Gemm',
  'MatMul',
  'Add',
  'Mul',
  'Concat',
  'Reshape',
  'Flatten',
  'Dropout',
  'Softmax',
  'LRN',
  'Identity',
  'Constant',
]);

/**
 * The ONNX op types the importer reads (in the standard domain), each as one engine op (or as
 * constants): what convscope claims to import. test/onnx-node.test.ts runs ONNX's own node tests
 * of exactly these ops.
 */
export const IMPORTED_ONNX_OPS: ReadonlySet<string> = DIRECT;

/** Ops evaluated at import time when every input is a constant (shape arithmetic). */
const CONST_FOLDABLE = new Set(['Shape', 'Gather', 'Unsqueeze', 'Squeeze', 'Cast', 'Concat', 'Identity', 'Constant']);

/** Ops that exist only inside a folded pattern: said so when one appears elsewhere. */
const PATTERN_ONLY: Record<string, string> = {
  Neg: 'only as min pooling, Neg -> MaxPool -> Neg',
  Transpose: 'only as a channel shuffle, Reshape -> Transpose(perm 0,2,1,3,4) -> Reshape, or with the identity perm',
  Div: "only inside the exporter's stochastic pooling or even-size LRN",
  Greater: "only inside the exporter's stochastic pooling",
  Where: "only inside the exporter's stochastic pooling",
  Pow: "only inside the exporter's even-size LRN",
};

type PatternKind = 'min_pool' | 'channel_shuffle' | 'stochastic_pool' | 'even_lrn';

interface Pattern {
  kind: PatternKind;
  /** Node indices, first (the anchor, where the op is added) to last (the one producing the result). */
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
      this.patternAt.set(nodes[0], { kind, nodes });
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

  /** One SpecError naming every op type the importer cannot read, with all of its nodes. */
  private refuseUnsupported(): void {
    const constValues = new Set<string>([...this.initializers.keys()]);
    const bad = new Map<string, string[]>();
    this.nodes.forEach((n, i) => {
      const allConst = n.input.every((v) => v === '' || constValues.has(v));
      if (isStandard(n) && (n.op_type === 'Shape' || (CONST_FOLDABLE.has(n.op_type) && allConst))) {
        n.output.forEach((o) => constValues.add(o));
        return;
      }
      if (this.claimed.has(i)) return;
      if (isStandard(n) && DIRECT.has(n.op_type)) return;
      if (isStandard(n) && n.op_type === 'Transpose' && isIdentityPerm(attr(n, 'perm')?.ints)) return;
      const type = isStandard(n) ? n.op_type : `${n.domain}.${n.op_type}`;
      bad.set(type, [...(bad.get(type) ?? []), n.name ? `"${n.name}"` : `(unnamed, output "${n.output[0]}")`]);
    });
    if (bad.size === 0) return;
    const list = [...bad].map(([type, names]) => {
      const hint = PATTERN_ONLY[type] ? ` (${PATTERN_ONLY[type]})` : CONST_FOLDABLE.has(type) ? ' (only on constants)' : '';
      return `${type}${hint}: ${names.length === 1 ? 'node' : 'nodes'} ${names.join(', ')}`;
    });
    throw new SpecError(
      `${this.source}: ${bad.size} ONNX op type${bad.size === 1 ? ' is' : 's are'} not supported by convscope:\n  ${list.join('\n  ')}\n` +
        `convscope imports ${[...DIRECT].filter((t) => t !== 'Constant').join(', ')} (see docs/guide.md, "ONNX")`,
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
    if (t.data_location === DataLocation.EXTERNAL) raw = this.externalBytes(t, what, n * width);
    const isFloat = type === DataType.FLOAT || type === DataType.DOUBLE;
    if (raw) {
      if (raw.length !== n * width) throw new SpecError(`${this.source}: ${what} ${shapeText(dims)} needs ${n * width} bytes, the file holds ${raw.length}`, undefined, 'model');
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      if (type === DataType.FLOAT) {
        const out = new Float32Array(n);
        for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
        return { kind: 'const', dims, data: out, isFloat };
      }
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
      case 'Clip':
        return this.clip(node, a);
      case 'Gemm':
        return this.gemm(node, a, index);
      case 'MatMul':
        return this.matmul(node, index);
      case 'Add':
      case 'Mul':
        return this.binary(node);
      case 'Concat':
        return this.concat(node, a);
      case 'Reshape':
        return this.reshape(node, a);
      case 'Flatten':
        return this.flatten(node, a);
      case 'Transpose':
        return this.set(out, this.tensor(node, 0));
      case 'Dropout':
        return this.dropout(node, a);
      case 'Softmax':
        return this.softmax(node, a);
      case 'LRN':
        return this.lrn(node, a);
      default:
        throw new Error(`import: no mapping for ${node.op_type}`);
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
        const axes = this.opset >= 13 ? (this.has(node, 1) ? Array.from(this.constant(node, 1, 'the axes').data) : undefined) : a.ints('axes');
        let dims: number[];
        if (node.op_type === 'Unsqueeze') {
          const rank = c.dims.length + (axes?.length ?? 0);
          const at = new Set((axes ?? []).map((d) => (d < 0 ? d + rank : d)));
          dims = [];
          for (let d = 0, k = 0; d < rank; d++) dims.push(at.has(d) ? 1 : c.dims[k++]);
        } else {
          const at = new Set((axes ?? c.dims.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)).map((d) => (d < 0 ? d + c.dims.length : d)));
          dims = c.dims.filter((_, i) => !at.has(i));
        }
        return { ...c, dims };
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
  private foldBias(index: number, channels: number, rank: number): { bias: Float32Array; out: string } | null {
    const producer = this.nodes[index];
    const addAt = this.onlyUser(producer.output[0], 'Add');
    if (addAt < 0) return null;
    const add = this.nodes[addAt];
    const slot = add.input[0] === producer.output[0] ? 1 : 0;
    if (add.input[1 - slot] !== producer.output[0] || add.input[slot] === producer.output[0]) return null;
    const v = this.values.get(add.input[slot]) ?? (this.initializers.has(add.input[slot]) ? this.initializerValue(add.input[slot]) : undefined);
    if (!v || v.kind !== 'const' || !v.isFloat || v.data.length !== channels) return null;
    // The vector must run along the channel axis (axis 1 of the producer's output).
    const dims = v.dims;
    const aligned = [...new Array<number>(Math.max(rank - dims.length, 0)).fill(1), ...dims];
    if (aligned.length !== rank || aligned.some((d, i) => (i === 1 ? d !== channels : d !== 1))) return null;
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
    throw this.fail(node, `Clip(${lo}, ${hi}) is not supported; only Clip(0, 6) (relu6) and Clip(0, inf) (relu)`);
  }

  private gemm(node: Node, a: Attrs, index: number): void {
    const x = this.tensor(node, 0);
    if (a.int('transA', 0) !== 0) throw this.fail(node, 'transA = 1 is not supported (the input must be [N, in])');
    const b = this.floats(node, 1, 'B (the weight)', 2);
    const alpha = a.float('alpha', 1);
    const beta = a.float('beta', 1);
    const transB = a.int('transB', 0) === 1;
    const outF = transB ? b.dims[0] : b.dims[1];
    const weight = transB ? Float32Array.from(b.data) : transpose(b.data, b.dims[0], b.dims[1]);
    if (alpha !== 1) for (let i = 0; i < weight.length; i++) weight[i] *= alpha;
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
    if (x.shape.length !== 2) throw this.fail(node, `MatMul of a ${x.shape.length}-D input ${shapeText(x.shape)} is not supported; only [N, in] x [in, out] (a linear layer)`);
    const [, outF] = b.dims;
    const folded = this.foldBias(index, outF, 2);
    const weight = transpose(b.data, b.dims[0], b.dims[1]);
    this.set(folded?.out ?? node.output[0], this.add(node, 'linear', { out_features: outF, ...(folded ? {} : { bias: false }) }, [x], { weight, ...(folded ? { bias: folded.bias } : {}) }));
  }

  private binary(node: Node): void {
    const [l, r] = [this.value(node, 0), this.value(node, 1)];
    if (l.kind !== 'tensor' || r.kind !== 'tensor') {
      const what = node.op_type === 'Add' ? 'adding a constant is supported only as the bias of the Conv, Gemm or MatMul right before it' : 'multiplying by a constant is not supported';
      throw this.fail(node, `${what} (convscope's ${node.op_type.toLowerCase()} joins two computed tensors)`);
    }
    this.set(node.output[0], this.add(node, node.op_type === 'Add' ? 'add' : 'mul', {}, [l, r]));
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
    throw this.fail(node, `reshaping ${shapeText(from)} to ${shapeText(to)} is not supported; only flattening neighbouring dimensions (and the channel shuffle pattern)`);
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
}

// ---- helpers ----------------------------------------------------------------------------

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

/**
 * A small typed builder for ONNX models: declare graph inputs, initializers, nodes and outputs,
 * get the file bytes. Used by the ONNX export and by tests that run one-op models through another
 * runtime. It checks what a runtime would otherwise reject with a less helpful message (a node
 * reading a value nothing defines, a name defined twice, an output nothing produces).
 *
 *   const g = new OnnxGraphBuilder('conv');
 *   g.input('x', [1, 3, 8, 8]);
 *   g.initializer('w', weight, [4, 3, 3, 3]);
 *   g.node('Conv', ['x', 'w'], ['y'], { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) });
 *   g.output('y', [1, 4, 8, 8]);
 *   const bytes = g.build();
 */
import {
  AttributeType,
  DataLocation,
  DataType,
  encodeModel,
  type Attribute,
  type Dimension,
  type Model,
  type Node,
  type TensorProto,
  type ValueInfo,
} from './proto.ts';

/**
 * The default opset: 19 is the first with DeformConv, and every other op we emit has had its
 * current semantics since opset 13 or earlier.
 */
export const DEFAULT_OPSET = 19;
/** IR version 9 goes with opsets 19 and 20 (ONNX 1.14 / 1.15). */
export const DEFAULT_IR_VERSION = 9;

/**
 * An attribute value with its ONNX type made explicit: a JavaScript number alone cannot say
 * whether `1` is an INT or a FLOAT attribute, and runtimes reject the wrong one.
 */
export type AttrValue =
  | { type: 'int'; value: number }
  | { type: 'ints'; value: number[] }
  | { type: 'float'; value: number }
  | { type: 'floats'; value: number[] }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: TensorProto };

export const int = (value: number): AttrValue => ({ type: 'int', value });
export const ints = (value: readonly number[]): AttrValue => ({ type: 'ints', value: [...value] });
export const float = (value: number): AttrValue => ({ type: 'float', value });
export const floats = (value: readonly number[]): AttrValue => ({ type: 'floats', value: [...value] });
export const string = (value: string): AttrValue => ({ type: 'string', value });
/** A tensor attribute (Constant's `value`), made with floatTensor / int64Tensor. */
export const tensor = (value: TensorProto): AttrValue => ({ type: 'tensor', value });

export function floatTensor(data: Float32Array, dims: readonly number[]): TensorProto {
  checkCount('tensor', dims, data.length);
  return { dims: [...dims], data_type: DataType.FLOAT, raw_data: float32Bytes(data) };
}

export function int64Tensor(data: readonly number[], dims: readonly number[] = [data.length]): TensorProto {
  checkCount('tensor', dims, data.length);
  return { dims: [...dims], data_type: DataType.INT64, raw_data: int64Bytes(data) };
}

function checkCount(what: string, dims: readonly number[], count: number): void {
  const want = dims.reduce((a, b) => a * b, 1);
  if (want !== count) throw new Error(`${what}: dims [${dims.join(', ')}] need ${want} values, got ${count}`);
}

/** An ONNX model whose float initializers live in a side file (TensorProto data_location EXTERNAL). */
export interface ExternalModel {
  /** The .onnx file. */
  model: Uint8Array;
  /** The side file's bytes, to be written at `location` relative to the model file. */
  data: Uint8Array;
  location: string;
}

/** A dimension: a size, or a name for a size fixed only at run time (e.g. "N"). */
export type Dim = number | string;

export interface BuildOptions {
  opset?: number;
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  /** Free-form key/value metadata stored in the model (ModelProto.metadata_props). */
  metadata?: Record<string, string>;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Float32 values as little-endian bytes, the layout TensorProto.raw_data requires. */
export function float32Bytes(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length * 4);
  if (LITTLE_ENDIAN) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  } else {
    const view = new DataView(out.buffer);
    for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  }
  return out;
}

function int64Bytes(data: readonly number[]): Uint8Array {
  const out = new Uint8Array(data.length * 8);
  const view = new DataView(out.buffer);
  data.forEach((v, i) => {
    if (!Number.isSafeInteger(v)) throw new Error(`int64 value ${v} is not a safe integer`);
    view.setBigInt64(i * 8, BigInt(v), true);
  });
  return out;
}

function valueInfo(name: string, shape: readonly Dim[] | undefined, elemType: number): ValueInfo {
  const dims: Dimension[] | undefined = shape?.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
  return { name, type: { tensor_type: { elem_type: elemType, ...(dims ? { shape: { dim: dims } } : {}) } } };
}

function attribute(name: string, a: AttrValue): Attribute {
  switch (a.type) {
    case 'int':
      if (!Number.isSafeInteger(a.value)) throw new Error(`attribute ${name}: ${a.value} is not an integer`);
      return { name, type: AttributeType.INT, i: a.value };
    case 'ints':
      for (const v of a.value) if (!Number.isSafeInteger(v)) throw new Error(`attribute ${name}: ${v} is not an integer`);
      return { name, type: AttributeType.INTS, ints: a.value };
    case 'float':
      return { name, type: AttributeType.FLOAT, f: a.value };
    case 'floats':
      return { name, type: AttributeType.FLOATS, floats: a.value };
    case 'string':
      return { name, type: AttributeType.STRING, s: new TextEncoder().encode(a.value) };
    case 'tensor':
      return { name, type: AttributeType.TENSOR, t: a.value };
  }
}

export class OnnxGraphBuilder {
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly nodes: Node[] = [];
  /** Every value name defined so far (graph inputs, initializers, node outputs). */
  private readonly defined = new Set<string>();

  constructor(readonly name: string) {}

  private define(name: string, what: string): void {
    if (name === '') throw new Error(`${what}: a value needs a non-empty name`);
    if (this.defined.has(name)) throw new Error(`${what}: value "${name}" is already defined`);
    this.defined.add(name);
  }

  /** A float32 graph input. Returns its name, for use as a node input. */
  input(name: string, shape: readonly Dim[]): string {
    this.define(name, 'input');
    this.inputs.push(valueInfo(name, shape, DataType.FLOAT));
    return name;
  }

  /** A float32 constant (a weight), stored inline as raw little-endian bytes. */
  initializer(name: string, data: Float32Array, dims: readonly number[]): string {
    this.define(name, 'initializer');
    checkCount(`initializer "${name}"`, dims, data.length);
    this.initializers.push({ name, dims: [...dims], data_type: DataType.FLOAT, raw_data: float32Bytes(data) });
    return name;
  }

  /** An int64 constant, for inputs that ONNX types as int64 (Reshape's shape, Pad's pads, ...). */
  int64Initializer(name: string, data: readonly number[], dims: readonly number[] = [data.length]): string {
    this.define(name, 'initializer');
    checkCount(`initializer "${name}"`, dims, data.length);
    this.initializers.push({ name, dims: [...dims], data_type: DataType.INT64, raw_data: int64Bytes(data) });
    return name;
  }

  /**
   * Adds a node. `inputs` may contain "" to skip an optional input that is followed by a given
   * one (ONNX's convention). Returns the output names.
   */
  node(opType: string, inputs: readonly string[], outputs: readonly string[], attrs: Record<string, AttrValue> = {}, name?: string): string[] {
    const where = `node ${name ?? opType}`;
    for (const i of inputs) {
      if (i !== '' && !this.defined.has(i)) throw new Error(`${where}: input "${i}" is not defined by a graph input, initializer or earlier node`);
    }
    for (const o of outputs) this.define(o, where);
    this.nodes.push({
      op_type: opType,
      input: [...inputs],
      output: [...outputs],
      ...(name ? { name } : {}),
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return [...outputs];
  }

  /** Marks a value as a float32 graph output; the shape may be omitted or symbolic. */
  output(name: string, shape?: readonly Dim[]): string {
    if (!this.defined.has(name)) throw new Error(`output "${name}" is not produced by any node, input or initializer`);
    this.outputs.push(valueInfo(name, shape, DataType.FLOAT));
    return name;
  }

  /** The model as a message object, for callers that add fields the builder does not cover. */
  toModel(options: BuildOptions = {}): Model {
    if (this.outputs.length === 0) throw new Error(`graph "${this.name}" has no outputs`);
    return {
      ir_version: options.irVersion ?? DEFAULT_IR_VERSION,
      opset_import: [{ domain: '', version: options.opset ?? DEFAULT_OPSET }],
      producer_name: options.producerName ?? 'convscope',
      ...(options.producerVersion ? { producer_version: options.producerVersion } : {}),
      ...(options.docString ? { doc_string: options.docString } : {}),
      ...(options.metadata ? { metadata_props: Object.entries(options.metadata).map(([key, value]) => ({ key, value })) } : {}),
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
  }

  /** The ONNX file bytes. */
  build(options: BuildOptions = {}): Uint8Array {
    return encodeModel(this.toModel(options));
  }

  /**
   * The model with every float initializer of at least `minBytes` moved to one side file named
   * `location` (relative to the model's folder), each at a 64-byte aligned offset as ONNX's own
   * writer does. The .onnx file then holds only the graph and small constants.
   */
  buildExternal(location: string, options: BuildOptions & { minBytes?: number } = {}): ExternalModel {
    const model = this.toModel(options);
    const minBytes = options.minBytes ?? 0;
    const chunks: Uint8Array[] = [];
    let offset = 0;
    model.graph.initializer = model.graph.initializer!.map((t) => {
      if (t.data_type !== DataType.FLOAT || !t.raw_data || t.raw_data.length < minBytes) return t;
      const start = Math.ceil(offset / 64) * 64;
      if (start > offset) chunks.push(new Uint8Array(start - offset));
      chunks.push(t.raw_data);
      offset = start + t.raw_data.length;
      const { raw_data, ...rest } = t;
      return {
        ...rest,
        data_location: DataLocation.EXTERNAL,
        external_data: [
          { key: 'location', value: location },
          { key: 'offset', value: String(start) },
          { key: 'length', value: String(raw_data.length) },
        ],
      };
    });
    const data = new Uint8Array(offset);
    let at = 0;
    for (const c of chunks) {
      data.set(c, at);
      at += c.length;
    }
    return { model: encodeModel(model), data, location };
  }
}

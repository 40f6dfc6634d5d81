/**
 * ONNX's protobuf messages (the subset in onnx.proto beside this file) as plain TypeScript
 * objects, and their wire encoding. Field names are ONNX's own snake_case names, so an object here
 * reads exactly like the ONNX documentation. int64 fields are JavaScript numbers: every int64 we
 * meet (dims, attribute ints, versions) is far below 2^53.
 */
import protobuf from 'protobufjs';

/** TensorProto.DataType values we use. */
export const DataType = { UNDEFINED: 0, FLOAT: 1, INT32: 6, INT64: 7, DOUBLE: 11 } as const;

/** AttributeProto.AttributeType values. */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
} as const;

export const DataLocation = { DEFAULT: 0, EXTERNAL: 1 } as const;

export interface StringStringEntry {
  key: string;
  value: string;
}

export interface OperatorSetId {
  /** "" (or absent) is the standard ai.onnx domain. */
  domain?: string;
  version: number;
}

export interface Dimension {
  dim_value?: number;
  /** A symbolic size, e.g. "N" for a free batch. */
  dim_param?: string;
  denotation?: string;
}

export interface TypeProto {
  tensor_type?: { elem_type: number; shape?: { dim: Dimension[] } };
  denotation?: string;
}

export interface ValueInfo {
  name: string;
  type?: TypeProto;
  doc_string?: string;
}

export interface TensorProto {
  name?: string;
  dims: number[];
  data_type: number;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: number[];
  double_data?: number[];
  /** Little-endian, fixed width. */
  raw_data?: Uint8Array;
  doc_string?: string;
  data_location?: number;
  external_data?: StringStringEntry[];
}

export interface Attribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  /** UTF-8 bytes. */
  s?: Uint8Array;
  t?: TensorProto;
  g?: Graph;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: Graph[];
  ref_attr_name?: string;
  doc_string?: string;
}

export interface Node {
  input: string[];
  output: string[];
  name?: string;
  op_type: string;
  domain?: string;
  attribute?: Attribute[];
  doc_string?: string;
}

export interface Graph {
  name?: string;
  node: Node[];
  initializer?: TensorProto[];
  input: ValueInfo[];
  output: ValueInfo[];
  value_info?: ValueInfo[];
  doc_string?: string;
}

export interface Model {
  ir_version: number;
  opset_import: OperatorSetId[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: number;
  doc_string?: string;
  graph: Graph;
  metadata_props?: StringStringEntry[];
}

let modelType: protobuf.Type | null = null;

/**
 * Parsed on first use, not at import: importing the ONNX module costs nothing for a run that
 * never touches ONNX. Hosts without a file system (a bundled browser worker) can hand the schema
 * text over with `useOnnxSchema` before the first encode/decode.
 */
function ModelType(): protobuf.Type {
  if (!modelType) {
    // node:fs is fetched at call time, not imported, so the browser Worker bundle (which installs
    // the schema with useOnnxSchema) never references it.
    const node = (globalThis as { process?: typeof process }).process;
    if (!node?.getBuiltinModule) throw new Error('no file system to read onnx.proto from: call useOnnxSchema first');
    useOnnxSchema(node.getBuiltinModule('node:fs').readFileSync(new URL('./onnx.proto', import.meta.url), 'utf8'));
  }
  return modelType!;
}

/** Installs the schema from its source text (the contents of onnx.proto). */
export function useOnnxSchema(source: string): void {
  const { root } = protobuf.parse(source, { keepCase: true });
  modelType = root.lookupType('onnx.ModelProto');
}

/** Serialises a model to the ONNX file format. Throws when a field has the wrong type. */
export function encodeModel(model: Model): Uint8Array {
  const type = ModelType();
  const problem = type.verify(model);
  if (problem) throw new Error(`invalid ONNX model: ${problem}`);
  return type.encode(type.fromObject(model)).finish();
}

/**
 * Parses an ONNX file. Repeated fields are always arrays (possibly empty), enums are numbers,
 * int64s are numbers and bytes are Uint8Arrays; fields outside our subset are skipped.
 */
export function decodeModel(bytes: Uint8Array): Model {
  const type = ModelType();
  return type.toObject(type.decode(bytes), { longs: Number, arrays: true }) as Model;
}

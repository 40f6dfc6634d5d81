/**
 * A plan and its weights as an ONNX model (opset 19, IR version 9). Every op becomes the standard
 * ONNX op, or the few standard ops, that compute the same thing, so any ONNX runtime reproduces
 * the engine's forward pass; test/onnx-roundtrip.test.ts checks that against onnxruntime for
 * every preset. Values are named after the ops that produce them (`<layer>/<name>`), the graph
 * input is "input" and the output "output"; nodes carry the op ids too (the one node that
 * produces an op's result has the op id as its name, helper nodes `<op id>/<part>`), so an
 * ONNX viewer or profiler traces every node back to the layer the user placed.
 *
 * Pure: no file system. The CLI (src/cli/commands/export.ts) writes the bytes.
 */
import { SpecError } from '../errors.ts';
import { INPUT, type Plan, type PlanNode } from '../graph/plan.ts';
import type { AvgPool2dAttrs } from '../ops/avg_pool2d/index.ts';
import type { BatchNormAttrs } from '../ops/batch_norm/index.ts';
import type { ChannelShuffleAttrs } from '../ops/channel_shuffle/index.ts';
import type { ConcatAttrs } from '../ops/concat/index.ts';
import type { Conv2dAttrs } from '../ops/conv2d/index.ts';
import type { ConvTranspose2dAttrs } from '../ops/conv_transpose2d/index.ts';
import type { DeformConv2dAttrs } from '../ops/deform_conv2d/index.ts';
import type { LrnAttrs } from '../ops/lrn/index.ts';
import type { Pool2dAttrs } from '../ops/pool2d.ts';
import type { SoftmaxAttrs } from '../ops/softmax/index.ts';
import type { StochasticPool2dAttrs } from '../ops/stochastic_pool2d/index.ts';
import type { PadAttrs } from '../ops/pad/index.ts';
import type { ResizeAttrs } from '../ops/resize/index.ts';
import type { SliceAttrs } from '../ops/slice/index.ts';
import type { TransposeAttrs } from '../ops/transpose/index.ts';
import { numel, shapeText, type Shape } from '../tensor.ts';
import { float, int, ints, OnnxGraphBuilder, string, type AttrValue, type Dim } from './builder.ts';
import { MATH_EMITTERS } from './export-math.ts';

export interface ExportOptions {
  /** Declare the batch as the symbolic dimension "N" instead of the plan's fixed size. */
  dynamicBatch?: boolean;
  /** Written to ModelProto.producer_version. */
  producerVersion?: string;
}

/** ModelProto.metadata_props keys the importer reads back. */
export const META_SEED = 'convscope.seed';
export const META_NAME = 'convscope.name';

/** protobuf refuses messages of 2 GiB and more; ONNX keeps bigger weights in external files. */
const PROTOBUF_LIMIT = 2 ** 31 - 1;

export function exportOnnx(plan: Plan, weights: ReadonlyMap<string, readonly Float32Array[]>, options: ExportOptions = {}): Uint8Array {
  const refusals = plan.nodes.map(refusal).filter((r): r is string => r !== null);
  if (refusals.length > 0) {
    throw new SpecError(`cannot export "${plan.spec.name}" to ONNX:\n  ${refusals.join('\n  ')}`, undefined, 'model');
  }
  const bytes = (plan.totals.params + plan.totals.buffers) * 4;
  if (bytes >= PROTOBUF_LIMIT) {
    throw new SpecError(`cannot export "${plan.spec.name}" to ONNX: its ${(bytes / 1024 ** 3).toFixed(2)} GiB of weights exceed the 2 GiB a single ONNX file holds`, undefined, 'model');
  }

  const g = new OnnxGraphBuilder(plan.spec.name);
  const names = new Names();
  const batchDim = (shape: Shape): Dim[] => (options.dynamicBatch ? ['N', ...shape.slice(1)] : [...shape]);
  names.value(INPUT);
  g.input(INPUT, batchDim(plan.inputShape));

  // The graph output is "output"; a layer that happens to be called "output" elsewhere in the
  // graph gets another value name.
  names.value('output');
  const valueOf = new Map<string, string>([[INPUT, INPUT]]);
  for (const node of plan.nodes) valueOf.set(node.id, node.id === plan.output ? 'output' : names.value(node.id));
  // Op ids name their nodes exactly; helper nodes of composites make way for them.
  for (const node of plan.nodes) names.node(node.id);

  const ctx: EmitContext = {
    g,
    names,
    shared: new Map(),
    scalar(key, value) {
      let name = this.shared.get(key);
      if (!name) {
        name = names.value(key);
        g.initializer(name, new Float32Array([value]), []);
        this.shared.set(key, name);
      }
      return name;
    },
  };

  for (const node of plan.nodes) {
    const ws = weights.get(node.id) ?? [];
    if (ws.length !== node.weights.length) {
      throw new Error(`export: op "${node.id}" declares ${node.weights.length} weights, ${ws.length} were given`);
    }
    // Each weight's initializer is written when an emitter first names it, so one that writes a
    // weight in another layout (an N-D linear's transposed MatMul operand) leaves no unused copy.
    const w: Record<string, string> = {};
    const data: Record<string, Float32Array> = {};
    node.weights.forEach((decl, i) => {
      data[decl.name] = ws[i] as Float32Array;
      let name: string | undefined;
      Object.defineProperty(w, decl.name, { enumerable: true, get: () => (name ??= g.initializer(names.value(`${node.id}.${decl.name}`), ws[i] as Float32Array, decl.shape)) });
    });
    const emit = EMITTERS[node.op];
    if (!emit) throw new Error(`export: no ONNX form for op ${node.op}`);
    emit(ctx, { node, x: node.inputs.map((ref) => valueOf.get(ref)!), y: valueOf.get(node.id)!, w, data, name: node.id });
  }

  // With a symbolic batch the output's first dimension is "N" too, unless an op mixed the batch
  // into another size (a flatten from dim 0, a concat along the batch); then it is left open.
  const batchFolded = plan.nodes.some(
    (n) =>
      ((n.op === 'flatten' || n.op === 'reshape') && n.outShape[0] !== n.inShapes[0][0]) ||
      (n.op === 'concat' && (n.attrs as ConcatAttrs).axis === 0) ||
      (n.op === 'transpose' && (n.attrs as TransposeAttrs).perm[0] !== 0) ||
      (n.op === 'slice' && n.outShape[0] !== n.inShapes[0][0]) ||
      (n.op === 'pad' && n.outShape[0] !== n.inShapes[0][0]),
  );
  g.output('output', options.dynamicBatch ? (batchFolded ? undefined : batchDim(plan.outputShape)) : plan.outputShape);
  return g.build({
    producerVersion: options.producerVersion,
    docString: `${plan.spec.name}, exported by convscope`,
    metadata: { [META_NAME]: plan.spec.name, [META_SEED]: String(plan.seed) },
  });
}

/** Why a node cannot be written as ONNX, or null. */
function refusal(node: PlanNode): string | null {
  if (node.op === 'stochastic_pool2d' && (node.attrs as StochasticPool2dAttrs).training) {
    return `layer "${node.id}": stochastic_pool2d in training mode samples at random; ONNX has no op for that. Set training: false to export its inference form (the probability-weighted average)`;
  }
  if (node.op === 'conv_transpose2d') {
    const a = node.attrs as ConvTranspose2dAttrs;
    const op = outputPadding(a);
    for (const i of [0, 1]) {
      if (op[i] >= a.stride[i]) {
        return (
          `layer "${node.id}": conv_transpose2d with output_padding ${op[i]} >= stride ${a.stride[i]} (${i === 0 ? 'height' : 'width'}) cannot be exported: ` +
          `ONNX ConvTranspose requires output_padding < stride and onnxruntime refuses the model; use output_padding < stride (a larger stride or dilation-only padding is not expressible)`
        );
      }
    }
  }
  return null;
}

/** output_padding, which the resolved attrs keep only through the output size. */
function outputPadding(a: ConvTranspose2dAttrs): [number, number] {
  const base = (i: number, size: number) => (size - 1) * a.stride[i] - a.pads[i] - a.pads[i + 2] + a.dilation[i] * (a.kernel[i] - 1) + 1;
  return [a.ho - base(0, a.h), a.wo - base(1, a.w)];
}

/** Unique value and node names: ONNX needs unique values, and unique node names read better. */
class Names {
  private readonly values = new Set<string>();
  private readonly nodes = new Set<string>();
  value(want: string): string {
    return unique(this.values, want);
  }
  node(want: string): string {
    return unique(this.nodes, want);
  }
}

function unique(taken: Set<string>, want: string): string {
  let name = want;
  for (let i = 1; taken.has(name); i++) name = `${want}_${i}`;
  taken.add(name);
  return name;
}

export interface EmitContext {
  g: OnnxGraphBuilder;
  names: Names;
  shared: Map<string, string>;
  /** A float scalar initializer shared by every node that needs the same constant. */
  scalar(key: string, value: number): string;
}

export interface EmitArgs {
  node: PlanNode;
  /** Input value names, in the op's input order. */
  x: string[];
  /** The value name the op's result must have. */
  y: string;
  /** Initializer names by declared weight name (written on first use). */
  w: Record<string, string>;
  /** The weights themselves, by declared name. */
  data: Record<string, Float32Array>;
  /** The name of the node producing `y`. */
  name: string;
}

export type Emitter = (ctx: EmitContext, a: EmitArgs) => void;

/** Helper values and nodes of a composite: `<op id>/<part>`. */
export function part(ctx: EmitContext, a: EmitArgs, what: string): { value: string; node: string } {
  return { value: ctx.names.value(`${a.node.id}/${what}`), node: ctx.names.node(`${a.node.id}/${what}`) };
}

function windowAttrs(kernel: readonly number[], stride: readonly number[], pads: readonly number[], dilation?: readonly number[]): Record<string, AttrValue> {
  return {
    kernel_shape: ints(kernel),
    strides: ints(stride),
    // [top, left, bottom, right] is ONNX's [x1_begin, x2_begin, x1_end, x2_end].
    pads: ints(pads),
    ...(dilation ? { dilations: ints(dilation) } : {}),
  };
}

function weightInputs(a: EmitArgs, bias: boolean): string[] {
  return [a.w.weight, ...(bias ? [a.w.bias] : [])];
}

const single = (opType: string, attrs: (a: EmitArgs) => Record<string, AttrValue> = () => ({})): Emitter => (ctx, a) => {
  ctx.g.node(opType, a.x, [a.y], attrs(a), a.name);
};

/** -MaxPool(-x): max pooling's windows with padding that never wins, as in the engine. */
const minPool: Emitter = (ctx, a) => {
  const at = a.node.attrs as Pool2dAttrs;
  const neg = part(ctx, a, 'neg_in');
  const max = part(ctx, a, 'max');
  ctx.g.node('Neg', a.x, [neg.value], {}, neg.node);
  ctx.g.node('MaxPool', [neg.value], [max.value], { ...windowAttrs(at.kernel, at.stride, at.pads, at.dilation), ceil_mode: int(at.ceilMode ? 1 : 0) }, max.node);
  ctx.g.node('Neg', [max.value], [a.y], {}, a.name);
};

/**
 * Inference-mode stochastic pooling, sum(r^2) / sum(r) with r = Relu(x), as a ratio of two
 * averages over the same windows (the divisor cancels; padding counts as 0 on both sides, as in
 * the engine). A window without a positive value is 0/0, which the engine defines as 0: Where
 * picks 0 wherever mean(r) is not > 0.
 */
const stochasticPool: Emitter = (ctx, a) => {
  const at = a.node.attrs as StochasticPool2dAttrs;
  const r = part(ctx, a, 'relu');
  const r2 = part(ctx, a, 'square');
  const num = part(ctx, a, 'mean_square');
  const den = part(ctx, a, 'mean');
  const ratio = part(ctx, a, 'ratio');
  const positive = part(ctx, a, 'positive');
  const zero = ctx.scalar('const/zero', 0);
  const attrs = { ...windowAttrs(at.kernel, at.stride, at.pads), count_include_pad: int(1) };
  ctx.g.node('Relu', a.x, [r.value], {}, r.node);
  ctx.g.node('Mul', [r.value, r.value], [r2.value], {}, r2.node);
  ctx.g.node('AveragePool', [r2.value], [num.value], attrs, num.node);
  ctx.g.node('AveragePool', [r.value], [den.value], attrs, den.node);
  ctx.g.node('Div', [num.value, den.value], [ratio.value], {}, ratio.node);
  ctx.g.node('Greater', [den.value, zero], [positive.value], {}, positive.node);
  ctx.g.node('Where', [positive.value, ratio.value, zero], [a.y], {}, a.name);
};

/**
 * LRN. ONNX LRN and the engine (PyTorch) agree for odd sizes. For an even size PyTorch's window
 * is size/2 channels before c and size/2 - 1 after, ONNX's the other way round (and onnxruntime
 * refuses even sizes), so the engine's definition is written out: the sum of squares over the
 * channel window as a [size, 1] convolution of ones over [N, 1, C, rest], then
 * x / (k + alpha/size * sum)^beta.
 */
const lrn: Emitter = (ctx, a) => {
  const at = a.node.attrs as LrnAttrs;
  if (at.size % 2 === 1) {
    ctx.g.node('LRN', a.x, [a.y], { size: int(at.size), alpha: float(at.alpha), beta: float(at.beta), bias: float(at.k) }, a.name);
    return;
  }
  const shape = a.node.inShapes[0];
  const sq = part(ctx, a, 'square');
  const cols = part(ctx, a, 'columns');
  const sums = part(ctx, a, 'window_sum');
  const sum = part(ctx, a, 'sum');
  const scaled = part(ctx, a, 'scaled');
  const base = part(ctx, a, 'base');
  const den = part(ctx, a, 'denominator');
  // 0 copies the input's size: the batch stays free under --dynamic-batch.
  const colsShape = ctx.g.int64Initializer(ctx.names.value(`${a.node.id}.columns_shape`), [0, 1, at.c, -1]);
  const backShape = ctx.g.int64Initializer(ctx.names.value(`${a.node.id}.shape`), [0, ...shape.slice(1)]);
  const ones = ctx.g.initializer(ctx.names.value(`${a.node.id}.window`), new Float32Array(at.size).fill(1), [1, 1, at.size, 1]);
  const before = Math.floor(at.size / 2);
  const after = Math.floor((at.size - 1) / 2);
  ctx.g.node('Mul', [a.x[0], a.x[0]], [sq.value], {}, sq.node);
  ctx.g.node('Reshape', [sq.value, colsShape], [cols.value], {}, cols.node);
  ctx.g.node('Conv', [cols.value, ones], [sums.value], windowAttrs([at.size, 1], [1, 1], [before, 0, after, 0]), sums.node);
  ctx.g.node('Reshape', [sums.value, backShape], [sum.value], {}, sum.node);
  ctx.g.node('Mul', [sum.value, ctx.scalar(`${a.node.id}.alpha_over_size`, at.alpha / at.size)], [scaled.value], {}, scaled.node);
  ctx.g.node('Add', [scaled.value, ctx.scalar(`${a.node.id}.k`, at.k)], [base.value], {}, base.node);
  ctx.g.node('Pow', [base.value, ctx.scalar(`${a.node.id}.beta`, at.beta)], [den.value], {}, den.node);
  ctx.g.node('Div', [a.x[0], den.value], [a.y], {}, a.name);
};

/** torch.nn.ChannelShuffle as ONNX exporters write it: Reshape, Transpose, Reshape. */
const channelShuffle: Emitter = (ctx, a) => {
  const at = a.node.attrs as ChannelShuffleAttrs;
  const [, c, h, w] = a.node.inShapes[0];
  const split = ctx.g.int64Initializer(ctx.names.value(`${a.node.id}.split_shape`), [0, at.groups, c / at.groups, h, w]);
  const merged = ctx.g.int64Initializer(ctx.names.value(`${a.node.id}.shape`), [0, c, h, w]);
  const grouped = part(ctx, a, 'split');
  const swapped = part(ctx, a, 'transpose');
  ctx.g.node('Reshape', [a.x[0], split], [grouped.value], {}, grouped.node);
  ctx.g.node('Transpose', [grouped.value], [swapped.value], { perm: ints([0, 2, 1, 3, 4]) }, swapped.node);
  ctx.g.node('Reshape', [swapped.value, merged], [a.y], {}, a.name);
};

/** Flatten when the engine merges everything from start_dim 1 on; else a Reshape. */
const flatten: Emitter = (ctx, a) => {
  const from = a.node.inShapes[0];
  const to = a.node.outShape;
  if (from.length >= 2 && to.length === 2 && to[0] === from[0]) {
    ctx.g.node('Flatten', a.x, [a.y], { axis: int(1) }, a.name);
    return;
  }
  // The batch dim copied (0) when it is kept; -1 when it is merged (all other sizes are fixed).
  const keepsBatch = to[0] === from[0] && to.length > 1;
  const target = keepsBatch ? [0, ...to.slice(1)] : [-1, ...to.slice(1)];
  const shape = ctx.g.int64Initializer(ctx.names.value(`${a.node.id}.shape`), target);
  ctx.g.node('Reshape', [a.x[0], shape], [a.y], {}, a.name);
};

/** An int64 initializer named after the op: `<op id>.<what>`. */
function int64Input(ctx: EmitContext, a: EmitArgs, what: string, data: number[]): string {
  return ctx.g.int64Initializer(ctx.names.value(`${a.node.id}.${what}`), data);
}

/** The resolved output shape, with the batch as 0 (copied) where it stays put, so --dynamic-batch holds. */
const reshape: Emitter = (ctx, a) => {
  const from = a.node.inShapes[0];
  const to = a.node.outShape;
  ctx.g.node('Reshape', [a.x[0], int64Input(ctx, a, 'shape', to[0] === from[0] ? [0, ...to.slice(1)] : [...to])], [a.y], {}, a.name);
};

/** Slice with the resolved (clamped) bounds of the axes that change. */
const slice: Emitter = (ctx, a) => {
  const at = a.node.attrs as SliceAttrs;
  const axes = at.size.map((_, d) => d).filter((d) => at.start[d] !== 0 || at.step[d] !== 1 || at.size[d] !== a.node.inShapes[0][d]);
  const ends = axes.map((d) => {
    const end = at.start[d] + at.size[d] * at.step[d];
    return end < 0 ? -a.node.inShapes[0][d] - 1 : end;
  });
  if (axes.length === 0) {
    ctx.g.node('Identity', a.x, [a.y], {}, a.name);
    return;
  }
  const ins = [a.x[0], int64Input(ctx, a, 'starts', axes.map((d) => at.start[d])), int64Input(ctx, a, 'ends', ends), int64Input(ctx, a, 'axes', axes), int64Input(ctx, a, 'steps', axes.map((d) => at.step[d]))];
  ctx.g.node('Slice', ins, [a.y], {}, a.name);
};

const pad: Emitter = (ctx, a) => {
  const at = a.node.attrs as PadAttrs;
  const after = at.outShape.map((n, d) => n - at.inShape[d] - at.before[d]);
  const ins = [a.x[0], int64Input(ctx, a, 'pads', [...at.before, ...after])];
  if (at.mode === 'constant' && at.value !== 0) ins.push(ctx.scalar(`${a.node.id}.value`, at.value));
  ctx.g.node('Pad', ins, [a.y], { mode: string(at.mode) }, a.name);
};

/** Resize with the scales or sizes the spec gave (so ONNX computes the same size and coordinates). */
const resize: Emitter = (ctx, a) => {
  const at = a.node.attrs as ResizeAttrs;
  const ins = [a.x[0], ''];
  if (at.fromSizes) ins.push('', int64Input(ctx, a, 'sizes', [at.n, at.c, at.ho, at.wo]));
  else ins.push(ctx.g.initializer(ctx.names.value(`${a.node.id}.scales`), new Float32Array([1, 1, ...at.scale]), [4]));
  const attrs: Record<string, AttrValue> = { mode: string(at.mode), coordinate_transformation_mode: string(at.coordinate) };
  if (at.mode === 'nearest') attrs.nearest_mode = string(at.nearest);
  ctx.g.node('Resize', ins, [a.y], attrs, a.name);
};

/** The axis that gives the resolved (outer, len, inner) split; any such axis computes the same. */
function softmaxAxis(shape: Shape, at: SoftmaxAttrs): number {
  for (let d = 0; d < shape.length; d++) {
    if (numel(shape.slice(0, d)) === at.outer && shape[d] === at.len && numel(shape.slice(d + 1)) === at.inner) return d;
  }
  throw new Error(`softmax on ${shapeText(shape)}: no axis gives ${at.outer} x ${at.len} x ${at.inner}`);
}

const EMITTERS: Record<string, Emitter> = {
  conv2d: single('Conv', (a) => {
    const at = a.node.attrs as Conv2dAttrs;
    a.x.push(...weightInputs(a, at.bias));
    return { ...windowAttrs(at.kernel, at.stride, at.pads, at.dilation), group: int(at.groups) };
  }),
  conv_transpose2d: single('ConvTranspose', (a) => {
    const at = a.node.attrs as ConvTranspose2dAttrs;
    a.x.push(...weightInputs(a, at.bias));
    return { ...windowAttrs(at.kernel, at.stride, at.pads, at.dilation), group: int(at.groups), output_padding: ints(outputPadding(at)) };
  }),
  deform_conv2d: single('DeformConv', (a) => {
    const at = a.node.attrs as DeformConv2dAttrs;
    // DeformConv's inputs are X, W, offset, B, mask: the engine's [x, offset, mask?] around them.
    const [x, offset, mask] = a.x;
    a.x.length = 0;
    a.x.push(x, a.w.weight, offset);
    if (at.bias || mask) a.x.push(at.bias ? a.w.bias : '');
    if (mask) a.x.push(mask);
    return { ...windowAttrs(at.kernel, at.stride, at.pads, at.dilation), group: int(at.groups), offset_group: int(at.offsetGroups) };
  }),
  linear: single('Gemm', (a) => {
    a.x.push(...weightInputs(a, (a.node.attrs as { bias: boolean }).bias));
    return { transB: int(1) };
  }),
  max_pool2d: single('MaxPool', (a) => {
    const at = a.node.attrs as Pool2dAttrs;
    return { ...windowAttrs(at.kernel, at.stride, at.pads, at.dilation), ceil_mode: int(at.ceilMode ? 1 : 0) };
  }),
  avg_pool2d: single('AveragePool', (a) => {
    const at = a.node.attrs as AvgPool2dAttrs;
    return { ...windowAttrs(at.kernel, at.stride, at.pads), ceil_mode: int(at.ceilMode ? 1 : 0), count_include_pad: int(at.countIncludePad ? 1 : 0) };
  }),
  min_pool2d: minPool,
  stochastic_pool2d: stochasticPool,
  global_avg_pool: single('GlobalAveragePool'),
  global_max_pool: single('GlobalMaxPool'),
  batch_norm: single('BatchNormalization', (a) => {
    a.x.push(a.w.weight, a.w.bias, a.w.running_mean, a.w.running_var);
    return { epsilon: float((a.node.attrs as BatchNormAttrs).eps) };
  }),
  relu: single('Relu'),
  sigmoid: single('Sigmoid'),
  relu6: (ctx, a) => {
    ctx.g.node('Clip', [...a.x, ctx.scalar('const/zero', 0), ctx.scalar('const/six', 6)], [a.y], {}, a.name);
  },
  lrn,
  softmax: single('Softmax', (a) => ({ axis: int(softmaxAxis(a.node.inShapes[0], a.node.attrs as SoftmaxAttrs)) })),
  add: single('Add'),
  mul: single('Mul'),
  concat: single('Concat', (a) => ({ axis: int((a.node.attrs as ConcatAttrs).axis) })),
  channel_shuffle: channelShuffle,
  flatten,
  transpose: single('Transpose', (a) => ({ perm: ints((a.node.attrs as TransposeAttrs).perm) })),
  reshape,
  slice,
  pad,
  resize,
  dropout: (ctx, a) => {
    // The ratio travels as Dropout's optional input so the spec's p survives a round trip; at
    // inference (training_mode absent = false) Dropout is the identity whatever it is.
    const ratio = ctx.scalar(`${a.node.id}.ratio`, (a.node.attrs as { p: number }).p);
    ctx.g.node('Dropout', [...a.x, ratio], [a.y], {}, a.name);
  },
  ...MATH_EMITTERS,
};

/**
 * What the workbench's palette and inspector know about every op and block: its palette group,
 * its parameters (type, default, one line of help), a worked example, and parameter suggestions
 * that fit a given input. One table keyed by type, beside the registries rather than inside each
 * OpDef, so the op modules stay about counting and kernels; test/catalog.test.ts checks that the
 * table covers every registered op and block and lists exactly the parameters each one reads.
 */
import { BLOCKS, getBlock } from './blocks/registry.ts';
import { SpecError } from './errors.ts';
import { buildPlan, planNodeFor } from './graph/plan.ts';
import { getOp, OPS } from './ops/registry.ts';
import type { OpCategory } from './ops/types.ts';
import type { Shape } from './tensor.ts';
import type { CatalogEntry, CatalogParam, PaletteGroup } from '../shared/protocol.ts';
import type { ParamValue } from '../shared/spec.ts';

type Params = Record<string, ParamValue>;

export interface CatalogDoc {
  params: CatalogParam[];
  /** Input shapes and parameters that resolve: documentation, and the test's proof that each parameter is accepted. */
  example: { inputs: Shape[]; params: Params };
  /**
   * Candidate parameters for a new layer reading `inputs`, best first; the host keeps the first
   * that resolves. Omitted: the example's parameters.
   */
  suggest?(inputs: Shape[]): Params[];
}

// ---- parameter descriptions ----

function param(name: string, type: CatalogParam['type'], dflt: string | null, help: string, extra: Partial<CatalogParam> = {}): CatalogParam {
  return { name, type, default: dflt, help, ...extra };
}

const P = {
  outChannels: (dflt: string | null = null) => param('out_channels', 'int', dflt, 'output channels (C_out)', { min: 1 }),
  kernel: (dflt: string | null = null) => param('kernel', 'pair', dflt, 'window size: k or [kh, kw]', { min: 1 }),
  stride: (dflt = '1') => param('stride', 'pair', dflt, 'step between windows: s or [sh, sw]', { min: 1 }),
  strideInt: (dflt = '1') => param('stride', 'int', dflt, 'step between windows', { min: 1 }),
  padding: (dflt = '0') => param('padding', 'padding', dflt, 'p, [ph, pw], [top, left, bottom, right] or "same"'),
  dilation: (dflt = '1') => param('dilation', 'pair', dflt, 'spacing between kernel taps: d or [dh, dw]', { min: 1 }),
  groups: (dflt: string | null = '1') => param('groups', 'int', dflt, 'channel groups: params and MACs divide by groups', { min: 1 }),
  bias: (dflt = 'true') => param('bias', 'bool', dflt, 'add a learned bias per output channel'),
  ceilMode: () => param('ceil_mode', 'bool', 'false', 'round the output size up instead of down'),
  reduction: () => param('reduction', 'int', '16', 'SE squeeze ratio r: the bottleneck has C / r channels', { min: 1 }),
};

const noParams = (inputs: Shape[] = [[1, 16, 8, 8]]): CatalogDoc => ({ params: [], example: { inputs, params: {} } });

const map = [1, 16, 8, 8];

/** Channels of a 4-D input, else undefined (a block placed after flatten). */
function channels(inputs: Shape[]): number | undefined {
  return inputs[0]?.length === 4 ? inputs[0][1] : undefined;
}

const sameWidth = (extra: Params = {}) => (inputs: Shape[]) => {
  const c = channels(inputs);
  return c === undefined ? [] : [{ out_channels: c, ...extra }];
};

function divisorsOf(n: number, candidates: number[]): number[] {
  return candidates.filter((g) => n % g === 0);
}

const pool = (dilation: boolean, ceil: boolean): CatalogDoc => ({
  params: [
    P.kernel(),
    P.stride('= kernel'),
    P.padding(),
    ...(dilation ? [P.dilation()] : []),
    ...(ceil ? [P.ceilMode()] : []),
  ],
  example: { inputs: [map], params: { kernel: 3, stride: 2, padding: 1, ...(dilation ? { dilation: 1 } : {}), ...(ceil ? { ceil_mode: false } : {}) } },
  suggest: (): Params[] => [{ kernel: 3, stride: 2, padding: 1 }, { kernel: 2 }, { kernel: 1 }],
});

/** reduce_mean / reduce_max: axes and keepdims as ONNX has them. */
const reduceDoc = (): CatalogDoc => ({
  params: [
    param('axes', 'int_list', null, 'the dims reduced (negative from the end); none: every dim'),
    param('keepdims', 'bool', 'true', 'keep each reduced dim as size 1'),
  ],
  example: { inputs: [map], params: { axes: [2, 3], keepdims: true } },
});

/** add / sub / mul / div: two inputs, or one input and a constant operand (a weight of weight_shape). */
const binaryDoc = (inputs: Shape[]): CatalogDoc => ({
  params: [
    param('weight_shape', 'int_list', null, 'with one input: the shape of a constant operand (a weight, counted as params), broadcast against it'),
    param('weight_first', 'bool', 'false', 'the constant is the left operand (c - x, c / x)'),
    param('weight_value', 'number', null, 'the constant\'s value when made from the seed (default 1 for mul / div, 0 for add / sub)'),
  ],
  example: { inputs: [inputs[0]], params: { weight_shape: inputs[1].slice(1), weight_first: false, weight_value: 1 } },
  suggest: () => [{}],
});

const OP_DOCS: Record<string, CatalogDoc> = {
  conv2d: {
    params: [P.outChannels(), P.kernel(), P.stride(), P.padding(), P.dilation(), P.groups(), P.bias()],
    example: { inputs: [map], params: { out_channels: 32, kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1, bias: true } },
    suggest: (inputs): Params[] => {
      const c = channels(inputs) ?? 64;
      return [{ out_channels: c, kernel: 3, padding: 1 }, { out_channels: c, kernel: 1 }];
    },
  },
  conv_transpose2d: {
    params: [P.outChannels(), P.kernel(), P.stride(), P.padding(), P.dilation(), param('output_padding', 'pair', '0', 'extra rows/columns added to one side of the output', { min: 0 }), P.groups(), P.bias()],
    example: { inputs: [map], params: { out_channels: 8, kernel: 2, stride: 2, padding: 0, dilation: 1, output_padding: 0, groups: 1, bias: true } },
    suggest: (inputs) => [{ out_channels: Math.max(1, Math.floor((channels(inputs) ?? 64) / 2)), kernel: 2, stride: 2 }],
  },
  deform_conv2d: {
    params: [
      P.outChannels(),
      P.kernel(),
      P.stride(),
      P.padding(),
      P.dilation(),
      P.groups(),
      param('offset_groups', 'int', '1', 'channel groups that share one set of offsets', { min: 1 }),
      P.bias(),
    ],
    example: { inputs: [map, [1, 18, 8, 8]], params: { out_channels: 16, kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1, offset_groups: 1, bias: true } },
    suggest: (inputs) => [{ out_channels: channels(inputs) ?? 64, kernel: 3, padding: 1 }],
  },
  linear: {
    params: [param('out_features', 'int', null, 'output features', { min: 1 }), P.bias()],
    example: { inputs: [[1, 64]], params: { out_features: 10, bias: true } },
    suggest: () => [{ out_features: 1000 }],
  },
  add: binaryDoc([map, map]),
  sub: binaryDoc([map, map]),
  mul: binaryDoc([map, [1, 16, 1, 1]]),
  div: binaryDoc([map, [1, 16, 1, 1]]),
  concat: {
    params: [param('axis', 'int', '1', 'the dimension to join along (1 = channels)')],
    example: { inputs: [map, [1, 8, 8, 8]], params: { axis: 1 } },
  },
  channel_shuffle: {
    params: [P.groups(null)],
    example: { inputs: [map], params: { groups: 4 } },
    suggest: (inputs) => divisorsOf(channels(inputs) ?? 1, [3, 4, 2, 8, 1]).map((groups) => ({ groups })),
  },
  relu: noParams(),
  relu6: noParams(),
  sigmoid: noParams(),
  silu: noParams(),
  hardswish: noParams(),
  hardsigmoid: {
    params: [param('alpha', 'number', '1/6', 'slope (PyTorch 1/6; ONNX HardSigmoid 0.2)'), param('beta', 'number', '0.5', 'offset')],
    example: { inputs: [map], params: { alpha: 1 / 6, beta: 0.5 } },
  },
  clip: {
    params: [param('min', 'number', null, 'lower bound (none: unbounded)'), param('max', 'number', null, 'upper bound (none: unbounded)')],
    example: { inputs: [map], params: { min: -1, max: 1 } },
  },
  gelu: {
    params: [param('approximate', 'enum', 'none', '"none": the exact erf form; "tanh": the tanh approximation', { choices: ['none', 'tanh'] })],
    example: { inputs: [map], params: { approximate: 'none' } },
  },
  softmax: {
    params: [param('axis', 'int', '1', 'the dimension the probabilities sum to 1 over')],
    example: { inputs: [[1, 10]], params: { axis: 1 } },
  },
  batch_norm: {
    params: [param('eps', 'number', '1e-5', 'added to the variance before the square root')],
    example: { inputs: [map], params: { eps: 1e-5 } },
  },
  reduce_mean: reduceDoc(),
  reduce_max: reduceDoc(),
  layer_norm: {
    params: [
      param('normalized_shape', 'int_list', null, 'the trailing dims normalised together (PyTorch); or give axis'),
      param('axis', 'int', '-1', 'the first normalised dim, negative from the end (ONNX); default: the last dim'),
      param('eps', 'number', '1e-5', 'added to the variance before the square root'),
      param('elementwise_affine', 'bool', 'true', 'a learned weight (and bias) per element of the normalised shape'),
      P.bias(),
    ],
    example: { inputs: [[1, 8, 8, 16]], params: { normalized_shape: [16], eps: 1e-5, elementwise_affine: true, bias: true } },
  },
  lrn: {
    params: [
      param('size', 'int', null, 'neighbouring channels in the window', { min: 1 }),
      param('alpha', 'number', '1e-4', 'scale of the sum of squares'),
      param('beta', 'number', '0.75', 'exponent'),
      param('k', 'number', '1', 'additive constant'),
    ],
    example: { inputs: [map], params: { size: 5, alpha: 1e-4, beta: 0.75, k: 2 } },
    suggest: () => [{ size: 5, alpha: 1e-4, beta: 0.75, k: 2 }],
  },
  dropout: {
    params: [param('p', 'number', '0.5', 'drop probability when training (identity at inference)', { min: 0 })],
    example: { inputs: [map], params: { p: 0.5 } },
  },
  flatten: {
    params: [param('start_dim', 'int', '1', 'first dimension merged'), param('end_dim', 'int', '-1', 'last dimension merged (negative counts from the end)')],
    example: { inputs: [map], params: { start_dim: 1, end_dim: -1 } },
  },
  transpose: {
    params: [param('perm', 'int_list', null, 'output dimension d is input dimension perm[d] (e.g. [0, 2, 3, 1] for NCHW -> NHWC)')],
    example: { inputs: [map], params: { perm: [0, 2, 3, 1] } },
    suggest: (inputs) => [{ perm: [...(inputs[0] ?? map).keys()].reverse() }],
  },
  reshape: {
    params: [param('shape', 'int_list', null, 'output sizes; 0 copies the input size there, one -1 is inferred')],
    example: { inputs: [map], params: { shape: [0, 4, -1] } },
    suggest: () => [{ shape: [0, -1] }],
  },
  slice: {
    params: [
      param('starts', 'int_list', null, 'first index per sliced axis (negative counts from the end)'),
      param('ends', 'int_list', null, 'end per sliced axis, exclusive; clamped to the size'),
      param('axes', 'int_list', '[0, 1, ...]', 'the sliced axes, one per start'),
      param('steps', 'int_list', '[1, 1, ...]', 'step per sliced axis; negative walks backwards'),
    ],
    example: { inputs: [map], params: { starts: [0, 1], ends: [8, -1], axes: [1, 3], steps: [2, 1] } },
    suggest: (inputs) => [{ starts: [0], ends: [Math.max(1, Math.floor((channels(inputs) ?? 2) / 2))], axes: [1] }],
  },
  pad: {
    params: [
      param('pads', 'int_list', null, 'begins of the padded axes, then their ends (ONNX layout); negative crops'),
      param('axes', 'int_list', '[0, 1, ...]', 'the padded axes'),
      param('mode', 'enum', 'constant', 'constant value, reflect (mirror) or edge (repeat)', { choices: ['constant', 'reflect', 'edge'] }),
      param('value', 'number', '0', 'the constant for mode constant'),
    ],
    example: { inputs: [map], params: { pads: [1, 2, 1, 2], axes: [2, 3], mode: 'constant', value: 0 } },
    suggest: () => [{ pads: [1, 1, 1, 1], axes: [2, 3] }],
  },
  resize: {
    params: [
      param('mode', 'enum', 'nearest', 'nearest or linear (bilinear over H and W)', { choices: ['nearest', 'linear'] }),
      param('scales', 'int_list', null, '[scale_h, scale_w] (numbers); output = floor(in * scale)'),
      param('sizes', 'int_list', null, '[height, width] of the output, instead of scales'),
      param('coordinate_transformation_mode', 'enum', 'half_pixel', 'how output pixels map to input coordinates (ONNX)', { choices: ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric'] }),
      param('nearest_mode', 'enum', 'round_prefer_floor', 'rounding of the source coordinate for mode nearest', { choices: ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] }),
    ],
    example: { inputs: [map], params: { mode: 'nearest', scales: [2, 2], coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' } },
    suggest: () => [{ mode: 'nearest', scales: [2, 2], coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }],
  },
  max_pool2d: pool(true, true),
  min_pool2d: pool(true, true),
  avg_pool2d: {
    ...pool(false, true),
    params: [...pool(false, true).params, param('count_include_pad', 'bool', 'true', 'divide by the full window, padding included')],
    example: { inputs: [map], params: { kernel: 3, stride: 2, padding: 1, ceil_mode: false, count_include_pad: true } },
  },
  stochastic_pool2d: {
    ...pool(false, false),
    params: [...pool(false, false).params, param('training', 'bool', 'false', 'sample by probability (training) instead of the probability-weighted mean')],
    example: { inputs: [map], params: { kernel: 2, stride: 2, padding: 0, training: false } },
  },
  global_avg_pool: noParams(),
  global_max_pool: noParams(),
};

const BLOCK_DOCS: Record<string, CatalogDoc> = {
  grouped_conv: {
    params: [P.outChannels(), P.kernel(), P.stride(), param('padding', 'padding', '0', 'as conv2d'), P.groups('2'), P.bias(), param('relu', 'bool', 'true', 'follow with a ReLU')],
    example: { inputs: [map], params: { out_channels: 32, kernel: 3, stride: 1, padding: 1, groups: 2, bias: true, relu: true } },
    suggest: (inputs) => {
      const c = channels(inputs) ?? 64;
      return divisorsOf(c, [2, 4, 1]).map((groups) => ({ out_channels: c, kernel: 3, padding: 1, groups }));
    },
  },
  shufflenet_unit: {
    params: [
      P.outChannels(),
      P.groups(null),
      param('stride', 'int', '1', '1: add shortcut (out = in); 2: avg-pool shortcut + concat (halves H, W)', { min: 1 }),
      param('first_group', 'bool', 'true', 'group the first 1x1 (ShuffleNet stage 2 starts without)'),
      param('bottleneck', 'int', '= out_channels / 4', 'channels inside the unit', { min: 1 }),
    ],
    example: { inputs: [[1, 240, 8, 8]], params: { out_channels: 240, groups: 3, stride: 1, first_group: true, bottleneck: 60 } },
    suggest: (inputs) => {
      const c = channels(inputs);
      if (c === undefined) return [];
      return [3, 2, 4, 8, 1].map((groups) => ({ out_channels: c, groups, stride: 1 }));
    },
  },
  se: {
    params: [P.reduction(), param('squeeze_channels', 'int', '= C / reduction', 'channels of the squeeze, instead of giving reduction', { min: 1 })],
    example: { inputs: [map], params: { squeeze_channels: 4 } },
    suggest: () => [{ reduction: 16 }, { reduction: 8 }, { reduction: 4 }, { reduction: 1 }],
  },
  resnet_bottleneck: {
    params: [
      P.outChannels(),
      P.strideInt(),
      param('width', 'int', '= out_channels / 4', 'channels of the 3x3', { min: 1 }),
      param('downsample', 'bool', 'auto', '1x1 conv + BN shortcut; needed when the shape changes'),
    ],
    example: { inputs: [map], params: { out_channels: 32, stride: 2, width: 8, downsample: true } },
    suggest: sameWidth(),
  },
  se_resnet_bottleneck: {
    params: [
      P.outChannels(),
      P.strideInt(),
      param('width', 'int', '= out_channels / 4', 'channels of the 3x3', { min: 1 }),
      param('downsample', 'bool', 'auto', '1x1 conv + BN shortcut; needed when the shape changes'),
      P.reduction(),
    ],
    example: { inputs: [[1, 64, 8, 8]], params: { out_channels: 64, stride: 1, width: 16, downsample: false, reduction: 16 } },
    suggest: sameWidth(),
  },
  separable_conv: {
    params: [P.outChannels(), P.kernel('3'), P.stride(), P.dilation(), param('padding', 'padding', 'keeps size', 'as conv2d'), P.bias('false')],
    example: { inputs: [map], params: { out_channels: 32, kernel: 3, stride: 1, dilation: 1, padding: 1, bias: false } },
    suggest: sameWidth(),
  },
  depthwise_separable: {
    params: [P.outChannels(), P.kernel('3'), P.stride(), param('activation', 'enum', 'relu', 'activation after each BN', { choices: ['relu', 'relu6'] })],
    example: { inputs: [map], params: { out_channels: 32, kernel: 3, stride: 2, activation: 'relu6' } },
    suggest: sameWidth(),
  },
  xception_entry: {
    params: [P.outChannels(), param('relu_first', 'bool', 'true', 'start with a ReLU (Keras leaves it out of the first module)')],
    example: { inputs: [map], params: { out_channels: 32, relu_first: false } },
    suggest: (inputs) => [{ out_channels: 2 * (channels(inputs) ?? 64) }],
  },
  xception_middle: noParams(),
  xception_exit: {
    params: [
      param('mid_channels', 'int', '= input channels', 'width of the first separable conv', { min: 1 }),
      P.outChannels('1024'),
      param('tail', 'int_list', '[1536, 2048]', 'widths of the separable convs after the module'),
    ],
    example: { inputs: [map], params: { mid_channels: 16, out_channels: 32, tail: [48] } },
    suggest: (inputs) => {
      const c = channels(inputs) ?? 728;
      return [{ out_channels: Math.round((c * 1024) / 728), tail: [] }];
    },
  },
  spatial_separable_conv: {
    params: [
      P.outChannels(),
      param('kernel', 'int', '3', 'k: a k x 1 then a 1 x k convolution (odd unless padding is given)', { min: 1 }),
      P.strideInt(),
      param('padding', 'padding', 'keeps size', 'as on the k x k conv: rows to the k x 1, columns to the 1 x k; p, [ph, pw], [top, left, bottom, right] or "same"'),
      param('mid_channels', 'int', '= out_channels', 'channels between the two convolutions', { min: 1 }),
      P.bias(),
    ],
    example: { inputs: [map], params: { out_channels: 16, kernel: 5, stride: 1, padding: 2, mid_channels: 8, bias: true } },
    suggest: sameWidth({ kernel: 3 }),
  },
  dilated_conv: {
    params: [P.outChannels(), P.kernel('3'), P.dilation('2'), P.stride(), P.groups(), P.bias()],
    example: { inputs: [map], params: { out_channels: 16, kernel: 3, dilation: 2, stride: 1, groups: 1, bias: true } },
    suggest: sameWidth(),
  },
  deformable_conv: {
    params: [
      P.outChannels(),
      P.kernel('3'),
      P.stride(),
      P.dilation(),
      param('padding', 'padding', 'keeps size', 'as conv2d'),
      P.groups(),
      param('offset_groups', 'int', '1', 'channel groups that share one set of offsets', { min: 1 }),
      P.bias(),
      param('modulated', 'bool', 'false', 'DCN v2: a sigmoid mask scales every sample'),
    ],
    example: { inputs: [map], params: { out_channels: 16, kernel: 3, stride: 1, dilation: 1, padding: 1, groups: 1, offset_groups: 2, bias: true, modulated: true } },
    suggest: sameWidth(),
  },
};

const GROUP_OF_CATEGORY: Record<OpCategory, PaletteGroup> = {
  convolution: 'convolution',
  // A linear layer costs what a 1x1 convolution on a 1x1 map costs; the palette shows it there.
  linear: 'convolution',
  pooling: 'pooling',
  structure: 'structure',
  activation: 'activation',
  normalization: 'activation',
};

export function opDoc(type: string): CatalogDoc | undefined {
  return OP_DOCS[type];
}

export function blockDoc(type: string): CatalogDoc | undefined {
  return BLOCK_DOCS[type];
}

/** Every registered op and block, in registry order; an op without a doc is a bug (see the test). */
export function catalogEntries(): { ops: CatalogEntry[]; blocks: CatalogEntry[] } {
  const ops = [...OPS.values()].map((op): CatalogEntry => ({
    kind: 'op',
    name: op.type,
    group: GROUP_OF_CATEGORY[op.category],
    summary: op.summary,
    arity: [op.arity[0], Number.isFinite(op.arity[1]) ? op.arity[1] : null],
    params: OP_DOCS[op.type]?.params ?? [],
  }));
  const blocks = [...BLOCKS.values()].map((b): CatalogEntry => ({
    kind: 'block',
    name: b.type,
    group: 'block',
    summary: b.summary,
    arity: [b.arity[0], Number.isFinite(b.arity[1]) ? b.arity[1] : null],
    params: BLOCK_DOCS[b.type]?.params ?? [],
  }));
  return { ops, blocks };
}

/** Resolves an op or a block on given input shapes; throws SpecError when the params do not fit. */
export function tryResolve(kind: 'op' | 'block', name: string, params: Params, inputs: Shape[]): void {
  if (kind === 'op') {
    planNodeFor(name, params, inputs, 'layer');
    return;
  }
  if (inputs.length !== 1) throw new SpecError(`block ${name} takes one input, got ${inputs.length}`, 'layer', 'inputs');
  buildPlan({ format: 'convscope/v1', name, input: { shape: inputs[0] }, layers: [{ id: 'layer', block: name, params }] }, { memoryBudgetBytes: Number.MAX_SAFE_INTEGER });
}

/**
 * Parameters for a new layer of `name` reading `inputs`: the first suggestion that resolves
 * (`fits`), else the first suggestion or the example, for the user to adjust.
 */
export function suggestParams(kind: 'op' | 'block', name: string, inputs: Shape[]): { params: Params; fits: boolean } {
  const known = kind === 'op' ? getOp(name) : getBlock(name);
  if (!known) throw new SpecError(`${kind} "${name}" is unknown`, undefined, kind);
  const doc = kind === 'op' ? OP_DOCS[name] : BLOCK_DOCS[name];
  if (!doc) return { params: {}, fits: false };
  const candidates = [...(doc.suggest?.(inputs) ?? []), doc.example.params];
  for (const params of candidates) {
    try {
      tryResolve(kind, name, params, inputs);
      return { params: { ...params }, fits: true };
    } catch (err) {
      if (!(err instanceof SpecError)) throw err;
    }
  }
  return { params: { ...candidates[0] }, fits: false };
}

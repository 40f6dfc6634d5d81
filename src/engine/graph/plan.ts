import { getBlock, BLOCKS } from '../blocks/registry.ts';
import type { BlockBuilder, Handle } from '../blocks/types.ts';
import { SpecError } from '../errors.ts';
import { getOp, OPS } from '../ops/registry.ts';
import type { Counts, OpDef, WeightDecl } from '../ops/types.ts';
import { ParamReader } from '../params.ts';
import { byteSize, numel, shapeText, type Shape } from '../tensor.ts';
import type { LayerSpec, ModelSpec, ParamValue } from '../../shared/spec.ts';
import { closest, parseSpec } from './validate.ts';

export const INPUT = 'input';

/** One primitive op of the expanded graph, with everything known before execution. */
export interface PlanNode {
  /** `<layer>` for a primitive layer, `<layer>/<name>` inside a block. */
  id: string;
  layer: string;
  block: string | null;
  op: string;
  /** Node ids, or INPUT. */
  inputs: string[];
  inShapes: Shape[];
  outShape: Shape;
  attrs: unknown;
  weights: WeightDecl[];
  counts: Counts;
  params: number;
  buffers: number;
  outputBytes: number;
  /** Bytes read (inputs, weights) and written (output). */
  bytesMoved: number;
}

export interface PlanTotals {
  params: number;
  buffers: number;
  macs: number;
  flops: number;
  paramBytes: number;
  activationBytes: number;
  peakBytes: number;
}

export interface Plan {
  spec: ModelSpec;
  inputShape: Shape;
  nodes: PlanNode[];
  /** Node id of the model output. */
  output: string;
  outputShape: Shape;
  seed: number;
  totals: PlanTotals;
  /**
   * Weights that came with the model (an imported ONNX file), by node id, in each node's declared
   * order; absent or null when they are made from the seed. Read them through makeWeights(plan).
   */
  weights?: ReadonlyMap<string, readonly Float32Array[]> | null;
}

export interface PlanOptions {
  /**
   * Refuse models whose weights plus peak live activations exceed this many bytes (default 4 GiB):
   * a budget for running the model. Infinity for what allocates nothing (inspect).
   */
  memoryBudgetBytes?: number;
  /** Replace the batch dimension of the spec's input. */
  batch?: number;
  /** Weights to run with instead of the seeded ones, by node id (see Plan.weights). */
  weights?: ReadonlyMap<string, readonly Float32Array[]>;
}

/**
 * A spec with the weights it runs with: what the ONNX importer returns. buildPlan takes it
 * wherever it takes a spec, so hosts that load a model by name need not know where it came from.
 */
export class ModelWithWeights {
  constructor(
    readonly spec: unknown,
    readonly weights: ReadonlyMap<string, readonly Float32Array[]>,
  ) {}
}

export const DEFAULT_MEMORY_BUDGET = 4 * 1024 ** 3;

/**
 * Turns a spec (any JSON value) into an execution plan: validates structure, resolves defaults,
 * orders the layers, expands blocks and infers every shape and count. Allocates no tensors; every
 * problem is a SpecError naming the layer and parameter.
 */
export function buildPlan(value: unknown, options: PlanOptions = {}): Plan {
  const given = options.weights ?? (value instanceof ModelWithWeights ? value.weights : undefined);
  const spec = parseSpec(value instanceof ModelWithWeights ? value.spec : value);
  const inputShape = [...spec.input.shape];
  if (options.batch !== undefined) {
    if (!Number.isInteger(options.batch) || options.batch < 1) throw new SpecError(`--batch must be a positive integer, got ${options.batch}`, undefined, 'batch');
    inputShape[0] = options.batch;
  }
  const layers = orderLayers(spec.layers);
  const nodes: PlanNode[] = [];
  const outputs = new Map<string, Handle>([[INPUT, { ref: INPUT, shape: inputShape }]]);

  for (const { layer, inputs } of layers) {
    const handles = inputs.map((id) => outputs.get(id)!);
    if (layer.op !== undefined) {
      const op = getOp(layer.op)!;
      const node = resolveNode(layer.id, layer.id, null, op, layer.params ?? {}, handles, layer.id);
      nodes.push(node);
      outputs.set(layer.id, { ref: node.id, shape: node.outShape });
    } else {
      const out = expandBlock(layer.id, layer.id, layer.block!, layer.params ?? {}, handles, nodes, layer.block!);
      outputs.set(layer.id, out);
    }
  }

  const last = outputs.get(layers[layers.length - 1].layer.id)!;
  const totals = computeTotals(nodes, inputShape, last.ref);
  const over = overBudget(spec.name, nodes, inputShape, last.ref, totals, options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET);
  if (over) throw over;
  if (given) checkGivenWeights(nodes, given);
  // The plan's spec is the one that ran: with --batch, its input shape says so, so the spec
  // embedded in a report reproduces the report.
  const ran = options.batch === undefined ? spec : { ...spec, input: { ...spec.input, shape: [...inputShape] } };
  return { spec: ran, inputShape, nodes, output: last.ref, outputShape: last.shape, seed: spec.seed ?? 0, totals, weights: given ?? null };
}

/**
 * The refusal of a model that needs more than `budget` bytes to run, or null when it fits. It
 * names where the memory goes, so the fix is evident: the layer at the live-activation peak and
 * the largest tensor (an activation, or a layer's weights when they dominate).
 */
export function overBudget(name: string, nodes: readonly PlanNode[], inputShape: Shape, output: string, totals: PlanTotals, budget: number): SpecError | null {
  // Backends free each tensor after its last reader, so what a run holds is the weights plus the
  // live-activation peak, not the sum of every activation.
  const need = totals.paramBytes + totals.peakBytes;
  if (need <= budget) return null;
  const { peakAt } = liveActivations(nodes, inputShape, output);
  const at = nodes.find((n) => n.id === peakAt);
  const largest = nodes.reduce<PlanNode | null>((a, n) => (a && a.outputBytes >= n.outputBytes ? a : n), null);
  const heaviest = nodes.reduce<PlanNode | null>((a, n) => (a && a.params + a.buffers >= n.params + n.buffers ? a : n), null);
  const where: string[] = [];
  if (totals.paramBytes > totals.peakBytes && heaviest) {
    where.push(`the weights dominate: layer "${heaviest.id}" (${heaviest.op}) holds ${gib((heaviest.params + heaviest.buffers) * 4)} of them`);
  }
  const inputLargest = !largest || byteSize(inputShape) >= largest.outputBytes;
  if (at) where.push(`the live activations peak at layer "${at.id}" (${at.op}, output ${shapeText(at.outShape)} of ${gib(at.outputBytes)}${at.outputBytes === largest?.outputBytes && !inputLargest ? ', the largest tensor' : ''})`);
  else where.push(`the live activations peak at the input ${shapeText(inputShape)}`);
  if (inputLargest) where.push(`the largest tensor is the input (${shapeText(inputShape)}, ${gib(byteSize(inputShape))})`);
  else if (largest && largest.outputBytes !== at?.outputBytes) where.push(`the largest tensor is the output of layer "${largest.id}" (${largest.op}, ${shapeText(largest.outShape)}, ${gib(largest.outputBytes)})`);
  const fix =
    totals.paramBytes > totals.peakBytes
      ? `use fewer or narrower layers, or raise the budget (--memory-budget <MiB>, default ${DEFAULT_MEMORY_BUDGET / 1024 ** 2})`
      : `reduce the batch (--batch) or the input size, or raise the budget (--memory-budget <MiB>, default ${DEFAULT_MEMORY_BUDGET / 1024 ** 2})`;
  return new SpecError(
    `model "${name}" needs about ${gib(need)} to run (weights ${gib(totals.paramBytes)} + peak live activations ${gib(totals.peakBytes)}), ` +
      `which exceeds the memory budget of ${gib(budget)}; ${where.join('; ')}. Fix: ${fix}`,
    at?.layer ?? heaviest?.layer,
    totals.paramBytes > totals.peakBytes ? 'memory budget' : 'input.shape',
  );
}

/** Given weights must cover every node that declares any, each with its declared size. */
function checkGivenWeights(nodes: PlanNode[], given: ReadonlyMap<string, readonly Float32Array[]>): void {
  const ids = new Set(nodes.map((n) => n.id));
  for (const id of given.keys()) {
    if (!ids.has(id)) throw new SpecError(`weights are given for "${id}", which is not an op of the model`, id, 'weights');
  }
  for (const n of nodes) {
    if (n.weights.length === 0) continue;
    const ws = given.get(n.id);
    const names = n.weights.map((w) => w.name).join(', ');
    if (!ws || ws.length !== n.weights.length) {
      throw new SpecError(`layer "${n.id}": ${n.op} needs ${n.weights.length} weight tensor(s) (${names}), ${ws ? `${ws.length} are given` : 'none are given'}`, n.layer, 'weights');
    }
    n.weights.forEach((decl, i) => {
      if (ws[i].length !== numel(decl.shape)) {
        throw new SpecError(`layer "${n.id}": ${decl.name} ${shapeText(decl.shape)} needs ${numel(decl.shape)} values, the given tensor has ${ws[i].length}`, n.layer, 'weights');
      }
    });
  }
}

function gib(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(2)} GiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

interface OrderedLayer {
  layer: LayerSpec;
  inputs: string[];
}

/** Checks ids, op/block names and references; returns the layers in a dependency order. */
function orderLayers(layers: LayerSpec[]): OrderedLayer[] {
  const ids = new Set<string>();
  const resolved: OrderedLayer[] = [];
  layers.forEach((layer, i) => {
    const where = `layer "${layer.id}"`;
    if (layer.id === INPUT) throw new SpecError(`${where}: id "input" is reserved for the model input; rename the layer`, layer.id, 'id');
    if (layer.id.includes('/')) throw new SpecError(`${where}: id must not contain "/" (it separates a block's ops); rename the layer`, layer.id, 'id');
    if (ids.has(layer.id)) throw new SpecError(`${where}: id is used by more than one layer; ids must be unique`, layer.id, 'id');
    ids.add(layer.id);
    if ((layer.op === undefined) === (layer.block === undefined)) {
      throw new SpecError(`${where}: give exactly one of "op" (a primitive) or "block" (a composite)`, layer.id, layer.op ? 'block' : 'op');
    }
    if (layer.op !== undefined && !getOp(layer.op)) {
      const hint = closest(layer.op, OPS.keys()) ?? (getBlock(layer.op) ? `block "${layer.op}"` : undefined);
      const asBlock = getBlock(layer.op) ? ` ("${layer.op}" is a block: use "block": "${layer.op}")` : '';
      throw new SpecError(`${where}: op "${layer.op}" is unknown${asBlock || (hint ? `; did you mean "${hint}"?` : '')} (see \`convscope ops\` / docs/guide.md)`, layer.id, 'op');
    }
    if (layer.block !== undefined && !getBlock(layer.block)) {
      const asOp = getOp(layer.block) ? ` ("${layer.block}" is an op: use "op": "${layer.block}")` : '';
      const hint = closest(layer.block, BLOCKS.keys());
      throw new SpecError(`${where}: block "${layer.block}" is unknown${asOp || (hint ? `; did you mean "${hint}"?` : '')}`, layer.id, 'block');
    }
    const inputs = layer.inputs ?? [i === 0 ? INPUT : layers[i - 1].id];
    resolved.push({ layer, inputs });
  });
  for (const { layer, inputs } of resolved) {
    for (const ref of inputs) {
      if (ref !== INPUT && !ids.has(ref)) {
        const hint = closest(ref, ids);
        throw new SpecError(`layer "${layer.id}": inputs: "${ref}" is not a layer id${hint ? `; did you mean "${hint}"?` : ''} (use "input" for the model input)`, layer.id, 'inputs');
      }
      if (ref === layer.id) throw new SpecError(`layer "${layer.id}": inputs: a layer cannot read its own output (cycle)`, layer.id, 'inputs');
    }
  }
  return topologicalOrder(resolved);
}

/** Depth-first topological order that keeps file order where it can; reports a cycle by its path. */
function topologicalOrder(layers: OrderedLayer[]): OrderedLayer[] {
  const byId = new Map(layers.map((l) => [l.layer.id, l]));
  const state = new Map<string, 'visiting' | 'done'>();
  const order: OrderedLayer[] = [];
  const visit = (l: OrderedLayer, path: string[]) => {
    const s = state.get(l.layer.id);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...path.slice(path.indexOf(l.layer.id)), l.layer.id];
      throw new SpecError(`layer "${l.layer.id}": inputs form a cycle ${cycle.join(' -> ')}; a model must be acyclic`, l.layer.id, 'inputs');
    }
    state.set(l.layer.id, 'visiting');
    for (const ref of l.inputs) if (ref !== INPUT) visit(byId.get(ref)!, [...path, l.layer.id]);
    state.set(l.layer.id, 'done');
    order.push(l);
  };
  for (const l of layers) visit(l, []);
  return order;
}

/** Resolves one op on given input shapes outside any model: for op tests and single-op runs. */
export function planNodeFor(type: string, params: Record<string, ParamValue>, inShapes: Shape[], id = type): PlanNode {
  const op = getOp(type);
  if (!op) throw new SpecError(`op "${type}" is unknown`, id, 'op');
  return resolveNode(id, id, null, op, params, inShapes.map((shape, i) => ({ ref: `in${i}`, shape })), id);
}

function resolveNode(
  id: string,
  layer: string,
  block: string | null,
  op: OpDef,
  params: Record<string, ParamValue>,
  inputs: Handle[],
  where: string,
): PlanNode {
  const [min, max] = op.arity;
  if (inputs.length < min || inputs.length > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    throw new SpecError(`layer "${where}": ${op.type} takes ${want} input(s), got ${inputs.length}`, layer, 'inputs');
  }
  const p = new ParamReader(where, layer, op.type, params);
  const inShapes = inputs.map((h) => [...h.shape]);
  const r = op.resolve(p, inShapes);
  p.done();
  for (const d of r.output) {
    if (!Number.isInteger(d) || d <= 0) {
      throw new SpecError(`layer "${where}": ${op.type} would output ${shapeText(r.output)}, which has an empty dimension`, layer);
    }
  }
  const params_ = r.weights.filter((w) => w.role === 'param').reduce((s, w) => s + numel(w.shape), 0);
  const buffers = r.weights.filter((w) => w.role === 'buffer').reduce((s, w) => s + numel(w.shape), 0);
  const outputBytes = byteSize(r.output);
  const bytesMoved = inShapes.reduce((s, sh) => s + byteSize(sh), 0) + (params_ + buffers) * 4 + outputBytes;
  return {
    id,
    layer,
    block,
    op: op.type,
    inputs: inputs.map((h) => h.ref),
    inShapes,
    outShape: r.output,
    attrs: r.attrs,
    weights: r.weights,
    counts: r.counts,
    params: params_,
    buffers,
    outputBytes,
    bytesMoved,
  };
}

function expandBlock(
  prefix: string,
  layer: string,
  type: string,
  params: Record<string, ParamValue>,
  inputs: Handle[],
  nodes: PlanNode[],
  topBlock: string,
): Handle {
  const def = getBlock(type);
  if (!def) throw new SpecError(`layer "${prefix}": block "${type}" is unknown`, layer, 'block');
  const [min, max] = def.arity;
  if (inputs.length < min || inputs.length > max) {
    throw new SpecError(`layer "${prefix}": block ${type} takes ${min === max ? min : `${min} to ${max}`} input(s), got ${inputs.length}`, layer, 'inputs');
  }
  const names = new Set<string>();
  let last: Handle = inputs[0];
  const claim = (name: string) => {
    if (names.has(name)) throw new Error(`block ${type} adds "${name}" twice`);
    names.add(name);
    return `${prefix}/${name}`;
  };
  const builder: BlockBuilder = {
    inputs,
    op(name, opType, opParams = {}, opInputs) {
      const op = getOp(opType);
      if (!op) throw new Error(`block ${type} uses unknown op ${opType}`);
      const id = claim(name);
      const node = resolveNode(id, layer, topBlock, op, opParams, opInputs ?? [last], id);
      nodes.push(node);
      last = { ref: node.id, shape: node.outShape };
      return last;
    },
    block(name, blockType, blockParams = {}, blockInputs) {
      last = expandBlock(claim(name), layer, blockType, blockParams, blockInputs ?? [last], nodes, topBlock);
      return last;
    },
  };
  const p = new ParamReader(prefix, layer, type, params);
  def.expand(p, builder);
  p.done();
  if (names.size === 0) throw new Error(`block ${type} added no ops`);
  return last;
}

/**
 * Totals over the plan; peak_bytes simulates running the nodes in order, each output allocated
 * when its op runs and freed after its last reader (the model input counts as live until then).
 */
function computeTotals(nodes: PlanNode[], inputShape: Shape, output: string): PlanTotals {
  const totals: PlanTotals = { params: 0, buffers: 0, macs: 0, flops: 0, paramBytes: 0, activationBytes: 0, peakBytes: 0 };
  for (const n of nodes) {
    totals.params += n.params;
    totals.buffers += n.buffers;
    totals.macs += n.counts.macs;
    totals.flops += n.counts.flops;
    totals.activationBytes += n.outputBytes;
  }
  totals.paramBytes = (totals.params + totals.buffers) * 4;
  totals.peakBytes = liveActivations(nodes, inputShape, output).peak;
  return totals;
}

/**
 * The peak of live activation bytes when the nodes run in order, each tensor freed after its
 * last reader, and the node whose output reached it (INPUT when nothing exceeds the input).
 */
function liveActivations(nodes: readonly PlanNode[], inputShape: Shape, output: string): { peak: number; peakAt: string } {
  const lastUse = new Map<string, number>();
  nodes.forEach((n, i) => n.inputs.forEach((ref) => lastUse.set(ref, i)));
  lastUse.set(output, nodes.length);
  const size = new Map<string, number>([[INPUT, byteSize(inputShape)]]);
  let live = byteSize(inputShape);
  let peak = live;
  let peakAt = INPUT;
  nodes.forEach((n, i) => {
    size.set(n.id, n.outputBytes);
    live += n.outputBytes;
    if (live > peak) {
      peak = live;
      peakAt = n.id;
    }
    for (const ref of new Set(n.inputs)) if (lastUse.get(ref) === i) live -= size.get(ref)!;
    if (!lastUse.has(n.id)) live -= n.outputBytes; // a dead end: nothing reads it
  });
  return { peak, peakAt };
}

/**
 * Edits of a convscope/v1 design, as pure functions returning a new spec (the history keeps the
 * old ones), and the undo/redo history itself. No Vue here: test/renderer-lib.test.ts runs it.
 */
import type { LayerSpec, ModelSpec, ParamValue } from '../../shared/spec.ts';

export const INPUT = 'input';

export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

export function emptyDesign(): ModelSpec {
  return {
    format: 'convscope/v1',
    name: 'Untitled',
    input: { shape: [1, 3, 224, 224] },
    seed: 0,
    layers: [{ id: 'conv1', op: 'conv2d', params: { out_channels: 64, kernel: 3, stride: 2, padding: 1 } }],
  };
}

/** What a layer reads: its `inputs`, or the previous layer (the model input for the first). */
export function effectiveInputs(spec: ModelSpec, index: number): string[] {
  const layer = spec.layers[index];
  return layer.inputs ?? [index === 0 ? INPUT : spec.layers[index - 1].id];
}

/** `base_1`, `base_2`, ...: the first id not taken. */
export function freshId(spec: ModelSpec, base: string): string {
  const taken = new Set(spec.layers.map((l) => l.id));
  const stem = base.replace(/_\d+$/, '');
  for (let n = 1; ; n++) {
    const id = `${stem}_${n}`;
    if (!taken.has(id)) return id;
  }
}

export function indexOf(spec: ModelSpec, id: string): number {
  return spec.layers.findIndex((l) => l.id === id);
}

/** Inserts after `afterId` (at the end when null or unknown). */
export function insertLayer(spec: ModelSpec, layer: LayerSpec, afterId: string | null): ModelSpec {
  const next = clone(spec);
  const i = afterId === null ? -1 : indexOf(next, afterId);
  next.layers.splice(i < 0 ? next.layers.length : i + 1, 0, clone(layer));
  return next;
}

export function duplicateLayer(spec: ModelSpec, id: string): { spec: ModelSpec; id: string } {
  const i = indexOf(spec, id);
  if (i < 0) return { spec, id };
  const copy = clone(spec.layers[i]);
  copy.id = freshId(spec, id);
  return { spec: insertLayer(spec, copy, id), id: copy.id };
}

/**
 * Removes a layer; layers that named it in `inputs` read what it read instead, so a deletion in
 * the middle of a residual block leaves a valid graph where one exists.
 */
export function removeLayer(spec: ModelSpec, id: string): ModelSpec {
  const i = indexOf(spec, id);
  if (i < 0) return spec;
  const replacement = effectiveInputs(spec, i);
  const next = clone(spec);
  next.layers.splice(i, 1);
  for (const l of next.layers) {
    if (!l.inputs?.includes(id)) continue;
    const inputs = l.inputs.flatMap((r) => (r === id ? replacement : [r]));
    l.inputs = [...new Set(inputs)];
  }
  return next;
}

export interface Rewiring {
  /** The join (a layer reading several tensors) that read the deleted layer. */
  join: string;
  before: string[];
  after: string[];
}

/**
 * What deleting `id` would do to the joins (add, concat, mul: layers with several inputs) that
 * read it: removeLayer rewires them to its input, which changes what they join (a residual add
 * can end up adding a tensor to itself, a concat loses a branch), so the workbench asks first.
 */
export function joinRewiring(spec: ModelSpec, id: string): Rewiring[] {
  const after = removeLayer(spec, id);
  const out: Rewiring[] = [];
  for (const l of spec.layers) {
    if (l.id === id || !l.inputs || l.inputs.length < 2 || !l.inputs.includes(id)) continue;
    out.push({ join: l.id, before: [...l.inputs], after: [...(after.layers.find((m) => m.id === l.id)?.inputs ?? [])] });
  }
  return out;
}

export function moveLayer(spec: ModelSpec, from: number, to: number): ModelSpec {
  if (from === to || from < 0 || to < 0 || from >= spec.layers.length || to >= spec.layers.length) return spec;
  const next = clone(spec);
  const [layer] = next.layers.splice(from, 1);
  next.layers.splice(to, 0, layer);
  return next;
}

export function renameLayer(spec: ModelSpec, id: string, newId: string): ModelSpec {
  const next = clone(spec);
  for (const l of next.layers) {
    if (l.id === id) l.id = newId;
    if (l.inputs) l.inputs = l.inputs.map((r) => (r === id ? newId : r));
  }
  return next;
}

/** Sets a parameter; undefined removes it (the op's default applies). */
export function setParam(spec: ModelSpec, id: string, name: string, value: ParamValue | undefined): ModelSpec {
  const next = clone(spec);
  const layer = next.layers.find((l) => l.id === id);
  if (!layer) return spec;
  const params = { ...(layer.params ?? {}) };
  if (value === undefined) delete params[name];
  else params[name] = value;
  layer.params = params;
  if (Object.keys(params).length === 0) delete layer.params;
  return next;
}

/** Sets the layers a layer reads; undefined means "the previous layer". */
export function setInputs(spec: ModelSpec, id: string, inputs: string[] | undefined): ModelSpec {
  const next = clone(spec);
  const layer = next.layers.find((l) => l.id === id);
  if (!layer) return spec;
  if (inputs === undefined) delete layer.inputs;
  else layer.inputs = [...inputs];
  return next;
}

/** Ids a layer may read: the model input and every layer before it. */
export function inputCandidates(spec: ModelSpec, id: string): string[] {
  const i = indexOf(spec, id);
  return [INPUT, ...spec.layers.slice(0, Math.max(i, 0)).map((l) => l.id)];
}

export interface Snapshot {
  spec: ModelSpec;
  /** The file the design was saved to / opened from, if any. */
  path: string | null;
}

/**
 * Undo/redo over whole snapshots (designs are small). Consecutive edits with the same `key` within
 * `mergeMs` (typing into one field) make a single step.
 */
export class History {
  private past: Snapshot[] = [];
  private future: Snapshot[] = [];
  private lastKey: string | null = null;
  private lastAt = 0;

  constructor(
    private readonly limit = 200,
    private readonly mergeMs = 1200,
  ) {}

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }

  /** Records `before` as the state to return to, unless this edit continues the previous one. */
  record(before: Snapshot, key: string | null = null, now = Date.now()): void {
    const merge = key !== null && key === this.lastKey && now - this.lastAt < this.mergeMs;
    this.lastKey = key;
    this.lastAt = now;
    this.future = [];
    if (merge) return;
    this.past.push(clone(before));
    if (this.past.length > this.limit) this.past.shift();
  }

  undo(current: Snapshot): Snapshot | null {
    const prev = this.past.pop();
    if (!prev) return null;
    this.future.push(clone(current));
    this.lastKey = null;
    return prev;
  }

  redo(current: Snapshot): Snapshot | null {
    const next = this.future.pop();
    if (!next) return null;
    this.past.push(clone(current));
    this.lastKey = null;
    return next;
  }

  /** Ends the current merge run (e.g. the field lost focus). */
  seal(): void {
    this.lastKey = null;
  }
}

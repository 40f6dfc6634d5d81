/**
 * The design being edited: the spec, the selection, undo/redo, the file it belongs to, autosave,
 * and the engine's live analysis of it (inspect, debounced as the user types).
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import type { Analysis, CatalogEntry } from '../../shared/protocol.ts';
import type { LayerRow } from '../../shared/report.ts';
import type { LayerSpec, ModelSpec, ParamValue } from '../../shared/spec.ts';
import { EngineRequestError } from '../connection/client.ts';
import * as edit from '../lib/design.ts';
import { platform } from '../lib/platform.ts';
import { useEngine } from './engine.ts';

export interface LayerFigures {
  outputShape: number[];
  params: number;
  buffers: number;
  macs: number;
  flops: number;
  outputBytes: number;
  timeMs: number | null;
  rows: LayerRow[];
}

export interface SpecProblem {
  message: string;
  layer?: string;
  param?: string;
}

const INSPECT_DEBOUNCE_MS = 120;

export const useDesign = defineStore('design', () => {
  const engine = useEngine();
  const spec = shallowRef<ModelSpec>(edit.emptyDesign());
  const path = ref<string | null>(null);
  const savedText = ref(JSON.stringify(spec.value));
  const selectedId = ref<string | null>(spec.value.layers[0]?.id ?? null);
  const history = new edit.History();
  const historyVersion = ref(0);

  const analysis = shallowRef<Analysis | null>(null);
  const problem = ref<SpecProblem | null>(null);
  const inspecting = ref(false);
  const analysisStale = ref(false);

  const dirty = computed(() => JSON.stringify(spec.value) !== savedText.value);
  const canUndo = computed(() => (historyVersion.value, history.canUndo));
  const canRedo = computed(() => (historyVersion.value, history.canRedo));
  const fileName = computed(() => (path.value ? path.value.split(/[\\/]/).pop()! : null));
  const selected = computed<LayerSpec | null>(() => spec.value.layers.find((l) => l.id === selectedId.value) ?? null);
  const selectedIndex = computed(() => (selectedId.value ? edit.indexOf(spec.value, selectedId.value) : -1));

  /** Per placed layer: the sums over its ops and the shape of its output (its last op's). */
  const figures = computed(() => {
    const map = new Map<string, LayerFigures>();
    for (const row of analysis.value?.report.layers ?? []) {
      let f = map.get(row.layer);
      if (!f) {
        f = { outputShape: row.output_shape, params: 0, buffers: 0, macs: 0, flops: 0, outputBytes: 0, timeMs: null, rows: [] };
        map.set(row.layer, f);
      }
      f.params += row.params;
      f.buffers += row.buffers;
      f.macs += row.macs;
      f.flops += row.flops;
      f.outputShape = row.output_shape;
      f.outputBytes = row.output_bytes;
      if (row.time_ms) f.timeMs = (f.timeMs ?? 0) + row.time_ms.median;
      f.rows.push(row);
    }
    return map;
  });

  function snapshot(): edit.Snapshot {
    return { spec: spec.value, path: path.value };
  }

  /** Every edit goes through here: one undo step (or a continuation of one, by `key`). */
  function apply(next: ModelSpec, key: string | null = null): void {
    if (next === spec.value) return;
    history.record(snapshot(), key);
    spec.value = next;
    historyVersion.value++;
  }

  function select(id: string | null): void {
    selectedId.value = id;
  }

  function restore(s: edit.Snapshot | null): void {
    if (!s) return;
    spec.value = s.spec;
    path.value = s.path;
    historyVersion.value++;
    if (selectedId.value && edit.indexOf(s.spec, selectedId.value) < 0) selectedId.value = s.spec.layers[0]?.id ?? null;
  }

  const undo = () => restore(history.undo(snapshot()));
  const redo = () => restore(history.redo(snapshot()));
  const seal = () => history.seal();

  /**
   * Replaces the design (New, Open, a preset, a recovered autosave). Undoable, so opening a preset
   * over unsaved work never loses it.
   */
  function load(next: ModelSpec, opts: { path?: string | null; clean?: boolean; history?: boolean } = {}): void {
    // A session restored at start-up replaces nothing the user made: no undo step for it.
    if (opts.history ?? true) history.record(snapshot());
    spec.value = edit.clone(next);
    path.value = opts.path ?? null;
    if (opts.clean ?? true) savedText.value = JSON.stringify(spec.value);
    selectedId.value = spec.value.layers[0]?.id ?? null;
    historyVersion.value++;
  }

  function markSaved(newPath: string | null): void {
    path.value = newPath;
    savedText.value = JSON.stringify(spec.value);
  }

  async function addLayer(entry: CatalogEntry): Promise<void> {
    const afterId = selectedId.value ?? spec.value.layers[spec.value.layers.length - 1]?.id ?? null;
    const afterIndex = afterId ? edit.indexOf(spec.value, afterId) : -1;
    const id = edit.freshId(spec.value, entry.name.replace(/2d$/, ''));
    const layer: LayerSpec = { id, [entry.kind]: entry.name };
    const shapes = new Map<string, number[]>([[edit.INPUT, analysis.value?.report.model.input_shape ?? spec.value.input.shape]]);
    for (const [layerId, f] of figures.value) shapes.set(layerId, f.outputShape);
    const prev = afterIndex >= 0 ? afterId! : edit.INPUT;
    let inputs = [prev];
    // add/sub/mul/div also take one input and a constant operand; placed from the palette they join two tensors.
    if (entry.arity[0] >= 2 || (entry.arity[1] ?? Infinity) >= 2) {
      // A join reads the previous layer and the nearest earlier tensor it can be joined with.
      const candidates = [edit.INPUT, ...spec.value.layers.slice(0, afterIndex + 1).map((l) => l.id)].filter((c) => c !== prev).reverse();
      const prevShape = shapes.get(prev);
      const fits = (s: number[] | undefined) =>
        !!s && !!prevShape && s.length === prevShape.length && (entry.name === 'concat' ? s.every((d, i) => i === 1 || d === prevShape[i]) : s.every((d, i) => d === prevShape[i] || d === 1));
      const other = candidates.find((c) => fits(shapes.get(c))) ?? candidates[0];
      inputs = other !== undefined ? [prev, other] : [prev, prev];
      layer.inputs = inputs;
    }
    const inputShapes = inputs.map((r) => shapes.get(r)).filter((s): s is number[] => !!s);
    if (inputShapes.length === inputs.length) {
      try {
        const { params } = await engine.api().request('suggest', { kind: entry.kind, name: entry.name, input_shapes: inputShapes });
        if (Object.keys(params).length > 0) layer.params = params;
      } catch {
        // No suggestion: the layer goes in without parameters and the inspector says what it needs.
      }
    }
    apply(edit.insertLayer(spec.value, layer, afterId));
    selectedId.value = id;
  }

  function duplicate(id: string): void {
    const r = edit.duplicateLayer(spec.value, id);
    apply(r.spec);
    selectedId.value = r.id;
  }

  function remove(id: string): void {
    const i = edit.indexOf(spec.value, id);
    if (i < 0 || spec.value.layers.length === 1) return;
    apply(edit.removeLayer(spec.value, id));
    const layers = spec.value.layers;
    selectedId.value = layers[Math.min(i, layers.length - 1)]?.id ?? null;
  }

  /**
   * Delete as the user asks for it: at once, unless the layer feeds a join, whose inputs the
   * deletion would rewire; then `ask` is shown what changes and deletes only on confirmation.
   */
  function removeAsking(id: string, ask: (rewiring: edit.Rewiring[], proceed: () => void) => void): void {
    const rewiring = edit.joinRewiring(spec.value, id);
    if (rewiring.length === 0) return remove(id);
    ask(rewiring, () => remove(id));
  }

  function move(from: number, to: number): void {
    apply(edit.moveLayer(spec.value, from, to));
  }

  function setParam(id: string, name: string, value: ParamValue | undefined): void {
    apply(edit.setParam(spec.value, id, name, value), `param:${id}:${name}`);
  }

  function setInputs(id: string, inputs: string[] | undefined): void {
    apply(edit.setInputs(spec.value, id, inputs));
  }

  function rename(id: string, newId: string): void {
    if (!newId || newId === id) return;
    apply(edit.renameLayer(spec.value, id, newId), `rename:${id}`);
    if (selectedId.value === id) selectedId.value = newId;
  }

  function setName(name: string): void {
    apply({ ...spec.value, name }, 'name');
  }

  function setInputShape(shape: number[]): void {
    apply({ ...spec.value, input: { shape } }, 'input-shape');
  }

  // ---- live analysis ----

  let timer: ReturnType<typeof setTimeout> | null = null;
  let generation = 0;

  async function inspectNow(): Promise<void> {
    const mine = ++generation;
    inspecting.value = true;
    await engine.whenReady();
    try {
      const result = await engine.routed().request('inspect', { spec: spec.value });
      if (mine !== generation) return;
      analysis.value = result;
      problem.value = null;
      analysisStale.value = false;
    } catch (err) {
      if (mine !== generation) return;
      if (err instanceof EngineRequestError && err.kind === 'engine_stopped') return; // re-run once the engine is back
      problem.value = err instanceof EngineRequestError ? { message: err.message, layer: err.layer, param: err.param } : { message: (err as Error).message };
      analysisStale.value = true;
    } finally {
      if (mine === generation) inspecting.value = false;
    }
  }

  function scheduleInspect(): void {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      void inspectNow();
    }, INSPECT_DEBOUNCE_MS);
  }

  watch(spec, scheduleInspect);
  watch(
    () => engine.status.state,
    (state) => {
      if (state === 'ready') scheduleInspect();
    },
  );

  // ---- autosave and title ----

  let autosaveTimer: ReturnType<typeof setTimeout> | null = null;
  watch([spec, dirty, path], () => {
    if (autosaveTimer) clearTimeout(autosaveTimer);
    autosaveTimer = setTimeout(() => platform.autosave({ spec: spec.value, path: path.value, dirty: dirty.value }), 400);
  });
  watch(
    [() => spec.value.name, fileName, dirty],
    () => platform.setTitle(fileName.value ?? spec.value.name, dirty.value, path.value),
    { immediate: true },
  );

  return {
    spec,
    path,
    fileName,
    selectedId,
    selected,
    selectedIndex,
    dirty,
    canUndo,
    canRedo,
    analysis,
    problem,
    inspecting,
    analysisStale,
    figures,
    select,
    undo,
    redo,
    seal,
    load,
    markSaved,
    addLayer,
    duplicate,
    remove,
    removeAsking,
    move,
    setParam,
    setInputs,
    rename,
    setName,
    setInputShape,
    inspectNow,
  };
});

/**
 * Running a sweep: the model at every value, planned (shapes and exact counts) and, when the
 * definition asks, timed through a profiler the host passes in (the CLI and the engine service
 * each bring their backends and the CPU fallback). A value that makes no valid model (groups that
 * do not divide the channels, a kernel larger than the map) is that point's error and the sweep
 * goes on; cancellation stops it between ops or points.
 */
import { blockDoc, opDoc } from '../catalog.ts';
import { CancelledError, EngineError, SpecError } from '../errors.ts';
import { buildPlan, ModelWithWeights, type Plan } from '../graph/plan.ts';
import { closest } from '../graph/validate.ts';
import { getPreset, getPresetFamily, PRESET_FAMILIES, PRESETS, type PresetFamily } from '../presets/index.ts';
import type { ProgressEvent } from '../profiler.ts';
import { percentile } from '../stats.ts';
import type { ModelSpec } from '../../shared/spec.ts';
import { SWEEP_RESULT_FORMAT, type InputDim, type SweepDefinition, type SweepPoint, type SweepResult } from '../../shared/sweep.ts';
import { expandValues, parseSweep } from './definition.ts';

export interface SweepTiming {
  /** Median end-to-end forward time, ms. */
  time_ms: number;
  backend: { name: string; adapter: string; timing: string; fallbacks: string[] };
}

export interface SweepProgressEvent {
  /** Index of the point in progress, and how many there are. */
  point: number;
  points: number;
  value: number;
  /** `plan`: counting the point; the others are the profiler's phases when timing it. */
  phase: 'plan' | ProgressEvent['phase'];
  done: number;
  total: number;
}

export interface SweepHost {
  /** A model named by a string that is no preset: the CLI reads spec and ONNX files here. */
  loadModel?(name: string): unknown;
  /** Times one point's plan; needed when the definition has `profile`. */
  profile?(plan: Plan, settings: NonNullable<SweepDefinition['profile']>, options: { signal?: AbortSignal; onProgress?(e: ProgressEvent): void }): Promise<SweepTiming>;
  signal?: AbortSignal;
  onProgress?(e: SweepProgressEvent): void;
  /** A turn of the event loop between points, so a cancel message can arrive. */
  yieldToEvents?(): Promise<void>;
  memoryBudgetBytes?: number;
}

/** How the model is made at each value, and how a report names it and the parameter. */
interface Sweepable {
  specAt(value: number): unknown;
  model: string;
  parameter: string;
  param: string;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function fail(field: string, reason: string): never {
  throw new SpecError(`sweep: ${field}: ${reason}`, undefined, field);
}

function presetList(): string {
  return `presets: ${[...PRESETS.keys()].join(', ')}; parameterised: ${[...PRESET_FAMILIES.keys()].join(', ')}`;
}

/** The model the definition names, as a family with parameters or as one spec. */
function resolveModel(def: SweepDefinition, host: SweepHost): { family: PresetFamily; params: Record<string, number>; label: string } | { spec: unknown; label: string } {
  const m = def.model;
  if (typeof m === 'string') {
    const family = getPresetFamily(m);
    if (family) return { family, params: {}, label: `preset ${m}` };
    const preset = getPreset(m);
    if (preset) return { spec: preset.build(), label: `preset ${m}` };
    if (!host.loadModel) {
      const hint = closest(m, [...PRESETS.keys(), ...PRESET_FAMILIES.keys()]);
      fail('model', `"${m}" is not a preset${hint ? `; did you mean "${hint}"?` : ''} (${presetList()})`);
    }
    const loaded = host.loadModel(m);
    // A sweep changes the model, so an imported file's own weights no longer fit it: the points
    // run with seeded weights (counts do not depend on weights at all).
    return { spec: loaded instanceof ModelWithWeights ? loaded.spec : loaded, label: m };
  }
  if ('preset' in m) {
    const family = getPresetFamily(m.preset);
    if (family) return { family, params: m.params ?? {}, label: `preset ${m.preset}${paramText(m.params)}` };
    const preset = getPreset(m.preset);
    if (!preset) {
      const hint = closest(m.preset, [...PRESETS.keys(), ...PRESET_FAMILIES.keys()]);
      fail('model.preset', `"${m.preset}" is unknown${hint ? `; did you mean "${hint}"?` : ''} (${presetList()})`);
    }
    if (m.params && Object.keys(m.params).length > 0) {
      fail('model.params', `preset ${m.preset} has no parameters (parameterised presets: ${[...PRESET_FAMILIES.keys()].join(', ')})`);
    }
    return { spec: preset.build(), label: `preset ${m.preset}` };
  }
  const spec = m.spec as ModelSpec;
  return { spec, label: `spec "${spec.name}"` };
}

function paramText(params?: Record<string, number>): string {
  const entries = Object.entries(params ?? {});
  return entries.length ? ` (${entries.map(([k, v]) => `${k} ${v}`).join(', ')})` : '';
}

const DIM_INDEX: Record<Exclude<InputDim, 'size'>, number> = { batch: 0, channels: 1, height: 2, width: 3 };

function sweepable(def: SweepDefinition, host: SweepHost): Sweepable {
  const model = resolveModel(def, host);
  const t = def.target;
  if ('preset_param' in t) {
    if (!('family' in model)) {
      fail('target.preset_param', `${model.label} has no parameters; parameterised presets: ${[...PRESET_FAMILIES.keys()].join(', ')}`);
    }
    const { family, params } = model;
    const names = family.parameters.map((p) => p.name);
    if (!names.includes(t.preset_param)) {
      const hint = closest(t.preset_param, names);
      fail('target.preset_param', `preset ${family.id} has no parameter "${t.preset_param}"${hint ? `; did you mean "${hint}"?` : ''} (its parameters: ${names.join(', ')})`);
    }
    // The swept value replaces any the model gives for that parameter, so the label leaves it out.
    const fixed = Object.fromEntries(Object.entries(params).filter(([k]) => k !== t.preset_param));
    const label = `preset ${family.id}${paramText(fixed)}`;
    return { specAt: (v) => family.build({ ...params, [t.preset_param]: v }), model: label, parameter: `${t.preset_param} (preset ${family.id})`, param: t.preset_param };
  }
  // The other targets edit one spec; a family is built once at its given parameters.
  const base = 'family' in model ? model.family.build(model.params) : model.spec;
  const spec = parseBase(base);
  if ('input' in t) {
    const dim = t.input;
    const specAt = (v: number) => {
      const s = clone(spec);
      if (dim === 'size') s.input.shape[2] = s.input.shape[3] = v;
      else s.input.shape[DIM_INDEX[dim]] = v;
      return s;
    };
    return { specAt, model: model.label, parameter: dim === 'size' ? 'input size (H = W)' : `input ${dim}`, param: dim };
  }
  const ids = Array.isArray(t.layer) ? t.layer : [t.layer];
  const known = spec.layers.map((l) => l.id);
  for (const id of ids) {
    const layer = spec.layers.find((l) => l.id === id);
    if (!layer) {
      const hint = closest(id, known);
      fail('target.layer', `"${id}" is not a layer of ${model.label}${hint ? `; did you mean "${hint}"?` : ''}`);
    }
    const doc = layer.op !== undefined ? opDoc(layer.op) : layer.block !== undefined ? blockDoc(layer.block) : undefined;
    const names = doc?.params.map((p) => p.name) ?? [];
    if (doc && !names.includes(t.param)) {
      const hint = closest(t.param, names);
      const kind = layer.op ?? layer.block;
      fail('target.param', `layer "${id}" (${kind}) has no parameter "${t.param}"${hint ? `; did you mean "${hint}"?` : ''} (its parameters: ${names.join(', ') || 'none'})`);
    }
  }
  const specAt = (v: number) => {
    const s = clone(spec);
    for (const l of s.layers) if (ids.includes(l.id)) l.params = { ...l.params, [t.param]: v };
    return s;
  };
  const where = ids.length === 1 ? ids[0] : ids.length <= 3 ? ids.join(', ') : `${ids.length} layers (${ids[0]}, ...)`;
  return { specAt, model: model.label, parameter: `${where}: ${t.param}`, param: t.param };
}

/** The swept model itself must be valid in shape (its layers and input), or no point can be. */
function parseBase(value: unknown): ModelSpec {
  const s = value as ModelSpec;
  if (!s || typeof s !== 'object' || !Array.isArray(s.layers) || !Array.isArray(s.input?.shape) || s.input.shape.length !== 4) {
    // buildPlan names the exact problem.
    buildPlan(value, { memoryBudgetBytes: Infinity });
    fail('model', 'is not a model spec');
  }
  return s;
}

function countPoint(value: number, plan: Plan): SweepPoint {
  const t = plan.totals;
  const byOp: Record<string, number> = {};
  for (const n of plan.nodes) if (n.counts.macs > 0) byOp[n.op] = (byOp[n.op] ?? 0) + n.counts.macs;
  return {
    value,
    error: null,
    totals: { params: t.params, buffers: t.buffers, macs: t.macs, flops: t.flops, param_bytes: t.paramBytes, activation_bytes: t.activationBytes, peak_bytes: t.peakBytes },
    macs_by_op: byOp,
    output_shape: [...plan.outputShape],
    time_ms: null,
  };
}

function failedPoint(value: number, err: SpecError | EngineError): SweepPoint {
  const where = err instanceof SpecError ? { ...(err.layer !== undefined ? { layer: err.layer } : {}), ...(err.param !== undefined ? { param: err.param } : {}) } : err.node !== undefined ? { layer: err.node } : {};
  return { value, error: { message: err.message, ...where }, totals: null, macs_by_op: null, output_shape: null, time_ms: null };
}

/** The median of a profile's end-to-end times: what a sweep's time column shows. */
export function medianMs(e2eTimes: readonly number[]): number {
  return percentile(e2eTimes, 0.5);
}

/** Runs a definition (any JSON value: it is checked first). Resolves with one point per value. */
export async function runSweep(value: unknown, host: SweepHost = {}): Promise<SweepResult> {
  const def = parseSweep(value);
  if (def.profile && !host.profile) fail('profile', 'this host cannot time models; leave "profile" out for counts only');
  const values = expandValues(def.values);
  const s = sweepable(def, host);
  const { signal } = host;
  const points: SweepPoint[] = [];
  let backend: SweepResult['backend'] = null;
  for (const [i, v] of values.entries()) {
    if (signal?.aborted) throw new CancelledError();
    const progress = (phase: SweepProgressEvent['phase'], done: number, total: number) =>
      host.onProgress?.({ point: i, points: values.length, value: v, phase, done, total });
    progress('plan', 0, 1);
    let point: SweepPoint;
    try {
      const plan = buildPlan(s.specAt(v), { batch: def.batch, memoryBudgetBytes: host.memoryBudgetBytes });
      point = countPoint(v, plan);
      if (def.profile) {
        const timed = await host.profile!(plan, def.profile, { signal, onProgress: (e) => progress(e.phase, e.done, e.total) });
        point.time_ms = timed.time_ms;
        backend ??= { ...timed.backend, fallbacks: [] };
        for (const f of timed.backend.fallbacks) if (!backend.fallbacks.includes(f)) backend.fallbacks.push(f);
      }
    } catch (err) {
      if (!(err instanceof SpecError || err instanceof EngineError) || signal?.aborted) throw err;
      point = failedPoint(v, err);
    }
    points.push(point);
    progress('plan', 1, 1);
    await host.yieldToEvents?.();
  }
  return { format: SWEEP_RESULT_FORMAT, name: def.name ?? `${s.model}: ${s.parameter}`, model: s.model, parameter: s.parameter, param: s.param, values, points, backend };
}

/**
 * Reading a sweep definition (convscope.sweep/v1, src/shared/sweep.ts). zod checks the structure;
 * the alternatives of `model`, `target` and `values` are told apart by their keys first, so an
 * error names the field that is wrong (`target.param: required`) rather than "no alternative
 * matched". Ranges are expanded here, with a cap on the points they give.
 */
import type { z } from 'zod';
import { SpecError } from '../errors.ts';
import {
  MAX_SWEEP_POINTS,
  SWEEP_FORMAT,
  sweepDefinitionSchema,
  sweepInputTargetSchema,
  sweepLayerTargetSchema,
  sweepModelPresetSchema,
  sweepModelSpecSchema,
  sweepPresetTargetSchema,
  sweepProfileSchema,
  sweepRangeSchema,
  type SweepDefinition,
  type SweepRange,
} from '../../shared/sweep.ts';

function fail(field: string, reason: string): never {
  throw new SpecError(`sweep: ${field}: ${reason}`, undefined, field);
}

function issueText(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'required';
  return issue.message.replace(/^Invalid input: /, '');
}

function check<T>(schema: z.ZodType<T>, value: unknown, field: string): T;
function check(schema: z.ZodType, value: unknown, field: string): unknown;
function check(schema: z.ZodType, value: unknown, field: string): unknown {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  fail([field, ...issue.path.map(String)].filter(Boolean).join('.') || 'definition', issueText(issue));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Any JSON value to a checked definition; every problem a SpecError naming the field. */
export function parseSweep(value: unknown): SweepDefinition {
  if (!isObject(value)) fail('definition', `must be a JSON object ({"format": "${SWEEP_FORMAT}", "model": ..., "target": ..., "values": ...})`);
  if (value.format !== SWEEP_FORMAT) fail('format', `must be "${SWEEP_FORMAT}", got ${JSON.stringify(value.format ?? null)}`);
  for (const key of ['model', 'target', 'values'] as const) if (value[key] === undefined) fail(key, 'required');

  const model = value.model;
  if (typeof model !== 'string') {
    if (!isObject(model)) fail('model', 'give a preset name, {"preset": id, "params": {...}} or {"spec": {...}}');
    check('preset' in model ? sweepModelPresetSchema : 'spec' in model ? sweepModelSpecSchema : sweepModelPresetSchema, model, 'model');
  } else if (model.length === 0) fail('model', 'must not be empty');

  const target = value.target;
  if (!isObject(target)) fail('target', 'give {"layer": id, "param": name}, {"input": dim} or {"preset_param": name}');
  const targetSchema = 'layer' in target ? sweepLayerTargetSchema : 'input' in target ? sweepInputTargetSchema : 'preset_param' in target ? sweepPresetTargetSchema : null;
  if (!targetSchema) fail('target', `give {"layer": id, "param": name}, {"input": "batch|channels|height|width|size"} or {"preset_param": name}; got keys ${Object.keys(target).join(', ') || 'none'}`);
  check(targetSchema, target, 'target');

  const values = value.values;
  if (Array.isArray(values)) {
    if (values.length === 0) fail('values', 'give at least one value');
    if (values.length > MAX_SWEEP_POINTS) fail('values', `${values.length} values; a sweep takes at most ${MAX_SWEEP_POINTS}`);
    values.forEach((v, i) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) fail(`values[${i}]`, `must be a number, got ${JSON.stringify(v)}`);
    });
  } else {
    if (!isObject(values)) fail('values', 'give a list of numbers or a range {"from": a, "to": b, "step": s} (or "factor": f)');
    check(sweepRangeSchema, values, 'values');
  }
  if (value.profile !== undefined) check(sweepProfileSchema, value.profile, 'profile');

  const def = check(sweepDefinitionSchema, value, '');
  expandValues(def.values); // a range that gives no points, or too many, is the definition's fault
  return def;
}

/** The values in order: a list as given, a range from `from` to `to` inclusive. */
export function expandValues(values: number[] | SweepRange): number[] {
  if (Array.isArray(values)) return [...values];
  const { from, to, step, factor } = values;
  if (to < from) fail('values', `"to" (${to}) is below "from" (${from})`);
  if (factor !== undefined && from <= 0) fail('values.from', `must be > 0 for a "factor" range, got ${from}`);
  const out: number[] = [];
  // Values are computed from the index, not accumulated, so 0.1 steps do not drift; the last is
  // kept when it is within rounding of `to`.
  const tolerance = 1e-9 * Math.max(1, Math.abs(to));
  for (let i = 0; ; i++) {
    const v = factor !== undefined ? from * factor ** i : from + i * step!;
    if (v > to + tolerance) break;
    out.push(Number(v.toPrecision(12)));
    if (out.length > MAX_SWEEP_POINTS) fail('values', `the range gives more than ${MAX_SWEEP_POINTS} points; use a larger step`);
  }
  return out;
}

/**
 * A parameter sweep (convscope.sweep/v1): one model, one parameter (a layer's, a dimension of the
 * input, or a parameterised preset's), a list or range of values; the engine plans every value
 * (and times it when asked) and answers one row per value (convscope.sweep-result/v1). Shared by
 * the CLI (`convscope sweep`), the protocol's `sweep` request and the workbench's Sweep tab.
 * See docs/guide.md, "Parameter sweeps".
 */
import { z } from 'zod';
import { modelSpecSchema } from './report-schema.ts';

export const SWEEP_FORMAT = 'convscope.sweep/v1';
export const SWEEP_RESULT_FORMAT = 'convscope.sweep-result/v1';
/** More points than this is a typo in a range, not a sweep. */
export const MAX_SWEEP_POINTS = 200;

/** Dimensions of the [N, C, H, W] input a sweep can vary; `size` sets H and W together. */
export const INPUT_DIMS = ['batch', 'channels', 'height', 'width', 'size'] as const;
export type InputDim = (typeof INPUT_DIMS)[number];

const finite = z.number().finite();

/** A preset id (or, in the CLI, a spec / ONNX file), a preset with parameters, or a whole spec. */
export const sweepModelPresetSchema = z.object({ preset: z.string().min(1), params: z.record(z.string(), finite).optional() }).strict();
export const sweepModelSpecSchema = z.object({ spec: modelSpecSchema }).strict();
export const sweepModelSchema = z.union([z.string().min(1), sweepModelPresetSchema, sweepModelSpecSchema]);

/** `layer` is one layer id or several: all of them get the value (every unit's groups, say). */
export const sweepLayerTargetSchema = z.object({ layer: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]), param: z.string().min(1) }).strict();
export const sweepInputTargetSchema = z.object({ input: z.enum(INPUT_DIMS) }).strict();
export const sweepPresetTargetSchema = z.object({ preset_param: z.string().min(1) }).strict();
export const sweepTargetSchema = z.union([sweepLayerTargetSchema, sweepInputTargetSchema, sweepPresetTargetSchema]);

/** Inclusive ranges: `from, from + step, ... <= to`, or `from, from * factor, ... <= to`. */
export const sweepRangeSchema = z
  .object({ from: finite, to: finite, step: finite.positive().optional(), factor: finite.gt(1).optional() })
  .strict()
  .refine((r) => (r.step === undefined) !== (r.factor === undefined), { message: 'give exactly one of "step" and "factor"' });
export const sweepValuesSchema = z.union([z.array(finite).min(1).max(MAX_SWEEP_POINTS), sweepRangeSchema]);

export const sweepProfileSchema = z
  .object({
    backend: z.string().min(1).default('auto'),
    warmup: z.number().int().min(0).max(1000).default(1),
    repeat: z.number().int().min(1).max(10000).default(5),
  })
  .strict();

export const sweepDefinitionSchema = z
  .object({
    format: z.literal(SWEEP_FORMAT),
    name: z.string().optional(),
    model: sweepModelSchema,
    target: sweepTargetSchema,
    values: sweepValuesSchema,
    batch: z.number().int().positive().optional(),
    /** Present: time every point on this backend; absent: counts only. */
    profile: sweepProfileSchema.optional(),
  })
  .strict();

export type SweepModel = z.infer<typeof sweepModelSchema>;
export type SweepTarget = z.infer<typeof sweepTargetSchema>;
export type SweepRange = z.infer<typeof sweepRangeSchema>;
export type SweepDefinition = z.infer<typeof sweepDefinitionSchema>;
/** What a caller writes: profile settings may be left to their defaults. */
export type SweepDefinitionInput = z.input<typeof sweepDefinitionSchema>;

const count = z.number().int().min(0);

export const sweepTotalsSchema = z.object({
  params: count,
  buffers: count,
  macs: count,
  flops: count,
  param_bytes: count,
  activation_bytes: count,
  peak_bytes: count,
});

export const sweepPointSchema = z.object({
  value: finite,
  /** Why this value is not a valid model (the rest of the sweep still runs); null when it is. */
  error: z.object({ message: z.string(), layer: z.string().optional(), param: z.string().optional() }).nullable(),
  totals: sweepTotalsSchema.nullable(),
  /** MACs per op type (conv2d, linear, ...): papers that count convolutions only compare with macs_by_op.conv2d. */
  macs_by_op: z.record(z.string(), count).nullable(),
  output_shape: z.array(count).nullable(),
  /** Median end-to-end forward time, ms; null when the sweep counts only. */
  time_ms: z.number().nonnegative().nullable(),
});
export type SweepPoint = z.infer<typeof sweepPointSchema>;

export const sweepResultSchema = z.object({
  format: z.literal(SWEEP_RESULT_FORMAT),
  name: z.string(),
  /** The model as a person reads it: `preset shufflenet_v1 (scale 1)`, `spec "my net"`. */
  model: z.string(),
  /** The parameter as a person reads it: `groups of preset shufflenet_v1`, `u1.groups`, `input size`. */
  parameter: z.string(),
  /** Its short name, for a column heading or a chart axis: `groups`, `size`, `out_channels`. */
  param: z.string(),
  values: z.array(finite),
  points: z.array(sweepPointSchema),
  /** The backend that timed the points; null for a counts-only sweep. */
  backend: z.object({ name: z.string(), adapter: z.string(), timing: z.string(), fallbacks: z.array(z.string()) }).nullable(),
});
export type SweepResult = z.infer<typeof sweepResultSchema>;

/** The metrics a sweep charts and tabulates, in table order. */
export const SWEEP_METRICS = ['params', 'macs', 'flops', 'peak_bytes', 'param_bytes', 'activation_bytes', 'time_ms'] as const;
export type SweepMetric = (typeof SWEEP_METRICS)[number];

export function sweepMetric(point: SweepPoint, metric: SweepMetric): number | null {
  if (metric === 'time_ms') return point.time_ms;
  return point.totals ? point.totals[metric] : null;
}

/**
 * The values as a person types them (CLI `--values`, the Sweep tab): `1,2,4` a list, `1:8` every
 * integer, `1:8:2` a step, `1:8:x2` a factor. Returns the reason when the text is not one of these.
 */
export function parseValuesText(text: string): { values: number[] | SweepRange } | { error: string } {
  const num = (t: string) => (t.trim() === '' ? NaN : Number(t.trim()));
  const bad = (t: string) => ({ error: `"${t.trim()}" is not a number` });
  if (!text.includes(':')) {
    const parts = text.split(',');
    const values = parts.map(num);
    const i = values.findIndex((v) => !Number.isFinite(v));
    return i >= 0 ? bad(parts[i]) : { values };
  }
  const parts = text.split(':');
  if (parts.length > 3) return { error: 'a range is from:to, from:to:step or from:to:xfactor' };
  const [from, to] = parts.slice(0, 2).map(num);
  if (!Number.isFinite(from)) return bad(parts[0]);
  if (!Number.isFinite(to)) return bad(parts[1]);
  const by = parts[2]?.trim() ?? '1';
  const k = num(by.startsWith('x') ? by.slice(1) : by);
  if (!Number.isFinite(k)) return bad(by);
  return { values: by.startsWith('x') ? { from, to, factor: k } : { from, to, step: k } };
}

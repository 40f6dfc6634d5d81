/**
 * convscope.report/v1 and convscope/v1 as zod schemas, for every process that receives one across
 * a boundary (the workbench renderer, Electron main). Objects are loose so that fields added later
 * within v1 survive a read-and-rewrite; a spec is checked for structure only (the engine's own
 * validator gives the messages that name layers and parameters). Each schema is typed as the
 * shared interface it parses to, so a drift between the two fails to compile.
 */
import { z } from 'zod';
import { REPORT_SCHEMA, type Report } from './report.ts';
import { SPEC_FORMAT, type LayerSpec, type ModelSpec } from './spec.ts';

const count = z.number().int().min(0);
const nonNegative = z.number().min(0);
const shape = z.array(z.number().int().min(0));
const timeStats = z.looseObject({ median: nonNegative, p10: nonNegative, p90: nonNegative });

export const paramValueSchema = z.union([z.number(), z.boolean(), z.string(), z.array(z.number()), z.null()]);

export const layerSpecSchema: z.ZodType<LayerSpec> = z.looseObject({
  id: z.string(),
  op: z.string().optional(),
  block: z.string().optional(),
  params: z.record(z.string(), paramValueSchema).optional(),
  inputs: z.array(z.string()).optional(),
});

export const modelSpecSchema: z.ZodType<ModelSpec> = z.looseObject({
  format: z.literal(SPEC_FORMAT),
  name: z.string(),
  input: z.looseObject({ shape }),
  seed: z.number().int().min(0).optional(),
  layers: z.array(layerSpecSchema),
});

const layerRowSchema = z.looseObject({
  id: z.string().min(1),
  layer: z.string().min(1),
  op: z.string().min(1),
  block: z.string().nullable(),
  inputs: z.array(z.string()).optional(),
  input_shapes: z.array(shape),
  output_shape: shape,
  params: count,
  buffers: count,
  macs: count,
  flops: count,
  formula: z.string(),
  output_bytes: count,
  bytes_moved: count,
  time_ms: timeStats.nullable(),
  gflops_per_s: nonNegative.nullable(),
  arithmetic_intensity: nonNegative,
  fused_into: z.string().min(1).optional(),
});

export const reportSchema: z.ZodType<Report> = z.looseObject({
  schema: z.literal(REPORT_SCHEMA),
  created: z.string(),
  model: z.looseObject({ name: z.string(), input_shape: shape, output_shape: shape, spec: modelSpecSchema }),
  backend: z
    .looseObject({
      name: z.string(),
      adapter: z.string(),
      timing: z.string(),
      threads: z.number().int().positive().optional(),
      warmup: count.optional(),
      repeat: z.number().int().positive().optional(),
      fallbacks: z.array(z.string()).optional(),
      reason: z.string().optional(),
      software: z.boolean().optional(),
      label: z.string().optional(),
      limits: z.record(z.string(), z.number()).optional(),
      first_run_ms: nonNegative.optional(),
      e2e_ms: timeStats.optional(),
      roofline: z.looseObject({ peak_gflops_per_s: nonNegative, bandwidth_gb_per_s: nonNegative, measured_by: z.string() }).optional(),
    })
    .nullable(),
  totals: z.looseObject({
    params: count,
    buffers: count,
    macs: count,
    flops: count,
    param_bytes: count,
    activation_bytes: count,
    peak_bytes: count,
    time_ms: nonNegative.nullable(),
  }),
  layers: z.array(layerRowSchema),
  environment: z.looseObject({ app_version: z.string(), node: z.string(), platform: z.string(), cpu: z.string() }),
});

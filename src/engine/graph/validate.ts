import { z } from 'zod';
import { SpecError } from '../errors.ts';
import { SPEC_FORMAT, type ModelSpec } from '../../shared/spec.ts';

const paramValue = z.union([z.number(), z.boolean(), z.string(), z.array(z.number()), z.null()]);

const layerSchema = z
  .object({
    id: z.string().min(1),
    op: z.string().min(1).optional(),
    block: z.string().min(1).optional(),
    params: z.record(z.string(), paramValue).optional(),
    inputs: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();

const specSchema = z
  .object({
    format: z.literal(SPEC_FORMAT),
    name: z.string(),
    input: z.object({ shape: z.array(z.number().int().positive()).length(4) }).strict(),
    seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
    layers: z.array(layerSchema).min(1),
  })
  .strict();

/** Checks the spec's structure and returns it typed; messages name the layer where there is one. */
export function parseSpec(value: unknown): ModelSpec {
  const result = specSchema.safeParse(value);
  if (result.success) return result.data as ModelSpec;
  const issue = result.error.issues[0];
  const path = issue.path;
  const raw = value as { layers?: { id?: unknown }[] } | null;
  if (path[0] === 'layers' && typeof path[1] === 'number') {
    const id = raw?.layers?.[path[1]]?.id;
    const where = typeof id === 'string' && id ? `layer "${id}"` : `layers[${path[1]}]`;
    const field = path.slice(2).join('.') || 'layer';
    throw new SpecError(`${where}: ${field}: ${describe(issue)}`, typeof id === 'string' ? id : undefined, String(path[2] ?? ''));
  }
  const field = path.join('.') || 'spec';
  const hint =
    field === 'input.shape'
      ? ' (input.shape is [N, C, H, W], four positive integers)'
      : field === 'format'
        ? ` (expected "${SPEC_FORMAT}")`
        : '';
  throw new SpecError(`model: ${field}: ${describe(issue)}${hint}`, undefined, field);
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return issue.message.replace(/^Invalid input: /, '');
}

/** The closest known name, for "did you mean" hints. */
export function closest(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

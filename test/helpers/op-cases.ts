/**
 * Data-driven op cases: test/data/ops/<op>.json lists inputs, params, weights and the expected
 * output; the same files run against every backend (ops.data.test.ts). Format:
 *
 * { "op": "conv2d",
 *   "cases": [ { "name": "...", "params": {...},
 *                "inputs": [ { "shape": [1,1,3,3], "data": [...] } ],
 *                "weights": { "weight": [...], "bias": [...] },      // by declared name; omitted = seeded
 *                "expected": { "shape": [...], "data": [...] },      // or "error": "substring"
 *                "tolerance": 1e-5, "seed": 0 } ] }
 *
 * `data` may be written as { "range": [start, step] } (start, start+step, ...) to keep files short.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ParamValue } from '../../src/shared/spec.ts';

export type DataSpec = number[] | { range: [number, number] };

export interface OpCase {
  name: string;
  params: Record<string, ParamValue>;
  inputs: { shape: number[]; data: DataSpec }[];
  weights?: Record<string, DataSpec>;
  expected?: { shape: number[]; data: DataSpec };
  error?: string;
  tolerance?: number;
  seed?: number;
}

export interface OpCaseFile {
  op: string;
  file: string;
  cases: OpCase[];
}

export const OP_CASES_DIR = join(import.meta.dirname, '..', 'data', 'ops');

export function loadOpCaseFiles(dir = OP_CASES_DIR): OpCaseFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: f, ...(JSON.parse(readFileSync(join(dir, f), 'utf8')) as { op: string; cases: OpCase[] }) }));
}

export function materialize(data: DataSpec, count: number): Float32Array {
  if (Array.isArray(data)) {
    if (data.length !== count) throw new Error(`data has ${data.length} values, shape needs ${count}`);
    return Float32Array.from(data);
  }
  const [start, step] = data.range;
  return Float32Array.from({ length: count }, (_, i) => start + step * i);
}

import type { LayerRow, Report } from '../../shared/report.ts';

const INPUT = 'input';
const BYTES_PER_ELEMENT = 4;

export interface MemoryStep {
  id: string;
  /** Bytes live while the op runs: its inputs, every tensor still awaited, and its output. */
  live: number;
  /** Bytes live once the op has finished and the tensors it read for the last time are freed. */
  after: number;
}

export interface MemoryTimeline {
  /**
   * `live`: tensors freed after their last reader (needs every row's `inputs`);
   * `cumulative`: running sum of output bytes, for reports that predate `inputs`.
   */
  mode: 'live' | 'cumulative';
  steps: MemoryStep[];
  peak: number;
}

/**
 * Live activation bytes over execution order, simulated the way the plan computes
 * `totals.peak_bytes`: the model input is live from the start, each output is allocated when its
 * op runs and freed after its last reader; the last row is the model output and stays live.
 */
export function memoryTimeline(report: Report): MemoryTimeline {
  const rows = report.layers;
  if (!rows.every((r) => Array.isArray(r.inputs))) return cumulative(rows);

  const lastUse = new Map<string, number>();
  rows.forEach((r, i) => r.inputs!.forEach((ref) => lastUse.set(ref, i)));
  if (rows.length > 0) lastUse.set(rows[rows.length - 1].id, rows.length);
  const inputBytes = report.model.input_shape.reduce((a, b) => a * b, 1) * BYTES_PER_ELEMENT;
  const size = new Map<string, number>([[INPUT, inputBytes]]);
  let live = inputBytes;
  let peak = live;
  const steps: MemoryStep[] = rows.map((r, i) => {
    size.set(r.id, r.output_bytes);
    live += r.output_bytes;
    const during = live;
    peak = Math.max(peak, live);
    for (const ref of new Set(r.inputs)) if (lastUse.get(ref) === i && size.has(ref)) live -= size.get(ref)!;
    if (!lastUse.has(r.id)) live -= r.output_bytes;
    return { id: r.id, live: during, after: live };
  });
  return { mode: 'live', steps, peak };
}

function cumulative(rows: LayerRow[]): MemoryTimeline {
  let sum = 0;
  const steps = rows.map((r) => {
    sum += r.output_bytes;
    return { id: r.id, live: sum, after: sum };
  });
  return { mode: 'cumulative', steps, peak: sum };
}

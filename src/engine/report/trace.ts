import type { Report } from '../../shared/report.ts';
import { shapeX } from '../../shared/present/format.ts';
import { memoryTimeline } from './memory.ts';

export interface TraceEvent {
  name: string;
  ph: 'X' | 'M' | 'C';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  otherData: Record<string, string>;
}

const PID = 1;
const TID = 1;

/**
 * The layers as a Chrome trace (chrome://tracing, Perfetto): one complete event per row, laid
 * end to end by median time, so the timeline reads as one typical forward pass. A block's rows are
 * also wrapped in one event for the layer (cat "block") so the viewer nests them.
 */
export function toTraceObject(report: Report): ChromeTrace {
  if (report.layers.some((r) => r.time_ms === null)) {
    throw new Error(
      'the report has no timings: run `convscope profile <model> --trace trace.json` to time the layers (`convscope inspect` only counts them)',
    );
  }
  const who = report.backend ? `${report.backend.name}: ${report.backend.adapter}` : 'convscope';
  const events: TraceEvent[] = [
    { name: 'process_name', ph: 'M', pid: PID, tid: TID, args: { name: report.model.name } },
    { name: 'thread_name', ph: 'M', pid: PID, tid: TID, args: { name: who } },
  ];
  // Integer nanoseconds, so that a block's event ends exactly where its last op does.
  const starts: number[] = [];
  const durs: number[] = [];
  let t = 0;
  for (const r of report.layers) {
    const d = Math.max(0, Math.round(r.time_ms!.median * 1e6));
    starts.push(t);
    durs.push(d);
    t += d;
  }
  const us = (ns: number) => ns / 1000;

  for (let i = 0; i < report.layers.length; ) {
    const r = report.layers[i];
    let j = i + 1;
    while (j < report.layers.length && report.layers[j].layer === r.layer) j++;
    if (r.block !== null) {
      events.push({
        name: r.layer,
        cat: 'block',
        ph: 'X',
        pid: PID,
        tid: TID,
        ts: us(starts[i]),
        dur: us(starts[j - 1] + durs[j - 1] - starts[i]),
        args: { block: r.block, ops: j - i },
      });
    }
    i = j;
  }

  report.layers.forEach((r, i) => {
    events.push({
      name: r.id,
      cat: r.op,
      ph: 'X',
      pid: PID,
      tid: TID,
      ts: us(starts[i]),
      dur: us(durs[i]),
      args: {
        op: r.op,
        layer: r.layer,
        block: r.block,
        input_shapes: r.input_shapes.map(shapeX),
        output_shape: shapeX(r.output_shape),
        params: r.params,
        macs: r.macs,
        flops: r.flops,
        formula: r.formula,
        time_p10_ms: r.time_ms!.p10,
        time_p90_ms: r.time_ms!.p90,
        gflops_per_s: r.gflops_per_s,
        arithmetic_intensity: r.arithmetic_intensity,
      },
    });
  });

  const mem = memoryTimeline(report);
  if (mem.mode === 'live') {
    mem.steps.forEach((s, i) => {
      events.push({ name: 'live activation bytes', ph: 'C', pid: PID, tid: TID, ts: us(starts[i]), args: { bytes: s.live } });
    });
    if (mem.steps.length > 0) {
      events.push({ name: 'live activation bytes', ph: 'C', pid: PID, tid: TID, ts: us(t), args: { bytes: mem.steps[mem.steps.length - 1].after } });
    }
  }

  const otherData: Record<string, string> = {
    schema: report.schema,
    created: report.created,
    model: report.model.name,
    input_shape: shapeX(report.model.input_shape),
  };
  if (report.backend) otherData.timing = report.backend.timing;
  return { traceEvents: events, displayTimeUnit: 'ms', otherData };
}

export function toTrace(report: Report): string {
  return `${JSON.stringify(toTraceObject(report))}\n`;
}

/**
 * ECharts options for the results and compare views, built from a report. Pure functions of the
 * data (no DOM), so test/renderer-lib.test.ts checks what each chart plots.
 */
import type { MemoryTimelineData } from '../../shared/protocol.ts';
import type { LayerRow, Report } from '../../shared/report.ts';
import { bytes, ms, si } from './format.ts';

export interface ChartColors {
  text: string;
  muted: string;
  grid: string;
  accent: string;
  highlight: string;
  series: string[];
}

export type LayerMetric = 'flops' | 'macs' | 'params' | 'time' | 'memory';

export const LAYER_METRICS: { value: LayerMetric; label: string }[] = [
  { value: 'flops', label: 'FLOPs' },
  { value: 'macs', label: 'MACs' },
  { value: 'params', label: 'Params' },
  { value: 'time', label: 'Time (median)' },
  { value: 'memory', label: 'Output memory' },
];

export function metricOf(row: LayerRow, metric: LayerMetric): number | null {
  switch (metric) {
    case 'flops':
      return row.flops;
    case 'macs':
      return row.macs;
    case 'params':
      return row.params;
    case 'time':
      return row.time_ms?.median ?? null;
    case 'memory':
      return row.output_bytes;
  }
}

export function formatMetric(metric: LayerMetric, v: number | null): string {
  if (v === null) return '—';
  if (metric === 'time') return `${ms(v)} ms`;
  if (metric === 'memory') return bytes(v);
  return si(v);
}

/** Fixed slots for the ops every model has, so the eye learns them; others hash to a slot. */
const OP_SLOTS: Record<string, number> = {
  conv2d: 0,
  relu: 1,
  relu6: 1,
  linear: 2,
  max_pool2d: 3,
  avg_pool2d: 3,
  min_pool2d: 3,
  stochastic_pool2d: 3,
  mul: 4,
  sigmoid: 4,
  softmax: 4,
  global_avg_pool: 5,
  global_max_pool: 5,
  add: 6,
  concat: 7,
  conv_transpose2d: 7,
  channel_shuffle: 8,
  flatten: 8,
  dropout: 8,
  batch_norm: 9,
  lrn: 9,
  deform_conv2d: 2,
};

/** Stable colour per op type, so a conv is the same colour in every chart. */
export function opColor(op: string, colors: ChartColors): string {
  if (op in OP_SLOTS) return colors.series[OP_SLOTS[op] % colors.series.length];
  let h = 0;
  for (const ch of op) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return colors.series[h % colors.series.length];
}

const base = (c: ChartColors) => ({
  backgroundColor: 'transparent',
  textStyle: { color: c.text, fontFamily: 'inherit' },
  animationDuration: 250,
});

const axisStyle = (c: ChartColors) => ({
  axisLine: { lineStyle: { color: c.grid } },
  axisLabel: { color: c.muted },
  splitLine: { lineStyle: { color: c.grid, type: 'dashed' as const } },
  nameTextStyle: { color: c.muted },
});

/** Ids of the ops that ran inside each op's kernel (fused_into), by that op's id. */
export function fusedByHead(report: Report): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const r of report.layers) if (r.fused_into) by.set(r.fused_into, [...(by.get(r.fused_into) ?? []), r.id]);
  return by;
}

/**
 * One bar per op in execution order; the selected op stands out. By time, ops that ran inside
 * another op's kernel have no bar of their own: their time is in that op's bar, whose tooltip
 * names them.
 */
export function layerBarsOption(report: Report, metric: LayerMetric, selected: string | null, c: ChartColors) {
  const rows = metric === 'time' ? report.layers.filter((r) => !r.fused_into) : report.layers;
  const fused = metric === 'time' ? fusedByHead(report) : new Map<string, string[]>();
  const many = rows.length > 40;
  return {
    ...base(c),
    grid: { left: 64, right: 16, top: 16, bottom: many ? 64 : 72 },
    tooltip: {
      trigger: 'item',
      formatter: (p: { dataIndex: number }) => {
        const r = rows[p.dataIndex];
        const inside = fused.get(r.id);
        return (
          `<b>${r.id}</b> (${r.op})<br/>${LAYER_METRICS.find((m) => m.value === metric)!.label}: ${formatMetric(metric, metricOf(r, metric))}` +
          (inside ? `<br/>includes ${inside.join(', ')} (fused)` : '')
        );
      },
    },
    xAxis: {
      type: 'category',
      data: rows.map((r) => r.id),
      ...axisStyle(c),
      axisLabel: { color: c.muted, rotate: 45, interval: many ? 'auto' : 0, fontSize: 10, hideOverlap: true },
    },
    yAxis: { type: 'value', ...axisStyle(c), axisLabel: { color: c.muted, formatter: (v: number) => formatMetric(metric, v) } },
    dataZoom: many ? [{ type: 'inside' }, { type: 'slider', height: 16, bottom: 8, borderColor: c.grid, textStyle: { color: c.muted } }] : [],
    series: [
      {
        type: 'bar',
        name: metric,
        barMaxWidth: 28,
        data: rows.map((r) => ({
          value: metricOf(r, metric) ?? 0,
          itemStyle: { color: r.id === selected ? c.highlight : opColor(r.op, c), opacity: selected && r.id !== selected && r.layer !== rowLayer(report.layers, selected) ? 0.55 : 1 },
        })),
      },
    ],
  };
}

function rowLayer(rows: LayerRow[], id: string | null): string | null {
  return rows.find((r) => r.id === id)?.layer ?? null;
}

/** Share of the total per placed layer: time when the report is timed, else FLOPs. */
export function blockShareOption(report: Report, c: ChartColors) {
  const timed = report.layers.every((r) => r.time_ms !== null);
  const sums = new Map<string, { value: number; block: string }>();
  for (const r of report.layers) {
    const s = sums.get(r.layer) ?? { value: 0, block: r.block ?? r.op };
    s.value += timed ? r.time_ms!.median : r.flops;
    sums.set(r.layer, s);
  }
  const sorted = [...sums.entries()].sort((a, b) => b[1].value - a[1].value);
  const top = sorted.slice(0, 12);
  const rest = sorted.slice(12).reduce((s, [, v]) => s + v.value, 0);
  const data = top.map(([layer, v], i) => ({ name: layer, value: v.value, block: v.block, itemStyle: { color: c.series[i % c.series.length] } }));
  if (rest > 0) data.push({ name: `${sorted.length - 12} others`, value: rest, block: '', itemStyle: { color: c.muted } });
  return {
    ...base(c),
    title: { text: timed ? 'Time share' : 'FLOPs share (no run yet)', left: 'center', top: 'middle', textStyle: { color: c.muted, fontSize: 12, fontWeight: 'normal' as const } },
    tooltip: {
      trigger: 'item',
      formatter: (p: { name: string; value: number; percent: number; data: { block: string } }) =>
        `<b>${p.name}</b>${p.data.block ? ` (${p.data.block})` : ''}<br/>${timed ? `${ms(p.value)} ms` : `${si(p.value)} FLOPs`} · ${p.percent.toFixed(1)}%`,
    },
    series: [
      {
        type: 'pie',
        radius: ['42%', '68%'],
        avoidLabelOverlap: true,
        itemStyle: { borderColor: 'transparent', borderWidth: 1 },
        label: { color: c.text, fontSize: 11, formatter: '{b}' },
        labelLine: { lineStyle: { color: c.grid } },
        data,
      },
    ],
  };
}

/** Arithmetic intensity (FLOP/byte) against achieved GFLOP/s, log-log; one point per timed op with work. */
export function rooflineOption(report: Report, selected: string | null, c: ChartColors) {
  const rows = report.layers.filter((r) => r.gflops_per_s !== null && r.gflops_per_s > 0 && r.arithmetic_intensity > 0);
  const total = report.layers.reduce((s, r) => s + r.flops, 0) || 1;
  const byOp = new Map<string, LayerRow[]>();
  for (const r of rows) byOp.set(r.op, [...(byOp.get(r.op) ?? []), r]);
  return {
    ...base(c),
    grid: { left: 64, right: 16, top: 52, bottom: 48 },
    legend: { top: 0, textStyle: { color: c.muted, fontSize: 11 }, type: 'scroll' as const, pageTextStyle: { color: c.muted } },
    tooltip: {
      trigger: 'item',
      formatter: (p: { data: { id: string; op: string; value: [number, number] } }) =>
        `<b>${p.data.id}</b> (${p.data.op})<br/>${p.data.value[0].toFixed(2)} FLOP/byte · ${p.data.value[1].toFixed(2)} GFLOP/s`,
    },
    xAxis: { type: 'log', name: 'FLOP / byte', nameLocation: 'middle' as const, nameGap: 28, ...axisStyle(c) },
    yAxis: { type: 'log', name: 'GFLOP/s', nameLocation: 'middle' as const, nameGap: 44, ...axisStyle(c) },
    series: [...byOp.entries()].map(([op, list]) => ({
      type: 'scatter',
      name: op,
      itemStyle: { color: opColor(op, c) },
      emphasis: { focus: 'series' as const },
      data: list.map((r) => ({
        id: r.id,
        op: r.op,
        value: [r.arithmetic_intensity, r.gflops_per_s!] as [number, number],
        symbolSize: Math.max(6, Math.min(28, 6 + 60 * Math.sqrt(r.flops / total))),
        itemStyle: r.id === selected ? { color: c.highlight, borderColor: c.text, borderWidth: 2 } : undefined,
      })),
    })),
  };
}

/** Live activation bytes over the execution order, with the peak marked. */
export function memoryOption(memory: MemoryTimelineData, selected: string | null, c: ChartColors) {
  const peakIndex = memory.steps.findIndex((s) => s.live === memory.peak);
  const selectedIndex = memory.steps.findIndex((s) => s.id === selected);
  return {
    ...base(c),
    grid: { left: 72, right: 16, top: 16, bottom: 48 },
    tooltip: {
      trigger: 'axis',
      formatter: (ps: { dataIndex: number }[]) => {
        const s = memory.steps[ps[0].dataIndex];
        return `<b>${s.id}</b><br/>live while running: ${bytes(s.live)}<br/>after: ${bytes(s.after)}`;
      },
    },
    xAxis: { type: 'category', data: memory.steps.map((s) => s.id), boundaryGap: false, ...axisStyle(c), axisLabel: { show: false } },
    yAxis: { type: 'value', ...axisStyle(c), axisLabel: { color: c.muted, formatter: (v: number) => bytes(v) } },
    series: [
      {
        type: 'line',
        name: memory.mode === 'live' ? 'live bytes' : 'cumulative bytes',
        step: 'end' as const,
        symbol: 'none',
        lineStyle: { color: c.accent, width: 1.5 },
        areaStyle: { color: c.accent, opacity: 0.18 },
        data: memory.steps.map((s) => s.live),
        markPoint:
          peakIndex >= 0
            ? { symbol: 'pin', symbolSize: 36, itemStyle: { color: c.highlight }, label: { color: '#fff', fontSize: 9, formatter: 'peak' }, data: [{ coord: [peakIndex, memory.peak] }] }
            : undefined,
        markLine: selectedIndex >= 0 ? { symbol: 'none', lineStyle: { color: c.highlight }, label: { show: false }, data: [{ xAxis: selectedIndex }] } : undefined,
      },
    ],
  };
}

export type CompareMetric = 'params' | 'macs' | 'flops' | 'peak_bytes' | 'time_ms';

export const COMPARE_METRICS: { value: CompareMetric; label: string; format(v: number | null): string }[] = [
  { value: 'params', label: 'Params', format: (v) => si(v) },
  { value: 'macs', label: 'MACs', format: (v) => si(v) },
  { value: 'flops', label: 'FLOPs', format: (v) => si(v) },
  { value: 'peak_bytes', label: 'Peak memory', format: (v) => bytes(v) },
  { value: 'time_ms', label: 'Time (median)', format: (v) => (v === null ? '—' : `${ms(v)} ms`) },
];

export function totalOf(report: Report, metric: CompareMetric): number | null {
  return report.totals[metric];
}

/** Every pinned run's totals relative to the baseline's (1.0), one group per metric. */
export function compareOption(runs: { label: string; report: Report }[], baseline: Report, c: ChartColors) {
  const metrics = COMPARE_METRICS.filter((m) => runs.every((r) => totalOf(r.report, m.value) !== null) && totalOf(baseline, m.value) !== null);
  return {
    ...base(c),
    grid: { left: 56, right: 16, top: 40, bottom: 32 },
    legend: { top: 0, textStyle: { color: c.muted, fontSize: 11 }, type: 'scroll' as const },
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'shadow' as const },
      formatter: (ps: { seriesIndex: number; dataIndex: number; seriesName: string; value: number }[]) => {
        const m = metrics[ps[0].dataIndex];
        return [`<b>${m.label}</b>`, ...ps.map((p) => `${p.seriesName}: ${m.format(totalOf(runs[p.seriesIndex].report, m.value))} (${p.value.toFixed(2)}x)`)].join('<br/>');
      },
    },
    xAxis: { type: 'category', data: metrics.map((m) => m.label), ...axisStyle(c) },
    yAxis: { type: 'value', name: 'x baseline', ...axisStyle(c) },
    series: runs.map((r, i) => ({
      type: 'bar',
      name: r.label,
      itemStyle: { color: c.series[i % c.series.length] },
      barMaxWidth: 36,
      data: metrics.map((m) => {
        const b = totalOf(baseline, m.value)!;
        return b === 0 ? 0 : totalOf(r.report, m.value)! / b;
      }),
      markLine: i === 0 ? { symbol: 'none', silent: true, lineStyle: { color: c.muted, type: 'dashed' as const }, label: { show: false }, data: [{ yAxis: 1 }] } : undefined,
    })),
  };
}

/** How many data points an option plots (exposed on the chart element for automation). */
export function pointCount(option: { series?: unknown }): number {
  const series = (Array.isArray(option.series) ? option.series : []) as { data?: unknown[] }[];
  return series.reduce((s, x) => s + (x.data?.length ?? 0), 0);
}

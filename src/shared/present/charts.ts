/**
 * ECharts options for every view that draws a report: the workbench (results and compare) and the
 * self-contained HTML report. Pure functions of the data, no DOM, so tests check what each chart
 * plots and the HTML report can ship the very options the workbench draws.
 *
 * Options are plain data on purpose: tooltips are text carried on each data item (`tip`) and read
 * back by one of a few generic functions (TOOLTIP_FUNCTIONS), and value axes plot numbers already
 * scaled to the unit in the axis name (MFLOPs, MiB, ms), so ECharts' own tick labels read right.
 * `serializeOption` turns an option into JSON for the HTML report; its script revives the named
 * functions. The same units, colours and chart types everywhere follow from that.
 */
import type { MemoryTimelineData } from '../protocol.ts';
import type { LayerRow, Report, Roofline } from '../report.ts';
import { byteScale, bytes, delta, exact, gbps, gflops, ms, msUnit, num3, percent, ratio, si, siParts, siUnit, siWord } from './format.ts';

export interface ChartColors {
  text: string;
  muted: string;
  grid: string;
  accent: string;
  highlight: string;
  series: string[];
}

/** The workbench's light theme (src/renderer/styles.css), which the HTML report draws with too. */
export const LIGHT_CHART_COLORS: ChartColors = {
  text: '#1d2330',
  muted: '#667085',
  grid: '#e4e7ec',
  accent: '#2f6fed',
  highlight: '#e8740c',
  series: ['#2f6fed', '#12a594', '#e8740c', '#8e4ec6', '#e5484d', '#3e9b4f', '#d6409f', '#0090c4', '#a18072', '#c2a300'],
};

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

/** A metric's value as text, with its unit: `4.09 GFLOPs`, `1.2 M params`, `2.29 MiB`, `0.812 ms`. */
export function formatMetric(metric: LayerMetric, v: number | null): string {
  if (v === null) return '—';
  if (metric === 'time') return msUnit(v);
  if (metric === 'memory') return bytes(v);
  if (metric === 'params') return siWord(v, 'params');
  return siUnit(v, metric === 'flops' ? 'FLOPs' : 'MACs');
}

/**
 * The unit a value axis plots a metric in, chosen from the largest value, and the factor the raw
 * values are divided by: `{ unit: 'MFLOPs', factor: 1e6 }`, `{ unit: 'MiB', factor: 1048576 }`.
 */
export function axisUnit(metric: LayerMetric, max: number): { unit: string; factor: number } {
  if (metric === 'time') return { unit: 'ms', factor: 1 };
  if (metric === 'memory') {
    const { unit, scale } = byteScale(max);
    return { unit, factor: scale };
  }
  const { prefix } = siParts(max);
  const factor = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12 }[prefix] ?? 1;
  return { unit: metric === 'params' ? `${prefix ? `${prefix} ` : ''}params` : `${prefix}${metric === 'flops' ? 'FLOPs' : 'MACs'}`, factor };
}

/**
 * On a log axis ECharts grows bars from 1, so bars of values under 1 would hang downwards: the
 * unit is chosen from the smallest value instead (every plotted value is then at least 1) and
 * the axis starts at 1, so every bar rises from the bottom.
 */
export function logAxisUnit(metric: LayerMetric, minPositive: number): { unit: string; factor: number } {
  if (metric === 'time') {
    if (minPositive >= 1) return { unit: 'ms', factor: 1 };
    if (minPositive >= 1e-3) return { unit: 'µs', factor: 1e-3 };
    return { unit: 'ns', factor: 1e-6 };
  }
  return axisUnit(metric, minPositive);
}

function valueAxisUnit(metric: LayerMetric, values: number[], log: boolean | undefined): { unit: string; factor: number } {
  if (!log) return axisUnit(metric, Math.max(0, ...values));
  const positive = values.filter((v) => v > 0);
  return logAxisUnit(metric, positive.length ? Math.min(...positive) : 1);
}

function valueAxis(unit: string, log: boolean | undefined, c: ChartColors) {
  return {
    type: log ? ('log' as const) : ('value' as const),
    name: log ? `${unit} (log)` : unit,
    ...(log ? { min: 1 } : {}),
    ...axisStyle(c),
    nameTextStyle: { color: c.muted, align: 'left' as const },
  };
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

/** Stable colour per op type, so a conv is the same colour in every chart, window and report. */
export function opColor(op: string, colors: ChartColors): string {
  if (op in OP_SLOTS) return colors.series[OP_SLOTS[op] % colors.series.length];
  let h = 0;
  for (const ch of op) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return colors.series[h % colors.series.length];
}

/** Escapes user text (layer ids, model names) for the HTML tooltips ECharts renders. */
export function escapeTip(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A data item as the builders write it: the plotted value, and what a tooltip and a click need. */
export interface ChartItem {
  value: unknown;
  /** The op (or step) id, for selection. */
  id?: string;
  /** The index of the report row it stands for, for selection in the HTML report. */
  row?: number;
  tip?: string;
  [key: string]: unknown;
}

export interface ChartSeries {
  type: string;
  id?: string;
  name?: string;
  data: ChartItem[];
  [key: string]: unknown;
}

/** Tooltip readers: the only functions in an option. Each has a twin of the same name in the HTML report's script. */
export const TOOLTIP_FUNCTIONS = {
  /** trigger 'item': the hovered item's text. */
  tipItem: (p: { data?: { tip?: string } }) => p.data?.tip ?? '',
  /** trigger 'axis': the first series' item at that position. */
  tipAxis: (ps: { data?: { tip?: string } }[]) => ps[0]?.data?.tip ?? '',
};

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

/** Over this many ops, per-op axes thin their labels and get a zoom slider. */
export const MANY_LAYERS = 40;

/**
 * A per-op category axis that stays legible from 4 to 170 ops: labels rotated, truncated to a
 * width, and thinned so none overlap (ECharts hides the ones that would); every id stays in the
 * tooltip and the slider zooms in until each has its label.
 */
function opAxis(ids: string[], c: ChartColors) {
  const many = ids.length > MANY_LAYERS;
  return {
    type: 'category' as const,
    data: ids,
    ...axisStyle(c),
    axisTick: { alignWithLabel: true },
    // Upright labels (90 degrees) take one line-height of axis each, so ECharts' 'auto' interval
    // thins them exactly to what fits; slanted ones overlapped along the diagonal at 170 ops.
    axisLabel: { color: c.muted, rotate: many ? 90 : 45, interval: many ? ('auto' as const) : 0, fontSize: 10, hideOverlap: true, width: LABEL_WIDTH, overflow: 'truncate' as const },
  };
}

/** Room under a per-op axis: the truncated labels, and the zoom slider below them. */
const LABEL_WIDTH = 96;
function opAxisBottom(count: number): number {
  return count > MANY_LAYERS ? LABEL_WIDTH + 44 : 80;
}

function zoom(count: number, c: ChartColors) {
  return count > MANY_LAYERS
    ? [
        { type: 'inside' as const, xAxisIndex: 0 },
        { type: 'slider' as const, xAxisIndex: 0, height: 16, bottom: 6, borderColor: c.grid, textStyle: { color: c.muted }, labelFormatter: '' },
      ]
    : [];
}

/** Ids of the ops that ran inside each op's kernel (fused_into), by that op's id. */
export function fusedByHead(report: Report): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const r of report.layers) if (r.fused_into) by.set(r.fused_into, [...(by.get(r.fused_into) ?? []), r.id]);
  return by;
}

function head(r: LayerRow): string {
  return `<b>${escapeTip(r.id)}</b> (${escapeTip(r.op)})`;
}

export interface LayerBarsOptions {
  /** A log value axis (ops with no value have no bar then). */
  log?: boolean;
  /** By time: a p10–p90 whisker over each bar. */
  whiskers?: boolean;
}

/**
 * One bar per op in execution order; the selected op stands out. By time, ops that ran inside
 * another op's kernel have no bar of their own: their time is in that op's bar, whose tooltip
 * names them.
 */
export function layerBarsOption(report: Report, metric: LayerMetric, selected: string | null, c: ChartColors, opts: LayerBarsOptions = {}) {
  const rows = metric === 'time' ? report.layers.filter((r) => !r.fused_into) : report.layers;
  const fused = metric === 'time' ? fusedByHead(report) : new Map<string, string[]>();
  const values = rows.map((r) => metricOf(r, metric) ?? 0);
  const { unit, factor } = valueAxisUnit(metric, values, opts.log);
  const label = LAYER_METRICS.find((m) => m.value === metric)!.label;
  const selectedLayer = report.layers.find((r) => r.id === selected)?.layer ?? null;
  const scaled = (v: number) => (opts.log && !(v > 0) ? '-' : v / factor);
  const tipOf = (r: LayerRow) => {
    const inside = fused.get(r.id);
    const v = metricOf(r, metric);
    let t = `${head(r)}<br/>${label}: ${formatMetric(metric, v)}`;
    if (metric !== 'time' && metric !== 'memory' && v !== null && v >= 1000) t += ` (${exact(v)})`;
    if (metric === 'time' && r.time_ms) t += `<br/>p10 ${ms(r.time_ms.p10)} ms, p90 ${ms(r.time_ms.p90)} ms`;
    if (inside) t += `<br/>includes ${inside.map(escapeTip).join(', ')} (fused)`;
    return t;
  };
  const series: ChartSeries[] = [
    {
      type: 'bar',
      name: label,
      barMaxWidth: 28,
      emphasis: { itemStyle: { borderColor: c.text, borderWidth: 2 } },
      data: rows.map((r, i) => ({
        value: scaled(values[i]),
        id: r.id,
        row: report.layers.indexOf(r),
        tip: tipOf(r),
        itemStyle: { color: r.id === selected ? c.highlight : opColor(r.op, c), opacity: selected && r.id !== selected && r.layer !== selectedLayer ? 0.55 : 1 },
      })),
    },
  ];
  if (metric === 'time' && opts.whiskers && rows.every((r) => r.time_ms)) {
    // A boxplot of [p10, p10, median, p90, p90] is a whisker from p10 to p90 with the median marked.
    series.push({
      type: 'boxplot',
      name: 'p10–p90',
      boxWidth: [2, 6],
      itemStyle: { color: 'transparent', borderColor: c.text, borderWidth: 1 },
      data: rows.map((r, i) => {
        const t = r.time_ms!;
        return { value: [t.p10, t.p10, t.median, t.p90, t.p90].map((v) => (opts.log ? Math.max(1, v / factor) : v / factor)), id: r.id, row: report.layers.indexOf(r), tip: tipOf(r), name: rows[i].id };
      }),
    });
  }
  return {
    ...base(c),
    grid: { left: 64, right: 16, top: 28, bottom: opAxisBottom(rows.length) },
    legend: series.length > 1 ? { top: 0, right: 0, textStyle: { color: c.muted, fontSize: 11 } } : undefined,
    tooltip: { trigger: 'item' as const, formatter: TOOLTIP_FUNCTIONS.tipItem },
    xAxis: opAxis(rows.map((r) => r.id), c),
    yAxis: valueAxis(unit, opts.log, c),
    dataZoom: zoom(rows.length, c),
    series,
  };
}

/** Share of the total per placed layer: time when the report is timed, else FLOPs. */
export function blockShareOption(report: Report, c: ChartColors) {
  const timed = report.layers.length > 0 && report.layers.every((r) => r.time_ms !== null);
  const sums = new Map<string, { value: number; block: string; row: number }>();
  report.layers.forEach((r, i) => {
    const s = sums.get(r.layer) ?? { value: 0, block: r.block ?? r.op, row: i };
    s.value += timed ? r.time_ms!.median : r.flops;
    sums.set(r.layer, s);
  });
  const total = [...sums.values()].reduce((s, v) => s + v.value, 0) || 1;
  const sorted = [...sums.entries()].sort((a, b) => b[1].value - a[1].value);
  const top = sorted.slice(0, 12);
  const rest = sorted.slice(12).reduce((s, [, v]) => s + v.value, 0);
  const what = (v: number) => (timed ? msUnit(v) : siUnit(v, 'FLOPs'));
  const data = top.map(([layer, v], i) => ({
    name: layer,
    value: v.value,
    block: v.block,
    row: v.row,
    tip: `<b>${escapeTip(layer)}</b> (${escapeTip(v.block)})<br/>${what(v.value)} · ${percent(v.value / total)}`,
    itemStyle: { color: c.series[i % c.series.length] },
  }));
  if (rest > 0) {
    const n = sorted.length - 12;
    data.push({ name: `${n} others`, value: rest, block: '', row: -1, tip: `<b>${n} other layers</b><br/>${what(rest)} · ${percent(rest / total)}`, itemStyle: { color: c.muted } });
  }
  return {
    ...base(c),
    title: { text: timed ? 'Time share' : 'FLOPs share (no run yet)', left: 'center', top: 'middle', textStyle: { color: c.muted, fontSize: 12, fontWeight: 'normal' as const } },
    tooltip: { trigger: 'item' as const, formatter: TOOLTIP_FUNCTIONS.tipItem },
    series: [
      {
        type: 'pie',
        radius: ['42%', '68%'],
        avoidLabelOverlap: true,
        itemStyle: { borderColor: 'transparent', borderWidth: 1 },
        label: { color: c.text, fontSize: 11, formatter: '{b}', width: 120, overflow: 'truncate' as const },
        labelLine: { lineStyle: { color: c.grid } },
        data,
      },
    ],
  };
}

/** The roofline's two roofs as line points over an intensity range: the bandwidth slope, then the flat peak. */
export function roofLines(roof: Roofline, minIntensity: number, maxIntensity: number): { memory: [number, number][]; compute: [number, number][]; ridge: number } {
  const ridge = roof.peak_gflops_per_s / roof.bandwidth_gb_per_s;
  const lo = Math.min(minIntensity, ridge) / 2;
  const hi = Math.max(maxIntensity, ridge) * 2;
  return {
    memory: [
      [lo, lo * roof.bandwidth_gb_per_s],
      [ridge, roof.peak_gflops_per_s],
    ],
    compute: [
      [ridge, roof.peak_gflops_per_s],
      [hi, roof.peak_gflops_per_s],
    ],
    ridge,
  };
}

/**
 * Arithmetic intensity (FLOP/byte) against achieved GFLOP/s, log-log; one point per timed op
 * with work. With the backend's measured roofs (report.backend.roofline), the memory-bandwidth
 * slope and the compute peak are drawn, and each tooltip says how close to its roof the op came.
 */
export function rooflineOption(report: Report, selected: string | null, c: ChartColors) {
  const rows = report.layers.filter((r) => r.gflops_per_s !== null && r.gflops_per_s > 0 && r.arithmetic_intensity > 0);
  const total = report.layers.reduce((s, r) => s + r.flops, 0) || 1;
  const roof = report.backend?.roofline;
  const byOp = new Map<string, LayerRow[]>();
  for (const r of rows) byOp.set(r.op, [...(byOp.get(r.op) ?? []), r]);
  const bound = (r: LayerRow) => (roof ? Math.min(roof.peak_gflops_per_s, r.arithmetic_intensity * roof.bandwidth_gb_per_s) : null);
  const series: ChartSeries[] = [...byOp.entries()].map(([op, list]) => ({
    type: 'scatter',
    name: op,
    itemStyle: { color: opColor(op, c) },
    emphasis: { focus: 'series' as const, itemStyle: { borderColor: c.text, borderWidth: 2 } },
    data: list.map((r) => {
      const b = bound(r);
      return {
        id: r.id,
        op: r.op,
        row: report.layers.indexOf(r),
        value: [r.arithmetic_intensity, r.gflops_per_s!] as [number, number],
        tip:
          `${head(r)}<br/>${num3(r.arithmetic_intensity)} FLOP/byte · ${gflops(r.gflops_per_s)}<br/>${siUnit(r.flops, 'FLOPs')} in ${msUnit(r.time_ms?.median)}` +
          (b ? `<br/>${percent(r.gflops_per_s! / b)} of its roof (${gflops(b)}, ${r.arithmetic_intensity * roof!.bandwidth_gb_per_s < roof!.peak_gflops_per_s ? 'memory' : 'compute'}-bound)` : ''),
        symbolSize: Math.max(6, Math.min(28, 6 + 60 * Math.sqrt(r.flops / total))),
        itemStyle: r.id === selected ? { color: c.highlight, borderColor: c.text, borderWidth: 2 } : undefined,
      };
    }),
  }));
  if (roof && rows.length > 0) {
    const xs = rows.map((r) => r.arithmetic_intensity);
    const lines = roofLines(roof, Math.min(...xs), Math.max(...xs));
    const line = (id: string, name: string, data: [number, number][], tip: string, type: 'solid' | 'dashed') => ({
      type: 'line',
      id,
      name,
      silent: false,
      symbol: 'none',
      z: 1,
      lineStyle: { color: c.text, width: 1.5, type },
      itemStyle: { color: c.text },
      data: data.map((value) => ({ value, tip })),
    });
    const by = escapeTip(roof.measured_by);
    series.push(
      line('roof-memory', `memory roof ${gbps(roof.bandwidth_gb_per_s)}`, lines.memory, `<b>memory roof</b>: ${gbps(roof.bandwidth_gb_per_s)} × FLOP/byte<br/>${by}`, 'dashed'),
      line('roof-compute', `compute roof ${gflops(roof.peak_gflops_per_s)}`, lines.compute, `<b>compute roof</b>: ${gflops(roof.peak_gflops_per_s)}<br/>ridge at ${num3(lines.ridge)} FLOP/byte<br/>${by}`, 'solid'),
    );
  }
  return {
    ...base(c),
    grid: { left: 64, right: 16, top: 52, bottom: 48 },
    legend: { top: 0, textStyle: { color: c.muted, fontSize: 11 }, type: 'scroll' as const, pageTextStyle: { color: c.muted } },
    tooltip: { trigger: 'item' as const, formatter: TOOLTIP_FUNCTIONS.tipItem },
    xAxis: { type: 'log' as const, name: 'arithmetic intensity (FLOP/byte)', nameLocation: 'middle' as const, nameGap: 28, ...axisStyle(c), minorSplitLine: { show: true, lineStyle: { color: c.grid, opacity: 0.4 } } },
    yAxis: { type: 'log' as const, name: 'GFLOP/s', nameLocation: 'middle' as const, nameGap: 44, ...axisStyle(c), minorSplitLine: { show: true, lineStyle: { color: c.grid, opacity: 0.4 } } },
    series,
  };
}

/** Live activation bytes over the execution order, with the peak marked. */
export function memoryOption(memory: MemoryTimelineData, selected: string | null, c: ChartColors) {
  const peakIndex = memory.steps.findIndex((s) => s.live === memory.peak);
  const selectedIndex = memory.steps.findIndex((s) => s.id === selected);
  const { unit, scale } = byteScale(memory.peak);
  const live = memory.mode === 'live';
  return {
    ...base(c),
    grid: { left: 64, right: 16, top: 28, bottom: opAxisBottom(memory.steps.length) },
    tooltip: { trigger: 'axis' as const, formatter: TOOLTIP_FUNCTIONS.tipAxis },
    xAxis: { ...opAxis(memory.steps.map((s) => s.id), c), boundaryGap: false },
    yAxis: { type: 'value' as const, name: unit, ...axisStyle(c), nameTextStyle: { color: c.muted, align: 'left' as const } },
    dataZoom: zoom(memory.steps.length, c),
    series: [
      {
        type: 'line',
        name: live ? 'live bytes' : 'cumulative bytes',
        step: 'end' as const,
        symbol: 'none',
        lineStyle: { color: c.accent, width: 1.5 },
        areaStyle: { color: c.accent, opacity: 0.18 },
        data: memory.steps.map((s, i) => ({
          value: s.live / scale,
          id: s.id,
          row: i,
          tip: `<b>${escapeTip(s.id)}</b><br/>${live ? 'live while it runs' : 'cumulative outputs'}: ${bytes(s.live)}${live ? `<br/>after it frees its inputs: ${bytes(s.after)}` : ''}`,
        })),
        markPoint:
          peakIndex >= 0
            ? { symbol: 'pin', symbolSize: 36, itemStyle: { color: c.highlight }, label: { color: '#fff', fontSize: 9, formatter: 'peak' }, data: [{ coord: [peakIndex, memory.peak / scale], tip: `peak ${bytes(memory.peak)}` }] }
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
  { value: 'time_ms', label: 'Time (median)', format: (v) => msUnit(v) },
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
    tooltip: { trigger: 'item' as const, formatter: TOOLTIP_FUNCTIONS.tipItem },
    xAxis: { type: 'category' as const, data: metrics.map((m) => m.label), ...axisStyle(c) },
    yAxis: { type: 'value' as const, name: '× baseline', ...axisStyle(c) },
    series: runs.map((r, i) => ({
      type: 'bar',
      name: r.label,
      itemStyle: { color: c.series[i % c.series.length] },
      barMaxWidth: 36,
      data: metrics.map((m) => {
        const b = totalOf(baseline, m.value)!;
        const v = totalOf(r.report, m.value)!;
        return { value: b === 0 ? 0 : v / b, tip: `<b>${m.label}</b><br/>${escapeTip(r.label)}: ${m.format(v)} (${ratio(v, b)})` };
      }),
      markLine: i === 0 ? { symbol: 'none', silent: true, lineStyle: { color: c.muted, type: 'dashed' as const }, label: { show: false }, data: [{ yAxis: 1 }] } : undefined,
    })),
  };
}

/** One op's figures in each pinned run, matched by op id. */
export interface LayerCompareRow {
  id: string;
  op: string;
  /** Per run, in the order given: the row, or null when that run has no op with this id. */
  rows: (LayerRow | null)[];
}

/**
 * Per-op rows across runs: the baseline's ops in its order, then ops only other runs have (in
 * their order), so designs that differ by a layer still line up on every op they share.
 */
export function layerCompareRows(reports: Report[], baselineIndex: number): LayerCompareRow[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const ordered = [reports[baselineIndex], ...reports.filter((_, i) => i !== baselineIndex)];
  for (const r of ordered) {
    for (const l of r.layers) {
      if (!seen.has(l.id)) {
        seen.add(l.id);
        order.push(l.id);
      }
    }
  }
  const maps = reports.map((r) => new Map(r.layers.map((l) => [l.id, l])));
  return order.map((id) => {
    const rows = maps.map((m) => m.get(id) ?? null);
    return { id, op: rows.find((r) => r)!.op, rows };
  });
}

/** A per-op figure against the baseline's: the signed difference and the ratio, as text. */
export function layerDelta(metric: LayerMetric, v: number | null, base: number | null): { delta: string; ratio: string } {
  if (v === null || base === null) return { delta: '—', ratio: '—' };
  const fmt = (n: number) => formatMetric(metric, n);
  return { delta: delta(v - base, fmt), ratio: ratio(v, base) };
}

/** Per op, one bar per pinned run for one metric: the layers side by side. */
export function compareLayersOption(runs: { label: string; report: Report }[], baselineIndex: number, metric: LayerMetric, c: ChartColors, opts: { log?: boolean } = {}) {
  const table = layerCompareRows(
    runs.map((r) => r.report),
    baselineIndex,
  );
  const values = table.flatMap((t) => t.rows.map((r) => (r ? (metricOf(r, metric) ?? 0) : 0)));
  const { unit, factor } = valueAxisUnit(metric, values, opts.log);
  const label = LAYER_METRICS.find((m) => m.value === metric)!.label;
  return {
    ...base(c),
    grid: { left: 64, right: 16, top: 40, bottom: opAxisBottom(table.length) },
    legend: { top: 0, textStyle: { color: c.muted, fontSize: 11 }, type: 'scroll' as const },
    tooltip: { trigger: 'item' as const, formatter: TOOLTIP_FUNCTIONS.tipItem },
    xAxis: opAxis(
      table.map((t) => t.id),
      c,
    ),
    yAxis: valueAxis(unit, opts.log, c),
    dataZoom: zoom(table.length, c),
    series: runs.map((run, i) => ({
      type: 'bar',
      name: run.label,
      itemStyle: { color: c.series[i % c.series.length] },
      barMaxWidth: 14,
      data: table.map((t) => {
        const row = t.rows[i];
        const v = row ? metricOf(row, metric) : null;
        const b = t.rows[baselineIndex] ? metricOf(t.rows[baselineIndex]!, metric) : null;
        const d = layerDelta(metric, v, b);
        return {
          value: v === null || (opts.log && !(v > 0)) ? '-' : v / factor,
          id: t.id,
          tip: `<b>${escapeTip(t.id)}</b> (${escapeTip(t.op)}) · ${escapeTip(run.label)}<br/>${label}: ${row ? formatMetric(metric, v) : 'not in this run'}${i !== baselineIndex && row ? `<br/>${d.delta} · ${d.ratio} the baseline` : ''}`,
        };
      }),
    })),
  };
}

/** How many data points an option plots (exposed on the chart element for automation). */
export function pointCount(option: { series?: unknown }): number {
  const series = (Array.isArray(option.series) ? option.series : []) as { id?: string; data?: unknown[] }[];
  // Roof lines are drawn, not data: they do not count as points.
  return series.filter((x) => !x.id?.startsWith('roof-')).reduce((s, x) => s + (x.data?.length ?? 0), 0);
}

/**
 * An option as JSON for the HTML report: each tooltip function becomes `{"$fn": name}`, which the
 * report's script swaps back for its twin. Any other function is a mistake here (it would vanish
 * from the JSON), so it throws.
 */
export function serializeOption(option: unknown): string {
  const names = new Map<unknown, string>(Object.entries(TOOLTIP_FUNCTIONS).map(([k, f]) => [f, k]));
  return JSON.stringify(option, (key, value) => {
    if (typeof value !== 'function') return value;
    const name = names.get(value);
    if (!name) throw new Error(`chart option field "${key}" is a function the HTML report cannot carry`);
    return { $fn: name };
  });
}

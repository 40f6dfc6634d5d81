/** The workbench's plain-TypeScript logic (src/renderer/lib): design edits, history, field parsing, charts, graph layout. */
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../src/engine/graph/plan.ts';
import { memoryTimeline } from '../src/engine/report/index.ts';
import { buildReport } from '../src/engine/reporting.ts';
import { blockShareOption, compareLayersOption, compareOption, layerBarsOption, layerCompareRows, layerDelta, memoryOption, pointCount, rooflineOption, serializeOption, type ChartColors } from '../src/renderer/lib/charts.ts';
import * as d from '../src/renderer/lib/design.ts';
import { bytes, gflops, ms, percent, ratio, shape, si } from '../src/renderer/lib/format.ts';
import { graphItems, layoutGraph } from '../src/renderer/lib/graph.ts';
import { parseShape, textToValue, valueToText } from '../src/renderer/lib/params.ts';
import type { Report } from '../src/shared/report.ts';
import type { ModelSpec } from '../src/shared/spec.ts';

const spec: ModelSpec = {
  format: 'convscope/v1',
  name: 'residual',
  input: { shape: [1, 16, 8, 8] },
  layers: [
    { id: 'a', op: 'conv2d', params: { out_channels: 16, kernel: 3, padding: 1 } },
    { id: 'b', op: 'relu' },
    { id: 'c', op: 'conv2d', params: { out_channels: 16, kernel: 3, padding: 1 } },
    { id: 'j', op: 'add', inputs: ['c', 'a'] },
  ],
};

const env = { app_version: 't', node: 'v20', platform: 'linux', cpu: 'cpu' };

function report(s: ModelSpec = spec, timed = false): Report {
  const r = buildReport(buildPlan(s), { environment: env });
  if (!timed) return r;
  return {
    ...r,
    layers: r.layers.map((l, i) => ({ ...l, time_ms: { median: i + 1, p10: i, p90: i + 2 }, gflops_per_s: l.flops / ((i + 1) * 1e6) })),
    totals: { ...r.totals, time_ms: 10 },
  };
}

const colors: ChartColors = { text: '#000', muted: '#666', grid: '#ccc', accent: '#00f', highlight: '#f80', series: ['#1', '#2', '#3', '#4'] };

describe('design edits', () => {
  it('inserts after a layer with a fresh id, and duplicates', () => {
    const next = d.insertLayer(spec, { id: d.freshId(spec, 'relu'), op: 'relu' }, 'a');
    expect(next.layers.map((l) => l.id)).toEqual(['a', 'relu_1', 'b', 'c', 'j']);
    expect(spec.layers).toHaveLength(4);
    const dup = d.duplicateLayer(next, 'relu_1');
    expect(dup.id).toBe('relu_2');
    expect(dup.spec.layers.map((l) => l.id)).toEqual(['a', 'relu_1', 'relu_2', 'b', 'c', 'j']);
    expect(d.insertLayer(spec, { id: 'z', op: 'relu' }, null).layers.at(-1)!.id).toBe('z');
  });

  it('removes a layer and rewires whoever named it to what it read', () => {
    const next = d.removeLayer(spec, 'a');
    expect(next.layers.find((l) => l.id === 'j')!.inputs).toEqual(['c', 'input']);
    expect(() => buildPlan(next)).not.toThrow();
    expect(d.removeLayer(spec, 'c').layers.find((l) => l.id === 'j')!.inputs).toEqual(['b', 'a']);
  });

  it('moves, renames (updating references) and sets params and inputs', () => {
    expect(d.moveLayer(spec, 1, 0).layers.map((l) => l.id)).toEqual(['b', 'a', 'c', 'j']);
    expect(d.moveLayer(spec, 0, 9)).toBe(spec);
    const renamed = d.renameLayer(spec, 'a', 'stem');
    expect(renamed.layers.find((l) => l.id === 'j')!.inputs).toEqual(['c', 'stem']);
    const p = d.setParam(spec, 'a', 'groups', 2);
    expect(p.layers[0].params).toMatchObject({ groups: 2, out_channels: 16 });
    expect(d.setParam(p, 'a', 'groups', undefined).layers[0].params).not.toHaveProperty('groups');
    expect(d.setInputs(spec, 'j', undefined).layers[3].inputs).toBeUndefined();
    expect(d.inputCandidates(spec, 'c')).toEqual(['input', 'a', 'b']);
    expect(d.effectiveInputs(spec, 0)).toEqual(['input']);
    expect(d.effectiveInputs(spec, 2)).toEqual(['b']);
  });

  it('the empty design is valid', () => {
    expect(() => buildPlan(d.emptyDesign())).not.toThrow();
  });
});

describe('history', () => {
  const snap = (name: string): d.Snapshot => ({ spec: { ...spec, name }, path: null });

  it('undoes and redoes whole snapshots; a new edit clears the redo stack', () => {
    const h = new d.History();
    h.record(snap('0'));
    h.record(snap('1'));
    expect(h.undo(snap('2'))!.spec.name).toBe('1');
    expect(h.undo(snap('1'))!.spec.name).toBe('0');
    expect(h.undo(snap('0'))).toBeNull();
    expect(h.redo(snap('0'))!.spec.name).toBe('1');
    h.record(snap('1'));
    expect(h.canRedo).toBe(false);
  });

  it('merges typing into one field within the merge window into one step', () => {
    const h = new d.History(200, 1000);
    h.record(snap('a'), 'param:x', 0);
    h.record(snap('ab'), 'param:x', 500);
    h.record(snap('abc'), 'param:x', 900);
    h.record(snap('other'), 'param:y', 950);
    expect(h.undo(snap('now'))!.spec.name).toBe('other');
    expect(h.undo(snap('other'))!.spec.name).toBe('a');
    h.record(snap('p'), 'k', 0);
    h.seal();
    h.record(snap('q'), 'k', 10);
    expect(h.undo(snap('r'))!.spec.name).toBe('q');
  });
});

describe('parameter fields', () => {
  it('parses by type and keeps what does not parse for the engine to refuse', () => {
    expect(textToValue('int', '64')).toBe(64);
    expect(textToValue('int', ' 6a ')).toBe('6a');
    expect(textToValue('int', '')).toBeUndefined();
    expect(textToValue('number', '1e-5')).toBe(1e-5);
    expect(textToValue('pair', '3')).toBe(3);
    expect(textToValue('pair', '3, 1')).toEqual([3, 1]);
    expect(textToValue('pair', '[3,1]')).toEqual([3, 1]);
    expect(textToValue('pair', '3 x 1')).toEqual([3, 1]);
    expect(textToValue('pair', '3, x')).toBe('3, x');
    expect(textToValue('padding', 'same')).toBe('same');
    expect(textToValue('padding', '0, 1, 1, 0')).toEqual([0, 1, 1, 0]);
    expect(textToValue('padding', '1, 2, 3')).toBe('1, 2, 3');
    expect(textToValue('int_list', '1536, 2048')).toEqual([1536, 2048]);
    expect(textToValue('int_list', '[]')).toEqual([]);
    expect(textToValue('bool', 'true')).toBe(true);
    expect(textToValue('enum', 'relu6')).toBe('relu6');
  });

  it('round-trips values to text', () => {
    expect(valueToText([3, 1])).toBe('3, 1');
    expect(valueToText(undefined)).toBe('');
    expect(valueToText('same')).toBe('same');
    expect(textToValue('pair', valueToText([5, 5]))).toEqual([5, 5]);
  });

  it('reads an input shape', () => {
    expect(parseShape('1, 3, 224, 224')).toEqual([1, 3, 224, 224]);
    expect(parseShape('1x3x224x224')).toEqual([1, 3, 224, 224]);
    expect(parseShape('1, 3, 224')).toBeUndefined();
    expect(parseShape('1, 0, 2, 2')).toBeUndefined();
  });
});

describe('format', () => {
  it('formats counts, bytes, times and ratios', () => {
    expect(si(137_460_672)).toBe('137 M');
    expect(si(7455)).toBe('7.46 K');
    expect(si(999_999)).toBe('1 M');
    expect(si(0)).toBe('0');
    expect(si(null)).toBe('—');
    expect(bytes(2_400_000)).toBe('2.29 MiB');
    expect(bytes(512)).toBe('512 B');
    expect(ms(0.01234)).toBe('0.012');
    expect(ms(49.813)).toBe('49.81');
    expect(ratio(50, 100)).toBe('0.50x');
    expect(ratio(1, 0)).toBe('—');
    expect(shape([1, 2])).toBe('[1, 2]');
  });
});

describe('charts', () => {
  it('plots one bar per op and highlights the selected one', () => {
    const r = report();
    const o = layerBarsOption(r, 'macs', 'c', colors);
    expect(pointCount(o)).toBe(r.layers.length);
    const data = o.series[0].data;
    // Values are plotted in the unit the axis names (here KMACs), so ECharts' own ticks read right.
    expect(o.yAxis.name).toBe('KMACs');
    expect(data.map((x) => x.value)).toEqual(r.layers.map((l) => l.macs / 1e3));
    expect((data[2].itemStyle as { color: string }).color).toBe(colors.highlight);
    expect(data[2].tip).toContain('MACs: 147 KMACs (147,456)');
    expect(o.xAxis.data).toEqual(['a', 'b', 'c', 'j']);
  });

  it('by time, an op fused into another has no bar; the bar it ran in names it', () => {
    const timed = report(spec, true);
    const r = { ...timed, layers: timed.layers.map((l) => (l.id === 'b' ? { ...l, fused_into: 'a', time_ms: { median: 0, p10: 0, p90: 0 }, gflops_per_s: null } : l)) };
    const o = layerBarsOption(r, 'time', null, colors);
    expect(o.xAxis.data).toEqual(['a', 'c', 'j']);
    expect(o.series[0].data.map((x) => x.value)).toEqual([1, 3, 4]);
    expect(o.tooltip.formatter({ data: o.series[0].data[0] })).toContain('includes b (fused)');
    expect(o.tooltip.formatter({ data: o.series[0].data[1] })).not.toContain('fused');
    // Other metrics keep every op.
    expect(layerBarsOption(r, 'flops', null, colors).xAxis.data).toEqual(['a', 'b', 'c', 'j']);
  });

  it('shares FLOPs by layer without times and time with them', () => {
    const untimed = blockShareOption(report(), colors);
    expect(untimed.title.text).toMatch(/FLOPs/);
    const timed = blockShareOption(report(spec, true), colors);
    expect(timed.title.text).toBe('Time share');
    expect(timed.series[0].data.reduce((s, x) => s + x.value, 0)).toBe(1 + 2 + 3 + 4);
  });

  it('puts every timed op with work on the roofline, with its id for selection', () => {
    const r = report(spec, true);
    const o = rooflineOption(r, null, colors);
    const ids = o.series.flatMap((s) => s.data.map((p) => p.id)).sort();
    expect(ids).toEqual(r.layers.filter((l) => l.flops > 0).map((l) => l.id).sort());
    expect(pointCount(rooflineOption(report(), null, colors))).toBe(0);
  });

  it('draws the memory timeline with its peak', () => {
    const r = report();
    const m = memoryTimeline(r);
    const o = memoryOption(m, 'c', colors);
    expect(o.yAxis.name).toBe('KiB');
    expect(o.series[0].data.map((x) => x.value)).toEqual(m.steps.map((s) => s.live / 1024));
    expect(o.series[0].data[2].tip).toContain('live while it runs: 12.0 KiB');
    expect(o.series[0].markPoint!.data[0].coord[1]).toBe(m.peak / 1024);
    expect(o.series[0].markLine!.data[0].xAxis).toBe(2);
  });

  it('compares pinned runs relative to the baseline', () => {
    const a = report(spec, true);
    const bigger = report({ ...spec, layers: spec.layers.map((l) => (l.op === 'conv2d' ? { ...l, params: { ...l.params, out_channels: 16, kernel: 5, padding: 2 } } : l)) }, true);
    const o = compareOption([{ label: 'k3', report: a }, { label: 'k5', report: bigger }], a, colors);
    expect(o.xAxis.data).toEqual(['Params', 'MACs', 'FLOPs', 'Peak memory', 'Time (median)']);
    expect(o.series[0].data.every((v) => v.value === 1)).toBe(true);
    const macsRatio = o.series[1].data[1].value;
    expect(macsRatio).toBeCloseTo(bigger.totals.macs / a.totals.macs);
    expect(macsRatio).toBeGreaterThan(2);
    // Without times, the time group is left out rather than drawn as zero.
    expect(compareOption([{ label: 'x', report: report() }], report(), colors).xAxis.data).not.toContain('Time (median)');
  });
});

describe('charts with many layers, roofs and per-layer compare', () => {
  // 60 ops: more than the 40 over which per-op axes thin their labels and get a zoom slider.
  const long: ModelSpec = { ...spec, layers: Array.from({ length: 60 }, (_, i) => (i % 2 ? { id: `r${i}`, op: 'relu' } : { id: `c${i}`, op: 'conv2d', params: { out_channels: 16, kernel: 3, padding: 1 } })) };

  it('thins and truncates labels and adds a slider past 40 ops; a log axis drops zero bars', () => {
    const r = report(long, true);
    const o = layerBarsOption(r, 'params', null, colors);
    expect(o.xAxis.axisLabel).toMatchObject({ interval: 'auto', hideOverlap: true, overflow: 'truncate' });
    expect(o.dataZoom.map((z) => z.type)).toEqual(['inside', 'slider']);
    expect(layerBarsOption(report(), 'params', null, colors).dataZoom).toEqual([]);
    const log = layerBarsOption(r, 'params', null, colors, { log: true });
    expect(log.yAxis).toMatchObject({ type: 'log', min: 1, name: 'K params (log)' });
    // On a log axis the unit comes from the smallest value, so every bar is at least 1 and rises from the bottom.
    expect(log.series[0].data.filter((d) => d.value !== '-').every((d) => (d.value as number) >= 1)).toBe(true);
    // ReLUs have no params: nothing to draw on a log axis rather than a bar to minus infinity.
    expect(log.series[0].data.filter((d) => d.value === '-')).toHaveLength(30);
    expect(layerBarsOption(r, 'params', null, colors).yAxis.type).toBe('value');
  });

  it('whiskers by time: p10, median and p90 per bar', () => {
    const r = report(spec, true);
    const o = layerBarsOption(r, 'time', null, colors, { whiskers: true });
    expect(o.series.map((s) => s.type)).toEqual(['bar', 'boxplot']);
    expect(o.series[1].data[1].value).toEqual([1, 1, 2, 3, 3]);
    // Sub-millisecond ops on a log axis: microseconds, whiskers included.
    const fast = { ...r, layers: r.layers.map((l) => ({ ...l, time_ms: { median: 0.02, p10: 0.01, p90: 0.04 } })) };
    const log = layerBarsOption(fast, 'time', null, colors, { whiskers: true, log: true });
    expect(log.yAxis.name).toBe('µs (log)');
    expect(log.series[0].data[0].value).toBeCloseTo(20);
    expect((log.series[1].data[0].value as number[]).map((v) => Math.round(v))).toEqual([10, 10, 20, 40, 40]);
  });

  it('draws the measured roofs and says how far from its roof each op is', () => {
    const t = report(spec, true);
    const roof = { peak_gflops_per_s: 100, bandwidth_gb_per_s: 10, measured_by: 'test' };
    const r = { ...t, backend: { name: 'cpu', adapter: 'x', timing: 't', roofline: roof } };
    const o = rooflineOption(r, null, colors);
    const roofs = o.series.filter((s) => s.id?.startsWith('roof-'));
    expect(roofs.map((s) => s.name)).toEqual(['memory roof 10 GB/s', 'compute roof 100 GFLOP/s']);
    // The memory roof rises at the bandwidth up to the ridge (peak / bandwidth = 10 FLOP/byte), then the peak is flat.
    const [m0, m1] = roofs[0].data.map((d) => d.value as [number, number]);
    expect(m0[1] / m0[0]).toBeCloseTo(10);
    expect(m1).toEqual([10, 100]);
    expect(roofs[1].data.map((d) => (d.value as number[])[1])).toEqual([100, 100]);
    // Roofs are not points.
    expect(pointCount(o)).toBe(pointCount(rooflineOption(t, null, colors)));
    const a = r.layers.find((l) => l.id === 'a')!;
    const tip = o.series.find((s) => s.name === 'conv2d')!.data.find((d) => d.id === 'a')!.tip!;
    const bound = Math.min(100, a.arithmetic_intensity * 10);
    expect(tip).toContain(`${percent(a.gflops_per_s! / bound)} of its roof (${gflops(bound)}, compute-bound)`);
    // Without roofs (older reports, inspect) only the points.
    expect(rooflineOption(t, null, colors).series.some((s) => s.id?.startsWith('roof-'))).toBe(false);
  });

  it('lines ops up across runs by id, with deltas and ratios to the baseline', () => {
    const a = report(spec, true);
    const b = report({ ...spec, layers: [...spec.layers, { id: 'extra', op: 'relu' }] }, true);
    const rows = layerCompareRows([a, b], 0);
    expect(rows.map((x) => x.id)).toEqual(['a', 'b', 'c', 'j', 'extra']);
    expect(rows[4].rows[0]).toBeNull();
    expect(layerDelta('macs', 200_000, 100_000)).toEqual({ delta: '+100 KMACs', ratio: '2.00x' });
    expect(layerDelta('time', 1, 2)).toEqual({ delta: '−1.00 ms', ratio: '0.50x' });
    expect(layerDelta('flops', null, 2).ratio).toBe('—');
    const o = compareLayersOption([{ label: 'A', report: a }, { label: 'B', report: b }], 0, 'flops', colors);
    expect(o.xAxis.data).toEqual(['a', 'b', 'c', 'j', 'extra']);
    expect(o.series.map((s) => s.name)).toEqual(['A', 'B']);
    expect(o.series[0].data[4].value).toBe('-');
    expect(o.series[1].data[0].tip).toContain('1.00x the baseline');
  });

  it('serializes options for the HTML report with the tooltip readers named, and refuses other functions', () => {
    const o = layerBarsOption(report(), 'flops', null, colors);
    const back = JSON.parse(serializeOption(o));
    expect(back.tooltip.formatter).toEqual({ $fn: 'tipItem' });
    expect(back.series[0].data[0].tip).toBe(o.series[0].data[0].tip);
    expect(JSON.parse(serializeOption(memoryOption(memoryTimeline(report()), null, colors))).tooltip.formatter).toEqual({ $fn: 'tipAxis' });
    expect(() => serializeOption({ a: { formatter: () => 'x' } })).toThrow(/"formatter" is a function/);
  });
});

describe('graph', () => {
  it('lists ops with their edges, or placed layers when collapsed', () => {
    const s: ModelSpec = { ...spec, layers: [...spec.layers, { id: 'se', block: 'se', params: { reduction: 4 } }] };
    const r = report(s);
    const ops = graphItems(r, false);
    expect(ops.map((i) => i.id)).toEqual(['input', ...r.layers.map((l) => l.id)]);
    expect(ops.find((i) => i.id === 'j')!.inputs).toEqual(['c', 'a']);
    const layers = graphItems(r, true);
    expect(layers.map((i) => i.id)).toEqual(['input', 'a', 'b', 'c', 'j', 'se']);
    expect(layers.find((i) => i.id === 'se')!.inputs).toEqual(['j']);
    expect(layers.find((i) => i.id === 'se')!.title).toBe('se');
  });

  it('lays the DAG out top-down without overlaps', async () => {
    const l = await layoutGraph(report(), false);
    expect(l.nodes).toHaveLength(5);
    expect(l.edges).toHaveLength(5);
    const y = (id: string) => l.nodes.find((n) => n.id === id)!.y;
    expect(y('input')).toBeLessThan(y('a'));
    expect(y('a')).toBeLessThan(y('b'));
    expect(y('c')).toBeLessThan(y('j'));
    for (const a of l.nodes) {
      for (const b of l.nodes) {
        if (a === b) continue;
        const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
        expect(apart, `${a.id} overlaps ${b.id}`).toBe(true);
      }
    }
    for (const e of l.edges) expect(e.points.length).toBeGreaterThanOrEqual(2);
  });
});

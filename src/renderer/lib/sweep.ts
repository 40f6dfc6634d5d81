/**
 * The Sweep tab's pure parts: the definition its form describes, the metrics it charts and the
 * ECharts option of a metric against the swept value. No DOM, so test/renderer-sweep.test.ts
 * checks them directly.
 */
import type { CatalogEntry, PresetFamilyInfo } from '../../shared/protocol.ts';
import type { ModelSpec } from '../../shared/spec.ts';
import { INPUT_DIMS, parseValuesText, SWEEP_FORMAT, sweepMetric, type InputDim, type SweepDefinition, type SweepMetric, type SweepResult } from '../../shared/sweep.ts';
import type { ChartColors } from './charts.ts';
import { bytes, ms, si } from './format.ts';

export const SWEEP_METRIC_OPTIONS: { value: SweepMetric; label: string; format(v: number | null): string }[] = [
  { value: 'macs', label: 'MACs', format: (v) => si(v) },
  { value: 'flops', label: 'FLOPs', format: (v) => si(v) },
  { value: 'params', label: 'Params', format: (v) => si(v) },
  { value: 'peak_bytes', label: 'Peak memory', format: (v) => bytes(v) },
  { value: 'param_bytes', label: 'Weights', format: (v) => bytes(v) },
  { value: 'activation_bytes', label: 'All activations', format: (v) => bytes(v) },
  { value: 'time_ms', label: 'Time (median)', format: (v) => (v === null ? '—' : `${ms(v)} ms`) },
];

export const INPUT_DIM_LABELS: Record<InputDim, string> = { batch: 'batch (N)', channels: 'channels (C)', height: 'height (H)', width: 'width (W)', size: 'size (H = W)' };
export { INPUT_DIMS };

/** What the form holds. */
export interface SweepForm {
  /** '' for the current design, else a parameterised preset's id. */
  family: string;
  familyParams: Record<string, number>;
  kind: 'layer' | 'input' | 'preset';
  layers: string[];
  param: string;
  input: InputDim;
  presetParam: string;
  values: string;
  profile: { backend: string; warmup: number; repeat: number } | null;
}

/** Parameters a sweep can vary: the numeric ones (a pair takes one number for both sides). */
export function sweepableParams(entry: CatalogEntry | undefined): string[] {
  return (entry?.params ?? []).filter((p) => p.type === 'int' || p.type === 'number' || p.type === 'pair').map((p) => p.name);
}

const DEFAULT_VALUES: Record<string, string> = {
  groups: '1,2,4,8',
  reduction: '4,8,16,32',
  dilation: '1,2,3,4',
  kernel: '1,3,5,7',
  stride: '1,2',
  out_channels: '16,32,64,128',
  out_features: '10,100,1000',
  scale: '0.5,1,1.5,2',
  size: '112,160,224',
  height: '112,160,224',
  width: '112,160,224',
  batch: '1,2,4,8',
};

/** A starting list for a parameter; a family's own choices when it has them. */
export function defaultValues(param: string, family?: PresetFamilyInfo): string {
  const choices = family?.parameters.find((p) => p.name === param)?.choices;
  return choices ? choices.join(',') : (DEFAULT_VALUES[param] ?? '1,2,4,8');
}

/** The definition the form describes, or why it describes none. */
export function sweepDefinition(form: SweepForm, spec: ModelSpec): { definition: SweepDefinition } | { error: string } {
  const values = parseValuesText(form.values);
  if ('error' in values) return { error: `values: ${values.error}` };
  let target: SweepDefinition['target'];
  if (form.kind === 'preset') {
    if (!form.family) return { error: 'pick a parameterised preset to vary its parameter' };
    if (!form.presetParam) return { error: 'pick the preset parameter to vary' };
    target = { preset_param: form.presetParam };
  } else if (form.kind === 'input') {
    target = { input: form.input };
  } else {
    if (form.layers.length === 0) return { error: 'pick a layer' };
    if (!form.param) return { error: 'pick the parameter to vary' };
    target = { layer: form.layers.length === 1 ? form.layers[0] : form.layers, param: form.param };
  }
  const fixed = Object.fromEntries(Object.entries(form.familyParams).filter(([k]) => !(form.kind === 'preset' && k === form.presetParam)));
  const model: SweepDefinition['model'] = form.family ? { preset: form.family, params: fixed } : { spec };
  return { definition: { format: SWEEP_FORMAT, model, target, values: values.values, ...(form.profile ? { profile: form.profile } : {}) } };
}

/** The metric against the value: one point per value, a gap where the value gives no model. */
export function sweepChartOption(result: SweepResult, metric: SweepMetric, c: ChartColors) {
  const m = SWEEP_METRIC_OPTIONS.find((x) => x.value === metric)!;
  const data = result.points.map((p) => sweepMetric(p, metric));
  return {
    backgroundColor: 'transparent',
    textStyle: { color: c.text, fontFamily: 'inherit' },
    animationDuration: 250,
    grid: { left: 72, right: 24, top: 24, bottom: 44 },
    tooltip: {
      trigger: 'axis',
      formatter: (ps: { dataIndex: number }[]) => {
        const p = result.points[ps[0].dataIndex];
        return `<b>${result.param} = ${p.value}</b><br/>${p.error ? `no valid model: ${p.error.message}` : `${m.label}: ${m.format(sweepMetric(p, metric))}`}`;
      },
    },
    xAxis: {
      type: 'category',
      name: result.param,
      nameLocation: 'middle' as const,
      nameGap: 28,
      data: result.values.map(String),
      axisLine: { lineStyle: { color: c.grid } },
      axisLabel: { color: c.muted },
      nameTextStyle: { color: c.muted },
    },
    yAxis: {
      type: 'value',
      scale: true,
      axisLine: { lineStyle: { color: c.grid } },
      axisLabel: { color: c.muted, formatter: (v: number) => m.format(v) },
      splitLine: { lineStyle: { color: c.grid, type: 'dashed' as const } },
    },
    series: [
      {
        type: 'line',
        name: m.label,
        data,
        connectNulls: false,
        symbolSize: 8,
        lineStyle: { color: c.accent, width: 2 },
        itemStyle: { color: c.accent },
        label: { show: result.points.length <= 12, position: 'top' as const, color: c.muted, fontSize: 10, formatter: (p: { value: number | null }) => m.format(p.value) },
      },
    ],
  };
}

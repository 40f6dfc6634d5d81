/** The Sweep tab's logic (src/renderer/lib/sweep.ts): the definition its form describes, and what its chart plots. */
import { describe, expect, it } from 'vitest';
import { catalogEntries } from '../src/engine/catalog.ts';
import { parseSweep, runSweep } from '../src/engine/sweep/index.ts';
import type { ChartColors } from '../src/renderer/lib/charts.ts';
import { defaultValues, sweepableParams, sweepChartOption, sweepDefinition, type SweepForm } from '../src/renderer/lib/sweep.ts';
import type { ModelSpec } from '../src/shared/spec.ts';

const colors: ChartColors = { text: '#000', muted: '#666', grid: '#ddd', accent: '#00f', highlight: '#f80', series: ['#111', '#222'] };
const spec: ModelSpec = {
  format: 'convscope/v1',
  name: 'one conv',
  input: { shape: [1, 16, 8, 8] },
  layers: [{ id: 'c', op: 'conv2d', params: { out_channels: 32, kernel: 3, padding: 1 } }],
};
const form = (over: Partial<SweepForm>): SweepForm => ({ family: '', familyParams: {}, kind: 'layer', layers: ['c'], param: 'groups', input: 'size', presetParam: '', values: '1,2,4', profile: null, ...over });

describe('sweep form', () => {
  it('describes definitions the engine accepts', () => {
    const layer = sweepDefinition(form({}), spec);
    expect(layer).toEqual({ definition: { format: 'convscope.sweep/v1', model: { spec }, target: { layer: 'c', param: 'groups' }, values: [1, 2, 4] } });
    const family = sweepDefinition(form({ family: 'shufflenet_v1', familyParams: { groups: 3, scale: 0.5 }, kind: 'preset', presetParam: 'groups', values: '1:8:x2' }), spec);
    // the swept parameter is not also fixed
    expect(family).toMatchObject({ definition: { model: { preset: 'shufflenet_v1', params: { scale: 0.5 } }, target: { preset_param: 'groups' }, values: { from: 1, to: 8, factor: 2 } } });
    const timed = sweepDefinition(form({ kind: 'input', profile: { backend: 'cpu', warmup: 0, repeat: 1 } }), spec);
    expect(timed).toMatchObject({ definition: { target: { input: 'size' }, profile: { backend: 'cpu', warmup: 0, repeat: 1 } } });
    for (const d of [layer, family, timed]) expect(() => parseSweep((d as { definition: unknown }).definition)).not.toThrow();
  });

  it('says what is missing', () => {
    expect(sweepDefinition(form({ values: '1,x' }), spec)).toEqual({ error: 'values: "x" is not a number' });
    expect(sweepDefinition(form({ layers: [] }), spec)).toEqual({ error: 'pick a layer' });
    expect(sweepDefinition(form({ param: '' }), spec)).toEqual({ error: 'pick the parameter to vary' });
    expect(sweepDefinition(form({ kind: 'preset' }), spec)).toEqual({ error: 'pick a parameterised preset to vary its parameter' });
  });

  it('offers the numeric parameters of a layer and starting values for them', () => {
    const entry = catalogEntries().ops.find((e) => e.name === 'conv2d');
    expect(sweepableParams(entry)).toEqual(expect.arrayContaining(['out_channels', 'kernel', 'stride', 'dilation', 'groups']));
    expect(sweepableParams(entry)).not.toContain('bias'); // a boolean has no range
    expect(sweepableParams(catalogEntries().blocks.find((e) => e.name === 'se'))).toEqual(['reduction', 'squeeze_channels']);
    expect(defaultValues('groups')).toBe('1,2,4,8');
    expect(defaultValues('groups', { id: 'f', title: '', description: '', parameters: [{ name: 'groups', help: '', default: 3, choices: [1, 2, 3, 4, 8] }] })).toBe('1,2,3,4,8');
  });
});

describe('sweep chart', () => {
  it('plots one point per value, a gap where the value gives no model', async () => {
    const result = await runSweep((sweepDefinition(form({ values: '1,3,4' }), spec) as { definition: unknown }).definition);
    const option = sweepChartOption(result, 'macs', colors);
    expect(option.xAxis.data).toEqual(['1', '3', '4']);
    expect(option.xAxis.name).toBe('groups');
    expect(option.series[0].data).toEqual([32 * 64 * 16 * 9, null, 32 * 64 * 4 * 9]);
    const tip = option.tooltip.formatter([{ dataIndex: 1 }]);
    expect(tip).toContain('groups = 3');
    expect(tip).toContain('no valid model: layer "c": groups 3');
    expect(option.tooltip.formatter([{ dataIndex: 0 }])).toBe('<b>groups = 1</b><br/>MACs: 295 K');
    expect(sweepChartOption(result, 'time_ms', colors).series[0].data).toEqual([null, null, null]); // counts only
  });
});

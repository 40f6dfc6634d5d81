/**
 * Parameter sweeps (src/engine/sweep): the definition's checks name the field, ranges expand as
 * documented, a value that makes no valid model is that point's error, and the counts at every
 * point are the plan's exact ones, hand-computed here. The ShuffleNet groups sweep shipped in
 * docs/examples reproduces the presets' counts and the paper's Table 2.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CancelledError, SpecError } from '../src/engine/errors.ts';
import { buildPlan } from '../src/engine/graph/plan.ts';
import { getPreset, getPresetFamily } from '../src/engine/presets/index.ts';
import { expandValues, parseSweep, renderSweep, runSweep, type SweepProgressEvent } from '../src/engine/sweep/index.ts';
import type { ModelSpec } from '../src/shared/spec.ts';
import { parseValuesText, SWEEP_FORMAT, sweepResultSchema } from '../src/shared/sweep.ts';

/** One grouped 3x3 conv, 16 -> 32 channels at 8x8 with bias: every count is a one-line formula. */
function convSpec(): ModelSpec {
  return {
    format: 'convscope/v1',
    name: 'one conv',
    input: { shape: [1, 16, 8, 8] },
    layers: [
      { id: 'c', op: 'conv2d', params: { out_channels: 32, kernel: 3, padding: 1 } },
      { id: 'r', op: 'relu' },
    ],
  };
}

const sweep = (rest: Record<string, unknown>) => ({ format: SWEEP_FORMAT, model: { spec: convSpec() }, target: { layer: 'c', param: 'groups' }, values: [1], ...rest });

async function specError(p: Promise<unknown> | (() => unknown)): Promise<SpecError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    if (err instanceof SpecError) return err;
    throw err;
  }
  throw new Error('expected a SpecError');
}

describe('ShuffleNet v1 groups sweep (docs/examples/shufflenet-groups.sweep.json)', () => {
  const def = JSON.parse(readFileSync(new URL('../docs/examples/shufflenet-groups.sweep.json', import.meta.url), 'utf8'));
  // The exact totals test/presets.test.ts locks for shufflenet_v1_g<g>, and Table 2's MFLOPs (mult-adds).
  const known: Record<number, { macs: number; params: number; paper: number }> = {
    1: { macs: 143_078_976, params: 1_530_936, paper: 143 },
    2: { macs: 140_836_512, params: 1_732_848, paper: 140 },
    3: { macs: 137_460_672, params: 1_864_728, paper: 137 },
    4: { macs: 134_339_776, params: 1_967_344, paper: 133 },
    8: { macs: 138_365_952, params: 2_433_768, paper: 137 },
  };

  it('gives the presets\' counts for g = 1, 2, 3, 4, 8 and the paper\'s Table 2', async () => {
    const r = await runSweep(def);
    expect(sweepResultSchema.parse(r)).toEqual(r);
    expect(r.values).toEqual([1, 2, 3, 4, 8]);
    expect(r.param).toBe('groups');
    for (const p of r.points) {
      const want = known[p.value];
      expect(p.error).toBeNull();
      expect(p.totals!.macs).toBe(want.macs);
      expect(p.totals!.params).toBe(want.params);
      expect(p.totals).toEqual(expect.objectContaining({ macs: buildPlan(getPreset(`shufflenet_v1_g${p.value}`)!.build()).totals.macs }));
      // presets.test.ts's tolerance: all layers within 1.5 MMACs of Table 2 ...
      expect(Math.abs(p.totals!.macs / 1e6 - want.paper)).toBeLessThan(1.5);
      // ... and the convolutions alone round to it exactly (Table 2 leaves out the FC)
      expect(Math.round(p.macs_by_op!.conv2d / 1e6)).toBe(want.paper);
      expect(p.macs_by_op!.linear).toBe(p.totals!.macs - p.macs_by_op!.conv2d);
      expect(p.output_shape).toEqual([1, 1000]);
    }
  });
});

describe('shufflenet_v1 preset family', () => {
  const family = getPresetFamily('shufflenet_v1')!;
  const widths = (spec: ModelSpec) => ['stage2.0', 'stage3.0', 'stage4.0'].map((id) => spec.layers.find((l) => l.id === id)!.params!.out_channels);

  it('builds the fixed presets at scale 1', () => {
    for (const g of [1, 2, 3, 4, 8]) expect(family.build({ groups: g, scale: 1 })).toEqual(getPreset(`shufflenet_v1_g${g}`)!.build());
    expect(family.build()).toEqual(getPreset('shufflenet_v1_g3')!.build()); // defaults: g = 3, 1x
  });

  it('scales the widths to multiples of 4g', () => {
    // 0.5x g = 3 and g = 8 are Megvii's own 0.5x widths (120/240/480, 192/384/768)
    expect(widths(family.build({ groups: 3, scale: 0.5 }))).toEqual([120, 240, 480]);
    expect(widths(family.build({ groups: 8, scale: 0.5 }))).toEqual([192, 384, 768]);
    // g = 2: 200 * 0.5 = 100 is no multiple of 8; 12.5 steps round to 13 (104)
    expect(widths(family.build({ groups: 2, scale: 0.5 }))).toEqual([104, 200, 400]);
    expect(family.build({ groups: 3, scale: 0.5 }).name).toBe('ShuffleNet v1 0.5x g3');
  });

  it('refuses values the architecture does not define, naming the parameter', async () => {
    expect((await specError(() => family.build({ groups: 5 }))).message).toBe('preset shufflenet_v1: groups 5 is not one the architecture defines; use 1, 2, 3, 4, 8');
    expect((await specError(() => family.build({ scale: 0 }))).param).toBe('scale');
    expect((await specError(() => family.build({ grups: 2 }))).message).toMatch(/no parameter "grups"; did you mean "groups"\?/);
  });
});

describe('sweep points', () => {
  it('counts a layer parameter at each value, with an invalid value as that point\'s error', async () => {
    const r = await runSweep(sweep({ values: [1, 2, 3, 4, 16] }));
    expect(r.points.map((p) => p.value)).toEqual([1, 2, 3, 4, 16]);
    for (const p of r.points.filter((x) => x.value !== 3)) {
      const g = p.value;
      // [32, 16/g, 3, 3] weights + 32 biases; N * C_out * H * W * (C_in/g) * 9 MACs
      expect(p.totals!.params).toBe(32 * (16 / g) * 9 + 32);
      expect(p.totals!.macs).toBe(32 * 8 * 8 * (16 / g) * 9);
      // 2 * MACs + a bias add per output element + a ReLU per output element
      expect(p.totals!.flops).toBe(2 * 32 * 8 * 8 * (16 / g) * 9 + 2 * 32 * 8 * 8);
      expect(p.output_shape).toEqual([1, 32, 8, 8]);
    }
    const bad = r.points[2];
    expect(bad.totals).toBeNull();
    expect(bad.error).toMatchObject({ layer: 'c', param: 'groups' });
    expect(bad.error!.message).toMatch(/^layer "c": groups 3/);
    expect(r.parameter).toBe('c: groups');
  });

  it('sets the parameter on every layer named', async () => {
    const spec = convSpec();
    spec.layers.push({ id: 'c2', op: 'conv2d', params: { out_channels: 32, kernel: 3, padding: 1 } });
    const r = await runSweep(sweep({ model: { spec }, target: { layer: ['c', 'c2'], param: 'groups' }, values: [1, 4] }));
    const macs = (g: number) => 32 * 64 * (16 / g) * 9 + 32 * 64 * (32 / g) * 9;
    expect(r.points.map((p) => p.totals!.macs)).toEqual([macs(1), macs(4)]);
  });

  it('varies the input size, batch and channels', async () => {
    const size = await runSweep(sweep({ target: { input: 'size' }, values: { from: 4, to: 16, factor: 2 } }));
    expect(size.values).toEqual([4, 8, 16]);
    expect(size.points.map((p) => p.totals!.macs)).toEqual([4, 8, 16].map((hw) => 32 * hw * hw * 16 * 9));
    expect(size.points.map((p) => p.output_shape)).toEqual([4, 8, 16].map((hw) => [1, 32, hw, hw]));
    const batch = await runSweep(sweep({ target: { input: 'batch' }, values: [2] }));
    expect(batch.points[0].totals!.macs).toBe(2 * 32 * 64 * 16 * 9);
    expect(batch.points[0].totals!.peak_bytes).toBe(2 * (32 + 32) * 64 * 4); // the conv output and the ReLU's live together (the input is freed)
    const height = await runSweep(sweep({ target: { input: 'height' }, values: [4] }));
    expect(height.points[0].output_shape).toEqual([1, 32, 4, 8]);
    const channels = await runSweep(sweep({ target: { input: 'channels' }, values: [8, 5] }));
    expect(channels.points[0].totals!.params).toBe(32 * 8 * 9 + 32);
    expect(channels.points[1].totals!.params).toBe(32 * 5 * 9 + 32);
  });

  it('sweeps a block parameter (SE reduction) of a preset by name', async () => {
    const r = await runSweep({ format: SWEEP_FORMAT, model: 'se_resnet50', target: { layer: 'layer4.2', param: 'reduction' }, values: [16, 8] });
    // SE at C = 2048: FCs C -> C/r -> C with bias; halving r adds 2 * 2048 * (256 - 128) weights and 128 biases
    const [r16, r8] = r.points.map((p) => p.totals!);
    expect(r16.params).toBe(28_088_024);
    expect(r8.params - r16.params).toBe(2 * 2048 * 128 + 128);
    expect(r8.macs - r16.macs).toBe(2 * 2048 * 128);
  });

  it('reports each point\'s progress, times through the host and stops on cancel', async () => {
    const events: SweepProgressEvent[] = [];
    const timed: number[] = [];
    const r = await runSweep(sweep({ values: [1, 2], profile: { backend: 'cpu', repeat: 2 } }), {
      profile: async (plan, settings, o) => {
        expect(settings).toEqual({ backend: 'cpu', warmup: 1, repeat: 2 });
        o.onProgress?.({ phase: 'measure', done: 1, total: 2 });
        timed.push(plan.totals.macs);
        return { time_ms: plan.totals.macs / 1e6, backend: { name: 'fake', adapter: 'none', timing: 'made up', fallbacks: ['x'] } };
      },
      onProgress: (e) => events.push(e),
    });
    expect(timed).toEqual([32 * 64 * 16 * 9, 32 * 64 * 8 * 9]);
    expect(r.points.map((p) => p.time_ms)).toEqual(timed.map((m) => m / 1e6));
    expect(r.backend).toEqual({ name: 'fake', adapter: 'none', timing: 'made up', fallbacks: ['x'] });
    expect(events.filter((e) => e.phase === 'measure').map((e) => [e.point, e.points, e.value])).toEqual([
      [0, 2, 1],
      [1, 2, 2],
    ]);
    expect(events.at(-1)).toMatchObject({ point: 1, phase: 'plan', done: 1, total: 1 });

    const controller = new AbortController();
    const run = runSweep(sweep({ values: [1, 2, 4] }), { signal: controller.signal, onProgress: (e) => e.point === 1 && controller.abort() });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
  });
});

describe('sweep definition', () => {
  const cases: [string, unknown, string][] = [
    ['not an object', [1], 'sweep: definition: must be a JSON object'],
    ['format', sweep({ format: 'convscope/v1' }), 'sweep: format: must be "convscope.sweep/v1", got "convscope/v1"'],
    ['no target', { format: SWEEP_FORMAT, model: 'alexnet', values: [1] }, 'sweep: target: required'],
    ['target without param', sweep({ target: { layer: 'c' } }), 'sweep: target.param: required'],
    ['target of no kind', sweep({ target: { param: 'groups' } }), 'sweep: target: give {"layer": id, "param": name}'],
    ['input dim', sweep({ target: { input: 'depth' } }), 'sweep: target.input:'],
    ['a value', sweep({ values: [1, 'two'] }), 'sweep: values[1]: must be a number, got "two"'],
    ['no values', sweep({ values: [] }), 'sweep: values: give at least one value'],
    ['step and factor', sweep({ values: { from: 1, to: 4, step: 1, factor: 2 } }), 'sweep: values: give exactly one of "step" and "factor"'],
    ['range backwards', sweep({ values: { from: 4, to: 1, step: 1 } }), 'sweep: values: "to" (1) is below "from" (4)'],
    ['range too long', sweep({ values: { from: 1, to: 1000, step: 1 } }), 'sweep: values: the range gives more than 200 points'],
    ['unknown field', sweep({ repeat: 3 }), 'sweep: definition: unknown field(s) "repeat"'],
    ['profile field', sweep({ profile: { repeats: 3 } }), 'sweep: profile: unknown field(s) "repeats"'],
  ];
  for (const [what, value, message] of cases) {
    it(`names the field: ${what}`, async () => {
      const err = await specError(() => parseSweep(value));
      expect(err.message.startsWith(message), err.message).toBe(true);
    });
  }

  const runCases: [string, unknown, string][] = [
    ['unknown layer', sweep({ target: { layer: 'cc', param: 'groups' } }), 'sweep: target.layer: "cc" is not a layer of spec "one conv"; did you mean "c"?'],
    ['unknown param', sweep({ target: { layer: 'c', param: 'grups' } }), 'sweep: target.param: layer "c" (conv2d) has no parameter "grups"; did you mean "groups"?'],
    ['unknown preset', { format: SWEEP_FORMAT, model: 'shufflenet_v2', target: { input: 'size' }, values: [1] }, 'sweep: model: "shufflenet_v2" is not a preset; did you mean'],
    ['params of a fixed preset', { format: SWEEP_FORMAT, model: { preset: 'alexnet', params: { groups: 2 } }, target: { input: 'size' }, values: [1] }, 'sweep: model.params: preset alexnet has no parameters'],
    ['preset_param of a fixed preset', { format: SWEEP_FORMAT, model: 'alexnet', target: { preset_param: 'groups' }, values: [1] }, 'sweep: target.preset_param: preset alexnet has no parameters'],
    ['unknown preset_param', { format: SWEEP_FORMAT, model: 'shufflenet_v1', target: { preset_param: 'width' }, values: [1] }, 'sweep: target.preset_param: preset shufflenet_v1 has no parameter "width"'],
    ['profile without a profiler', sweep({ profile: {} }), 'sweep: profile: this host cannot time models'],
  ];
  for (const [what, value, message] of runCases) {
    it(`refuses before any point: ${what}`, async () => {
      const err = await specError(runSweep(value));
      expect(err.message.startsWith(message), err.message).toBe(true);
    });
  }

  it('an invalid swept model is refused as the model\'s error', async () => {
    const spec = convSpec();
    spec.layers[0].params = { out_channels: 32, kernel: 3, groups: 3 };
    const r = await runSweep(sweep({ model: { spec }, target: { input: 'size' }, values: [8] }));
    expect(r.points[0].error!.message).toMatch(/^layer "c": /); // every point says why, none crashes
  });

  it('expands ranges inclusively without drift', () => {
    expect(expandValues({ from: 1, to: 8, factor: 2 })).toEqual([1, 2, 4, 8]);
    expect(expandValues({ from: 0.1, to: 0.5, step: 0.1 })).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(expandValues({ from: 2, to: 9, step: 3 })).toEqual([2, 5, 8]);
    expect(expandValues({ from: 3, to: 3, step: 1 })).toEqual([3]);
    expect(expandValues([4, 1, 2])).toEqual([4, 1, 2]); // a list keeps its order
  });
});

describe('sweep output', () => {
  it('renders CSV with raw counts and Markdown with the error of a bad point', async () => {
    const r = await runSweep(sweep({ values: [1, 3] }));
    const csv = renderSweep(r, 'csv').trimEnd().split('\r\n');
    expect(csv[0]).toBe('value,params,buffers,macs,flops,param_bytes,activation_bytes,peak_bytes,time_ms,output_shape,error');
    expect(csv[1]).toBe(`1,${32 * 16 * 9 + 32},0,${32 * 64 * 16 * 9},${2 * 32 * 64 * 16 * 9 + 2 * 32 * 64},${(32 * 16 * 9 + 32) * 4},${2 * 32 * 64 * 4},${(32 + 32) * 64 * 4},,1x32x8x8,`);
    expect(csv[2]).toMatch(/^3,,,,,,,,,,"layer ""c"": groups 3/);
    const md = renderSweep(r, 'md');
    expect(md).toContain('| groups | params | MACs | FLOPs | weights | peak memory | output | error |');
    expect(md).toContain(`| 1 | 4,640 | 294,912 | 593,920 |`);
    expect(renderSweep(r, 'txt')).toContain('1 of 2 values give no valid model');
    expect(JSON.parse(renderSweep(r, 'json'))).toEqual(r);
  });
});

describe('values typed as text', () => {
  it('reads lists and ranges, and says what is not a number', () => {
    expect(parseValuesText('1,2, 4')).toEqual({ values: [1, 2, 4] });
    expect(parseValuesText('1:8')).toEqual({ values: { from: 1, to: 8, step: 1 } });
    expect(parseValuesText('0.5:2:0.5')).toEqual({ values: { from: 0.5, to: 2, step: 0.5 } });
    expect(parseValuesText('1:8:x2')).toEqual({ values: { from: 1, to: 8, factor: 2 } });
    expect(parseValuesText('1,,2')).toEqual({ error: '"" is not a number' });
    expect(parseValuesText('1:b')).toEqual({ error: '"b" is not a number' });
    expect(parseValuesText('1:8:y2')).toEqual({ error: '"y2" is not a number' });
    expect(parseValuesText('1:2:3:4')).toEqual({ error: 'a range is from:to, from:to:step or from:to:xfactor' });
  });
});

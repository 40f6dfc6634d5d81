/**
 * `convscope sweep` as a user runs it (real child processes, see helpers/cli-process.ts): the
 * shipped ShuffleNet groups definition, the command-line form, the files it writes, timing with
 * --profile, and exit 2 with the reason for every bad argument.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { sweepResultSchema, type SweepResult } from '../src/shared/sweep.ts';
import { describeRun, runCli } from './helpers/cli-process.ts';
import { parseCsv } from './helpers/csv.ts';
import { smallSpec } from './helpers/small-model.ts';

let dir: string;
const at = (name: string) => join(dir, name);
const EXAMPLE = 'docs/examples/shufflenet-groups.sweep.json';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'convscope-sweep-'));
  writeFileSync(at('small.convscope.json'), JSON.stringify(smallSpec()));
  // A definition naming its model relative to itself.
  writeFileSync(at('c1.sweep.json'), JSON.stringify({ format: 'convscope.sweep/v1', model: 'small.convscope.json', target: { layer: 'c1', param: 'out_channels' }, values: [8, 16] }));
  writeFileSync(at('bad.sweep.json'), JSON.stringify({ format: 'convscope.sweep/v1', model: 'alexnet', target: { layer: 'conv1' }, values: [1] }));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.concurrent('convscope sweep', () => {
  it('runs the shipped Table 2 definition and writes .md, .csv and .json', async ({ expect }) => {
    const r = await runCli(['sweep', EXAMPLE, '--out', at('t2.md'), at('t2.csv'), at('t2.json')]);
    expect(r.code, describeRun(r)).toBe(0);
    // test/presets.test.ts: shufflenet_v1_g1..g8 MACs
    for (const macs of ['143,078,976', '140,836,512', '137,460,672', '134,339,776', '138,365,952']) expect(r.stdout).toContain(macs);
    expect(r.stdout).toMatch(/^groups +params +MACs +FLOPs/m);
    expect(readFileSync(at('t2.md'), 'utf8')).toContain('| 3 | 1,864,728 | 137,460,672 |');
    const csv = parseCsv(readFileSync(at('t2.csv'), 'utf8'));
    expect(csv.map((row) => [row[0], row[3]])).toEqual([
      ['value', 'macs'],
      ['1', '143078976'],
      ['2', '140836512'],
      ['3', '137460672'],
      ['4', '134339776'],
      ['8', '138365952'],
    ]);
    const json = sweepResultSchema.parse(JSON.parse(readFileSync(at('t2.json'), 'utf8')));
    expect(json.points.map((p) => Math.round(p.macs_by_op!.conv2d / 1e6))).toEqual([143, 140, 137, 133, 137]); // Table 2, convolutions only
  });

  it('takes the sweep from options: a preset parameter with another fixed, and a layer of a file', async ({ expect }) => {
    const [family, layer, rel] = await Promise.all([
      runCli(['sweep', 'shufflenet_v1', '--preset-param', 'groups', '--values', '3,8', '--set', 'scale=0.5', '--json']),
      runCli(['sweep', at('small.convscope.json'), '--layer', 'c1', '--param', 'out_channels', '--values', '8:32:x2', '--json']),
      runCli(['sweep', at('c1.sweep.json'), '--json']),
    ]);
    expect(family.code, describeRun(family)).toBe(0);
    const f = JSON.parse(family.stdout) as SweepResult;
    expect(f.model).toBe('preset shufflenet_v1 (scale 0.5)');
    expect(f.points.map((p) => p.error)).toEqual([null, null]);

    expect(layer.code, describeRun(layer)).toBe(0);
    const l = JSON.parse(layer.stdout) as SweepResult;
    expect(l.values).toEqual([8, 16, 32]);
    // C = c1's out_channels: c1 [C, 3, 3, 3] + C, bn 2C, SE (r = 4, FCs with bias) C*C/4 + C/4 + C/4*C + C,
    // fc [10, C] + 10: C^2 / 2 + 41.25 C + 10
    expect(l.points.map((p) => p.totals!.params)).toEqual([8, 16, 32].map((c) => (c * c) / 2 + 41.25 * c + 10));

    expect(rel.code, describeRun(rel)).toBe(0);
    expect((JSON.parse(rel.stdout) as SweepResult).points.map((p) => p.totals!.params)).toEqual(l.points.slice(0, 2).map((p) => p.totals!.params));
  });

  it('times every point with --profile', async ({ expect }) => {
    const r = await runCli(['sweep', at('small.convscope.json'), '--input', 'size', '--values', '16,32', '--profile', '--backend', 'cpu', '--warmup', '0', '--repeat', '1', '--json'], { timeoutMs: 120_000 });
    expect(r.code, describeRun(r)).toBe(0);
    const s = JSON.parse(r.stdout) as SweepResult;
    expect(s.backend!.name).toBe('cpu');
    for (const p of s.points) expect(p.time_ms).toBeGreaterThan(0);
    expect(r.stderr).toContain('1/2: 16');
  });

  it('exits 2 with the reason for bad arguments', async ({ expect }) => {
    const cases: [string[], RegExp][] = [
      [['sweep', 'alexnet', '--layer', 'conv1', '--param', 'groups'], /--values is required/],
      [['sweep', 'alexnet', '--values', '1,2'], /say what to sweep/],
      [['sweep', 'alexnet', '--layer', 'conv9', '--param', 'groups', '--values', '1'], /sweep: target\.layer: "conv9" is not a layer of preset alexnet; did you mean "conv1"\?/],
      [['sweep', 'alexnet', '--layer', 'conv1', '--param', 'groups', '--values', '1,two'], /--values 1,two: "two" is not a number/],
      [['sweep', 'alexnet', '--layer', 'conv1', '--param', 'groups', '--values', '2'], /no value of conv1: groups gives a valid model; at 2: layer "conv1": groups 2 does not divide the 3 input channels/],
      [['sweep', 'alexnet', '--input', 'depth', '--values', '1'], /--input depth: use one of batch, channels, height, width, size/],
      [['sweep', at('bad.sweep.json')], /sweep: target\.param: required/],
      [['sweep', at('c1.sweep.json'), '--values', '1'], /is a sweep definition: its target and values are in the file/],
      [['sweep', EXAMPLE, '--out', at('t.xlsx')], /--out .*t\.xlsx: cannot tell the format from "\.xlsx"/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(args)));
    runs.forEach((r, i) => {
      expect(r.code, describeRun(r)).toBe(2);
      expect(r.stderr, describeRun(r)).toMatch(cases[i][1]);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    });
  });
});

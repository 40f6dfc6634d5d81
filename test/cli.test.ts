/**
 * The `convscope` command as a user runs it: real child processes (`node bin/convscope.mjs`),
 * real files, exit statuses and what lands on stdout versus stderr. Every test starts its
 * processes at once (see helpers/cli-process.ts) and the tests themselves run concurrently.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it, type ExpectStatic } from 'vitest';
import { buildProgram } from '../src/cli/main.ts';
import { buildPlan } from '../src/engine/graph/plan.ts';
import { readNpy, writeNpy } from '../src/engine/npy.ts';
import { getPreset, PRESETS } from '../src/engine/presets/index.ts';
import { parseReport } from '../src/engine/report/json.ts';
import { fillUniform } from '../src/engine/rng.ts';
import type { Report } from '../src/shared/report.ts';
import { describeRun, runCli, type CliResult } from './helpers/cli-process.ts';
import { firstBitDifference, referenceForward, smallSpec } from './helpers/small-model.ts';
import { parseCsv } from './helpers/csv.ts';

let dir: string;
const at = (name: string) => join(dir, name);
const SPEC = () => at('small.convscope.json');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'convscope-cli-'));
  writeFileSync(SPEC(), JSON.stringify(smallSpec(), null, 2));
  writeFileSync(at('broken.convscope.json'), '{\n  "format": "convscope/v1",\n  "name": "oops"\n  "layers": []\n}\n');
  const bad = smallSpec();
  bad.layers[0].params = { out_channels: 10, kernel: 3, groups: 3 };
  writeFileSync(at('invalid.convscope.json'), JSON.stringify(bad));
  // A user's input: values the seed would never produce, and a second batch size.
  const x1 = fillUniform(new Float32Array(3 * 32 * 32), 1234, -3, 3);
  writeFileSync(at('x1.npy'), writeNpy([1, 3, 32, 32], x1));
  const x2 = fillUniform(new Float32Array(2 * 3 * 32 * 32), 99, -1, 1);
  writeFileSync(at('x2.npy'), writeNpy([2, 3, 32, 32], x2));
  writeFileSync(at('wrong-shape.npy'), writeNpy([1, 3, 16, 16], new Float32Array(3 * 16 * 16)));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The model's output as a .npy file the CLI wrote. */
/** |got - want| <= rel * max(1, max |want|), element by element. */
function expectCloseTo(got: Float32Array, want: Float32Array, rel: number): void {
  if (got.length !== want.length) throw new Error(`length ${got.length}, expected ${want.length}`);
  const scale = Math.max(1, ...Array.from(want, Math.abs));
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= rel * scale)) throw new Error(`element ${i}: got ${got[i]}, expected ${want[i]} (tolerance ${rel} x ${scale})`);
  }
}

function readOutput(path: string) {
  return readNpy(readFileSync(path), path);
}

function sum(rows: Report['layers'], key: 'params' | 'buffers' | 'macs' | 'flops'): number {
  return rows.reduce((s, r) => s + r[key], 0);
}


describe.concurrent('convscope CLI', () => {
  describe('help', () => {
    it('--help and <command> --help exit 0 and describe every command and option', async ({ expect }) => {
      const program = buildProgram();
      const commands = program.commands.map((c) => c.name());
      // DESIGN.md's CLI section: the commands and options users and scripts rely on.
      expect(commands).toEqual(expect.arrayContaining(['presets', 'ops', 'inspect', 'profile', 'run']));
      const required: Record<string, string[]> = {
        presets: ['--json'],
        ops: ['--json'],
        inspect: ['--json', '--out', '--batch'],
        profile: ['--backend', '--warmup', '--repeat', '--batch', '--out', '--trace', '--json', '--threads', '--quiet'],
        run: ['--backend', '--input', '--output', '--batch', '--threads'],
        sweep: ['--layer', '--param', '--input', '--preset-param', '--values', '--profile', '--backend', '--out', '--json'],
      };
      const [top, ...subs] = await Promise.all([runCli(['--help']), ...commands.map((c) => runCli([c, '--help']))]);
      const flat = (s: string) => s.replace(/\s+/g, ' ');

      expect(top.code, describeRun(top)).toBe(0);
      expect(top.stdout).toMatch(/^Usage: convscope/);
      for (const c of program.commands) expect(flat(top.stdout), c.name()).toContain(flat(`${c.name()}`));
      expect(top.stdout).toContain('--version');

      program.commands.forEach((cmd, i) => {
        const r = subs[i];
        expect(r.code, describeRun(r)).toBe(0);
        expect(r.stderr, describeRun(r)).toBe('');
        const help = flat(r.stdout);
        expect(help).toContain(`Usage: convscope ${cmd.name()}`);
        expect(help).toContain(flat(cmd.description()));
        for (const flag of required[cmd.name()] ?? []) expect(help, `${cmd.name()} ${flag}`).toContain(flag);
        for (const opt of cmd.options) {
          expect(opt.description.length, `${cmd.name()} ${opt.long} has a description`).toBeGreaterThan(0);
          expect(help, `${cmd.name()} ${opt.long}`).toContain(opt.long!);
          expect(help, `${cmd.name()} ${opt.long}`).toContain(flat(opt.description));
        }
      });
      // profile states its defaults, since a report records them.
      const profileHelp = flat(subs[commands.indexOf('profile')].stdout);
      expect(profileHelp).toMatch(/--warmup <n>.*\(default: 1\)/);
      expect(profileHelp).toMatch(/--repeat <n>.*\(default: 5\)/);
    });
  });

  describe('presets and ops', () => {
    it('presets --json lists all 12 presets with their counts; the plain listing has one line each', async ({ expect }) => {
      const [json, plain, ops] = await Promise.all([runCli(['presets', '--json']), runCli(['presets']), runCli(['ops', '--json'])]);
      expect(json.code, describeRun(json)).toBe(0);
      const rows = JSON.parse(json.stdout) as { id: string; title: string; params: number; macs: number; input_shape: number[]; source: string }[];
      expect(rows).toHaveLength(12);
      expect(rows.map((r) => r.id)).toEqual([...PRESETS.keys()]);
      for (const r of rows) {
        const plan = buildPlan(getPreset(r.id)!.build());
        expect({ id: r.id, params: r.params, macs: r.macs, input_shape: r.input_shape }).toEqual({
          id: r.id,
          params: plan.totals.params,
          macs: plan.totals.macs,
          input_shape: plan.inputShape,
        });
        expect(r.title.length).toBeGreaterThan(0);
        expect(r.source.length).toBeGreaterThan(0);
      }

      expect(plain.code, describeRun(plain)).toBe(0);
      const lines = plain.stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(12);
      for (const id of PRESETS.keys()) expect(lines.some((l) => l.startsWith(`${id} `))).toBe(true);

      expect(ops.code, describeRun(ops)).toBe(0);
      const names = (JSON.parse(ops.stdout) as { kind: string; name: string }[]).map((o) => `${o.kind}:${o.name}`);
      expect(names).toEqual(expect.arrayContaining(['op:conv2d', 'op:deform_conv2d', 'op:channel_shuffle', 'block:shufflenet_unit', 'block:se']));
    });
  });

  describe('inspect', () => {
    // Figures from /work/shared/reference/published-figures.md; each line names the original source.
    const published: Record<string, (r: Report, expect: ExpectStatic) => void> = {
      shufflenet_v1_g3: (r, expect) => {
        // Zhang et al. 2017, Table 2: 137 MFLOPs (= mult-adds), 1x g3; Megvii ShuffleNet-Series README: 1.9M params, 138M.
        expect(Math.round(r.totals.params / 1e5) / 10).toBe(1.9);
        expect(Math.abs(r.totals.macs / 1e6 - 137)).toBeLessThan(1.5);
        expect(r.totals.macs).toBe(137_460_672);
      },
      xception: (r, expect) => {
        // Chollet 2017; Keras applications: 22,855,952 trainable + 54,528 BN running stats = 22,910,480 ("22.9M").
        expect(r.totals.params).toBe(22_855_952);
        expect(r.totals.buffers).toBe(54_528);
        expect(r.model.input_shape).toEqual([1, 3, 299, 299]);
      },
      se_resnet50: (r, expect) => {
        // Hu et al. 2018 (SENet), Table 1/2: 28.1M params; MACs = ResNet-50's 4,089,184,256 (torchvision) + ~2.5M for the SE FCs.
        expect(r.totals.params).toBe(28_088_024);
        const se = r.totals.macs - 4_089_184_256;
        expect(se).toBeGreaterThan(2.4e6);
        expect(se).toBeLessThan(2.6e6);
      },
      alexnet: (r, expect) => {
        // Krizhevsky et al. 2012, two groups in conv2/4/5 at 227x227: 60,965,224 params, 724,406,816 MACs.
        expect(r.totals.params).toBe(60_965_224);
        expect(r.totals.macs).toBe(724_406_816);
        expect(r.model.input_shape).toEqual([1, 3, 227, 227]);
      },
      mobilenet_v1: (r, expect) => {
        // Howard et al. 2017, Table 1/8: 4.2M params (4,231,976 with BN gamma/beta), 569M mult-adds (568,740,352).
        expect(r.totals.params).toBe(4_231_976);
        expect(r.totals.macs).toBe(568_740_352);
      },
    };

    it('inspect <preset> --json prints a convscope.report/v1 with the published totals and no times', async ({ expect }) => {
      const ids = Object.keys(published);
      const runs = await Promise.all(ids.map((id) => runCli(['inspect', id, '--json'])));
      ids.forEach((id, i) => {
        const run = runs[i];
        expect(run.code, describeRun(run)).toBe(0);
        const report = parseReport(run.stdout); // the whole of stdout is the report: nothing else mixed in
        published[id](report, expect);
        const plan = buildPlan(getPreset(id)!.build());
        expect(report.totals).toEqual({
          params: plan.totals.params,
          buffers: plan.totals.buffers,
          macs: plan.totals.macs,
          flops: plan.totals.flops,
          param_bytes: plan.totals.paramBytes,
          activation_bytes: plan.totals.activationBytes,
          peak_bytes: plan.totals.peakBytes,
          time_ms: null,
        });
        expect(report.layers.map((l) => l.id)).toEqual(plan.nodes.map((n) => n.id));
        for (const key of ['params', 'buffers', 'macs', 'flops'] as const) expect(sum(report.layers, key), `${id} ${key}`).toBe(report.totals[key]);
        expect(report.layers.every((l) => l.time_ms === null && l.gflops_per_s === null), id).toBe(true);
        expect(report.backend).toBeNull();
        expect(report.model.output_shape).toEqual([1, 1000]);
        expect(report.model.spec).toEqual(getPreset(id)!.build());
      });
    });

    it('inspect <spec file> prints the layer table and writes --out reports without executing', async ({ expect }) => {
      const r = await runCli(['inspect', SPEC(), '--out', at('inspect.json'), at('inspect.md')]);
      expect(r.code, describeRun(r)).toBe(0);
      const plan = buildPlan(smallSpec());
      for (const node of plan.nodes) expect(r.stdout).toMatch(new RegExp(`^${node.id.replace('/', '\\/')}\\s+${node.op}\\s`, 'm'));
      expect(r.stdout).toContain(`params    ${plan.totals.params.toLocaleString('en-US')}`);
      expect(r.stdout).not.toMatch(/median ms/);
      const report = parseReport(readFileSync(at('inspect.json'), 'utf8'));
      expect(report.totals.time_ms).toBeNull();
      expect(readFileSync(at('inspect.md'), 'utf8')).toContain('not profiled');
      expect(r.stderr).toContain(`wrote ${at('inspect.json')}`);
    });
  });

  describe('profile', () => {
    it('--no-fuse times every op on its own: no row ran inside another, the batch norm has its own time', async ({ expect }) => {
      const r = await runCli(['profile', SPEC(), '--backend', 'cpu', '--warmup', '0', '--repeat', '2', '--no-fuse', '--json', '--quiet']);
      expect(r.code, describeRun(r)).toBe(0);
      const report = parseReport(r.stdout);
      expect(report.layers.filter((l) => l.fused_into)).toEqual([]);
      const bn = report.layers.find((l) => l.id === 'bn')!;
      expect(bn.time_ms!.median).toBeGreaterThan(0);
      expect(bn.gflops_per_s).not.toBeNull();
    });

    it('writes json, html, csv, md and a trace that agree, with positive times; progress on stderr only', async ({ expect }) => {
      const outs = ['r.json', 'r.html', 'r.csv', 'r.md'].map(at);
      const [json, table] = await Promise.all([
        runCli(['profile', SPEC(), '--backend', 'cpu', '--warmup', '1', '--repeat', '3', '--out', ...outs, '--trace', at('t.json'), '--json']),
        runCli(['profile', SPEC(), '--backend', 'cpu', '--warmup', '0', '--repeat', '2', '--threads', '1', '--quiet']),
      ]);
      expect(json.code, describeRun(json)).toBe(0);
      const plan = buildPlan(smallSpec());
      const n = plan.nodes.length;

      // Progress: one line per phase, in order, on stderr (not a TTY here); stdout is pure JSON.
      const phases = json.stderr.split('\n').filter((l) => /^(first run|warm-up|measuring)\.\.\.$/.test(l));
      expect(phases, describeRun(json)).toEqual(['first run...', 'warm-up...', 'measuring...']);
      const fromStdout = parseReport(json.stdout);
      for (const path of [...outs, at('t.json')]) expect(json.stderr).toContain(`wrote ${path}`);

      const report = parseReport(readFileSync(at('r.json'), 'utf8'));
      expect(fromStdout).toEqual(report);
      expect(report.layers).toHaveLength(n);
      expect(report.layers.map((l) => l.id)).toEqual(plan.nodes.map((x) => x.id));
      expect(report.totals.params).toBe(plan.totals.params);
      expect(report.totals.macs).toBe(plan.totals.macs);
      expect(report.totals.flops).toBe(plan.totals.flops);
      expect(report.backend).toMatchObject({ name: 'cpu', warmup: 1, repeat: 3 });
      expect(report.backend!.first_run_ms).toBeGreaterThan(0);
      expect(report.totals.time_ms).toBeGreaterThan(0);
      expect(report.totals.time_ms).toBe(report.backend!.e2e_ms!.median);
      // The CPU folds bn into c1 and applies r1 in c1's kernel (se/relu in se/fc1's): those rows say so and have no time of their own.
      expect(Object.fromEntries(report.layers.filter((l) => l.fused_into).map((l) => [l.id, l.fused_into]))).toEqual({ bn: 'c1', r1: 'c1', 'se/relu': 'se/fc1' });
      for (const l of report.layers) {
        const t = l.time_ms!;
        expect(t, l.id).not.toBeNull();
        for (const v of [t.median, t.p10, t.p90]) {
          expect(Number.isFinite(v), l.id).toBe(true);
          if (l.fused_into) expect(v, l.id).toBe(0);
          else expect(v, l.id).toBeGreaterThan(0);
        }
        expect(t.p10 <= t.median && t.median <= t.p90, `${l.id}: p10 <= median <= p90`).toBe(true);
        if (l.fused_into) expect(l.gflops_per_s, l.id).toBeNull();
        else if (l.flops > 0) expect(l.gflops_per_s!, l.id).toBeCloseTo(l.flops / (t.median * 1e6), 9);
      }

      // CSV: a header and one row per layer, the same counts and (to the printed precision) times.
      const csv = parseCsv(readFileSync(at('r.csv'), 'utf8'));
      const head = csv[0];
      expect(csv).toHaveLength(n + 1);
      const col = (name: string) => {
        const i = head.indexOf(name);
        expect(i, `CSV column ${name}`).toBeGreaterThanOrEqual(0);
        return i;
      };
      report.layers.forEach((l, i) => {
        const cells = csv[i + 1];
        expect(cells).toHaveLength(head.length);
        expect(cells[col('id')]).toBe(l.id);
        expect(Number(cells[col('params')])).toBe(l.params);
        expect(Number(cells[col('macs')])).toBe(l.macs);
        expect(Number(cells[col('flops')])).toBe(l.flops);
        expect(cells[col('formula')]).toBe(l.formula);
        const median = Number(cells[col('time_median_ms')]);
        if (l.fused_into) expect(median, l.id).toBe(0);
        else expect(Math.abs(median - l.time_ms!.median) / l.time_ms!.median, l.id).toBeLessThan(1e-4);
      });

      // Markdown: one table row per layer plus a totals row with the exact counts.
      const md = readFileSync(at('r.md'), 'utf8');
      const mdRows = md.split('\n').filter((l) => /^\| \d+ \| /.test(l));
      expect(mdRows).toHaveLength(n);
      mdRows.forEach((line, i) => expect(line).toContain(`| ${report.layers[i].id} |`));
      expect(md).toMatch(new RegExp(`\\| \\*\\*total\\*\\* \\|.*\\| ${plan.totals.params.toLocaleString('en-US')} \\| ${plan.totals.macs.toLocaleString('en-US')} \\| ${plan.totals.flops.toLocaleString('en-US')} \\|`));

      // HTML: one table row per layer, and the very report embedded for its charts.
      const html = readFileSync(at('r.html'), 'utf8');
      expect(html.match(/<tr data-i="/g)).toHaveLength(n);
      const embedded = /<script type="application\/json" id="convscope-report">([\s\S]*?)<\/script>/.exec(html);
      expect(embedded).not.toBeNull();
      expect(JSON.parse(embedded![1])).toEqual(report);

      // Trace: one complete event per layer with the median as its duration, plus one per block.
      const trace = JSON.parse(readFileSync(at('t.json'), 'utf8')) as { traceEvents: { name: string; ph: string; cat?: string; dur?: number }[] };
      const opEvents = trace.traceEvents.filter((e) => e.ph === 'X' && e.cat !== 'block');
      expect(opEvents.map((e) => e.name)).toEqual(report.layers.map((l) => l.id));
      opEvents.forEach((e, i) => expect(e.dur!).toBeCloseTo(report.layers[i].time_ms!.median * 1000, 2));
      expect(trace.traceEvents.filter((e) => e.cat === 'block').map((e) => e.name)).toEqual(['se']);

      // The plain run: a table with a timing column on stdout, and --quiet keeps stderr free of progress.
      expect(table.code, describeRun(table)).toBe(0);
      expect(table.stderr, describeRun(table)).not.toMatch(/first run|warm-up|measuring/);
      expect(table.stdout).toMatch(/median ms/);
      const fusedInto = new Map(report.layers.map((l) => [l.id, l.fused_into]));
      for (const node of plan.nodes) {
        const fused = fusedInto.get(node.id);
        // A fused op's time column names the op it ran in.
        const time = fused ? `in ${fused.replace('/', '\\/')}` : '\\d\\.\\d{1,3}\\s+\\S+';
        expect(table.stdout).toMatch(new RegExp(`^${node.id.replace('/', '\\/')}\\s+${node.op}\\s.*${time}\\s*$`, 'm'));
      }
      expect(table.stdout).toMatch(/^backend {3}cpu on .*1 thread\b/m);
      expect(table.stdout).toMatch(/^time {6}\d+\.\d\d ms median end to end/m);
    });
  });

  describe('run', () => {
    it('writes the output as .npy, the same every time and the same as the engine in-process', async ({ expect }) => {
      const ys = ['seed-a', 'seed-b', 'x1-a', 'x1-b', 'x2', 'auto'].map((n) => at(`y-${n}.npy`));
      const cpu = ['--backend', 'cpu'];
      const runs = await Promise.all([
        runCli(['run', SPEC(), '--output', ys[0], ...cpu]),
        runCli(['run', SPEC(), '--output', ys[1], ...cpu, '--threads', '1']),
        runCli(['run', SPEC(), '--input', at('x1.npy'), '--output', ys[2], ...cpu]),
        runCli(['run', SPEC(), '--input', at('x1.npy'), '--output', ys[3], ...cpu, '--threads', '2']),
        runCli(['run', SPEC(), '--input', at('x2.npy'), '--output', ys[4], ...cpu]),
        runCli(['run', SPEC(), '--output', ys[5]]),
      ]);
      for (const r of runs) {
        expect(r.code, describeRun(r)).toBe(0);
        expect(r.stdout).toBe('');
      }
      const [seedA, seedB, x1A, x1B, x2, auto] = ys.map(readOutput);
      const plan = buildPlan(smallSpec());
      for (const y of [seedA, seedB, x1A, x1B, auto]) expect(y.shape).toEqual(plan.outputShape);
      expect(x2.shape).toEqual([2, ...plan.outputShape.slice(1)]);
      expect(seedA.data.every(Number.isFinite)).toBe(true);

      // Determinism: the same seed (or the same input file) gives the same bits, on any thread count.
      expect(firstBitDifference(seedA.data, seedB.data)).toBe(-1);
      expect(firstBitDifference(x1A.data, x1B.data)).toBe(-1);
      expect(readFileSync(ys[0]).equals(readFileSync(ys[1]))).toBe(true);

      // And the in-process reference kernels compute the same values: the CPU backend's SIMD
      // kernels sum in another order (1e-5 relative); any backend `auto` picks, a GPU's included,
      // agrees to 1e-4 relative, the tolerance of the op parity tests.
      expectCloseTo(seedA.data, referenceForward(plan), 1e-5);
      const x1 = readNpy(readFileSync(at('x1.npy')));
      expectCloseTo(x1A.data, referenceForward(plan, x1.data), 1e-5);
      const x2in = readNpy(readFileSync(at('x2.npy')));
      expectCloseTo(x2.data, referenceForward(buildPlan(smallSpec(), { batch: 2 }), x2in.data), 1e-5);
      expectCloseTo(auto.data, referenceForward(plan), 1e-4);
      // The input file is really used: a different input gives a different output.
      expect(firstBitDifference(seedA.data, x1A.data)).not.toBe(-1);
    });
  });

  describe('bad arguments and models: exit 2 and one line saying why', () => {
    // [args, the reason stderr must give]; files are made in beforeAll.
    const cases: [string, () => string[], RegExp][] = [
      ['unknown command', () => ['frobnicate'], /unknown command 'frobnicate'/],
      ['unknown option', () => ['inspect', 'alexnet', '--frob'], /unknown option '--frob'/],
      ['missing model', () => ['inspect'], /missing required argument 'model'/],
      ['nonexistent file', () => ['inspect', at('missing.convscope.json')], /^convscope: file not found: .*missing\.convscope\.json$/],
      ['nonexistent .onnx', () => ['profile', 'models/nope.onnx'], /^convscope: file not found: models\/nope\.onnx$/],
      ['a misspelt preset', () => ['inspect', 'alexnt'], /model "alexnt" is neither a file nor a preset; did you mean "alexnet"\?; presets: alexnet,/],
      ['a word that is no preset', () => ['inspect', 'frobnicator'], /model "frobnicator" is neither a file nor a preset; presets: alexnet,/],
      ['a misspelt command', () => ['profil', 'alexnet'], /unknown command 'profil'/],
      ['a misspelt option', () => ['profile', 'alexnet', '--repet', '3'], /unknown option '--repet'/],
      ['a misspelt --backend', () => ['profile', SPEC(), '--backend', 'cpuu'], /--backend "cpuu" is unknown; did you mean "cpu"\? choose auto, webgpu, cpu/],
      ['invalid JSON', () => ['inspect', at('broken.convscope.json')], /broken\.convscope\.json: not valid JSON \(.*line 4/],
      ['invalid spec', () => ['inspect', SPEC().replace('small', 'invalid')], /c1.*(out_channels|groups)/],
      ['a directory as the model', () => ['inspect', dir], /is a directory/],
      ['--repeat 0', () => ['profile', SPEC(), '--repeat', '0'], /--repeat must be an integer >= 1/],
      ['--warmup -1', () => ['profile', SPEC(), '--warmup=-1'], /--warmup must be an integer >= 0/],
      ['--backend nope', () => ['profile', SPEC(), '--backend', 'nope'], /--backend "nope" is unknown; choose auto, webgpu, cpu/],
      ['--out r.xyz', () => ['inspect', SPEC(), '--out', at('r.xyz')], /r\.xyz: cannot tell the report format from the extension "\.xyz"/],
      ['--out into a missing folder', () => ['inspect', SPEC(), '--out', at('no/such/dir/r.json')], /r\.json: cannot write it \(ENOENT/],
      ['.npy of the wrong shape', () => ['run', SPEC(), '--input', at('wrong-shape.npy'), '--output', at('never.npy')], /has shape \[1, 3, 16, 16\], the model takes \[N, 3, 32, 32\]/],
      ['--input that is not .npy', () => ['run', SPEC(), '--input', SPEC(), '--output', at('never.npy')], /not a \.npy file \(bad magic\)/],
      ['--input that does not exist', () => ['run', SPEC(), '--input', at('nope.npy'), '--output', at('never.npy')], /nope\.npy: cannot read it \(ENOENT/],
      ['run without --output', () => ['run', SPEC()], /required option '--output <y\.npy>' not specified/],
    ];
    for (const [name, args, reason] of cases) {
      it(name, async ({ expect }) => {
        const r: CliResult = await runCli(args());
        expect(r.code, describeRun(r)).toBe(2);
        expect(r.stdout, describeRun(r)).toBe('');
        const lines = r.stderr.trimEnd().split('\n');
        expect(lines[0], describeRun(r)).toMatch(reason);
        // The reason is one line; commander may add its suggestion and its pointer to --help, nothing else.
        expect(lines.slice(1).every((l) => l === '(run with --help for usage)' || /^\(Did you mean [\w-]+\?\)$/.test(l)), describeRun(r)).toBe(true);
        if (name === 'a misspelt command') expect(lines[1]).toBe('(Did you mean profile?)');
        if (name === 'a misspelt option') expect(lines[1]).toBe('(Did you mean --repeat?)');
        expect(r.stderr, describeRun(r)).not.toMatch(/^\s+at |internal error|Error:/m);
        expect(existsSync(at('never.npy')), 'a failed run writes no output').toBe(false);
      });
    }

    it('a bad --out extension is refused before profiling, and no report file is written', async ({ expect }) => {
      const r = await runCli(['profile', SPEC(), '--out', at('early.json'), at('early.txt')]);
      expect(r.code, describeRun(r)).toBe(2);
      expect(r.stderr).not.toMatch(/first run|measuring/);
      expect(existsSync(at('early.json'))).toBe(false);
      expect(existsSync(at('early.txt'))).toBe(false);
    });

    it('no command at all shows the usage on stderr and exits 2', async ({ expect }) => {
      const r = await runCli([]);
      expect(r.code, describeRun(r)).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^Usage: convscope/);
    });
  });
});

/**
 * `convscope bench`: case selection, the cross-check that keeps a fast wrong answer from winning,
 * the report's structure on a tiny subset (quick mode), the Markdown rendering and the CLI. No
 * assertion here is about speed.
 */
import { describe, expect, it } from 'vitest';
import { BENCH_CASES, selectCases } from '../src/engine/bench/cases.ts';
import { crossCheck, scaledError } from '../src/engine/bench/compare.ts';
import { renderBenchMarkdown } from '../src/engine/bench/markdown.ts';
import { importPeer, PeerMissing } from '../src/engine/bench/peers/load.ts';
import { nchwToNhwc, nhwcToNchw } from '../src/engine/bench/peers/tfjs.ts';
import { BENCH_SCHEMA, type BenchReport } from '../src/engine/bench/report.ts';
import { REFERENCE, runBench } from '../src/engine/bench/run.ts';
import { SpecError } from '../src/engine/errors.ts';
import { runCli } from './helpers/cli-process.ts';

describe('case selection (--cases)', () => {
  it('takes ids, groups and prefixes, in the table order', () => {
    expect(selectCases('matmul,conv3x3').map((c) => c.id)).toEqual(['conv3x3', 'matmul']);
    expect(selectCases('models').every((c) => c.group === 'models')).toBe(true);
    expect(selectCases('shufflenet_*').map((c) => c.id)).toEqual(['shufflenet_gconv1x1', 'shufflenet_shuffle', 'shufflenet_dw3x3', 'shufflenet_v1_g3']);
    expect(selectCases(undefined)).toHaveLength(BENCH_CASES.length);
  });

  it('refuses a term that matches nothing, listing the ids', () => {
    expect(() => selectCases('conv3x3,convv')).toThrow(SpecError);
    expect(() => selectCases('convv')).toThrow(/"convv" matches no case; cases are conv3x3, /);
  });

  it('every case builds its plan, with the work it is named after', () => {
    for (const c of BENCH_CASES) {
      const plan = c.plan();
      expect(plan.nodes.length).toBeGreaterThan(0);
      if (c.group === 'models') expect(plan.inputShape[0]).toBe(1);
    }
    expect(BENCH_CASES.find((c) => c.id === 'matmul')!.plan().totals.macs).toBe(1024 ** 3);
    expect(BENCH_CASES.find((c) => c.id === 'conv3x3')!.plan().totals.macs).toBe(64 * 64 * 9 * 56 * 56);
  });
});

describe('outputs checked against each other', () => {
  const base = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i));
  const near = base.map((v, i) => v + (i % 3 === 0 ? 2e-6 : 0));

  it('flags the one output that disagrees with the others', () => {
    const wrong = base.slice();
    wrong[500] += 0.05;
    const checks = crossCheck(new Map([[REFERENCE, base], ['a', near], ['b', base.slice()], ['fast-but-wrong', wrong]]), 1e-4, REFERENCE);
    expect(checks.get('fast-but-wrong')!.ok).toBe(false);
    expect(checks.get('fast-but-wrong')!.maxErr).toBeGreaterThan(1e-2);
    for (const name of [REFERENCE, 'a', 'b']) expect(checks.get(name)!.ok).toBe(true);
  });

  it('trusts the reference when two outputs disagree and nothing breaks the tie', () => {
    const other = base.map((v) => v * 1.01);
    const checks = crossCheck(new Map([['x', other], [REFERENCE, base]]), 1e-4, REFERENCE);
    expect(checks.get('x')).toMatchObject({ ok: false, against: REFERENCE });
    expect(checks.get(REFERENCE)!.ok).toBe(true);
  });

  it('outvotes a wrong reference', () => {
    const broken = base.map(() => 0);
    const checks = crossCheck(new Map([[REFERENCE, broken], ['a', base], ['b', near]]), 1e-4, REFERENCE);
    expect(checks.get(REFERENCE)!.ok).toBe(false);
    expect(checks.get('a')!.ok).toBe(true);
  });

  it('counts NaN and a length mismatch as wrong', () => {
    const nan = base.slice();
    nan[3] = NaN;
    expect(scaledError(nan, base)).toBe(Infinity);
    expect(scaledError(base.subarray(1), base)).toBeNull();
    const checks = crossCheck(new Map([[REFERENCE, base], ['nan', nan], ['short', base.subarray(1)]]), 1e-4, REFERENCE);
    expect(checks.get('nan')!.ok).toBe(false);
    expect(checks.get('short')!.ok).toBe(false);
  });
});

describe('peers', () => {
  it('a missing peer is reported as not installed', async () => {
    const name = ['no', 'such', 'peer', 'package'].join('-');
    await expect(importPeer(name, () => import(name))).rejects.toThrow(PeerMissing);
    await expect(importPeer(name, () => import(name))).rejects.toThrow(`${name} is not installed`);
  });

  it('NCHW <-> NHWC conversions are inverse and put channels last', () => {
    const shape = [2, 3, 4, 5];
    const x = Float32Array.from({ length: 120 }, (_, i) => i);
    const nhwc = nchwToNhwc(x, shape);
    // Element (n=1, c=2, h=3, w=4) sits at ((1*4 + 3)*5 + 4)*3 + 2 in NHWC.
    expect(nhwc[((1 * 4 + 3) * 5 + 4) * 3 + 2]).toBe(x[((1 * 3 + 2) * 4 + 3) * 5 + 4]);
    expect(Array.from(nhwcToNchw(nhwc, shape))).toEqual(Array.from(x));
  });
});

describe('runBench on a tiny subset (quick)', () => {
  let report: BenchReport;

  it('produces the documented structure and flags a deliberately wrong peer result', async () => {
    report = await runBench({
      cases: selectCases('shufflenet_shuffle,shufflenet_dw3x3'),
      runners: ['cpu', 'ort-node'],
      quick: true,
      rounds: 2,
      // A peer that answers fast but wrong on one case: one element off by 10%.
      tamper: (runner, id, out) => {
        if (runner !== 'ort-node' || id !== 'shufflenet_dw3x3') return out;
        const bad = out.slice();
        bad[123] = bad[123] * 1.1 + 0.1;
        return bad;
      },
    });
    expect(report.schema).toBe(BENCH_SCHEMA);
    expect(report.settings).toMatchObject({ quick: true, warmup: 0, repeat: 2, rounds: 2 });
    expect(report.runners.map((r) => [r.id, r.kind, r.status])).toEqual([
      ['cpu', 'backend', 'ok'],
      ['ort-node', 'peer', 'ok'],
    ]);
    for (const r of report.runners) expect(r.peak_rss_bytes).toBeGreaterThan(10 * 1024 ** 2);
    expect(report.cases.map((c) => c.id)).toEqual(['shufflenet_shuffle', 'shufflenet_dw3x3']);

    const [shuffle, dw] = report.cases;
    expect(shuffle.results.cpu.status).toBe('ok');
    expect(shuffle.results['ort-node'].status).toBe('ok');
    expect(shuffle.results.cpu.runs).toBeGreaterThanOrEqual(2);
    const t = shuffle.results.cpu.time_ms!;
    expect(t.p10).toBeLessThanOrEqual(t.median);
    expect(t.median).toBeLessThanOrEqual(t.p90);
    expect(shuffle.results.cpu.gb_per_s).toBeGreaterThan(0);
    expect(shuffle.ratios.cpu['ort-node']).toBeCloseTo(t.median / shuffle.results['ort-node'].time_ms!.median, 10);
    expect(shuffle.flops).toBe(0);
    expect(shuffle.bytes).toBe(2 * 240 * 28 * 28 * 4);

    expect(dw.results.cpu.status).toBe('ok');
    expect(dw.results['ort-node'].status).toBe('wrong');
    expect(dw.results['ort-node'].reason).toContain('output differs');
    expect(dw.ratios.cpu['ort-node']).toBeNull();
  });

  it('renders Markdown with one row per case and the wrong result marked', () => {
    const md = renderBenchMarkdown(report);
    expect(md).toContain('| case | cpu | rate | ort-node |');
    expect(md).toMatch(/\| ShuffleNet channel shuffle 240 g=3 @28 \| [\d.]+ ms/);
    expect(md).toContain('WRONG');
    expect(md).toContain('peak RSS');
  });
});

describe('the WebGPU backend and its peers on one adapter (quick)', () => {
  // On a machine with no GPU the adapter is llvmpipe through Dawn's OpenGL ES backend (feature
  // level compatibility); where there is none at all, each runner must say why, specifically.
  it('runs webgpu, ort-webgpu and tfjs-webgpu side by side, each ok or unavailable with its reason', async () => {
    const report = await runBench({ cases: selectCases('shufflenet_dw3x3'), runners: ['webgpu', 'ort-webgpu', 'tfjs-webgpu'], quick: true });
    expect(report.runners.map((r) => [r.id, r.kind])).toEqual([
      ['webgpu', 'backend'],
      ['ort-webgpu', 'peer'],
      ['tfjs-webgpu', 'peer'],
    ]);
    const [dw] = report.cases;
    for (const r of report.runners) {
      expect(['ok', 'unavailable']).toContain(r.status);
      if (r.status === 'unavailable') {
        // "no WebGPU adapter: Dawn native (core): no adapter (...); Dawn OpenGL ES ...", not a bare "failed".
        expect(r.reason).toMatch(/adapter|webgpu|gpu/i);
        expect(r.reason!.length).toBeGreaterThan(20);
        expect(dw.results[r.id]).toMatchObject({ status: 'unavailable', reason: r.reason });
        continue;
      }
      // Same adapter for all three, so the ratios compare implementations, not devices.
      const ours = report.runners[0];
      if (ours.status === 'ok') expect(r.runtime).toContain(ours.runtime!.replace(/^convscope webgpu: /, ''));
      // Timed with a read-back, and its output agrees with the others' (not a fast wrong answer).
      expect(dw.results[r.id].status).toBe('ok');
      expect(dw.results[r.id].check!.max_err).toBeLessThanOrEqual(1e-4);
    }
    const ours = dw.results.webgpu;
    for (const peer of ['ort-webgpu', 'tfjs-webgpu']) {
      const theirs = dw.results[peer];
      if (ours.status === 'ok' && theirs.status === 'ok') expect(dw.ratios.webgpu[peer]).toBeCloseTo(ours.time_ms!.median / theirs.time_ms!.median, 10);
      else expect(dw.ratios.webgpu[peer]).toBeNull();
    }
    const md = renderBenchMarkdown(report);
    expect(md).toContain('| case | webgpu | rate | ort-webgpu | tfjs-webgpu |');
    for (const r of report.runners) if (r.status === 'unavailable') expect(md).toContain(`| ${r.id} | unavailable: ${r.reason} |`);
  }, 240_000);
});

describe('convscope bench (CLI)', () => {
  it('--json on a one-case subset, quick, one peer; --backend as profile spells it', async () => {
    const r = await runCli(['bench', '--backend', 'cpu', '--quick', '--json', '--cases', 'shufflenet_shuffle', '--peers', 'ort-node', '--quiet'], { timeoutMs: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as BenchReport;
    expect(report.schema).toBe(BENCH_SCHEMA);
    expect(Object.keys(report.cases[0].results)).toEqual(['cpu', 'ort-node']);
    expect(report.cases[0].results.cpu.check).toMatchObject({ tolerance: 1e-4 });
  });

  it('--list names the WebGPU peers', async () => {
    const r = await runCli(['bench', '--list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ort-webgpu +peer +onnxruntime-web's WebGPU execution provider/m);
    expect(r.stdout).toMatch(/^tfjs-webgpu +peer +tfjs-backend-webgpu/m);
  });

  it('bad arguments exit 2 with the reason', async () => {
    const unknown = await runCli(['bench', '--cases', 'nope', '--quick']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('"nope" matches no case');
    const swapped = await runCli(['bench', '--backends', 'ort-node']);
    expect(swapped.code).toBe(2);
    expect(swapped.stderr).toContain('is a peer (use --peers)');
    const both = await runCli(['bench', '--backend', 'cpu', '--backends', 'webgpu', '--quick']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--backend cpu and --backends webgpu disagree');
  });
});

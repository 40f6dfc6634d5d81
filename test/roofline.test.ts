/** The roofline's roofs (src/engine/roofline.ts): what is measured, and that it is measured once. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/engine/backends/cpu/backend.ts';
import { buildPlan } from '../src/engine/graph/plan.ts';
import { ROOFLINE_MEASURED_BY, rooflineFor, rooflineForReport, rooflineKey } from '../src/engine/roofline.ts';
import { buildReport } from '../src/engine/reporting.ts';
import { reportSchema } from '../src/shared/report-schema.ts';
import { smallSpec } from './helpers/small-model.ts';
import { openTestBackend, WEBGPU_TESTS } from './helpers/webgpu.ts';

let dir: string;
let backend: CpuBackend;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'convscope-roofline-'));
  process.env.CONVSCOPE_CACHE_DIR = dir;
  backend = new CpuBackend(1);
});

afterAll(async () => {
  delete process.env.CONVSCOPE_CACHE_DIR;
  await backend?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('roofline micro-benchmarks', () => {
  it('time a 0.41 GFLOP GEMM and a 96 MiB add (hand-counted)', () => {
    // The same specs the module runs: 2 * 256 * 256 * 56 * 56 FLOPs; two 32 MiB inputs and one output.
    const gemm = buildPlan({ format: 'convscope/v1', name: 'c', input: { shape: [1, 256, 56, 56] }, layers: [{ id: 'gemm', op: 'conv2d', params: { out_channels: 256, kernel: 1, bias: false } }] });
    expect(gemm.nodes[0].counts.flops).toBe(411_041_792);
    const add = buildPlan({ format: 'convscope/v1', name: 'b', input: { shape: [1, 32, 512, 512] }, layers: [{ id: 'copy', op: 'relu' }, { id: 'stream', op: 'add', inputs: ['input', 'copy'] }] });
    expect(add.nodes[1].bytesMoved).toBe(3 * 32 * 1024 * 1024);
  });

  it('measures the CPU once per backend and adapter, in the process and on disk', async () => {
    const first = rooflineFor(backend);
    expect(rooflineFor(backend)).toBe(first); // one measurement in flight, however many ask
    const roof = (await first)!;
    expect(roof.peak_gflops_per_s).toBeGreaterThan(0);
    expect(roof.bandwidth_gb_per_s).toBeGreaterThan(0);
    expect(roof.measured_by).toBe(ROOFLINE_MEASURED_BY);
    // A GEMM does far more per byte than an add: the ridge point lies well right of 1/12 FLOP/byte.
    expect(roof.peak_gflops_per_s / roof.bandwidth_gb_per_s).toBeGreaterThan(1 / 12);
    const file = join(dir, 'roofline.json');
    expect(existsSync(file)).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8'))[rooflineKey(backend)]).toEqual(roof);
    expect(await rooflineFor(backend)).toBe(roof);
  }, 120_000);

  it('reads the disk cache for another backend object on the same adapter', async () => {
    const other = new CpuBackend(1);
    try {
      expect(rooflineKey(other)).toBe(rooflineKey(backend));
      expect(await rooflineFor(other)).toEqual(await rooflineFor(backend));
    } finally {
      await other.dispose();
    }
  });

  it('goes into the report as backend.roofline, which the report schema accepts; off with CONVSCOPE_ROOFLINE=0', async () => {
    const roofs = await rooflineForReport(backend);
    const report = buildReport(buildPlan(smallSpec()), { environment: { app_version: 't', node: 'v', platform: 'p', cpu: 'c' }, backend: { name: 'cpu', adapter: backend.adapter, timing: backend.timing, ...roofs } });
    expect(report.backend!.roofline).toEqual(roofs.roofline);
    expect(reportSchema.parse(JSON.parse(JSON.stringify(report))).backend!.roofline).toEqual(roofs.roofline);
    process.env.CONVSCOPE_ROOFLINE = '0';
    try {
      expect(await rooflineForReport(backend)).toEqual({});
    } finally {
      delete process.env.CONVSCOPE_ROOFLINE;
    }
  });
});

describe.runIf(WEBGPU_TESTS)('roofline on WebGPU', () => {
  it('measures the WebGPU backend with the same micro-benchmarks, under its own key', async () => {
    const gpu = await openTestBackend();
    try {
      expect(rooflineKey(gpu)).not.toBe(rooflineKey(backend));
      const roof = (await rooflineFor(gpu))!;
      expect(roof.peak_gflops_per_s).toBeGreaterThan(0);
      expect(roof.bandwidth_gb_per_s).toBeGreaterThan(0);
      const cached = JSON.parse(readFileSync(join(dir, 'roofline.json'), 'utf8')) as Record<string, unknown>;
      expect(Object.keys(cached).sort()).toEqual([rooflineKey(backend), rooflineKey(gpu)].sort());
    } finally {
      await gpu.dispose();
    }
  }, 180_000);
});

/**
 * The engine in a browser Dedicated Worker on Chromium's own WebGPU: headless Debian Chromium with
 * SwiftShader (`--use-webgpu-adapter=swiftshader`), on a page served from 127.0.0.1.
 *
 * - The engine Worker (dist/worker, built here when its sources changed) speaks the workbench
 *   protocol: backends, a profile on WebGPU whose per-op times come from timestamp queries (the
 *   path llvmpipe in Node cannot take), the CPU fallback, `auto`, cancel, exports.
 * - Every data-driven op case (test/data/ops/*.json) of every op with a WGSL kernel runs on the
 *   same WebGPU backend code in a Worker and must match the expected output at the tolerance of
 *   ops.data.test.ts. The ops come from the Worker's own op table, which must equal Node's.
 *
 * Needs /usr/bin/chromium (Debian: `apt-get install chromium`; CONVSCOPE_CHROMIUM names another).
 * A missing browser fails these tests; it never skips them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { basename, extname, join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TIMING_TIMESTAMPS } from '../src/engine/backends/webgpu/backend.ts';
import { buildPlan, planNodeFor } from '../src/engine/graph/plan.ts';
import { OPS } from '../src/engine/ops/registry.ts';
import { buildReport } from '../src/engine/reporting.ts';
import { numel } from '../src/engine/tensor.ts';
import { engineMessageSchema, resultSchemas, type EngineMessage, type Request, type RequestType, type ResultOf } from '../src/shared/protocol.ts';
import type { Report } from '../src/shared/report.ts';
import type { ModelSpec } from '../src/shared/spec.ts';
import { ENGINE_WORKER, type WorkerBundle } from '../vite.worker.config.ts';
import { loadOpCaseFiles, materialize } from './helpers/op-cases.ts';
import { smallSpec } from './helpers/small-model.ts';
import { ensureWorkerBuild } from './helpers/worker-build.ts';

const CHROMIUM = process.env.CONVSCOPE_CHROMIUM ?? '/usr/bin/chromium';
/**
 * SwiftShader is Chromium's CPU Vulkan; `--enable-unsafe-webgpu` lets WebGPU run on it in headless
 * mode. `--enable-webgpu-developer-features` turns off the 100 us quantization of timestamps.
 */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--enable-webgpu-developer-features',
];
const OP_WORKER: WorkerBundle = { entry: 'test/browser/op-worker.ts', outDir: 'dist/test/op-worker', fileName: 'op-worker.js' };
const PAGE = join(import.meta.dirname, 'browser', 'page.html');
/** The tolerance of ops.data.test.ts for WebGPU: 1e-4 relative, or the case's own if looser. */
const WEBGPU_TOLERANCE = 1e-4;

let server: Server;
let browser: Browser;
let page: Page;
let origin: string;
let engineDir: string;

function serve(dirs: Record<string, string>): Promise<Server> {
  const types: Record<string, string> = { '.js': 'text/javascript', '.map': 'application/json', '.html': 'text/html' };
  const s = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const [, prefix, ...rest] = url.pathname.split('/');
    let file: string | null = null;
    if (url.pathname === '/') file = PAGE;
    else if (dirs[prefix] && rest.length === 1) file = join(dirs[prefix], basename(rest[0]));
    if (!file || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)));
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `the browser Worker tests need headless Chromium at ${CHROMIUM}, which is missing: install it (Debian: apt-get install chromium; CI installs it) or set CONVSCOPE_CHROMIUM to a Chromium binary`,
    );
  }
  engineDir = await ensureWorkerBuild(ENGINE_WORKER);
  const opDir = await ensureWorkerBuild(OP_WORKER);
  server = await serve({ worker: engineDir, 'op-worker': opDir });
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${origin}/`);
  const ready = await page.evaluate(() => (globalThis as unknown as { engineReady: Promise<unknown> }).engineReady);
  expect(errors).toEqual([]);
  expect(engineMessageSchema.parse(ready)).toMatchObject({ type: 'engine', state: 'ready' });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
});

let nextId = 1;

/** Sends one protocol request to the engine Worker; every message it answers with is schema-checked. */
async function call<T extends RequestType>(type: T, params: Omit<Extract<Request, { type: T }>, 'id' | 'type'>, id = nextId++) {
  const raw = await page.evaluate((r) => (globalThis as unknown as { engineCall(r: unknown): Promise<unknown[]> }).engineCall(r), { id, type, ...params } as Request);
  const messages = raw.map((m) => engineMessageSchema.parse(m));
  const last = messages[messages.length - 1];
  return {
    messages,
    progress: messages.filter((m): m is Extract<EngineMessage, { type: 'progress' }> => m.type === 'progress'),
    result: last.type === 'result' ? (resultSchemas[type].parse(last.result) as ResultOf<T>) : null,
    error: last.type === 'error' ? last.error : null,
  };
}

async function ok<T extends RequestType>(type: T, params: Omit<Extract<Request, { type: T }>, 'id' | 'type'>): Promise<ResultOf<T>> {
  const { result, error } = await call(type, params);
  if (!result) throw new Error(`${type} failed in the Worker: ${error?.message}`);
  return result;
}

/** conv2d and relu only: ops every WebGPU build has. All three conv kernels, two fused relus and one that is not. */
const gpuSpec: ModelSpec = {
  format: 'convscope/v1',
  name: 'gpu worker net',
  input: { shape: [1, 16, 64, 64] },
  seed: 7,
  layers: [
    { id: 'r0', op: 'relu' },
    { id: 'c1', op: 'conv2d', params: { out_channels: 32, kernel: 3, padding: 1 } },
    { id: 'r1', op: 'relu' },
    { id: 'dw', op: 'conv2d', params: { out_channels: 32, kernel: 3, padding: 1, groups: 32 } },
    { id: 'pw', op: 'conv2d', params: { out_channels: 32, kernel: 1 } },
    { id: 'r2', op: 'relu' },
    { id: 'c2', op: 'conv2d', params: { out_channels: 8, kernel: 3, padding: 1, stride: 2 } },
  ],
} as ModelSpec;

describe('engine Worker (dist/worker) on SwiftShader', () => {
  it('is a bundle without Node modules', () => {
    const code = readFileSync(join(engineDir, ENGINE_WORKER.fileName), 'utf8');
    expect(code).not.toMatch(/\bfrom\s*["'](node:|webgpu["'])/);
    expect(code).not.toMatch(/\brequire\(/);
    expect(code).not.toMatch(/worker_threads/);
  });

  it('says hello over the protocol', async () => {
    expect(await ok('hello', {})).toMatchObject({ protocol: 1, pid: 0 });
  });

  it('offers WebGPU on the SwiftShader adapter with timestamp queries, and the inline CPU', async () => {
    const { backends, auto, auto_reason } = await ok('backends', {});
    const gpu = backends.find((b) => b.name === 'webgpu')!;
    expect(gpu).toMatchObject({ available: true, detail: TIMING_TIMESTAMPS });
    expect(gpu.adapter).toMatch(/swiftshader/i);
    expect(gpu.adapter).toMatch(/navigator\.gpu/);
    expect(backends.find((b) => b.name === 'cpu')).toMatchObject({ available: true, adapter: expect.stringMatching(/browser Worker, 1 thread/) });
    // SwiftShader is a software renderer; the Worker's CPU backend (one thread, reference kernels)
    // does not outrun it, so `auto` keeps it, labelled and explained.
    expect(gpu.software).toBe('SwiftShader');
    expect(auto).toBe('webgpu');
    expect(auto_reason).toBe('auto: the webgpu adapter is software (SwiftShader); kept, since the cpu backend of this host is not faster than it');
  });

  it('profiles a model on WebGPU with per-op GPU timestamps that add up', async () => {
    const { result, progress } = await call('profile', { spec: gpuSpec, backend: 'webgpu', warmup: 1, repeat: 5 });
    expect(result).not.toBeNull();
    expect(progress.filter((p) => p.phase === 'measure').map((p) => p.done)).toEqual([1, 2, 3, 4, 5]);
    const report = result!.report as Report;
    expect(report.backend).toMatchObject({ name: 'webgpu', timing: TIMING_TIMESTAMPS, repeat: 5, warmup: 1 });
    expect(report.backend!.adapter).toMatch(/swiftshader/i);
    expect(report.environment.node).toMatch(/browser Worker, (Chrome|Chromium)\//);

    const rows = new Map(report.layers.map((l) => [l.id, l]));
    for (const fused of ['r1', 'r2']) expect(rows.get(fused)).toMatchObject({ fused_into: fused === 'r1' ? 'c1' : 'pw', time_ms: { median: 0 } });
    const timed = report.layers.filter((l) => !l.fused_into);
    expect(timed.map((l) => l.id)).toEqual(['r0', 'c1', 'dw', 'pw', 'c2']);
    for (const l of timed) {
      expect(l.time_ms!.p10, l.id).toBeGreaterThan(0);
      expect(l.gflops_per_s, l.id).toBeGreaterThan(0);
    }
    // GPU pass times lie inside the forward pass that the host timed around them. Medians do not
    // add up exactly (each op's median may come from another run), so the bound is the slower
    // forward passes, with room for that.
    const sum = timed.reduce((s, l) => s + l.time_ms!.median, 0);
    const e2e = report.backend!.e2e_ms!.median;
    expect(sum).toBeLessThan(1.25 * report.backend!.e2e_ms!.p90);
    // SwiftShader computes on this CPU: the passes are most of the forward, not a sliver of it.
    expect(sum).toBeGreaterThan(0.3 * e2e);
    // c1 does 16x the work of dw: a clock that measured anything else would not order them so.
    expect(rows.get('c1')!.time_ms!.median).toBeGreaterThan(rows.get('dw')!.time_ms!.median);
    console.log(
      `[SwiftShader profile] e2e median ${e2e.toFixed(2)} ms, sum of op medians ${sum.toFixed(2)} ms: ` +
        timed.map((l) => `${l.id} ${l.time_ms!.median.toFixed(3)} ms`).join(', '),
    );
  });

  it('profiles on the inline CPU fallback with the same plan as Node', async () => {
    const spec = smallSpec();
    const { report } = await ok('profile', { spec, backend: 'cpu', warmup: 0, repeat: 2 });
    expect(report.backend).toMatchObject({ name: 'cpu', threads: 1, adapter: expect.stringMatching(/browser Worker, 1 thread, TypeScript reference kernels/) });
    const node = buildReport(buildPlan(spec), { environment: report.environment });
    const counts = (r: { layers: Report['layers'] }) => r.layers.map((l) => [l.id, l.output_shape, l.params, l.macs, l.flops, l.formula]);
    expect(counts(report)).toEqual(counts(node));
    for (const l of report.layers) expect(l.time_ms!.median).toBeGreaterThanOrEqual(0);
  });

  it('lets auto pass over WebGPU exactly when an op lacks a WGSL kernel', async () => {
    const spec = smallSpec();
    const missing = [...new Set(buildPlan(spec).nodes.map((n) => n.op))].filter((op) => !OPS.get(op)!.webgpu).sort();
    const { report } = await ok('profile', { spec, backend: 'auto', warmup: 0, repeat: 1 });
    if (missing.length) {
      expect(report.backend!.name).toBe('cpu');
      expect((report.backend!.fallbacks ?? []).join('\n')).toContain(`webgpu: no WGSL kernel yet for ${missing.join(', ')}`);
    } else {
      expect(report.backend).toMatchObject({ name: 'webgpu', software: true, label: 'webgpu (software adapter)' });
    }
  });

  it('cancels a running profile', async () => {
    const id = nextId++;
    const running = call('profile', { spec: smallSpec(), backend: 'cpu', warmup: 0, repeat: 10_000 }, id);
    await page.waitForFunction((i) => (globalThis as unknown as { progressCount(i: number): number }).progressCount(i) >= 4, id);
    expect(await ok('cancel', { target: id })).toEqual({ cancelled: true });
    const { error } = await running;
    expect(error).toMatchObject({ kind: 'cancelled' });
  });

  it('refuses a malformed request with a protocol error', async () => {
    const raw = await page.evaluate((r) => (globalThis as unknown as { engineCall(r: unknown): Promise<unknown[]> }).engineCall(r), { id: 9999, type: 'profile', spec: gpuSpec });
    expect(engineMessageSchema.parse(raw[0])).toMatchObject({ type: 'error', id: 9999, error: { kind: 'protocol', message: expect.stringMatching(/malformed request/) } });
  });

  it('exports reports, HTML with ECharts from its own chunk', async () => {
    const { report } = await ok('inspect', { spec: smallSpec() });
    const md = await ok('export', { report, format: 'md' });
    expect(md.text).toContain('small test net');
    const html = await ok('export', { report, format: 'html' });
    expect(html.mime).toBe('text/html');
    expect(html.text.length).toBeGreaterThan(500_000);
    expect(html.text).toContain('id="convscope-report"');
  });
});

const gpuOps = () => [...OPS.values()].filter((op) => op.webgpu).map((op) => op.type).sort();
const parityMs = new Map<string, number>();

describe('WGSL kernels in a Worker on SwiftShader: every op case', () => {
  it('runs the same op table as Node (the ops with a WGSL kernel)', async () => {
    const kernels = await page.evaluate(() => (globalThis as unknown as { opKernels(): Promise<{ ops: string[]; adapter: string; timing: string; error?: string }> }).opKernels());
    expect(kernels.error).toBeUndefined();
    expect(kernels.adapter).toMatch(/swiftshader/i);
    expect(kernels.ops).toEqual(gpuOps());
    expect(kernels.ops.length).toBeGreaterThan(0);
  });

  for (const file of loadOpCaseFiles().filter((f) => OPS.get(f.op)?.webgpu)) {
    describe(`${file.op} (${file.file})`, () => {
      for (const c of file.cases) {
        it(c.name, async () => {
          const inShapes = c.inputs.map((i) => i.shape);
          const inputs = c.inputs.map((i) => Array.from(materialize(i.data, numel(i.shape))));
          const weights: Record<string, number[]> = {};
          if (c.error === undefined) {
            for (const w of planNodeFor(file.op, c.params, inShapes).weights) {
              if (c.weights?.[w.name]) weights[w.name] = Array.from(materialize(c.weights[w.name], numel(w.shape)));
            }
          }
          const t0 = performance.now();
          const got = await page.evaluate(
            (m) => (globalThis as unknown as { runOp(m: unknown): Promise<{ shape?: number[]; output?: number[]; error?: string }> }).runOp(m),
            { op: file.op, params: c.params, inShapes, inputs, weights, seed: c.seed ?? 0 },
          );
          parityMs.set(file.op, (parityMs.get(file.op) ?? 0) + performance.now() - t0);
          if (c.error !== undefined) {
            expect(got.error).toContain(c.error);
            return;
          }
          if (got.error !== undefined) throw new Error(`the Worker failed: ${got.error}`);
          expect(got.shape).toEqual(c.expected!.shape);
          const want = materialize(c.expected!.data, numel(c.expected!.shape));
          const tol = Math.max(c.tolerance ?? 0, WEBGPU_TOLERANCE);
          expect(got.output!.length).toBe(want.length);
          for (let i = 0; i < want.length; i++) {
            if (!(Math.abs(got.output![i] - want[i]) <= tol * Math.max(1, Math.abs(want[i])))) {
              throw new Error(`element ${i}: got ${got.output![i]}, expected ${want[i]} (tolerance ${tol})`);
            }
          }
        });
      }
    });
  }

  afterAll(() => {
    const total = [...parityMs.values()].reduce((a, b) => a + b, 0);
    console.log(`[SwiftShader op parity] ${(total / 1000).toFixed(2)} s: ${[...parityMs].map(([op, ms]) => `${op} ${(ms / 1000).toFixed(2)} s`).join(', ')}`);
  });
});

/**
 * The engine behind the workbench protocol (src/shared/protocol.ts) with everything host-specific
 * passed in: where messages go, the backend table, the environment a report states, the process
 * id, how to yield to the event loop and where the ECharts script for HTML exports comes from.
 * Imports nothing Node-only, so the same request handling runs in a Node process and in the
 * browser Worker (worker/index.ts).
 */
import type { BackendRegistry, ResolvedBackend } from './backends/resolve.ts';
import type { Backend, BackendOptions } from './backends/types.ts';
import { catalogEntries, suggestParams } from './catalog.ts';
import { CancelledError, SpecError } from './errors.ts';
import { runWithFallback } from './fallback.ts';
import { buildPlan, type Plan } from './graph/plan.ts';
import { closest } from './graph/validate.ts';
import { onEngineNotice } from './notices.ts';
import { getPreset, PRESET_FAMILIES, PRESETS } from './presets/index.ts';
import { profilePlan, type ProfileOptions } from './profiler.ts';
import { memoryTimeline, renderReport } from './report/index.ts';
import { rooflineForReport } from './roofline.ts';
import { backendInfo, buildReport } from './reporting.ts';
import { medianMs, runSweep } from './sweep/index.ts';
import { importOnnx } from './onnx/import.ts';
import { exportOnnx } from './onnx/export.ts';
import { makeWeights } from './weights.ts';
import { decodeBase64, encodeBase64 } from '../shared/base64.ts';
import {
  describeIssues,
  PROTOCOL_VERSION,
  requestSchema,
  type Analysis,
  type BackendStatus,
  type EngineMessage,
  type ErrorInfo,
  type ExportFormat,
  type PresetInfo,
  type Request,
  type RequestOf,
  type RequestType,
  type ResultOf,
} from '../shared/protocol.ts';
import type { Report } from '../shared/report.ts';

export interface EngineServiceOptions {
  /** Sends one message to the workbench. Must not throw for a closed transport. */
  post(message: EngineMessage): void;
  backends: Pick<BackendRegistry, 'names' | 'resolve'> & Partial<Pick<BackendRegistry, 'autoPick'>>;
  environment: Report['environment'];
  /** What `hello` answers as the engine's pid (a browser Worker has none: 0). */
  pid: number;
  backendOptions?: BackendOptions;
  /** One turn of the event loop, so a `cancel` message can arrive during a profile. */
  yieldToEvents?: () => Promise<void>;
  /** The ECharts script for HTML exports; by default the report renderer reads node_modules. */
  readEcharts?: () => string | Promise<string>;
}

export interface EngineService {
  /** Handles one incoming message (any value: it is validated here). Resolves when answered. */
  handle(message: unknown): Promise<void>;
  /** Cancels running profiles and releases backends (worker threads, GPU devices). */
  dispose(): Promise<void>;
}

const EXPORT_FILES: Record<ExportFormat, { extension: string; mime: string }> = {
  json: { extension: '.report.json', mime: 'application/json' },
  csv: { extension: '.csv', mime: 'text/csv' },
  md: { extension: '.md', mime: 'text/markdown' },
  html: { extension: '.html', mime: 'text/html' },
  trace: { extension: '.trace.json', mime: 'application/json' },
};

/** Base64 of a larger file would pass V8's longest string (~512 Mi characters). */
const MAX_EXPORT_BYTES = 256 * 2 ** 20;

const defaultYield = (): Promise<void> =>
  new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));

export function createEngineService(options: EngineServiceOptions): EngineService {
  const { environment } = options;
  const yieldToEvents = options.yieldToEvents ?? defaultYield;
  const backends = new Map<string, Promise<ResolvedBackend>>();
  const running = new Map<number, AbortController>();
  let presetInfo: PresetInfo[] | undefined;
  // Profiles run one at a time: two runs sharing a worker pool or a GPU queue would time each other.
  let queue: Promise<unknown> = Promise.resolve();
  let disposed = false;
  // First-use events (the kernels compiling) go to the workbench as they happen.
  const stopNotices = onEngineNotice((n) => post({ type: 'notice', ...n }));

  const post = (message: EngineMessage) => {
    try {
      options.post(message);
    } catch {
      // The other side went away; its requests die with it.
    }
  };

  /** One backend instance per name for the service's life: worker pools and GPU devices are costly to start. */
  function named(name: string): Promise<ResolvedBackend> {
    let entry = backends.get(name);
    if (!entry) {
      entry = options.backends.resolve(name, options.backendOptions);
      backends.set(name, entry);
      // A failed start is retried on the next request rather than remembered forever.
      entry.catch(() => backends.delete(name));
    }
    return entry;
  }

  /**
   * `auto` depends on the model (a backend without a kernel for one of its ops is passed over), so
   * it is resolved per run; the instance it settles on is swapped for the cached one of that name.
   */
  async function backendFor(name: string, p: Plan): Promise<ResolvedBackend> {
    if (name !== 'auto') return named(name);
    const ops = [...new Set(p.nodes.map((n) => n.op))];
    const resolved = await options.backends.resolve('auto', { ...options.backendOptions, ops });
    const cached = backends.get(resolved.backend.name);
    if (cached) {
      const kept = await cached.catch(() => null);
      if (kept && kept.backend !== resolved.backend) {
        await resolved.backend.dispose();
        return { ...resolved, backend: kept.backend };
      }
    }
    backends.set(resolved.backend.name, Promise.resolve({ backend: resolved.backend, fallbacks: [] }));
    return resolved;
  }

  /**
   * Drops a backend a run gave up on (a lost GPU device stays lost), so the next request starts a
   * fresh one instead of failing on it again.
   */
  async function forget(backend: Backend): Promise<void> {
    for (const [name, entry] of backends) {
      const r = await entry.catch(() => null);
      if (r?.backend === backend) backends.delete(name);
    }
    await backend.dispose().catch(() => undefined);
  }

  /** One plan profiled on the named backend, with the CPU fallback of `auto` (profile and sweep). */
  async function profileOn(p: Plan, name: string, signal: AbortSignal, options: Omit<ProfileOptions, 'signal'>) {
    const resolved = await backendFor(name, p);
    const cpu = async () => (await named('cpu')).backend;
    const outcome = await runWithFallback(resolved, { requested: name, cpu, signal }, (backend) => profilePlan(p, responsive(backend, yieldToEvents), { ...options, signal }));
    if (outcome.failed) await forget(outcome.failed);
    return outcome;
  }

  /** Runs `work` after the profiles and sweeps before it, cancellable by a `cancel` for `id`. */
  function queued<T>(id: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    running.set(id, controller);
    const run = queue.then(() => {
      if (controller.signal.aborted) throw new CancelledError();
      return work(controller.signal);
    });
    queue = run.catch(() => undefined);
    return run.finally(() => running.delete(id));
  }

  const analysis = (report: Report): Analysis => ({ report, memory: memoryTimeline(report) });
  // `inspect` allocates nothing, so no execution budget refuses it; running still is.
  const plan = (req: { spec: unknown; batch?: number }, run = true): Plan => buildPlan(req.spec, { batch: req.batch, ...(run ? {} : { memoryBudgetBytes: Infinity }) });

  const handlers: { [T in RequestType]: (req: RequestOf<T>) => Promise<ResultOf<T>> | ResultOf<T> } = {
    hello: () => ({ protocol: PROTOCOL_VERSION, app_version: environment.app_version, pid: options.pid }),

    catalog: () => {
      presetInfo ??= [...PRESETS.values()].map((p) => {
        const spec = p.build();
        const totals = buildPlan(spec).totals;
        return { id: p.id, title: p.title, description: p.description, source: p.source, input_shape: [...spec.input.shape], layers: spec.layers.length, params: totals.params, macs: totals.macs };
      });
      const families = [...PRESET_FAMILIES.values()].map((f) => ({
        id: f.id,
        title: f.title,
        description: f.description,
        parameters: f.parameters.map((p) => ({ name: p.name, help: p.help, default: p.default, ...(p.choices ? { choices: p.choices } : {}), ...(p.min !== undefined ? { min: p.min } : {}), ...(p.exclusiveMin ? { exclusive_min: true } : {}) })),
      }));
      return { ...catalogEntries(), presets: presetInfo, preset_families: families };
    },

    backends: async () => {
      const list: BackendStatus[] = [];
      for (const name of options.backends.names()) {
        try {
          const { backend: b } = await named(name);
          list.push({ name, available: true, adapter: b.adapter, detail: b.timing, ...(b.software ? { software: b.software } : {}) });
        } catch (err) {
          list.push({ name, available: false, adapter: null, detail: (err as Error).message });
        }
      }
      // A table without autoPick (a test's) has `auto`'s plain rule: the first that started.
      const pick = options.backends.autoPick ? options.backends.autoPick(list) : { name: list.find((b) => b.available)?.name, reason: undefined };
      return { backends: list, auto: pick?.name ?? null, ...(pick?.reason ? { auto_reason: pick.reason } : {}) };
    },

    preset: (req) => {
      const preset = getPreset(req.preset);
      if (!preset) {
        const hint = closest(req.preset, PRESETS.keys());
        throw new SpecError(`preset "${req.preset}" is unknown${hint ? `; did you mean "${hint}"?` : ''}; presets: ${[...PRESETS.keys()].join(', ')}`, undefined, 'preset');
      }
      return { spec: preset.build() };
    },

    suggest: (req) => suggestParams(req.kind, req.name, req.input_shapes),

    inspect: (req) => analysis(buildReport(plan(req, false), { environment })),

    profile: (req) =>
      queued(req.id, async (signal) => {
        const p = plan(req);
        const { backend: b, fallbacks, reason, result } = await profileOn(p, req.backend, signal, {
          warmup: req.warmup,
          repeat: req.repeat,
          fuse: req.fuse,
          onProgress: (e) => post({ type: 'progress', id: req.id, phase: e.phase, done: e.done, total: e.total }),
        });
        // The roofs are measured on the first profile of each backend, then cached.
        const roofs = await rooflineForReport(responsive(b, yieldToEvents), { signal });
        return analysis(
          buildReport(p, {
            environment,
            backend: { ...backendInfo({ backend: b, fallbacks, reason }), ...roofs },
            profile: result,
          }),
        );
      }),

    sweep: (req) =>
      queued(req.id, (signal) =>
        runSweep(req.sweep, {
          signal,
          yieldToEvents,
          onProgress: (e) =>
            post({ type: 'progress', id: req.id, phase: e.phase === 'plan' ? 'prepare' : e.phase, done: e.done, total: e.total, point: { index: e.point, count: e.points, value: e.value } }),
          profile: async (p, settings, o) => {
            const { backend: b, fallbacks, result } = await profileOn(p, settings.backend, signal, { warmup: settings.warmup, repeat: settings.repeat, onProgress: o.onProgress });
            return { time_ms: medianMs(result.e2eTimes), backend: { name: b.name, adapter: b.adapter, timing: b.timing, fallbacks } };
          },
        }),
      ),

    cancel: (req) => {
      const controller = running.get(req.target);
      controller?.abort();
      return { cancelled: controller !== undefined };
    },

    export: async (req) => {
      const echarts = req.format === 'html' && options.readEcharts ? await options.readEcharts() : undefined;
      const text = renderReport(req.report as Report, req.format, echarts !== undefined ? { readEcharts: () => echarts } : {});
      return { format: req.format, ...EXPORT_FILES[req.format], text };
    },

    import_onnx: (req) => {
      let bytes: Uint8Array;
      try {
        bytes = typeof req.data === 'string' ? decodeBase64(req.data) : req.data;
      } catch (err) {
        throw new SpecError(`${req.name}: the file did not arrive intact (${(err as Error).message})`, undefined, 'file');
      }
      // No reader for external data: the workbench sends one file, so a model whose weights live
      // beside it is refused by the importer with the file it would need.
      const { spec } = importOnnx(bytes, { source: req.name, batch: req.batch });
      return { spec, layers: spec.layers.length };
    },

    export_onnx: (req) => {
      const p = plan(req);
      if (p.totals.paramBytes > MAX_EXPORT_BYTES) {
        throw new SpecError(
          `the design holds ${Math.round(p.totals.paramBytes / 2 ** 20)} MiB of weights; the workbench exports ONNX files up to ${MAX_EXPORT_BYTES / 2 ** 20} MiB: use \`convscope export <design> --onnx out.onnx\``,
          undefined,
          'export',
        );
      }
      const bytes = exportOnnx(p, makeWeights(p), { dynamicBatch: req.dynamic_batch, producerVersion: environment.app_version });
      return { extension: '.onnx' as const, mime: 'application/octet-stream', bytes: bytes.length, base64: encodeBase64(bytes) };
    },
  };

  async function handle(raw: unknown): Promise<void> {
    const parsed = requestSchema.safeParse(raw);
    if (!parsed.success) {
      const id = typeof (raw as { id?: unknown })?.id === 'number' && Number.isInteger((raw as { id: number }).id) && (raw as { id: number }).id >= 0 ? (raw as { id: number }).id : -1;
      post({ type: 'error', id, error: { kind: 'protocol', message: `malformed request: ${describeIssues(parsed.error)}` } });
      return;
    }
    const req: Request = parsed.data;
    if (disposed) {
      post({ type: 'error', id: req.id, error: { kind: 'engine_stopped', message: 'the engine is shutting down' } });
      return;
    }
    try {
      const handler = handlers[req.type] as (r: Request) => unknown;
      const result = await handler(req);
      post({ type: 'result', id: req.id, result });
    } catch (err) {
      post({ type: 'error', id: req.id, error: errorInfo(err) });
    }
  }

  async function dispose(): Promise<void> {
    disposed = true;
    stopNotices();
    for (const c of running.values()) c.abort();
    await queue;
    const all = await Promise.allSettled(backends.values());
    const seen = new Set<unknown>();
    for (const r of all) {
      if (r.status !== 'fulfilled' || seen.has(r.value.backend)) continue;
      seen.add(r.value.backend);
      await r.value.backend.dispose().catch(() => undefined);
    }
    backends.clear();
  }

  return { handle, dispose };
}

/**
 * The backend with a turn of the event loop before a forward pass whenever 50 ms have passed
 * without one. A model whose ops all run inline resolves every await as a microtask, so without
 * this a `cancel` (a macrotask: a message event) would wait for the whole profile. The yield falls
 * inside the timed forward at most once per 50 ms, which the medians and percentiles shrug off.
 */
function responsive(backend: Backend, yieldToEvents: () => Promise<void>): Backend {
  let last = performance.now();
  return {
    name: backend.name,
    adapter: backend.adapter,
    timing: backend.timing,
    threads: backend.threads,
    runOp: (...args) => backend.runOp(...args),
    dispose: () => backend.dispose(),
    async prepare(plan, weights, options) {
      const model = await backend.prepare(plan, weights, options);
      return {
        async forward(input, hooks) {
          if (performance.now() - last > 50) {
            await yieldToEvents();
            last = performance.now();
          }
          return model.forward(input, hooks);
        },
        dispose: () => model.dispose(),
        ...(model.fusedInto ? { fusedInto: model.fusedInto } : {}),
        ...(model.timing ? { timing: model.timing } : {}),
      };
    },
  };
}

export function errorInfo(err: unknown): ErrorInfo {
  if (err instanceof SpecError) {
    return { kind: 'spec', message: err.message, ...(err.layer !== undefined ? { layer: err.layer } : {}), ...(err.param !== undefined ? { param: err.param } : {}) };
  }
  if (err instanceof CancelledError) return { kind: 'cancelled', message: 'the run was cancelled' };
  return { kind: 'internal', message: (err as Error)?.message ?? String(err) };
}

/**
 * The roofs of the roofline: the best compute rate and memory bandwidth a backend reaches on its
 * adapter, measured with the engine's own kernels (so a layer is compared with what this backend
 * can do, not with a datasheet). Two micro-benchmarks, each a one-op model run like any profile:
 * - compute: a 1x1 convolution, 256 -> 256 channels on a 56x56 map (0.41 GFLOP): a dense GEMM,
 *   the op with the highest FLOP/byte the engine has;
 * - bandwidth: an element-wise add of two 32 MiB tensors (96 MiB read and written, 1/12 FLOP/byte).
 * Each is the best of a few timed runs. Measured once per backend and adapter, then cached in the
 * process and, in Node, on disk (node_modules/.cache/convscope/, else the OS cache directory), so
 * only a machine's first profile pays the second or so it takes.
 */
import type { Roofline } from '../shared/report.ts';
import type { Backend } from './backends/types.ts';
import { buildPlan } from './graph/plan.ts';
import { profilePlan } from './profiler.ts';

const COMPUTE_SPEC = {
  format: 'convscope/v1',
  name: 'roofline: compute',
  input: { shape: [1, 256, 56, 56] },
  layers: [{ id: 'gemm', op: 'conv2d', params: { out_channels: 256, kernel: 1, bias: false } }],
};

const BANDWIDTH_SPEC = {
  format: 'convscope/v1',
  name: 'roofline: bandwidth',
  input: { shape: [1, 32, 512, 512] },
  layers: [
    // The add must read two different tensors: one read twice would come from cache the second time.
    { id: 'copy', op: 'relu' },
    { id: 'stream', op: 'add', inputs: ['input', 'copy'] },
  ],
};

/** Changing what is measured changes the key, so old cached figures are not reused. */
const METHOD = 'v1: conv2d 1x1 256->256 @56x56, add 2x32 MiB, best of 3';

export const ROOFLINE_MEASURED_BY = 'best of 3 runs of a 1x1 convolution (256->256 channels, 56x56, 0.41 GFLOP) and of an add of two 32 MiB tensors, on this backend';

export interface RooflineOptions {
  repeat?: number;
  signal?: AbortSignal;
}

/** Runs both micro-benchmarks on `backend` (no cache). */
export async function measureRoofline(backend: Backend, options: RooflineOptions = {}): Promise<Roofline> {
  const repeat = options.repeat ?? 3;
  const best = async (spec: unknown, id: string) => {
    const plan = buildPlan(spec);
    const index = plan.nodes.findIndex((n) => n.id === id);
    // Unfused: the add must not be folded into the op before it, nor the conv fused with anything.
    // profilePlan's first run, untimed, is the warm-up.
    const result = await profilePlan(plan, backend, { warmup: 0, repeat, fuse: false, signal: options.signal });
    const ms = Math.min(...result.nodeTimes[index]);
    return { node: plan.nodes[index], ms };
  };
  const compute = await best(COMPUTE_SPEC, 'gemm');
  const stream = await best(BANDWIDTH_SPEC, 'stream');
  if (!(compute.ms > 0) || !(stream.ms > 0)) throw new Error(`the roofline micro-benchmarks took no measurable time on ${backend.name}`);
  return {
    peak_gflops_per_s: compute.node.counts.flops / (compute.ms * 1e6),
    bandwidth_gb_per_s: stream.node.bytesMoved / (stream.ms * 1e6),
    measured_by: ROOFLINE_MEASURED_BY,
  };
}

export function rooflineKey(backend: Backend): string {
  return [METHOD, backend.name, backend.adapter, backend.threads ?? ''].join(' | ');
}

const inProcess = new Map<string, Promise<Roofline>>();

interface DiskCache {
  read(key: string): Roofline | undefined;
  write(key: string, roof: Roofline): void;
}

/**
 * The on-disk cache, where there is a file system (Node). Fetched at call time, never imported:
 * the engine is also bundled into the browser Worker, which keeps its figures in memory only.
 */
function diskCache(): DiskCache | undefined {
  const node = (globalThis as { process?: typeof process }).process;
  if (!node?.getBuiltinModule) return undefined;
  const fs = node.getBuiltinModule('node:fs');
  const path = node.getBuiltinModule('node:path');
  const os = node.getBuiltinModule('node:os');
  const url = node.getBuiltinModule('node:url');
  const dir = (() => {
    if (node.env.CONVSCOPE_CACHE_DIR) return node.env.CONVSCOPE_CACHE_DIR;
    const root = path.resolve(path.dirname(url.fileURLToPath(import.meta.url)), '..', '..');
    if (fs.existsSync(path.join(root, 'node_modules'))) return path.join(root, 'node_modules', '.cache', 'convscope');
    const home = os.homedir();
    if (node.platform === 'win32') return path.join(node.env.LOCALAPPDATA ?? path.join(home, 'AppData', 'Local'), 'convscope');
    if (node.platform === 'darwin') return path.join(home, 'Library', 'Caches', 'convscope');
    return path.join(node.env.XDG_CACHE_HOME ?? path.join(home, '.cache'), 'convscope');
  })();
  const file = path.join(dir, 'roofline.json');
  const load = (): Record<string, Roofline> => {
    try {
      const all = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, Roofline>;
      return all && typeof all === 'object' ? all : {};
    } catch {
      return {};
    }
  };
  return {
    read: (key) => {
      const r = load()[key];
      return r && r.peak_gflops_per_s > 0 && r.bandwidth_gb_per_s > 0 && typeof r.measured_by === 'string' ? r : undefined;
    },
    write: (key, roof) => {
      try {
        fs.mkdirSync(dir, { recursive: true });
        const tmp = `${file}.${node.pid}.tmp`;
        fs.writeFileSync(tmp, JSON.stringify({ ...load(), [key]: roof }, null, 2));
        fs.renameSync(tmp, file);
      } catch {
        // A read-only install measures again next time; nothing else depends on the file.
      }
    },
  };
}

/**
 * The backend's roofs: from this process's cache, else the disk's, else measured now (and stored
 * in both). `CONVSCOPE_ROOFLINE=0` turns measuring off (null), for runs that must not spend the time.
 */
export function rooflineFor(backend: Backend, options: RooflineOptions = {}): Promise<Roofline | null> {
  const node = (globalThis as { process?: typeof process }).process;
  if (node?.env?.CONVSCOPE_ROOFLINE === '0') return Promise.resolve(null);
  const key = rooflineKey(backend);
  let p = inProcess.get(key);
  if (!p) {
    const disk = diskCache();
    const cached = disk?.read(key);
    p = cached
      ? Promise.resolve(cached)
      : measureRoofline(backend, options).then((roof) => {
          disk?.write(key, roof);
          return roof;
        });
    inProcess.set(key, p);
    // A failed or cancelled measurement is not remembered: the next profile tries again.
    p.catch(() => inProcess.delete(key));
  }
  return p;
}

/** The roofs for a report, or nothing when they could not be measured (the profile itself stands). */
export async function rooflineForReport(backend: Backend, options: RooflineOptions = {}): Promise<{ roofline?: Roofline }> {
  try {
    const roof = await rooflineFor(backend, options);
    return roof ? { roofline: roof } : {};
  } catch {
    return {};
  }
}

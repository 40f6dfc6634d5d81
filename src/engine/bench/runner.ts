/**
 * What the bench runs a case on: one of the engine's backends, or a peer runtime. Each runner
 * lives in its own child process (see child.ts) so that its peak RSS is its own, and so that
 * runtimes with process-wide settings (onnxruntime-web's thread count, tfjs's backend) do not
 * see each other.
 */
import type { Plan } from '../graph/plan.ts';

export type RunnerKind = 'backend' | 'peer';

export interface RunnerInfo {
  id: string;
  kind: RunnerKind;
  /** One line for tables: what runs, and how. */
  label: string;
}

/** The engine's backends the bench knows; `cpu` uses the WebAssembly kernels when they load. */
export const BACKEND_RUNNERS: readonly RunnerInfo[] = [
  { id: 'cpu', kind: 'backend', label: 'convscope cpu (WebAssembly SIMD kernels, worker threads)' },
  { id: 'cpu-js', kind: 'backend', label: 'convscope cpu, plain TypeScript kernels (the reference)' },
  { id: 'webgpu', kind: 'backend', label: 'convscope webgpu (the best adapter found; opt-in: a software adapter is slow)' },
];

/** Peers are dev dependencies, loaded with a dynamic import; a missing one is reported, not fatal. */
export const PEER_RUNNERS: readonly RunnerInfo[] = [
  { id: 'ort-node', kind: 'peer', label: 'onnxruntime-node (native MLAS)' },
  { id: 'ort-web', kind: 'peer', label: 'onnxruntime-web (wasm SIMD, all threads)' },
  { id: 'ort-web-1t', kind: 'peer', label: 'onnxruntime-web (wasm SIMD, 1 thread)' },
  { id: 'tfjs-wasm', kind: 'peer', label: 'tfjs-backend-wasm (XNNPACK, wasm SIMD)' },
  { id: 'tfjs-cpu', kind: 'peer', label: 'tfjs-backend-cpu (plain JavaScript)' },
  { id: 'ort-webgpu', kind: 'peer', label: "onnxruntime-web's WebGPU execution provider, on the webgpu backend's adapter" },
  { id: 'tfjs-webgpu', kind: 'peer', label: 'tfjs-backend-webgpu, on the webgpu backend\'s adapter' },
];

export const ALL_RUNNERS: readonly RunnerInfo[] = [...BACKEND_RUNNERS, ...PEER_RUNNERS];

export const DEFAULT_BACKENDS = ['cpu'];
/** tfjs-cpu is opt-in: at about 1 GFLOP/s it would spend minutes on the matmul and the presets. */
export const DEFAULT_PEERS = ['ort-node', 'ort-web', 'ort-web-1t', 'tfjs-wasm'];
/** The peers of `--backends webgpu` when --peers is not given: the same work on the same adapter. */
export const WEBGPU_PEERS = ['ort-webgpu', 'tfjs-webgpu'];

/** A case as every runner receives it: the plan, its seeded weights and input. */
export interface CaseData {
  id: string;
  group: 'ops' | 'models';
  plan: Plan;
  weights: Map<string, Float32Array[]>;
  input: Float32Array;
}

/** One case made ready to run many times. */
export interface PreparedCase {
  /** Runs the case once and returns its time in ms, as this runner defines it (see `timing`). */
  run(): Promise<number>;
  /** The NCHW (or [N, F]) output of the last run, converted back from the runner's layout. */
  output(): Promise<Float32Array>;
  dispose(): Promise<void>;
}

/** Thrown by `prepare` when the runner cannot compute this case; the reason goes in the report. */
export class Unsupported extends Error {}

export interface Runner {
  /** The runtime and version that ran, for the report. */
  describe(): string;
  /** How `run()` is timed, stated in the report. */
  timing: string;
  threads: number;
  prepare(c: CaseData): Promise<PreparedCase>;
  dispose(): Promise<void>;
}

export interface RunnerOptions {
  threads: number;
}

import type { Plan, PlanNode } from '../graph/plan.ts';

export interface ForwardHooks {
  /** Called after each node with its wall time in ms (only when given: timing costs a little). */
  onNode?(index: number, node: PlanNode, ms: number): void;
  signal?: AbortSignal;
}

/** A plan bound to a backend: buffers and weights placed once, forward run many times. */
export interface PreparedModel {
  forward(input: Float32Array, hooks?: ForwardHooks): Promise<Float32Array>;
  dispose(): Promise<void>;
  /**
   * Ops the backend ran inside another op's kernel (an activation fused into the conv before it):
   * op id -> id of the op whose dispatch ran it. `onNode` reports 0 ms for them.
   */
  readonly fusedInto?: ReadonlyMap<string, string>;
  /** How this model's ops are timed, when it differs from the backend's usual `timing`. */
  readonly timing?: string;
}

export interface PrepareOptions {
  /**
   * false: every op runs as its own kernel, so each one's time is its own (no batch-norm folding,
   * no fused activations; see graph/fuse.ts). Default true, as inference runtimes run models.
   */
  fuse?: boolean;
}

export interface Backend {
  /** `cpu`, `webgpu`, ... */
  readonly name: string;
  /** What executes: CPU model and threads, GPU adapter name. */
  readonly adapter: string;
  /** How `onNode` times are taken, stated in every report. */
  readonly timing: string;
  readonly threads?: number;
  /** Device limits worth stating in a report (GPU backends). */
  readonly limits?: Record<string, number>;
  /** Why other ways of starting this backend (e.g. a native GPU adapter) were not taken. */
  readonly fallbacks?: string[];
  /**
   * GPU backends on a renderer that emulates the GPU on the CPU: its name ("llvmpipe",
   * "SwiftShader"). `auto` prefers a CPU backend that outruns it (resolve.ts).
   */
  readonly software?: string;
  prepare(plan: Plan, weights: Map<string, Float32Array[]>, options?: PrepareOptions): Promise<PreparedModel>;
  /** One op on given tensors, outside a model: for op tests across backends. */
  runOp(node: PlanNode, inputs: Float32Array[], weights: Float32Array[], seed: number): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export interface BackendOptions {
  threads?: number;
  /** GPU backends: use the adapter whose description contains this (case-insensitive). */
  adapter?: string;
  /**
   * The op types the model uses. A provider that lacks a kernel for one of them throws, so `auto`
   * moves on to the next backend with that reason instead of failing at prepare().
   */
  ops?: readonly string[];
}

/**
 * A way to get a backend. `auto` tries providers by descending priority and falls through to the
 * next when `create` throws; the thrown message is recorded as the reason in the report.
 */
export interface BackendProvider {
  name: string;
  priority: number;
  /**
   * True for a CPU backend measured faster than WebGPU on a software renderer on the same cores
   * (the Node CPU backend's WebAssembly kernels on worker threads: 2-3x llvmpipe). `auto` takes
   * such a provider over a software adapter; one without the flag (the browser Worker's
   * single-thread reference kernels) does not displace it.
   */
  outrunsSoftwareGpu?: boolean;
  create(options: BackendOptions): Promise<Backend>;
}

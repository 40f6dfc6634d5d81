/** The profiling report (convscope.report/v1). HTML, CSV, Markdown and trace are rendered from it. */
import type { ModelSpec } from './spec.ts';

export const REPORT_SCHEMA = 'convscope.report/v1';

export interface TimeStats {
  median: number;
  p10: number;
  p90: number;
}

export interface LayerRow {
  /** Expanded op id, `<layer>/<name>` for ops inside a block. */
  id: string;
  /** The id of the layer the user placed. */
  layer: string;
  op: string;
  /** The block the layer is, or null for a primitive op. */
  block: string | null;
  /**
   * Row ids (or "input") this op reads, in order. Optional so that reports written before the
   * field existed still load; the HTML memory timeline needs it to know when tensors are freed.
   */
  inputs?: string[];
  input_shapes: number[][];
  output_shape: number[];
  params: number;
  buffers: number;
  macs: number;
  flops: number;
  /** How `macs` was computed, with the numbers filled in. */
  formula: string;
  output_bytes: number;
  /** Bytes read and written by the op (inputs + weights + output), for arithmetic intensity. */
  bytes_moved: number;
  time_ms: TimeStats | null;
  gflops_per_s: number | null;
  /** FLOPs per byte moved. */
  arithmetic_intensity: number;
  /**
   * Set when the backend ran this op inside another op's kernel (WebGPU: an activation fused into
   * the epilogue of the conv2d / linear it follows): that op's id. The row keeps its own counts,
   * but its time_ms is 0 and gflops_per_s null: its time is included in the row named here.
   */
  fused_into?: string;
}

export interface Totals {
  params: number;
  buffers: number;
  macs: number;
  flops: number;
  param_bytes: number;
  activation_bytes: number;
  peak_bytes: number;
  time_ms: number | null;
}

export interface BackendInfo {
  name: string;
  adapter: string;
  /** How times were taken, e.g. "host wall clock (performance.now) around each op". */
  timing: string;
  threads?: number;
  warmup?: number;
  repeat?: number;
  /** Why backends earlier in the `auto` order, or other adapters of this backend, were not used. */
  fallbacks?: string[];
  /**
   * Why this backend ran, one line: "auto: the only webgpu adapter is software (llvmpipe), the cpu
   * backend is faster", "webgpu, asked for by name". Absent in reports written before 0.1.
   */
  reason?: string;
  /** Present (true) when the GPU adapter is a software renderer on the CPU (llvmpipe, SwiftShader). */
  software?: boolean;
  /** How the backend is shown: the name, "webgpu (software adapter)" on a software renderer. */
  label?: string;
  /** GPU backends: the device limits kernels were planned with (maxStorageBufferBindingSize, ...). */
  limits?: Record<string, number>;
  /** Time of the first run (JIT warm-up and first-use caches; buffers and pipelines are made before it, untimed), ms. */
  first_run_ms?: number;
  /** End-to-end forward time over the repeats, ms. */
  e2e_ms?: TimeStats;
  /** The roofs of the roofline: what this backend and adapter reach at best, measured by a micro-benchmark. */
  roofline?: Roofline;
}

/**
 * Measured ceilings of one backend on one adapter (added within v1: optional, older reports lack it).
 * A layer at arithmetic intensity I cannot beat min(peak, I * bandwidth) GFLOP/s.
 */
export interface Roofline {
  /** Best GFLOP/s of a large GEMM-shaped convolution on this backend. */
  peak_gflops_per_s: number;
  /** Best memory bandwidth, GB/s (1e9 bytes/s), of a large element-wise add (read two, write one). */
  bandwidth_gb_per_s: number;
  /** What was run to measure them, in words. */
  measured_by: string;
}

export interface Report {
  schema: typeof REPORT_SCHEMA;
  created: string;
  model: {
    name: string;
    input_shape: number[];
    output_shape: number[];
    spec: ModelSpec;
  };
  backend: BackendInfo | null;
  totals: Totals;
  layers: LayerRow[];
  environment: {
    app_version: string;
    node: string;
    platform: string;
    cpu: string;
  };
}

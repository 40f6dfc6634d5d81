import type { ParamReader } from '../params.ts';
import type { Shape } from '../tensor.ts';

export type OpCategory = 'convolution' | 'pooling' | 'activation' | 'normalization' | 'structure' | 'linear';

/** How a weight is initialised from the model's seed (see weights.ts). */
export type WeightInit =
  | { kind: 'uniform'; bound: number } // U(-bound, bound)
  | { kind: 'range'; lo: number; hi: number } // U(lo, hi)
  | { kind: 'const'; value: number };

export interface WeightDecl {
  name: string;
  shape: Shape;
  /** `param`: trainable (weights, biases, BN gamma/beta). `buffer`: BN running statistics. */
  role: 'param' | 'buffer';
  init: WeightInit;
}

export interface Counts {
  macs: number;
  flops: number;
  /** The formula behind the counts with the numbers filled in, shown in every report row. */
  formula: string;
}

/** Everything an op knows about one use of it, computed from shapes alone (no tensors). */
export interface Resolved<A> {
  attrs: A;
  output: Shape;
  weights: WeightDecl[];
  counts: Counts;
}

export interface KernelArgs<A> {
  inputs: Float32Array[];
  inShapes: Shape[];
  /** In the order `resolve` declared them. */
  weights: Float32Array[];
  out: Float32Array;
  outShape: Shape;
  attrs: A;
  /** Per-op seed for stochastic ops, derived from the model seed and the op id. */
  seed: number;
}

export interface CpuKernel<A> {
  /**
   * The number of independent work units of one call. Ranges of units run on different threads
   * and must write disjoint parts of `out`. Omit (or return 1) for ops that are not worth
   * splitting; they run on the calling thread.
   */
  units?(args: Pick<KernelArgs<A>, 'inShapes' | 'outShape' | 'attrs'>): number;
  /** Computes units [start, end). Reads inputs and weights, writes `out`; no other state. */
  run(args: KernelArgs<A>, start: number, end: number): void;
}

/**
 * The device limits a WebGPU kernel plans within (the values the device was created with: the
 * adapter's maxima). Compatibility-mode adapters (OpenGL ES) may allow as few as 4 storage buffers
 * per shader stage, 128 invocations and 16 KiB of workgroup memory per workgroup.
 */
export interface GpuLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxStorageBuffersPerShaderStage: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupSizeX: number;
  maxComputeWorkgroupSizeY: number;
  maxComputeWorkgroupsPerDimension: number;
  minStorageBufferOffsetAlignment: number;
}

/** A buffer a dispatch binds: an op input or weight (by index), the op's output, or a scratch buffer. */
export type GpuBufferRef = { input: number } | { weight: number } | { output: true } | { scratch: number };

export interface GpuBinding {
  buffer: GpuBufferRef;
  /** Bytes; a multiple of limits.minStorageBufferOffsetAlignment. Default 0. */
  offset?: number;
  /** Bytes; default: the tensor's size minus `offset` (not the whole, possibly larger, pooled buffer). */
  size?: number;
  /**
   * `read` binds as `var<storage, read>`, `read_write` as `var<storage, read_write>`; the WGSL must
   * declare the same. Default: inputs and weights `read`, output and scratch `read_write`.
   */
  access?: 'read' | 'read_write';
}

/** One 4-byte member of a dispatch's uniform struct, in declaration order: [name, type, value]. */
export type UniformField = [name: string, type: 'i32' | 'u32' | 'f32', value: number];

export interface GpuDispatch {
  /**
   * A WGSL compute shader with entry point `main`. `@group(0) @binding(i)` is `bindings[i]`; when
   * `uniforms` is given, binding `bindings.length` is a uniform buffer holding them (declare it with
   * `uniformsWgsl()` from kernels/wgsl/). Pipelines are cached by this text: keep shapes in uniforms
   * and only structural choices (tile sizes, vec4 paths, epilogue) in the source, so convolutions of
   * different shapes share one compiled pipeline.
   */
  code: string;
  bindings: GpuBinding[];
  uniforms?: UniformField[];
  /** Workgroup counts; each at most limits.maxComputeWorkgroupsPerDimension (see gridFor()). */
  workgroups: [number, number, number];
}

/** What a kernel needs to plan one use of its op; all known at prepare time. */
export interface GpuPlanArgs<A> {
  attrs: A;
  inShapes: Shape[];
  outShape: Shape;
  /** In the order `resolve` declared them. */
  weightShapes: Shape[];
  limits: GpuLimits;
  seed: number;
  /**
   * Only for kernels with `fusesActivation`: a WGSL expression in `x` (an f32) to apply to every
   * output value before it is stored, taken from the element-wise op that follows.
   */
  activation?: string;
}

export interface GpuOpPlan {
  /** Run in order; each sees the writes of the one before. */
  dispatches: GpuDispatch[];
  /** Sizes in bytes of scratch buffers the dispatches bind as `{ scratch: i }`; contents undefined on entry. */
  scratch?: number[];
}

/**
 * An op's WebGPU implementation (ops/<op>/wgsl.ts). `plan` runs once per op at prepare time; its
 * dispatches, bind groups and uniform buffers are created then and replayed on every forward.
 * Must agree with the CPU kernel to the tolerance test/ops.data.test.ts states.
 */
export interface WebGpuKernel<A> {
  plan(args: GpuPlanArgs<A>): GpuOpPlan;
  /**
   * Element-wise activations only: the op as a WGSL expression in `x` (e.g. `max(x, 0.0)`), so a
   * producer with `fusesActivation` can apply it in its epilogue instead of a separate dispatch.
   * Ops with parameters (clip's bounds, hardsigmoid's slope) give it as a function of their
   * attributes, the numbers written into the expression (see activationExpression).
   */
  activation?: string | ((attrs: A) => string);
  /** The kernel honours `GpuPlanArgs.activation` (conv2d, linear): the backend may fuse a following activation. */
  fusesActivation?: boolean;
}

/**
 * One op = one module: its parameter rules, shape rule, weights, counts and kernels. Registered
 * in ops/registry.ts. Attributes must be plain data: they travel to worker threads.
 */
export interface OpDef<A = any> {
  type: string;
  category: OpCategory;
  /** One line: what it is and what it costs next to a standard convolution. */
  summary: string;
  /** [min, max] number of inputs. */
  arity: [number, number];
  /** Validates params against the input shapes and derives everything else. Throws SpecError. */
  resolve(p: ParamReader, inShapes: Shape[]): Resolved<A>;
  cpu: CpuKernel<A>;
  /**
   * For ops whose output channel o is linear in weight row o (conv2d, linear): the attributes and
   * weights that compute scale[o] * y[o] + shift[o] instead (with a bias). How an inference batch
   * norm that follows folds into the op (graph/fuse.ts).
   */
  foldScaleShift?(attrs: A, weights: Float32Array[], scale: Float64Array, shift: Float64Array): { attrs: A; weights: Float32Array[] };
  /** Absent: the op has no WGSL kernel yet and the WebGPU backend refuses plans that use it. */
  webgpu?: WebGpuKernel<A>;
}

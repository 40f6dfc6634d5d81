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
}

/**
 * An op's WebAssembly kernel (ops/<op>/wasm.ts, listed in ./kernels.ts): the JavaScript side that
 * splits one call into units and drives the compiled kernels (as/*.as) over byte offsets into the
 * backend's shared memory. Like the TypeScript kernel, `run(start, end)` computes units
 * [start, end) and writes only their part of the output; it runs on the main thread and on
 * workers alike. The TypeScript kernel stays the reference: every data-driven op case runs on
 * both (test/ops.data.test.ts).
 */
import type { Shape } from '../../../tensor.ts';
import type { KernelExports } from './module.ts';

export interface WasmPlanArgs<A> {
  attrs: A;
  inShapes: Shape[];
  outShape: Shape;
  /** Threads the call is split over: tile sizes adapt so each thread gets several units. */
  threads: number;
}

export interface WasmKernelArgs<A> extends WasmPlanArgs<A> {
  /** Byte offsets of the inputs, in order. */
  x: number[];
  /** Byte offsets of the weights: as `pack` returned them, or as declared when there is no `pack`. */
  w: number[];
  /** Byte offset of the output. */
  y: number;
  /** This thread's scratch: at least `scratchBytes()` bytes, contents undefined. */
  scratch: number;
  /** The call's shared scratch, the same block on every thread: at least `sharedBytes()` bytes. */
  shared: number;
  seed: number;
  /** An activation (one of the kernel's `activations`) to apply to the output it writes. */
  activation?: FusableActivation;
  /** Byte offset of a tensor shaped as the output, to add to it before the activation (`fusesResidual`). */
  residual?: number;
}

/** The activations eltwise.as has, which a kernel may apply to the output it just wrote (see epilogue). */
export type FusableActivation = 'relu' | 'relu6';

export interface WasmKernel<A> {
  /** Whether this use of the op runs here; otherwise the TypeScript kernel runs it. Default: always. */
  accepts?(args: Omit<WasmPlanArgs<A>, 'threads'>): boolean;
  /** The weights rearranged for the kernel, once at prepare time (e.g. GEMM-packed). Default: as declared. */
  pack?(attrs: A, weights: Float32Array[]): Float32Array[];
  units(args: WasmPlanArgs<A>): number;
  /** Activations `run` applies in its epilogue when `activation` is given: a following relu fuses into the op. */
  activations?: readonly FusableActivation[];
  /** Whether `run` adds `residual` in its epilogue (see `epilogue`): a following residual add fuses into the op. */
  fusesResidual?: boolean;
  /** Scratch bytes one thread needs for any range of units. */
  scratchBytes?(args: WasmPlanArgs<A>): number;
  /**
   * Units that must all finish before any later unit starts: a prologue that fills the shared
   * scratch (an input packed once for every thread, not once per thread). Default 0.
   */
  prologueUnits?(args: WasmPlanArgs<A>): number;
  /** Bytes of scratch every thread of one call shares (what the prologue writes). */
  sharedBytes?(args: WasmPlanArgs<A>): number;
  run(k: KernelExports, args: WasmKernelArgs<A>, start: number, end: number): void;
}

/** gemm.as's K block (KC there; tested to agree). */
export const GEMM_KC = 256;

/**
 * A GEMM A operand per group: `rows` rows of `K` floats, padded to a multiple of 4 rows, packed as
 * gemm.as wants them: in blocks of GEMM_KC columns, each [rows/4][kc][4].
 */
export function packRows(src: Float32Array, groups: number, rows: number, K: number, rowOf: (g: number, m: number, k: number) => number = (g, m, k) => (g * rows + m) * K + k): Float32Array {
  const padded = roundUp(rows, 4);
  const out = new Float32Array(groups * padded * K);
  for (let g = 0; g < groups; g++) {
    const base = g * padded * K;
    for (let k0 = 0; k0 < K; k0 += GEMM_KC) {
      const kc = Math.min(GEMM_KC, K - k0);
      const block = base + k0 * padded;
      for (let m = 0; m < rows; m++) {
        const o = block + (m >> 2) * kc * 4 + (m & 3);
        for (let k = 0; k < kc; k++) out[o + k * 4] = src[rowOf(g, m, k0 + k)];
      }
    }
  }
  return out;
}

/** eltwise.as's code for an activation: 0 none, 1 relu, 2 relu6. */
export function activationCode(activation: FusableActivation | undefined): number {
  return activation === 'relu' ? 1 : activation === 'relu6' ? 2 : 0;
}

/**
 * A kernel's epilogue on `rows` rows of `cols` floats, `stride` bytes apart, from byte `ptr` of
 * its output: the residual (at the same offsets in its tensor) added, then the activation, in one
 * pass while the rows are still in cache, and in one call (a call per row cost a tenth of a
 * millisecond on Xception's 64-column tiles).
 */
export function epilogue(k: KernelExports, args: Pick<WasmKernelArgs<unknown>, 'y' | 'residual' | 'activation'>, ptr: number, rows: number, cols: number, stride: number): void {
  const act = activationCode(args.activation);
  if (rows <= 0 || cols <= 0 || (args.residual === undefined && act === 0)) return;
  k.epilogue_rows(ptr, args.residual === undefined ? 0 : args.residual + (ptr - args.y), rows, cols, stride, act);
}

export const roundUp = (x: number, m: number) => Math.ceil(x / m) * m;

/** Bytes of gemm.as's `tmp` for an M x N product (mirrors gemm_tmp_bytes there; tested to agree). */
export function gemmTmpBytes(M: number, N: number): number {
  return roundUp(M, 4) * 32 + roundUp(N, 8) * 16 + 64;
}

/**
 * Scratch bytes of one plane of window.as (dw_plane, pool_plane): the padded copy of the plane,
 * wide and tall enough for every vector load, then a row for the tail stores and slack. Mirrors window_scratch there
 * (test/cpu-wasm.test.ts checks that they agree).
 */
export function windowScratchBytes(h: number, w: number, kernel: number[], stride: number[], pads: number[], dilation: number[], ho: number, wo: number): number {
  const [kh, kw] = kernel;
  const [sh, sw] = stride;
  const [pt, pl, pb, pr] = pads;
  const [dh, dw] = dilation;
  const rows = Math.max(h + pt + pb, (ho - 1) * sh + (kh - 1) * dh + 1);
  const wo8 = roundUp(wo, 8);
  const cols = roundUp(Math.max(w + pl + pr, (wo8 - 8) * sw + (kw - 1) * dw + 8 * Math.max(sw, 2)), 8);
  return (rows + 1) * cols * 4 + 64;
}

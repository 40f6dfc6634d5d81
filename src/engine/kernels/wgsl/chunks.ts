/**
 * Pieces the simple (non-GEMM) WGSL kernels share: a workgroup size every device allows, the
 * thread index under `gridFor`, and splitting a tensor into runs of whole items (planes, images,
 * rows) whose slices fit one binding.
 */
import type { GpuLimits } from '../../ops/types.ts';
import { FLAT_WORKGROUP, itemsPerBinding } from './common.ts';

/** Threads per workgroup: compatibility-mode devices may allow no more than 128. */
export const WG = 128;

/** `main`'s parameters for kernels that index threads with `THREAD`. */
export const MAIN_PARAMS = '@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32';

/** The thread's linear index `t` when the grid is `gridFor(ceil(threads / WG))`. */
export const THREAD = `let t = ${FLAT_WORKGROUP} * ${WG} + i32(li);`;

export interface Run {
  /** Index of the run's first item. */
  first: number;
  count: number;
}

/**
 * Splits `items` into runs whose slices (`bytesPerItem` in the largest sliced binding) fit
 * maxStorageBufferBindingSize; at most `maxPerRun` items a run (a grid limit), when given.
 */
export function runsOf(items: number, bytesPerItem: number, limits: GpuLimits, what: string, maxPerRun = Infinity): Run[] {
  const per = Math.max(1, Math.min(itemsPerBinding(items, bytesPerItem, limits, what), maxPerRun));
  const runs: Run[] = [];
  for (let first = 0; first < items; first += per) runs.push({ first, count: Math.min(per, items - first) });
  return runs;
}

/**
 * Runs of `total` elements, each a multiple of 64 elements (256 bytes, the largest offset
 * alignment a device may ask) except the last, so slices of flat tensors stay vec4-aligned.
 */
export function flatRunsOf(total: number, limits: GpuLimits, bytesPerElement = 4): Run[] {
  const fit = itemsPerBinding(total, bytesPerElement, limits, 'one element');
  const per = fit >= total ? total : Math.max(64, Math.floor(fit / 64) * 64);
  const runs: Run[] = [];
  for (let first = 0; first < total; first += per) runs.push({ first, count: Math.min(per, total - first) });
  return runs;
}

/** Throws, naming `what`, when `elements` float32 values do not fit one binding (inputs bound whole). */
export function checkWhole(elements: number, limits: GpuLimits, what: string): void {
  if (elements * 4 > limits.maxStorageBufferBindingSize) {
    itemsPerBinding(1, elements * 4, limits, what);
  }
}

/**
 * Helpers every WGSL kernel uses: the uniform struct, grids larger than one dimension allows, and
 * bindings of a slice of a tensor (for tensors over maxStorageBufferBindingSize). Plain strings and
 * numbers: kernels are planned on any thread and in a browser Worker alike.
 */
import type { GpuBinding, GpuBufferRef, GpuLimits, UniformField } from '../../ops/types.ts';

/** WGSL for a dispatch's uniforms: `struct Params { ... }` bound at `binding` as `u`. */
export function uniformsWgsl(fields: readonly UniformField[], binding: number): string {
  const members = fields.map(([name, type]) => `  ${name}: ${type},`).join('\n');
  return `struct Params {\n${members}\n}\n@group(0) @binding(${binding}) var<uniform> u: Params;\n`;
}

/** The bytes of the uniform buffer `uniformsWgsl` declares: 4 bytes per field, padded to 16. */
export function packUniforms(fields: readonly UniformField[]): ArrayBuffer {
  const buf = new ArrayBuffer(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16));
  const view = new DataView(buf);
  fields.forEach(([name, type, value], i) => {
    if (!Number.isFinite(value)) throw new Error(`uniform ${name} is ${value}`);
    if (type === 'f32') view.setFloat32(i * 4, value, true);
    else if (type === 'i32') view.setInt32(i * 4, value, true);
    else view.setUint32(i * 4, value, true);
  });
  return buf;
}

/**
 * Workgroup counts for `count` workgroups laid out in x then y, each within the per-dimension
 * limit. Shaders recover the linear index with `FLAT_WORKGROUP` and must bounds-check it: x * y
 * may exceed `count`.
 */
export function gridFor(count: number, limits: GpuLimits): [number, number, number] {
  const max = limits.maxComputeWorkgroupsPerDimension;
  if (count <= max) return [Math.max(1, count), 1, 1];
  const y = Math.ceil(count / max);
  if (y > max) throw new Error(`${count} workgroups exceed the device's ${max} x ${max} grid`);
  return [Math.ceil(count / y), y, 1];
}

/** WGSL expression for the linear workgroup index under `gridFor` (needs `wid` and `nwg` builtins). */
export const FLAT_WORKGROUP = 'i32(wid.y * nwg.x + wid.x)';

export interface SliceBinding {
  binding: GpuBinding;
  /** Element index, within the bound range, of the slice's first element. */
  base: number;
}

/**
 * Binds elements [first, first + count) of a float32 tensor. Binding offsets must be aligned, so
 * the range starts at the aligned byte at or before the slice and the shader adds `base`.
 */
export function sliceBinding(buffer: GpuBufferRef, first: number, count: number, limits: GpuLimits, access?: GpuBinding['access']): SliceBinding {
  const align = limits.minStorageBufferOffsetAlignment;
  const start = first * 4;
  const offset = Math.floor(start / align) * align;
  return { binding: { buffer, offset, size: start + count * 4 - offset, ...(access ? { access } : {}) }, base: (start - offset) / 4 };
}

/**
 * How many of `items` (images, rows) one dispatch can cover when each takes `bytesPerItem` of every
 * sliced binding: the slices (plus alignment slack) must fit maxStorageBufferBindingSize.
 */
export function itemsPerBinding(items: number, bytesPerItem: number, limits: GpuLimits, what: string): number {
  const room = limits.maxStorageBufferBindingSize - limits.minStorageBufferOffsetAlignment;
  const fit = Math.floor(room / bytesPerItem);
  if (fit < 1) {
    throw new Error(`${what} of ${mib(bytesPerItem)} exceeds this device's maxStorageBufferBindingSize of ${mib(limits.maxStorageBufferBindingSize)}`);
  }
  return Math.min(items, fit);
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

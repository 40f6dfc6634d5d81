import { viewWgsl } from '../../kernels/wgsl/strided.ts';

/** slice on WebGPU: the strided view copy (negative strides read reversed slices). */
export const sliceWgsl = viewWgsl;

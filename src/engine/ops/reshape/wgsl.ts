import { copyKernel } from '../../kernels/wgsl/elementwise.ts';

/** A reshape keeps the elements in order: the GPU copies the input (vec4 where the size allows). */
export const reshapeWgsl = copyKernel();

import { copyKernel } from '../../kernels/wgsl/elementwise.ts';

/** A reshape: the GPU copies the input (vec4 where the size allows). */
export const flattenWgsl = copyKernel();

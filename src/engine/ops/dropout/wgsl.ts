import { copyKernel } from '../../kernels/wgsl/elementwise.ts';

/** Identity at inference: the GPU copies the input (vec4 where the size allows). */
export const dropoutWgsl = copyKernel();

import { viewWgsl } from '../../kernels/wgsl/strided.ts';

/** transpose on WebGPU: the strided view copy, one thread per output element. */
export const transposeWgsl = viewWgsl;

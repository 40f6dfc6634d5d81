import { unaryElementwise } from '../../kernels/wgsl/elementwise.ts';

/** max(x, 0); also fused into a preceding conv2d's epilogue when nothing else reads the conv. */
export const reluWgsl = unaryElementwise('max(x, 0.0)');

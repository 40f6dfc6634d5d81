import { unaryElementwise } from '../../kernels/wgsl/elementwise.ts';

/**
 * 1 / (1 + exp(-x)), written so exp never overflows (WGSL may assume no infinities): with
 * e = exp(-|x|) <= 1 it is 1 / (1 + e) for x >= 0 and e / (1 + e) below. Also fused into a
 * preceding conv2d / linear epilogue (SE gates).
 */
export const sigmoidWgsl = unaryElementwise('select(exp(-abs(x)), 1.0, x >= 0.0) / (1.0 + exp(-abs(x)))');

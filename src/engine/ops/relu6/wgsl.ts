import { unaryElementwise } from '../../kernels/wgsl/elementwise.ts';

/**
 * min(max(x, 0), 6); also fused into a preceding conv2d / linear epilogue (MobileNet). A NaN passes
 * through as on the CPU (Math.min/max, torch.clamp): WGSL's clamp may return a bound instead, so
 * NaN is tested on the bits, which no float optimisation can fold away.
 */
export const relu6Wgsl = unaryElementwise('select(clamp(x, 0.0, 6.0), x, (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u)');

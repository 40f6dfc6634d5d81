import type { WasmKernel } from '../../backends/cpu/wasm/types.ts';
import { batchNormScaleShift, type BatchNormAttrs } from './index.ts';

/** Planes per unit: [N, C] inputs have one element per plane. */
const PLANES = 16;

/**
 * Inference batch norm as y = x * scale + shift (eltwise.as bn_planes), with scale and shift
 * folded once at prepare time in float64 from gamma, beta and the running statistics.
 */
export const batchNormWasm: WasmKernel<BatchNormAttrs> = {
  pack({ c, eps }, weights) {
    const { scale, shift } = batchNormScaleShift(c, eps, weights);
    return [Float32Array.from(scale), Float32Array.from(shift)];
  },
  units: ({ attrs }) => Math.ceil((attrs.n * attrs.c) / PLANES),
  run(k, { attrs: a, x: [x], w: [scale, shift], y }, start, end) {
    k.bn_planes(x, y, start * PLANES, Math.min(end * PLANES, a.n * a.c), a.c, a.spatial, scale, shift);
  },
};

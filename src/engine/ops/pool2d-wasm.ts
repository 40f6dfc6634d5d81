import { windowScratchBytes, type WasmKernel } from '../backends/cpu/wasm/types.ts';
import type { AvgPool2dAttrs } from './avg_pool2d/index.ts';
import type { Pool2dAttrs } from './pool2d.ts';

/** Max (0), min (1) or average (2) pooling (window.as): one (n, c) plane per unit, as the TypeScript kernels. */
function poolWasm<A extends Pool2dAttrs>(mode: 0 | 1 | 2): WasmKernel<A> {
  return {
    units: ({ attrs }) => attrs.n * attrs.c,
    scratchBytes: ({ attrs: a }) => windowScratchBytes(a.h, a.w, a.kernel, a.stride, a.pads, a.dilation, a.ho, a.wo),
    run(k, { attrs: a, x: [x], y, scratch }, start, end) {
      const [kh, kw] = a.kernel;
      const [pt, pl, pb, pr] = a.pads;
      const include = mode === 2 && (a as unknown as AvgPool2dAttrs).countIncludePad ? 1 : 0;
      const plane = a.h * a.w * 4;
      const P = a.ho * a.wo * 4;
      for (let u = start; u < end; u++) {
        k.pool_plane(mode, x + u * plane, a.h, a.w, kh, kw, a.stride[0], a.stride[1], pt, pl, pb, pr, a.dilation[0], a.dilation[1], a.ho, a.wo, include, y + u * P, scratch);
      }
    },
  };
}

export const maxPool2dWasm = poolWasm<Pool2dAttrs>(0);
export const minPool2dWasm = poolWasm<Pool2dAttrs>(1);
export const avgPool2dWasm = poolWasm<AvgPool2dAttrs>(2);

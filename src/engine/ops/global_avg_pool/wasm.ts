import type { WasmKernel } from '../../backends/cpu/wasm/types.ts';
import type { GlobalPoolAttrs } from './index.ts';

/** Planes per unit: enough that a unit is worth a hand-off even for 7x7 planes. */
const PLANES = 16;

/** Mean of each plane, summed in float64 like the reference (window.as mean_planes). */
export const globalAvgPoolWasm: WasmKernel<GlobalPoolAttrs> = {
  units: ({ attrs }) => Math.ceil((attrs.n * attrs.c) / PLANES),
  run(k, { attrs: a, x: [x], y }, start, end) {
    const p0 = start * PLANES;
    const p1 = Math.min(end * PLANES, a.n * a.c);
    k.mean_planes(x + p0 * a.size * 4, p1 - p0, a.size, y + p0 * 4);
  },
};

import type { WasmKernel } from '../../backends/cpu/wasm/types.ts';

const CHUNK = 65536;

/** min(max(x, 0), 6) 4 floats at a time (eltwise.as), in chunks of 64 Ki elements per unit. */
export const relu6Wasm: WasmKernel<{ size: number }> = {
  units: ({ attrs }) => Math.ceil(attrs.size / CHUNK),
  run(k, { attrs, x: [x], y }, start, end) {
    const lo = start * CHUNK;
    const hi = Math.min(end * CHUNK, attrs.size);
    k.relu6(x + lo * 4, y + lo * 4, hi - lo);
  },
};

import { gemmTmpBytes, roundUp, type WasmKernel } from '../../backends/cpu/wasm/types.ts';
import type { LinearAttrs } from './index.ts';

/** Below this batch every weight is used once or twice: a GEMV (linear.as) bound by memory bandwidth. */
const GEMM_MIN_BATCH = 4;
/** Output features per GEMV unit. */
const GEMV_FEATURES = 64;
/** Samples per GEMM unit: the packed rows of x (A) it owns. */
const SAMPLES = 256;

interface Tiling {
  /** Output features per unit (a multiple of 8 on the GEMM path). */
  FB: number;
  fBlocks: number;
  sBlocks: number;
}

function tiling(a: LinearAttrs, threads: number): Tiling {
  if (a.n < GEMM_MIN_BATCH) return { FB: GEMV_FEATURES, fBlocks: Math.ceil(a.outF / GEMV_FEATURES), sBlocks: 1 };
  const sBlocks = Math.ceil(a.n / SAMPLES);
  // The packed W^T slab of a unit (in x FB floats) about 256 KiB, and enough units for every thread.
  let FB = Math.max(8, Math.min(roundUp(a.outF, 8), Math.floor((256 * 1024) / (4 * a.inF) / 8) * 8));
  while (FB > 8 && sBlocks * Math.ceil(a.outF / FB) < 4 * threads) FB = Math.max(8, roundUp(FB / 2, 8));
  return { FB, fBlocks: Math.ceil(a.outF / FB), sBlocks };
}

/**
 * y = x W^T + b. From 4 samples on, packed GEMM (gemm.as) with A = x (rows packed per unit) and
 * B = W^T packed into panels once at prepare time; below that, a GEMV straight off W.
 */
export const linearWasm: WasmKernel<LinearAttrs> = {
  pack(a, [w, b]) {
    if (a.n < GEMM_MIN_BATCH) return [w, ...(b ? [b] : [])];
    // B panels: [ceil(out/8)][in][8], panel q column t = feature 8q + t.
    const panels = Math.ceil(a.outF / 8);
    const out = new Float32Array(panels * a.inF * 8);
    for (let f = 0; f < a.outF; f++) {
      const base = (f >> 3) * a.inF * 8 + (f & 7);
      const row = f * a.inF;
      for (let k = 0; k < a.inF; k++) out[base + k * 8] = w[row + k];
    }
    return [out, ...(b ? [b] : [])];
  },
  units({ attrs: a, threads }) {
    const t = tiling(a, threads);
    return t.fBlocks * t.sBlocks;
  },
  scratchBytes({ attrs: a, threads }) {
    return a.n < GEMM_MIN_BATCH ? 0 : roundUp(Math.min(SAMPLES, a.n), 4) * a.inF * 4 + gemmTmpBytes(SAMPLES, tiling(a, threads).FB);
  },
  run(k, { attrs: a, threads, x: [x], w: [wp, bias], y, scratch }, start, end) {
    const t = tiling(a, threads);
    const b = bias === undefined ? 0 : bias;
    if (a.n < GEMM_MIN_BATCH) {
      const f0 = start * t.FB;
      const f1 = Math.min(end * t.FB, a.outF);
      for (let s = 0; s < a.n; s++) k.gemv(x + s * a.inF * 4, a.inF, wp, f0, f1, b, y + s * a.outF * 4);
      return;
    }
    const aPacked = scratch;
    const tmp = scratch + roundUp(Math.min(SAMPLES, a.n), 4) * a.inF * 4;
    let packed = -1;
    for (let u = start; u < end; u++) {
      const sb = Math.floor(u / t.fBlocks);
      const fb = u % t.fBlocks;
      const s0 = sb * SAMPLES;
      const M = Math.min(SAMPLES, a.n - s0);
      // Consecutive units of one sample block share the packed rows of x.
      if (packed !== sb) {
        k.pack_a(x + s0 * a.inF * 4, a.inF * 4, M, a.inF, aPacked);
        packed = sb;
      }
      const f0 = fb * t.FB;
      const N = Math.min(t.FB, a.outF - f0);
      k.gemm(M, N, a.inF, aPacked, roundUp(M, 4), 0, wp + (f0 >> 3) * a.inF * 32, y + (s0 * a.outF + f0) * 4, a.outF * 4, 0, tmp);
      // The GEMM's bias runs along its rows (samples here); the layer's along the columns.
      if (b) k.add_rows(y + (s0 * a.outF + f0) * 4, M, N, a.outF * 4, b + f0 * 4);
    }
  },
};

/** Seeded randomness: the same seed gives the same weights and inputs on every host. */

/** FNV-1a over a string, mixed with a seed: a stable 32-bit key for (seed, op id, weight name). */
export function hashSeed(seed: number, ...parts: string[]): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) {
      h ^= part.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    h ^= 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** mulberry32: small, fast, good enough for weights and sampling; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function fillUniform(out: Float32Array, seed: number, lo: number, hi: number): Float32Array {
  const next = mulberry32(seed);
  const span = hi - lo;
  for (let i = 0; i < out.length; i++) out[i] = lo + span * next();
  return out;
}

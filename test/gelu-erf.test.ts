/**
 * The erf fit behind gelu (ops/gelu: erf1p on the CPU, cs_erf1p in WGSL, the same coefficients):
 * 1 + erf(z) to a relative 2e-7 everywhere, the tails included, against Python's math.erfc(-z)
 * (float64). Abramowitz-Stegun 7.1.26 (error 1.5e-7 absolute, so 100% relative in the far tail)
 * fails this; the WGSL twin is checked through the gelu op cases on WebGPU.
 */
import { describe, expect, it } from 'vitest';
import { erf1p } from '../src/engine/ops/gelu/index.ts';

const REFERENCE: [number, number][] = [
  [-9, 4.13703174651381e-37],
  [-6, 2.1519736712498916e-17],
  [-4, 1.541725790028002e-08],
  [-3, 2.2090496998585438e-05],
  [-2, 0.004677734981047265],
  [-1.5, 0.033894853524689274],
  [-1, 0.15729920705028513],
  [-0.5, 0.4795001221869535],
  [-0.1, 0.8875370839817152],
  [-0.001, 0.9988716212090307],
  [0, 1.0],
  [0.001, 1.0011283787909693],
  [0.1, 1.1124629160182848],
  [0.5, 1.5204998778130465],
  [1, 1.842700792949715],
  [2, 1.9953222650189528],
  [3, 1.9999779095030015],
  [6, 2.0],
];

describe('erf1p (1 + erf(z))', () => {
  it.each(REFERENCE)('z = %d', (z, want) => {
    expect(Math.abs(erf1p(z) - want) / want).toBeLessThan(2e-7);
  });
});

/**
 * stochastic_pool2d in training mode: the sampling follows a_i / sum(a), output i uses draw i of
 * the op's mulberry32 stream (the contract another backend must reproduce), and the result does
 * not depend on how units are split across threads.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/engine/backends/cpu/backend.ts';
import { nodeSeed, runNodeInline } from '../src/engine/backends/cpu/reference.ts';
import { planNodeFor } from '../src/engine/graph/plan.ts';
import { mulberry32 } from '../src/engine/rng.ts';
import { makeInput } from '../src/engine/weights.ts';

const pooled2 = new CpuBackend(2, 0);
const pooled3 = new CpuBackend(3, 0);
afterAll(async () => {
  await pooled2.dispose();
  await pooled3.dispose();
});

/** `planes` copies of the 2x2 window [1, 2, 3, 4], pooled 2x2: one sample per plane. */
function windows(planes: number) {
  const node = planNodeFor('stochastic_pool2d', { kernel: 2, training: true }, [[1, planes, 2, 2]]);
  const x = new Float32Array(planes * 4);
  for (let i = 0; i < x.length; i++) x[i] = (i % 4) + 1;
  return { node, x };
}

describe('stochastic_pool2d sampling', () => {
  it('picks each element with probability a_i / sum(a)', () => {
    const planes = 8000;
    const { node, x } = windows(planes);
    const y = runNodeInline(node, [x], [], 5);
    const freq = [0, 0, 0, 0];
    for (const v of y) freq[v - 1]++;
    // 1, 2, 3, 4 out of 10; one standard deviation is at most sqrt(0.25 / 8000) = 0.0056.
    freq.forEach((f, i) => expect(Math.abs(f / planes - (i + 1) / 10)).toBeLessThan(0.025));
  });

  it('output i uses draw i of mulberry32(seed), i.e. mulberry32(seed + i * 0x6d2b79f5)()', () => {
    const { node, x } = windows(300);
    const y = runNodeInline(node, [x], [], 9);
    const stream = mulberry32(nodeSeed(9, node.id));
    for (let i = 0; i < y.length; i++) {
      const r = stream() * 10;
      // cumulative sums of [1, 2, 3, 4] are 1, 3, 6, 10
      const want = r < 1 ? 1 : r < 3 ? 2 : r < 6 ? 3 : 4;
      expect(y[i]).toBe(want);
      expect(mulberry32((nodeSeed(9, node.id) + Math.imul(i, 0x6d2b79f5)) >>> 0)() * 10).toBe(r);
    }
  });

  it('all-zero windows still consume their draw', () => {
    // plane 0 is all zero, plane 1 is [1, 2, 3, 4]: plane 1 must use draw 1, not draw 0
    const node = planNodeFor('stochastic_pool2d', { kernel: 2, training: true }, [[1, 2, 2, 2]]);
    const y = runNodeInline(node, [Float32Array.from([0, 0, 0, 0, 1, 2, 3, 4])], [], 1);
    const stream = mulberry32(nodeSeed(1, node.id));
    stream();
    const r = stream() * 10;
    expect(y[0]).toBe(0);
    expect(y[1]).toBe(r < 1 ? 1 : r < 3 ? 2 : r < 6 ? 3 : 4);
  });

  it('gives the same result inline and on 2 or 3 worker threads, and only picks positive window elements', async () => {
    const node = planNodeFor('stochastic_pool2d', { kernel: 3, stride: 2, padding: 1, training: true }, [[2, 7, 15, 13]]);
    const x = makeInput(4, node.inShapes[0]);
    const inline = runNodeInline(node, [x], [], 4);
    expect(Array.from(await pooled2.runOp(node, [x], [], 4))).toEqual(Array.from(inline));
    expect(Array.from(await pooled3.runOp(node, [x], [], 4))).toEqual(Array.from(inline));
    const values = new Set(x.filter((v) => v > 0));
    for (const v of inline) expect(v === 0 || values.has(v)).toBe(true);
    expect(inline.some((v) => v > 0)).toBe(true);
  });

  it('depends on the model seed; inference does not', () => {
    const { node, x } = windows(64);
    const a = runNodeInline(node, [x], [], 1);
    expect(Array.from(runNodeInline(node, [x], [], 1))).toEqual(Array.from(a));
    expect(Array.from(runNodeInline(node, [x], [], 2))).not.toEqual(Array.from(a));
    const inf = planNodeFor('stochastic_pool2d', { kernel: 2 }, [[1, 64, 2, 2]]);
    // (1 + 4 + 9 + 16) / (1 + 2 + 3 + 4) = 3
    expect(Array.from(runNodeInline(inf, [x], [], 1))).toEqual(new Array(64).fill(3));
    expect(Array.from(runNodeInline(inf, [x], [], 2))).toEqual(new Array(64).fill(3));
  });
});

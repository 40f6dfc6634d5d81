/** Runs every case of test/data/ops/*.json on every CPU execution path (inline and worker pool). */
import { afterAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/engine/backends/cpu/backend.ts';
import { runNodeInline } from '../src/engine/backends/cpu/reference.ts';
import { planNodeFor } from '../src/engine/graph/plan.ts';
import { makeWeight } from '../src/engine/weights.ts';
import { numel } from '../src/engine/tensor.ts';
import { loadOpCaseFiles, materialize, type OpCase } from './helpers/op-cases.ts';

const pooled = new CpuBackend(2, 0);
afterAll(() => pooled.dispose());

type Runner = (c: OpCase) => Promise<Float32Array>;

function setup(op: string, c: OpCase) {
  const node = planNodeFor(op, c.params, c.inputs.map((i) => i.shape));
  const inputs = c.inputs.map((i) => materialize(i.data, numel(i.shape)));
  const weights = node.weights.map((w) => (c.weights?.[w.name] ? materialize(c.weights[w.name], numel(w.shape)) : makeWeight(c.seed ?? 0, node.id, w)));
  return { node, inputs, weights };
}

const runners = (op: string): Record<string, Runner> => ({
  'cpu (inline)': async (c) => {
    const { node, inputs, weights } = setup(op, c);
    return runNodeInline(node, inputs, weights, c.seed ?? 0);
  },
  'cpu (2 worker threads)': async (c) => {
    const { node, inputs, weights } = setup(op, c);
    return pooled.runOp(node, inputs, weights, c.seed ?? 0);
  },
});

for (const file of loadOpCaseFiles()) {
  describe(`${file.op} (${file.file})`, () => {
    for (const [backend, run] of Object.entries(runners(file.op))) {
      for (const c of file.cases) {
        it(`${backend}: ${c.name}`, async () => {
          if (c.error !== undefined) {
            expect(() => setup(file.op, c)).toThrow(c.error);
            return;
          }
          const { node } = setup(file.op, c);
          expect(node.outShape).toEqual(c.expected!.shape);
          const got = await run(c);
          const want = materialize(c.expected!.data, numel(c.expected!.shape));
          const tol = c.tolerance ?? 1e-5;
          expect(got.length).toBe(want.length);
          for (let i = 0; i < want.length; i++) {
            if (!(Math.abs(got[i] - want[i]) <= tol * Math.max(1, Math.abs(want[i])))) {
              throw new Error(`element ${i}: got ${got[i]}, expected ${want[i]} (tolerance ${tol})`);
            }
          }
        });
      }
    }
  });
}

/**
 * Batch norm folding and activation fusion (graph/fuse.ts), and the CPU and WebGPU backends running the fused
 * steps: the same answers as op-by-op, the fused rows named in `fusedInto` with no time of their own.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/engine/backends/cpu/backend.ts';
import { runNodeInline } from '../src/engine/backends/cpu/reference.ts';
import { headAsRun, planSteps, type FusionRules } from '../src/engine/graph/fuse.ts';
import { buildPlan, planNodeFor, INPUT, type Plan } from '../src/engine/graph/plan.ts';
import { makeInput, makeWeights } from '../src/engine/weights.ts';
import type { ModelSpec } from '../src/shared/spec.ts';
import { WEBGPU_TESTS, openTestBackend } from './helpers/webgpu.ts';

const ANY_ACTIVATION: FusionRules = { fusesActivation: () => true };
const RESIDUALS: FusionRules = { fusesActivation: () => true, fusesResidual: (head) => head.op === 'conv2d' || head.op === 'mul' };
const NO_ACTIVATION: FusionRules = { fusesActivation: () => false };

function spec(layers: unknown[], shape = [1, 8, 12, 12]): ModelSpec {
  return { format: 'convscope/v1', name: 'fusion', input: { shape }, seed: 5, layers } as ModelSpec;
}

/** Op by op, nothing folded: the plain reference. */
function unfusedForward(plan: Plan, input: Float32Array): Float32Array {
  const weights = makeWeights(plan);
  const values = new Map<string, Float32Array>([[INPUT, input]]);
  for (const n of plan.nodes) values.set(n.id, runNodeInline(n, n.inputs.map((r) => values.get(r)!), weights.get(n.id)!, plan.seed));
  return values.get(plan.output)!;
}

function maxRelError(a: Float32Array, b: Float32Array): number {
  let scale = 0;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  let err = 0;
  for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i] - b[i]));
  return err / Math.max(scale, 1e-30);
}

describe('planSteps', () => {
  it('folds conv -> batch_norm and fuses the relu after it; a conv read twice stays alone', () => {
    const plan = buildPlan(
      spec([
        { id: 'c1', op: 'conv2d', params: { out_channels: 8, kernel: 3, padding: 1, bias: false } },
        { id: 'b1', op: 'batch_norm' },
        { id: 'r1', op: 'relu' },
        { id: 'c2', op: 'conv2d', params: { out_channels: 8, kernel: 1 } },
        { id: 'b2', op: 'batch_norm' },
        // c2 is read by b2 and by the add: its BN cannot fold.
        { id: 'sum', op: 'add', inputs: ['c2', 'b2'] },
        { id: 'r2', op: 'relu' },
      ]),
    );
    const { steps, fusedInto } = planSteps(plan, ANY_ACTIVATION);
    // Rules that accept any activation fuse r2 into the add too; the backends' rules are narrower.
    expect(steps.map((s) => s.nodes.map((n) => n.id))).toEqual([['c1', 'b1', 'r1'], ['c2'], ['b2'], ['sum', 'r2']]);
    expect([...fusedInto]).toEqual([['b1', 'c1'], ['r1', 'c1'], ['r2', 'sum']]);
    expect(steps[0]).toMatchObject({ output: 'r1', inputs: [INPUT], indices: [0, 1, 2] });
    expect(steps[0].batchNorm?.id).toBe('b1');
    expect(steps[0].activation?.id).toBe('r1');
  });

  it('fuses a residual add into the step whose output it reads, only when its other input is computed before that step', () => {
    const plan = buildPlan(
      spec([
        // SE's tail: scale a branch by a gate, add the shortcut, relu.
        { id: 'branch', op: 'conv2d', params: { out_channels: 8, kernel: 1 } },
        { id: 'gap', op: 'global_avg_pool' },
        { id: 'gate', op: 'sigmoid' },
        { id: 'scaled', op: 'mul', inputs: ['branch', 'gate'] },
        { id: 'sum', op: 'add', inputs: ['scaled', 'input'] },
        { id: 'r1', op: 'relu' },
        // A downsample computed after the branch: the add fuses into it, not into c3.
        { id: 'c3', op: 'conv2d', params: { out_channels: 8, kernel: 1, bias: false } },
        { id: 'b3', op: 'batch_norm' },
        { id: 'down', op: 'conv2d', params: { out_channels: 8, kernel: 1 }, inputs: ['r1'] },
        { id: 'sum2', op: 'add', inputs: ['b3', 'down'] },
        { id: 'r2', op: 'relu' },
        // A broadcasting add never fuses.
        { id: 'c4', op: 'conv2d', params: { out_channels: 8, kernel: 1 } },
        { id: 'sum3', op: 'add', inputs: ['c4', 'gate'] },
      ]),
    );
    const { steps, fusedInto } = planSteps(plan, RESIDUALS);
    // (These rules fuse any activation, the sigmoid into the pool too.)
    expect(steps.map((s) => s.nodes.map((n) => n.id))).toEqual([['branch'], ['gap', 'gate'], ['scaled', 'sum', 'r1'], ['c3', 'b3'], ['down', 'sum2', 'r2'], ['c4'], ['sum3']]);
    expect(steps[2]).toMatchObject({ inputs: ['branch', 'gate', INPUT], residualInput: INPUT, output: 'r1' });
    expect(steps[4]).toMatchObject({ inputs: ['r1', 'b3'], residualInput: 'b3', output: 'r2' });
    expect(fusedInto.get('sum')).toBe('scaled');
    expect(fusedInto.get('sum2')).toBe('down');
    // Without the rule, adds stay steps of their own.
    expect(planSteps(plan, ANY_ACTIVATION).steps.some((s) => s.residual)).toBe(false);
  });

  it('folds without fusing the activation when the backend cannot, and never fuses the model output', () => {
    const plan = buildPlan(spec([{ id: 'c', op: 'conv2d', params: { out_channels: 4, kernel: 1 } }, { id: 'b', op: 'batch_norm' }, { id: 'r', op: 'relu' }]));
    expect(planSteps(plan, NO_ACTIVATION).steps.map((s) => s.nodes.map((n) => n.id))).toEqual([['c', 'b'], ['r']]);
    const endsInBn = buildPlan(spec([{ id: 'c', op: 'conv2d', params: { out_channels: 4, kernel: 1 } }, { id: 'b', op: 'batch_norm' }]));
    // b is the output: still folded (it is the step's output); a relu after the output would not be.
    expect(planSteps(endsInBn, ANY_ACTIVATION).steps.map((s) => s.output)).toEqual(['b']);
    const endsInConv = buildPlan(spec([{ id: 'c', op: 'conv2d', params: { out_channels: 4, kernel: 1 } }]));
    expect(planSteps(endsInConv, ANY_ACTIVATION).steps.map((s) => s.output)).toEqual(['c']);
  });

  it('fuses nothing without rules, and folds only into ops that can take a scale and shift', () => {
    const plan = buildPlan(spec([{ id: 'c', op: 'conv2d', params: { out_channels: 4, kernel: 1 } }, { id: 'b', op: 'batch_norm' }, { id: 'r', op: 'relu' }]));
    expect(planSteps(plan, null).steps).toHaveLength(3);
    const pool = buildPlan(spec([{ id: 'p', op: 'max_pool2d', params: { kernel: 2 } }, { id: 'b', op: 'batch_norm' }, { id: 'r', op: 'relu' }]));
    // Not folded into the pool; the batch norm is not an activation either, so it stays a step of its own.
    expect(planSteps(pool, ANY_ACTIVATION).steps.map((s) => s.nodes.map((n) => n.id))).toEqual([['p'], ['b', 'r']]);
  });
});

describe('headAsRun', () => {
  it('folds a batch norm into a 1x1 conv exactly as computed by hand', () => {
    const conv = planNodeFor('conv2d', { out_channels: 1, kernel: 1, bias: false }, [[1, 1, 1, 2]], 'c');
    const bn = planNodeFor('batch_norm', { eps: 1 }, [[1, 1, 1, 2]], 'b');
    bn.inputs = ['c'];
    const weights = new Map([
      ['c', [new Float32Array([2])]],
      // gamma 3, beta 1, mean 0.5, var 3: scale = 3 / sqrt(3 + 1) = 1.5, shift = 1 - 0.5 * 1.5 = 0.25
      ['b', [new Float32Array([3]), new Float32Array([1]), new Float32Array([0.5]), new Float32Array([3])]],
    ]);
    const run = headAsRun({ indices: [0, 1], nodes: [conv, bn], head: conv, batchNorm: bn, output: 'b', inputs: [INPUT] }, weights);
    expect((run.node.attrs as { bias: boolean }).bias).toBe(true);
    expect(run.weights.map((w) => [...w])).toEqual([[3], [0.25]]);
    expect(run.node.weights.map((w) => w.shape)).toEqual([[1, 1, 1, 1], [1]]);
    // x = [1, -2]: conv then BN gives 1.5 * 2x + 0.25.
    expect([...runNodeInline(run.node, [new Float32Array([1, -2])], run.weights, 0)]).toEqual([3.25, -5.75]);
  });

  it('a conv with a bias and a linear layer fold too', () => {
    const linear = planNodeFor('linear', { out_features: 2 }, [[1, 3]], 'fc');
    const bn = planNodeFor('batch_norm', {}, [[1, 2]], 'b');
    const weights = new Map([
      ['fc', [new Float32Array([1, 2, 3, 4, 5, 6]), new Float32Array([1, -1])]],
      ['b', [new Float32Array([2, 1]), new Float32Array([0, 1]), new Float32Array([1, 0]), new Float32Array([1 - 1e-5, 4 - 1e-5])]],
    ]);
    const run = headAsRun({ indices: [0, 1], nodes: [linear, bn], head: linear, batchNorm: bn, output: 'b', inputs: [INPUT] }, weights);
    const x = new Float32Array([1, 0, -1]);
    // fc: [1 - 3 + 1, 4 - 6 - 1] = [-1, -3]; BN: scale [2, 0.5], shift [-2, 1] -> [-4, -0.5]
    const y = runNodeInline(run.node, [x], run.weights, 0);
    expect(y[0]).toBeCloseTo(-4, 5);
    expect(y[1]).toBeCloseTo(-0.5, 5);
  });
});

describe('backends run fused steps', () => {
  const backends: CpuBackend[] = [];
  afterAll(async () => {
    for (const b of backends) await b.dispose();
  });

  // Every path of the WebAssembly conv2d (im2col GEMM, 1x1, Winograd, depthwise), each followed by
  // BN and an activation, plus a linear -> BN -> relu6 classifier.
  const zoo = spec(
    [
      { id: 'gemm', op: 'conv2d', params: { out_channels: 24, kernel: 3, stride: 2, padding: 1, bias: false } },
      { id: 'gemm_bn', op: 'batch_norm' },
      { id: 'gemm_relu', op: 'relu' },
      { id: 'wino', op: 'conv2d', params: { out_channels: 32, kernel: 3, padding: 1, bias: false } },
      { id: 'wino_bn', op: 'batch_norm' },
      { id: 'wino_relu6', op: 'relu6' },
      { id: 'dw', op: 'conv2d', params: { out_channels: 32, kernel: 3, padding: 1, groups: 32 } },
      { id: 'dw_bn', op: 'batch_norm' },
      { id: 'dw_relu', op: 'relu' },
      { id: 'pw', op: 'conv2d', params: { out_channels: 20, kernel: 1 } },
      { id: 'pw_relu', op: 'relu' },
      { id: 'gap', op: 'global_avg_pool' },
      { id: 'flat', op: 'flatten' },
      { id: 'fc', op: 'linear', params: { out_features: 6 } },
      { id: 'fc_bn', op: 'batch_norm' },
      { id: 'fc_relu6', op: 'relu6' },
    ],
    [1, 16, 30, 30],
  );

  it.runIf(WEBGPU_TESTS)('WebGPU: the same output as op by op, batch norms folded and activations fused', async () => {
    const backend = await openTestBackend();
    try {
      const plan = buildPlan(zoo);
      const input = makeInput(plan.seed, plan.inputShape);
      const model = await backend.prepare(plan, makeWeights(plan));
      try {
        const out = await model.forward(input);
        expect(maxRelError(out, unfusedForward(plan, input))).toBeLessThan(1e-4);
        const ids = ['gemm_bn', 'gemm_relu', 'wino_bn', 'wino_relu6', 'dw_bn', 'dw_relu', 'pw_relu', 'fc_bn', 'fc_relu6'];
        expect(Object.fromEntries(model.fusedInto ?? [])).toEqual(Object.fromEntries(ids.map((id) => [id, id.split('_')[0]])));
      } finally {
        await model.dispose();
      }
    } finally {
      await backend.dispose();
    }
  });

  it('fuse: false runs every op alone, with a time of its own', async () => {
    const backend = await CpuBackend.create({ threads: 2, kernels: 'wasm', minParallelWork: 0 });
    backends.push(backend);
    const plan = buildPlan(zoo);
    const input = makeInput(plan.seed, plan.inputShape);
    const model = await backend.prepare(plan, makeWeights(plan), { fuse: false });
    try {
      const timed: string[] = [];
      const out = await model.forward(input, { onNode: (_i, node) => timed.push(node.id) });
      expect(model.fusedInto?.size ?? 0).toBe(0);
      expect(timed).toEqual(plan.nodes.map((n) => n.id));
      expect(maxRelError(out, unfusedForward(plan, input))).toBeLessThan(1e-5);
    } finally {
      await model.dispose();
    }
  });

  it('wasm: a residual add, and the relu after it, run in the conv that computes the later input', async () => {
    const backend = await CpuBackend.create({ threads: 2, kernels: 'wasm', minParallelWork: 0 });
    backends.push(backend);
    const plan = buildPlan(
      spec([
        { id: 'a', op: 'conv2d', params: { out_channels: 8, kernel: 1 } },
        { id: 'b', op: 'conv2d', params: { out_channels: 8, kernel: 3, padding: 1 }, inputs: ['input'] },
        { id: 'sum', op: 'add', inputs: ['a', 'b'] },
        { id: 'out', op: 'relu' },
      ]),
    );
    const input = makeInput(plan.seed, plan.inputShape);
    const model = await backend.prepare(plan, makeWeights(plan));
    try {
      const out = await model.forward(input);
      expect(maxRelError(out, unfusedForward(plan, input))).toBeLessThan(1e-5);
      expect(out.some((v) => v === 0) && out.every((v) => v >= 0)).toBe(true);
      expect(Object.fromEntries(model.fusedInto ?? [])).toEqual({ sum: 'b', out: 'b' });
    } finally {
      await model.dispose();
    }
  });

  for (const tail of ['relu', 'relu6', 'none'] as const) {
    it(`wasm: SE's residual add${tail === 'none' ? '' : ` and ${tail}`} run in its mul`, async () => {
      const backend = await CpuBackend.create({ threads: 2, kernels: 'wasm', minParallelWork: 0 });
      backends.push(backend);
      const plan = buildPlan(
        spec(
          [
            { id: 'branch', op: 'conv2d', params: { out_channels: 16, kernel: 3, padding: 1 } },
            { id: 'gap', op: 'global_avg_pool' },
            { id: 'fc', op: 'conv2d', params: { out_channels: 16, kernel: 1 } },
            { id: 'gate', op: 'sigmoid' },
            { id: 'scaled', op: 'mul', inputs: ['branch', 'gate'] },
            // Inputs scaled up so that relu6 clips.
            { id: 'sum', op: 'add', inputs: ['scaled', 'input'] },
            // The model's output never fuses: without an activation, something must follow.
            tail === 'none' ? { id: 'out', op: 'conv2d', params: { out_channels: 4, kernel: 1 } } : { id: 'out', op: tail },
          ],
          [1, 16, 20, 20],
        ),
      );
      const input = makeInput(plan.seed, plan.inputShape).map((v) => 8 * v);
      const model = await backend.prepare(plan, makeWeights(plan));
      try {
        const timed = new Map<string, number>();
        const out = await model.forward(input, { onNode: (_i, node, ms) => timed.set(node.id, ms) });
        expect(maxRelError(out, unfusedForward(plan, input))).toBeLessThan(1e-5);
        if (tail !== 'none') expect(out.some((v) => v === 0) && out.every((v) => v >= 0)).toBe(true);
        if (tail === 'relu6') expect(out.some((v) => v === 6) && out.every((v) => v <= 6)).toBe(true);
        expect(Object.fromEntries(model.fusedInto ?? [])).toEqual(tail === 'none' ? { sum: 'scaled' } : { sum: 'scaled', out: 'scaled' });
        expect(timed.get('sum')).toBe(0);
      } finally {
        await model.dispose();
      }
    });
  }

  for (const [label, threads, kernels] of [
    ['wasm, 2 threads', 2, 'wasm'],
    ['TypeScript kernels', 1, 'js'],
  ] as const) {
    it(`${label}: the same output as op by op, and the fused ops named`, async () => {
      const backend = await CpuBackend.create({ threads, kernels, minParallelWork: 0 });
      backends.push(backend);
      const plan = buildPlan(zoo);
      const input = makeInput(plan.seed, plan.inputShape);
      const model = await backend.prepare(plan, makeWeights(plan));
      try {
        const timed = new Map<string, number>();
        const out = await model.forward(input, { onNode: (_i, node, ms) => timed.set(node.id, ms) });
        // Folding changes the rounding only: within 1e-5 of the output's magnitude.
        expect(maxRelError(out, unfusedForward(plan, input))).toBeLessThan(1e-5);
        const folded = ['gemm_bn', 'wino_bn', 'dw_bn', 'fc_bn'];
        const activations = kernels === 'wasm' ? ['gemm_relu', 'wino_relu6', 'dw_relu', 'pw_relu'] : [];
        expect(Object.fromEntries(model.fusedInto ?? [])).toEqual(Object.fromEntries([...folded, ...activations].map((id) => [id, id.split('_')[0]])));
        // Every node reported, the fused ones with no time of their own.
        expect([...timed.keys()]).toEqual(plan.nodes.map((n) => n.id));
        for (const id of [...folded, ...activations]) expect(timed.get(id)).toBe(0);
      } finally {
        await model.dispose();
      }
    });
  }
});

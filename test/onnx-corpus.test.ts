/**
 * The torchvision corpus: models nobody on this project wrote, exported by PyTorch's own ONNX
 * exporter (scripts/onnx-corpus/generate.py writes test/corpus/<model>/: model.onnx, input.npy,
 * PyTorch's output.npy, and meta.json with counts taken on the PyTorch side). Every model present
 * is imported with the engine's own importOnnx (as `convscope inspect x.onnx` does) and checked
 * step by step, one test per step, so a failure names the model and the step:
 *
 * 1. import: importOnnx + buildPlan.
 * 2. params + buffers = the file's float initializer elements, each counted once per node reading
 *    it (meta.file_float_initializer_elements_per_use). Not torch's parameter count: in eval mode
 *    the exporter folds every BatchNorm into the convolution before it, so a BN's 2c parameters
 *    and 2c buffers become c bias values (or c added to an existing bias), and the file holds
 *    fewer numbers than the nn.Module (resnet18: 11,689,512 parameters + 9,600 BN buffers in
 *    torch, 11,684,712 in the file). And it stores equal initializers once (squeezenet's zero
 *    conv biases), which the engine, per layer, counts once per layer: hence "per use".
 * 3. conv2d + linear MACs summed over the report's rows = the forward hooks' count in PyTorch
 *    (Conv2d: out.numel * in/groups * kh * kw, Linear: out.numel * in_features), computed by
 *    generate.py independently of the engine's formulas.
 * 4. the CPU backend's output on input.npy against onnxruntime-node's on the same file and input,
 *    and against PyTorch's output.npy.
 * 5. WebGPU (Mesa llvmpipe on a machine without a GPU), for the models in WEBGPU_MODELS.
 *
 * Metric and tolerance: max |engine - reference| / max |reference| <= 1e-3 over the output. The
 * weights are random and untrained, so the logits are of order 1 to 100 and the three
 * implementations sum in different orders (Winograd, im2col + GEMM, MLAS, oneDNN); errors seen
 * are 1e-7 to 1e-5 of the largest logit. A mistranslated op (a wrong pad, a BN statistic folded
 * the wrong way, a weight transposed) moves the output by an error of order 1 of that scale.
 *
 * A model outside IMPORTS_TODAY is expected to be refused cleanly: one SpecError listing the ONNX
 * ops convscope lacks (never a crash). When it starts to import, that test fails and says so: move
 * the model to IMPORTS_TODAY, where every step above must pass.
 */
import * as ort from 'onnxruntime-node';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/engine/backends/cpu/backend.ts';
import type { WebGpuBackend } from '../src/engine/backends/webgpu/backend.ts';
import { SpecError } from '../src/engine/errors.ts';
import { buildPlan, ModelWithWeights, type Plan } from '../src/engine/graph/plan.ts';
import { readNpy } from '../src/engine/npy.ts';
import { importOnnx } from '../src/engine/onnx/import.ts';
import { buildReport } from '../src/engine/reporting.ts';
import { makeWeights } from '../src/engine/weights.ts';
import { openTestBackend, WEBGPU_TESTS } from './helpers/webgpu.ts';

const CORPUS = process.env.CONVSCOPE_CORPUS ?? join(import.meta.dirname, 'corpus');
const GENERATE = '/usr/bin/python3 scripts/onnx-corpus/generate.py --small';
const TOLERANCE = 1e-3;

/**
 * Models that import, count and run today: every model the generator writes, since the ops for
 * HardSwish, HardSigmoid, LayerNormalization, GELU, ReduceMean, Transpose, Slice, Pad and the
 * shape arithmetic landed. A model added to the generator that convscope cannot read yet stays out
 * of this list and must then be refused with one clean SpecError (the test below).
 */
const IMPORTS_TODAY = new Set([
  'alexnet',
  'vgg11',
  'vgg16',
  'resnet18',
  'resnet50',
  'resnext50_32x4d',
  'mobilenet_v2',
  'squeezenet1_0',
  'googlenet',
  'efficientnet_b0',
  'regnet_x_400mf',
  'regnet_y_400mf',
  'mnasnet1_0',
  'mobilenet_v3_small',
  'mobilenet_v3_large',
  'shufflenet_v2_x1_0',
  'densenet121',
  'inception_v3',
  'convnext_tiny',
]);

/** Small enough for llvmpipe in seconds (under ~2 GMACs and ~50 MB of weights). */
const WEBGPU_MODELS = new Set([
  'squeezenet1_0',
  'mobilenet_v2',
  'mobilenet_v3_small',
  'mobilenet_v3_large',
  'shufflenet_v2_x1_0',
  'mnasnet1_0',
  'efficientnet_b0',
  'regnet_x_400mf',
  'regnet_y_400mf',
  'resnet18',
  'googlenet',
]);

interface Meta {
  model: string;
  input_shape: number[];
  output_shape: number[];
  file_float_initializer_elements: number;
  file_float_initializer_elements_per_use: number;
  torch_parameters: number;
  torch_float_buffers: number;
  hook_macs: { conv2d: number; linear: number; total: number };
}

const models = existsSync(CORPUS)
  ? readdirSync(CORPUS)
      .filter((m) => existsSync(join(CORPUS, m, 'meta.json')))
      .sort()
  : [];

/** max |got - want| / max |want|, or a reason it cannot be computed. */
function relativeError(got: Float32Array, want: Float32Array): number {
  if (got.length !== want.length) throw new Error(`${got.length} values, expected ${want.length}`);
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]));
    const d = Math.abs(got[i] - want[i]);
    // NaN compares false: it must not read as agreement.
    worst = d >= worst ? d : Number.isNaN(d) ? NaN : worst;
  }
  return worst / Math.max(scale, 1e-30);
}

function within(what: string, got: Float32Array, want: Float32Array): void {
  const err = relativeError(got, want);
  expect(err, `${what}: max |difference| / max |reference| = ${err.toExponential(2)}, tolerance ${TOLERANCE}`).toBeLessThanOrEqual(TOLERANCE);
}

/**
 * What each model did, merged into <corpus>/results.json for the table in docs/onnx.md
 * (scripts/onnx-corpus/table.ts): measured here, never typed in by hand.
 */
interface Result {
  refused?: string[];
  cpu_vs_onnxruntime?: number;
  cpu_vs_pytorch?: number;
  webgpu_vs_onnxruntime?: number;
}
const results: Record<string, Result> = {};
const record = (name: string, r: Result) => (results[name] = { ...results[name], ...r });

const cpu = new CpuBackend(2);
let gpu: Promise<WebGpuBackend> | undefined;
afterAll(async () => {
  await cpu.dispose();
  if (gpu) await (await gpu).dispose();
  if (Object.keys(results).length === 0) return;
  const file = join(CORPUS, 'results.json');
  const old = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, Result>) : {};
  for (const [name, r] of Object.entries(results)) old[name] = r.refused ? r : { ...old[name], ...r, refused: undefined };
  writeFileSync(file, `${JSON.stringify(old, null, 2)}\n`);
});

if (models.length === 0) {
  describe('ONNX corpus', () => {
    it.skip(`no corpus in ${CORPUS}: generate it with \`${GENERATE}\` (all models: without --small)`, () => {});
  });
}

for (const name of models) {
  const folder = join(CORPUS, name);
  const meta = JSON.parse(readFileSync(join(folder, 'meta.json'), 'utf8')) as Meta;
  const read = () => importOnnx(readFileSync(join(folder, 'model.onnx')), { source: `${name}/model.onnx` });

  if (!IMPORTS_TODAY.has(name)) {
    describe(`corpus ${name} (not expected to import yet)`, () => {
      it('is refused with one SpecError naming the ONNX ops convscope lacks', () => {
        let error: unknown;
        try {
          read();
        } catch (err) {
          error = err;
        }
        expect(error, `${name} now imports: move it to IMPORTS_TODAY in test/onnx-corpus.test.ts`).toBeDefined();
        expect(error).toBeInstanceOf(SpecError);
        expect((error as Error).message).toMatch(/ONNX op types? (is|are) not supported by convscope/);
        record(name, { refused: [...(error as Error).message.matchAll(/^ {2}(\S+?)(?: \(.*\))?: nodes? /gm)].map((m) => m[1]) });
      });
    });
    continue;
  }

  describe(`corpus ${name}`, () => {
    let plan: Plan | undefined;
    let ortOut: Float32Array | undefined;
    const needPlan = () => {
      if (!plan) throw new Error(`${name} did not import (see its "imports" test)`);
      return plan;
    };
    const input = () => {
      const x = readNpy(readFileSync(join(folder, 'input.npy')));
      expect(x.shape).toEqual(meta.input_shape);
      return x.data;
    };

    it('imports', () => {
      expect(meta.file_float_initializer_elements_per_use, `${folder}/meta.json is from an older generate.py: run ${GENERATE} again`).toBeTypeOf('number');
      const { spec, weights } = read();
      plan = buildPlan(new ModelWithWeights(spec, weights));
      expect(plan.inputShape).toEqual(meta.input_shape);
      expect(plan.outputShape).toEqual(meta.output_shape);
    });

    it("params + buffers = the file's float initializer elements (per reading node)", () => {
      const { totals } = needPlan();
      expect(totals.params + totals.buffers).toBe(meta.file_float_initializer_elements_per_use);
    });

    it('conv2d + linear MACs over the report rows = the PyTorch forward hooks', () => {
      const report = buildReport(needPlan(), { environment: { app_version: 'test', node: process.version, platform: process.platform, cpu: 'test' } });
      const sum = (op: string) => report.layers.filter((l) => l.op === op).reduce((s, l) => s + l.macs, 0);
      expect({ conv2d: sum('conv2d'), linear: sum('linear') }).toEqual({ conv2d: meta.hook_macs.conv2d, linear: meta.hook_macs.linear });
      // Nothing else may carry MACs that PyTorch's hooks would not see.
      expect(report.totals.macs).toBe(meta.hook_macs.total);
    });

    it(`cpu backend = onnxruntime-node and PyTorch within ${TOLERANCE}`, async () => {
      const p = needPlan();
      const x = input();
      const session = await ort.InferenceSession.create(join(folder, 'model.onnx'), { intraOpNumThreads: 2 });
      try {
        const result = (await session.run({ input: new ort.Tensor('float32', x, meta.input_shape) })).output;
        ortOut = result.data as Float32Array;
      } finally {
        await session.release();
      }
      const prepared = await cpu.prepare(p, makeWeights(p));
      let got: Float32Array;
      try {
        got = await prepared.forward(x);
      } finally {
        await prepared.dispose();
      }
      const torchOut = readNpy(readFileSync(join(folder, 'output.npy'))).data;
      record(name, { cpu_vs_onnxruntime: relativeError(got, ortOut), cpu_vs_pytorch: relativeError(got, torchOut) });
      within('cpu vs onnxruntime', got, ortOut);
      within('cpu vs PyTorch', got, torchOut);
    });

    if (WEBGPU_TESTS && WEBGPU_MODELS.has(name)) {
      it(`webgpu backend = onnxruntime-node within ${TOLERANCE}`, async () => {
        const p = needPlan();
        if (!ortOut) throw new Error(`no onnxruntime output for ${name} (see its cpu test)`);
        gpu ??= openTestBackend();
        const prepared = await (await gpu).prepare(p, makeWeights(p));
        try {
          const got = await prepared.forward(input());
          record(name, { webgpu_vs_onnxruntime: relativeError(got, ortOut) });
          within('webgpu vs onnxruntime', got, ortOut);
        } finally {
          await prepared.dispose();
        }
      });
    }
  });
}

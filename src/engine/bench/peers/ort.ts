/**
 * onnxruntime peers: the case's plan exported with the engine's own ONNX export (the same weights
 * the engine runs), one InferenceSession per case with the runtime's default graph optimisations
 * (it folds BN into convolutions and fuses activations, as it would for any user).
 */
import { exportOnnx } from '../../onnx/export.ts';
import type { CaseData, PreparedCase, Runner, RunnerOptions } from '../runner.ts';
import { importPeer } from './load.ts';

type Ort = typeof import('onnxruntime-node');
type OrtTensor = InstanceType<Ort['Tensor']>;

interface SessionLike {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

function ortRunner(ort: Ort, describe: string, threads: number, options: Record<string, unknown>): Runner {
  return {
    describe: () => describe,
    timing: 'wall clock around InferenceSession.run (input tensor created beforehand; includes the runtime copying the input in and the output out)',
    threads,
    async prepare(c: CaseData): Promise<PreparedCase> {
      const model = exportOnnx(c.plan, c.weights);
      const session = (await ort.InferenceSession.create(model, options as never)) as unknown as SessionLike;
      const feeds = { input: new ort.Tensor('float32', c.input, c.plan.inputShape) };
      let last: OrtTensor | null = null;
      return {
        async run() {
          const t0 = performance.now();
          const out = await session.run(feeds);
          const ms = performance.now() - t0;
          last = out.output;
          return ms;
        },
        async output() {
          if (!last) throw new Error('no run yet');
          return Float32Array.from(last.data as Float32Array);
        },
        async dispose() {
          await session.release();
        },
      };
    },
    async dispose() {},
  };
}

export async function ortNodeRunner({ threads }: RunnerOptions): Promise<Runner> {
  const ort = await importPeer<Ort>('onnxruntime-node', () => import('onnxruntime-node'));
  return ortRunner(ort, `onnxruntime-node ${ort.env.versions?.common ?? ''}`.trim(), threads, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
}

/** The thread count is process-wide in onnxruntime-web, fixed at the first session: one per child process. */
export async function ortWebRunner({ threads }: RunnerOptions): Promise<Runner> {
  const ort = await importPeer<Ort>('onnxruntime-web', () => import('onnxruntime-web') as unknown as Promise<Ort>);
  const env = ort.env as unknown as { wasm: { numThreads: number; simd?: boolean; proxy?: boolean }; versions?: { common?: string } };
  env.wasm.numThreads = threads;
  env.wasm.proxy = false;
  return ortRunner(ort, `onnxruntime-web ${env.versions?.common ?? ''} (wasm, ${threads} thread${threads === 1 ? '' : 's'})`, threads, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
}

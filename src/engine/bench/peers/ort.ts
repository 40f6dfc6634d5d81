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

function ortRunner(ort: Ort, describe: string, threads: number, options: Record<string, unknown>, timing = ''): Runner {
  return {
    describe: () => describe,
    timing: 'wall clock around InferenceSession.run (input tensor created beforehand; includes the runtime copying the input in and the output out)' + timing,
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

/**
 * onnxruntime-web's WebGPU execution provider on the adapter the engine's WebGPU backend uses
 * (gpu-global.ts). Outputs come back to the CPU inside session.run, so its time includes waiting
 * for the GPU. Ops the provider has no kernel for fall back to its wasm kernels, as for any user.
 */
export async function ortWebGpuRunner(_opts: RunnerOptions): Promise<Runner> {
  const { installGpuGlobal } = await import('./gpu-global.ts');
  const gpu = await installGpuGlobal();
  const ort = await importPeer<Ort>('onnxruntime-web', () => import('onnxruntime-web/webgpu') as unknown as Promise<Ort>);
  const env = ort.env as unknown as { wasm: { numThreads: number; proxy?: boolean; wasmBinary?: Uint8Array }; versions?: { common?: string } };
  // One wasm thread: the threaded start fetches its worker script by URL, and Node's fetch takes no
  // file: URLs. The thread count only matters for ops the provider leaves to its CPU kernels.
  env.wasm.numThreads = 1;
  env.wasm.proxy = false;
  return ortRunner(
    ort,
    `onnxruntime-web ${env.versions?.common ?? ''} (webgpu EP) on ${gpu.adapter}`,
    1,
    { executionProviders: ['webgpu'], graphOptimizationLevel: 'all' },
    '; the output is read back from the GPU within run(), and uploads from its shared wasm memory are copied once more (Dawn for Node refuses shared views)',
  );
}

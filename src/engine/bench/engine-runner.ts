/**
 * The engine's own backends as bench runners. Model cases are timed as the whole forward call,
 * which also copies the input in and the output out, as the peers' session calls do. Op cases on
 * the CPU are the sum of the per-op times the profiler reports (the kernels on tensors already in
 * place, worker dispatch included), as onnxruntime-node runs on the caller's buffers; on WebGPU
 * they are the whole forward too (upload, one submit, read-back), because the WebGPU peers can
 * only be timed that way.
 */
import type { Backend } from '../backends/types.ts';
import { CpuBackend } from '../backends/cpu/backend.ts';
import { resolveBackend } from '../backends/registry.ts';
import { SpecError } from '../errors.ts';
import { Unsupported, type CaseData, type PreparedCase, type Runner, type RunnerOptions } from './runner.ts';

function engineRunner(backend: Backend, describe: string, opCases: 'sum of ops' | 'forward'): Runner {
  return {
    describe: () => describe,
    timing:
      (opCases === 'forward'
        ? 'op and model cases: wall clock around forward() (input upload, one submit, output read-back)'
        : 'op cases: sum of per-op wall times (kernels on placed tensors, thread dispatch included); model cases: wall clock around forward()') +
      // The WebGPU backend states how it times an op (GPU timestamps, or host time to onSubmittedWorkDone).
      (typeof (backend as { timing?: unknown }).timing === 'string' ? `; per-op time: ${(backend as unknown as { timing: string }).timing}` : ''),
    threads: backend.threads ?? 1,
    async prepare(c: CaseData): Promise<PreparedCase> {
      let model: Awaited<ReturnType<Backend['prepare']>>;
      try {
        model = await backend.prepare(c.plan, c.weights);
      } catch (err) {
        // A backend refusing a model it has no kernel for (WebGPU) is a gap, not a failure.
        if (err instanceof SpecError) throw new Unsupported(err.message);
        throw err;
      }
      let last: Float32Array | null = null;
      return {
        async run() {
          const sumOps = c.group === 'ops' && opCases === 'sum of ops';
          let ops = 0;
          const t0 = performance.now();
          // Without hooks the forward is not timed per op (on WebGPU: one submit, not one per op).
          last = await model.forward(c.input, sumOps ? { onNode: (_i, _n, ms) => (ops += ms) } : {});
          const wall = performance.now() - t0;
          return sumOps ? ops : wall;
        },
        async output() {
          if (!last) throw new Error('no run yet');
          return last;
        },
        dispose: () => model.dispose(),
      };
    },
    dispose: () => backend.dispose(),
  };
}

export async function cpuRunner({ threads }: RunnerOptions, kernels: 'wasm' | 'js'): Promise<Runner> {
  const backend = await CpuBackend.create({ threads, kernels });
  return engineRunner(backend, `convscope cpu: ${backend.adapter}`, 'sum of ops');
}

/** The WebGPU backend on the best adapter it finds (on a machine without a GPU: llvmpipe). */
export async function webgpuRunner({ threads }: RunnerOptions): Promise<Runner> {
  const { backend } = await resolveBackend('webgpu', { threads });
  return engineRunner(backend, `convscope webgpu: ${backend.adapter}`, 'forward');
}

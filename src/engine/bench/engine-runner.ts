/**
 * The engine's own backends as bench runners. Op cases are timed as the sum of the per-op times
 * the profiler reports (the kernels on tensors already in place, worker dispatch included); model
 * cases as the whole forward call, which also copies the input in and the output out, as the
 * peers' session calls do.
 */
import type { Backend } from '../backends/types.ts';
import { CpuBackend } from '../backends/cpu/backend.ts';
import { resolveBackend } from '../backends/registry.ts';
import { SpecError } from '../errors.ts';
import { Unsupported, type CaseData, type PreparedCase, type Runner, type RunnerOptions } from './runner.ts';

function engineRunner(backend: Backend, describe: string): Runner {
  return {
    describe: () => describe,
    timing:
      'op cases: sum of per-op wall times (kernels on placed tensors, thread dispatch included); model cases: wall clock around forward()' +
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
          let ops = 0;
          const t0 = performance.now();
          last = await model.forward(c.input, { onNode: (_i, _n, ms) => (ops += ms) });
          const wall = performance.now() - t0;
          return c.group === 'ops' ? ops : wall;
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
  return engineRunner(backend, `convscope cpu: ${backend.adapter}`);
}

/** The WebGPU backend on the best adapter it finds (on a machine without a GPU: llvmpipe). */
export async function webgpuRunner({ threads }: RunnerOptions): Promise<Runner> {
  const { backend } = await resolveBackend('webgpu', { threads });
  return engineRunner(backend, `convscope webgpu: ${backend.adapter}`);
}

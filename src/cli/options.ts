/** Option parsing and backend choice shared by the commands that run models (profile, run, sweep). */
import { InvalidArgumentError } from 'commander';
import { resolveBackend } from '../engine/backends/registry.ts';
import type { Backend } from '../engine/backends/types.ts';
import { SpecError } from '../engine/errors.ts';
import type { FallbackOptions } from '../engine/fallback.ts';

export function positiveInt(name: string, min = 1) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

/** `--adapter` picks a GPU adapter, so with `auto` it means webgpu; with `cpu` it is a contradiction. */
export function backendName(opts: { backend: string; adapter?: string }): string {
  if (opts.adapter === undefined || opts.backend === 'webgpu') return opts.backend;
  if (opts.backend === 'auto') return 'webgpu';
  throw new SpecError(`--adapter selects a WebGPU adapter; it does not apply to --backend ${opts.backend}`, undefined, 'adapter');
}

/** The CPU backend a failed GPU run is repeated on, started only if that happens; dispose() is safe either way. */
export function cpuFallback(requested: string, threads?: number): FallbackOptions & { dispose(): Promise<void> } {
  let started: Promise<Backend> | undefined;
  return {
    requested,
    cpu: () => (started ??= resolveBackend('cpu', { threads }).then((r) => r.backend)),
    dispose: async () => {
      const b = await started?.catch(() => undefined);
      await b?.dispose();
    },
  };
}


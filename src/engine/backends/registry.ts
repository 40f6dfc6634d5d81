import { SpecError } from '../errors.ts';
import type { Backend, BackendOptions, BackendProvider } from './types.ts';
import { cpuProvider } from './cpu/backend.ts';

const providers: BackendProvider[] = [cpuProvider];

/** Hosts register extra backends (e.g. WebGPU) here; higher priority is tried first by `auto`. */
export function registerBackend(provider: BackendProvider): void {
  const i = providers.findIndex((p) => p.name === provider.name);
  if (i >= 0) providers.splice(i, 1);
  providers.push(provider);
  providers.sort((a, b) => b.priority - a.priority);
}

export function backendNames(): string[] {
  return providers.map((p) => p.name);
}

export interface ResolvedBackend {
  backend: Backend;
  /** Why each backend tried before this one was not used. */
  fallbacks: string[];
}

export async function resolveBackend(name: string, options: BackendOptions = {}): Promise<ResolvedBackend> {
  if (name !== 'auto') {
    const provider = providers.find((p) => p.name === name);
    if (!provider) throw new SpecError(`--backend "${name}" is unknown; choose auto, ${backendNames().join(', ')}`, undefined, 'backend');
    return { backend: await provider.create(options), fallbacks: [] };
  }
  const fallbacks: string[] = [];
  for (const provider of providers) {
    try {
      return { backend: await provider.create(options), fallbacks };
    } catch (err) {
      fallbacks.push(`${provider.name}: ${(err as Error).message}`);
    }
  }
  throw new Error(`no backend could start: ${fallbacks.join('; ')}`);
}

/**
 * A table of backend providers and the rule `--backend` resolves by. Host-neutral: Node hosts use
 * the table in registry.ts (WebGPU on Dawn, the CPU backend with its worker pool), the browser
 * Worker its own (worker/backends.ts: WebGPU on navigator.gpu, the CPU reference kernels inline).
 */
import { SpecError } from '../errors.ts';
import type { Backend, BackendOptions, BackendProvider } from './types.ts';

export interface ResolvedBackend {
  backend: Backend;
  /** Why each backend tried before this one was not used. */
  fallbacks: string[];
}

export interface BackendRegistry {
  /** Adds a provider, replacing one of the same name; higher priority is tried first by `auto`. */
  register(provider: BackendProvider): void;
  /** Names by descending priority. */
  names(): string[];
  /**
   * Starts the named backend, or with `auto` the first provider (by priority) whose `create` does
   * not throw; each refusal's message becomes one of the fallbacks.
   */
  resolve(name: string, options?: BackendOptions): Promise<ResolvedBackend>;
}

export function createBackendRegistry(initial: BackendProvider[]): BackendRegistry {
  const providers: BackendProvider[] = [];
  const register = (provider: BackendProvider) => {
    const i = providers.findIndex((p) => p.name === provider.name);
    if (i >= 0) providers.splice(i, 1);
    providers.push(provider);
    providers.sort((a, b) => b.priority - a.priority);
  };
  initial.forEach(register);
  const names = () => providers.map((p) => p.name);

  async function resolve(name: string, options: BackendOptions = {}): Promise<ResolvedBackend> {
    if (name !== 'auto') {
      const provider = providers.find((p) => p.name === name);
      if (!provider) throw new SpecError(`--backend "${name}" is unknown; choose auto, ${names().join(', ')}`, undefined, 'backend');
      const backend = await provider.create(options);
      return { backend, fallbacks: [...(backend.fallbacks ?? [])] };
    }
    const fallbacks: string[] = [];
    for (const provider of providers) {
      try {
        const backend = await provider.create(options);
        return { backend, fallbacks: [...fallbacks, ...(backend.fallbacks ?? [])] };
      } catch (err) {
        fallbacks.push(`${provider.name}: ${(err as Error).message}`);
      }
    }
    throw new Error(`no backend could start: ${fallbacks.join('; ')}`);
  }

  return { register, names, resolve };
}

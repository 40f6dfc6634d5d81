/**
 * A table of backend providers and the rule `--backend` resolves by. Host-neutral: Node hosts use
 * the table in registry.ts (WebGPU on Dawn, the CPU backend with its worker pool), the browser
 * Worker its own (worker/backends.ts: WebGPU on navigator.gpu, the CPU reference kernels inline).
 */
import { SpecError } from '../errors.ts';
import { closest } from '../graph/validate.ts';
import type { Backend, BackendOptions, BackendProvider } from './types.ts';

export interface ResolvedBackend {
  backend: Backend;
  /** Why each backend tried before this one was not used. */
  fallbacks: string[];
  /** Why this backend was chosen, one line for the report (`backend.reason`). */
  reason?: string;
}

export interface BackendRegistry {
  /** Adds a provider, replacing one of the same name; higher priority is tried first by `auto`. */
  register(provider: BackendProvider): void;
  /** Names by descending priority. */
  names(): string[];
  /**
   * Starts the named backend, or with `auto` the first provider (by priority) whose `create` does
   * not throw; each refusal's message becomes one of the fallbacks. A GPU backend on a software
   * renderer is passed over for a later provider that outruns it (see `autoPick`).
   */
  resolve(name: string, options?: BackendOptions): Promise<ResolvedBackend>;
  /** Which of the started backends `auto` would take, by the same rule as `resolve`: the `backends` request's answer. */
  autoPick(started: readonly StartedBackend[]): AutoPick | null;
}

/** A backend that started (or not), as `autoPick` weighs it. */
export interface StartedBackend {
  name: string;
  available: boolean;
  software?: string;
}

export interface AutoPick {
  name: string;
  reason: string;
}

/**
 * `auto`'s rule, one place for `resolve` and `autoPick`: the first backend by priority that
 * started, unless it runs on a software renderer and a later one outruns that (the Node CPU
 * backend: its WebAssembly kernels are 2-3x faster than WGSL on llvmpipe, on the same cores).
 * Returns the index taken and why, or null when none started.
 */
function pick(started: readonly StartedBackend[], outruns: (name: string) => boolean, order: string): { index: number; reason: string } | null {
  const first = started.findIndex((b) => b.available);
  if (first < 0) return null;
  const lead = started[first];
  if (!lead.software) {
    const passed = started.slice(0, first).map((b) => b.name);
    return { index: first, reason: passed.length ? `auto: ${lead.name}, the first backend that could start (${passed.join(', ')} could not; order ${order})` : `auto: ${lead.name}, the first backend by priority (${order})` };
  }
  const faster = started.findIndex((b, i) => i > first && b.available && !b.software && outruns(b.name));
  if (faster >= 0) {
    return { index: faster, reason: `auto: the only ${lead.name} adapter is software (${lead.software}), the ${started[faster].name} backend is faster` };
  }
  const other = started.find((b, i) => i > first && b.available);
  return {
    index: first,
    reason: other
      ? `auto: the ${lead.name} adapter is software (${lead.software}); kept, since the ${other.name} backend of this host is not faster than it`
      : `auto: the ${lead.name} adapter is software (${lead.software}), the only backend that could start`,
  };
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
  const outruns = (name: string) => providers.find((p) => p.name === name)?.outrunsSoftwareGpu === true;

  async function resolve(name: string, options: BackendOptions = {}): Promise<ResolvedBackend> {
    if (name !== 'auto') {
      const provider = providers.find((p) => p.name === name);
      if (!provider) {
        const hint = closest(name, ['auto', ...names()]);
        throw new SpecError(`--backend "${name}" is unknown; ${hint ? `did you mean "${hint}"? ` : ''}choose auto, ${names().join(', ')}`, undefined, 'backend');
      }
      const backend = await provider.create(options);
      const reason = backend.software
        ? `${name}, asked for by name (its adapter is software, ${backend.software}: \`auto\` would take a faster CPU backend where there is one)`
        : `${name}, asked for by name`;
      return { backend, fallbacks: [...(backend.fallbacks ?? [])], reason };
    }
    const fallbacks: string[] = [];
    const started: StartedBackend[] = [];
    let software: Backend | null = null;
    for (const provider of providers) {
      // Past a software GPU backend only a provider that outruns it is worth starting.
      if (software && !provider.outrunsSoftwareGpu) {
        started.push({ name: provider.name, available: true });
        continue;
      }
      let backend: Backend;
      try {
        backend = await provider.create(options);
      } catch (err) {
        fallbacks.push(`${provider.name}: ${(err as Error).message}`);
        started.push({ name: provider.name, available: false });
        continue;
      }
      started.push({ name: backend.name, available: true, ...(backend.software ? { software: backend.software } : {}) });
      if (backend.software && !software) {
        software = backend;
        continue;
      }
      const chosen = pick(started, outruns, names().join(', '))!;
      if (software) {
        await software.dispose();
        const passed = `${software.name}: its adapter is software (${software.adapter}); auto prefers the faster ${backend.name} backend (\`--backend ${software.name}\` runs on it)`;
        return { backend, fallbacks: [...fallbacks, ...(software.fallbacks ?? []), passed, ...(backend.fallbacks ?? [])], reason: chosen.reason };
      }
      return { backend, fallbacks: [...fallbacks, ...(backend.fallbacks ?? [])], reason: chosen.reason };
    }
    if (software) return { backend: software, fallbacks: [...fallbacks, ...(software.fallbacks ?? [])], reason: pick(started, outruns, names().join(', '))!.reason };
    throw new Error(`no backend could start: ${fallbacks.join('; ')}`);
  }

  function autoPick(started: readonly StartedBackend[]): AutoPick | null {
    const chosen = pick(started, outruns, names().join(', '));
    return chosen ? { name: started[chosen.index].name, reason: chosen.reason } : null;
  }

  return { register, names, resolve, autoPick };
}

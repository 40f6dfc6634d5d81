/**
 * The backends of a Node host (CLI, tests, the `serve` engine, Electron's utilityProcess). The
 * browser Worker has its own table (worker/backends.ts): this one reaches Node-only code.
 */
import { cpuProvider } from './cpu/backend.ts';
import { createBackendRegistry } from './resolve.ts';
import { webgpuProvider } from './webgpu/provider.ts';

export type { ResolvedBackend } from './resolve.ts';

const registry = createBackendRegistry([webgpuProvider, cpuProvider]);

/** Hosts register extra backends here; higher priority is tried first by `auto`. */
export const registerBackend = registry.register;
export const backendNames = registry.names;
export const resolveBackend = registry.resolve;
export const autoPick = registry.autoPick;

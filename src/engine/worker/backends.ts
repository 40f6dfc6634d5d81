/**
 * The browser Worker's backend table: WebGPU on navigator.gpu (the same backend code Node runs on
 * Dawn) and, where WebGPU cannot start, the CPU reference kernels on the Worker's own thread.
 * Nothing here reaches Node-only code (worker threads, the WebAssembly kernel cache, Dawn).
 */
import { makeInlineCpuProvider } from '../backends/cpu/inline.ts';
import { createBackendRegistry, type BackendRegistry } from '../backends/resolve.ts';
import { makeWebGpuProvider } from '../backends/webgpu/provider.ts';

export function browserBackends(): BackendRegistry {
  return createBackendRegistry([makeWebGpuProvider(), makeInlineCpuProvider('browser Worker')]);
}

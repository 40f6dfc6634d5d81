/**
 * WebGPU backends for tests, on this machine's first adapter (Mesa's llvmpipe through Dawn's OpenGL
 * ES backend where there is no GPU), with backend options the providers do not expose.
 */
import { WebGpuBackend, type WebGpuBackendOptions } from '../../src/engine/backends/webgpu/backend.ts';
import { gpuAdapters } from '../../src/engine/backends/webgpu/adapters.ts';
import { nodeGpuSources } from '../../src/engine/backends/webgpu/node-gpu.ts';

/** CONVSCOPE_WEBGPU_TESTS=0 skips the WebGPU tests (a machine without EGL/Mesa); CI must not set it. */
export const WEBGPU_TESTS = process.env.CONVSCOPE_WEBGPU_TESTS !== '0';

/** The first adapter of the Node sources, best first, with the GPU object that must outlive it. */
export async function firstGpuAdapter(): Promise<{ gpu: GPU; adapter: GPUAdapter; label: string }> {
  const reasons: string[] = [];
  for await (const { gpu, adapter, source } of gpuAdapters(nodeGpuSources(), reasons)) return { gpu, adapter, label: source.label };
  throw new Error(`no WebGPU adapter: install EGL and Mesa (Debian: libegl1 libegl-mesa0 libgl1-mesa-dri) (${reasons.join('; ')})`);
}

export async function openTestBackend(options: Partial<WebGpuBackendOptions> = {}): Promise<WebGpuBackend> {
  const { gpu, adapter, label } = await firstGpuAdapter();
  return WebGpuBackend.open(adapter, { adapterText: `test adapter via ${label}`, gpu, ...options });
}

/** |got - want| <= tol * max(1, |want|) everywhere; the message names the first element off. */
export function expectClose(got: Float32Array, want: Float32Array, tol = 1e-4): void {
  if (got.length !== want.length) throw new Error(`got ${got.length} values, expected ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tol * Math.max(1, Math.abs(want[i])))) {
      throw new Error(`element ${i} of ${want.length}: got ${got[i]}, expected ${want[i]} (tolerance ${tol})`);
    }
  }
}

export function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/**
 * The name a backend is shown under (CLI table, reports, the workbench picker and results): its
 * name, and "(software adapter)" when its GPU is emulated on the CPU (llvmpipe, SwiftShader), so a
 * time measured there is never read as a GPU's. Reports written before `software` existed show
 * their plain name.
 */
export function backendLabel(backend: { name: string; software?: boolean | string } | null | undefined): string {
  if (!backend) return 'none';
  return backend.software ? `${backend.name} (software adapter)` : backend.name;
}

/**
 * Renderers that run WebGPU on the CPU, by the name they give in GPUAdapterInfo: Mesa's llvmpipe
 * (OpenGL), lavapipe (Vulkan) and softpipe, Google's SwiftShader, and Windows' WARP ("Microsoft
 * Basic Render Driver"). On them WGSL runs as JIT-compiled CPU code, 2-3x slower than the CPU
 * backend's WebAssembly kernels on the same cores, so `auto` passes them over (resolve.ts).
 */
const SOFTWARE_RENDERERS: readonly [RegExp, string][] = [
  [/llvmpipe/i, 'llvmpipe'],
  [/lavapipe/i, 'lavapipe'],
  [/softpipe/i, 'softpipe'],
  [/swiftshader/i, 'SwiftShader'],
  [/microsoft basic render driver|\bwarp\b/i, 'Microsoft Basic Render Driver'],
];

/** What `softwareRenderer` reads: the adapter's info, and `isFallbackAdapter` wherever the host puts it. */
export interface AdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string } & { isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}

/**
 * The name of the software renderer behind an adapter ("llvmpipe", "SwiftShader", ...), or null
 * for a hardware GPU. The info strings decide first, since they name the renderer; an adapter that
 * only says it is the fallback adapter (WebGPU's word for "may be software") is "fallback adapter".
 */
export function softwareRenderer(adapter: AdapterLike): string | null {
  const info = adapter.info ?? {};
  const text = [info.vendor, info.architecture, info.device, info.description].filter((s) => typeof s === 'string').join(' ');
  for (const [pattern, name] of SOFTWARE_RENDERERS) if (pattern.test(text)) return name;
  // The adapter's own isFallbackAdapter is the older place (deprecated): read only when info lacks it.
  if ((info.isFallbackAdapter ?? adapter.isFallbackAdapter) === true) return 'fallback adapter';
  return null;
}

/**
 * Finding a WebGPU adapter. A host offers `GpuSource`s (ways to get a `GPU` object and the adapter
 * options to ask it with), best first: in a browser Worker navigator.gpu; in Node the `webgpu`
 * package's native backend, then its OpenGL ES backend (node-gpu.ts, loaded only in Node so a
 * browser bundle never sees the package). The first adapter found wins, unless `--adapter` names
 * one; why each earlier source was not used goes into the report's fallbacks.
 */
import { SpecError } from '../../errors.ts';
import type { BackendOptions, BackendProvider } from '../types.ts';
import { WebGpuBackend } from './backend.ts';
import { gpuAdapters, type GpuSource } from './adapters.ts';
import { adapterText } from './gpu.ts';
import { opsWithoutKernel } from './steps.ts';

export type { GpuSource } from './adapters.ts';

/** navigator.gpu in a browser (Worker or page), else the Node sources. */
export async function defaultGpuSources(): Promise<GpuSource[]> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (gpu) {
    return [
      { label: 'navigator.gpu (core)', open: () => gpu, adapterOptions: [{ powerPreference: 'high-performance' }] },
      { label: 'navigator.gpu (compatibility)', open: () => gpu, adapterOptions: [{ featureLevel: 'compatibility', powerPreference: 'high-performance' }] },
    ];
  }
  if (typeof process !== 'undefined' && process.versions?.node) {
    // A computed specifier: bundlers for the browser must not follow it into the `webgpu` package.
    const nodeModule = './node-gpu.ts';
    const mod = (await import(/* @vite-ignore */ nodeModule)) as typeof import('./node-gpu.ts');
    return mod.nodeGpuSources();
  }
  throw new Error('this host has no WebGPU (no navigator.gpu)');
}

export function makeWebGpuProvider(sources: () => Promise<GpuSource[]> = defaultGpuSources, priority = 10): BackendProvider {
  return {
    name: 'webgpu',
    priority,
    async create(options: BackendOptions) {
      const missing = opsWithoutKernel(options.ops ?? []);
      if (missing.length) throw new SpecError(`no WGSL kernel yet for ${missing.join(', ')}; the cpu backend runs every op`, undefined, 'backend');
      const want = options.adapter?.toLowerCase();
      const reasons: string[] = [];
      const found: string[] = [];
      for await (const { source, gpu, adapter } of gpuAdapters(await sources(), reasons)) {
        const text = `${adapterText(adapter.info)}, via ${source.label}`;
        if (found.includes(text)) continue;
        found.push(text);
        if (want && !text.toLowerCase().includes(want)) continue;
        try {
          const fallbacks = reasons.map((r) => `webgpu via ${r}`);
          return await WebGpuBackend.open(adapter, { adapterText: text, fallbacks, gpu });
        } catch (err) {
          reasons.push(`${text}: requestDevice failed: ${(err as Error).message}`);
        }
      }
      if (want) {
        throw new SpecError(
          `--adapter "${options.adapter}" matches none of the WebGPU adapters found: ${found.length ? found.join('; ') : 'none'}` +
            (reasons.length ? ` (${reasons.join('; ')})` : ''),
          undefined,
          'adapter',
        );
      }
      throw new SpecError(`no WebGPU adapter: ${reasons.join('; ')}`, undefined, 'backend');
    },
  };
}

export const webgpuProvider = makeWebGpuProvider();

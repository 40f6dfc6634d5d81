/**
 * Finding a WebGPU adapter. A host offers `GpuSource`s (ways to get a `GPU` object and the adapter
 * options to ask it with), best first: in a browser Worker navigator.gpu; in Node the `webgpu`
 * package's native backend, then its OpenGL ES backend (node-gpu.ts, loaded only in Node so a
 * browser bundle never sees the package). The first hardware adapter found wins, unless `--adapter`
 * names one; a software renderer (llvmpipe, SwiftShader: adapters.ts) only when there is no
 * hardware one, marked as such so that `auto` can pass it over. Why each earlier source was not
 * used goes into the report's fallbacks.
 */
import { SpecError } from '../../errors.ts';
import type { BackendOptions, BackendProvider } from '../types.ts';
import { WebGpuBackend } from './backend.ts';
import { gpuAdapters, softwareRenderer, type FoundAdapter, type GpuSource } from './adapters.ts';
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
      // The first software adapter, opened only if no hardware one turns up after it.
      let soft: { found: FoundAdapter; text: string; renderer: string } | null = null;
      const open = async ({ gpu, adapter }: FoundAdapter, text: string, software: string | null) => {
        try {
          const fallbacks = reasons.map((r) => `webgpu via ${r}`);
          return await WebGpuBackend.open(adapter, { adapterText: text, fallbacks, gpu, ...(software ? { software } : {}) });
        } catch (err) {
          reasons.push(`${text}: requestDevice failed: ${(err as Error).message}`);
          return null;
        }
      };
      for await (const f of gpuAdapters(await sources(), reasons)) {
        const text = `${adapterText(f.adapter.info)}, via ${f.source.label}`;
        if (found.includes(text)) continue;
        found.push(text);
        if (want && !text.toLowerCase().includes(want)) continue;
        const renderer = want ? null : softwareRenderer(f.adapter);
        if (renderer) {
          soft ??= { found: f, text, renderer };
          continue;
        }
        const backend = await open(f, text, want ? softwareRenderer(f.adapter) : null);
        if (backend) return backend;
      }
      if (soft) {
        const backend = await open(soft.found, soft.text, soft.renderer);
        if (backend) return backend;
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

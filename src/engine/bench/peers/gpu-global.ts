/**
 * The WebGPU peers (onnxruntime-web's WebGPU execution provider, tfjs-backend-webgpu) find their
 * GPU through `navigator.gpu`, which Node does not have. This puts the `webgpu` package's Dawn
 * there, on the adapter the engine's own WebGPU backend would pick (the same sources, in the same
 * order, as node-gpu.ts), so that all three run on one adapter. Peers ask `requestAdapter` with
 * their own options and no feature level; a compatibility-only adapter (Dawn's OpenGL ES backend)
 * answers null to that, so the options that found the adapter are merged into every request.
 */
import { globals } from 'webgpu';
import { gpuAdapters } from '../../backends/webgpu/adapters.ts';
import { adapterText } from '../../backends/webgpu/gpu.ts';
import { nodeGpuSources } from '../../backends/webgpu/node-gpu.ts';

export interface GpuGlobal {
  /** e.g. "llvmpipe ..., via Dawn OpenGL ES (compatibility)". */
  adapter: string;
  featureLevel: string;
  features: string[];
  /** Keeps Dawn's instance alive for as long as the peer runs. */
  gpu: GPU;
}

let installed: GpuGlobal | null = null;

/**
 * Dawn's Node binding rejects a view of a SharedArrayBuffer in queue.writeBuffer ("Invalid
 * argument"), which browsers accept; onnxruntime-web's threaded wasm build uploads from its shared
 * memory. Such a view is copied to an ordinary buffer first (one copy of each upload, in the
 * peer's timed region: it slightly favours the engine, and is stated in the runner's timing).
 */
function acceptSharedViews(): void {
  const proto = (globals as { GPUQueue: { prototype: GPUQueue } }).GPUQueue.prototype;
  const original = proto.writeBuffer;
  if ((original as { shared?: boolean }).shared) return;
  const patched = function (this: GPUQueue, buffer: GPUBuffer, offset: number, data: GPUAllowSharedBufferSource, dataOffset?: number, size?: number) {
    if (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer) {
      data = new (data.constructor as Uint8ArrayConstructor)(data as Uint8Array);
    }
    return original.call(this, buffer, offset, data as never, dataOffset, size);
  };
  (patched as { shared?: boolean }).shared = true;
  proto.writeBuffer = patched as GPUQueue['writeBuffer'];
}

export async function installGpuGlobal(): Promise<GpuGlobal> {
  if (installed) return installed;
  const reasons: string[] = [];
  // The first adapter, as the engine's provider would take it (no time limit: a bench run waits).
  for await (const { source, gpu, options, adapter } of gpuAdapters(nodeGpuSources(), reasons, null)) {
    const shim = {
      requestAdapter: (asked?: GPURequestAdapterOptions) => gpu.requestAdapter({ ...asked, ...options }),
      getPreferredCanvasFormat: () => gpu.getPreferredCanvasFormat(),
      get wgslLanguageFeatures() {
        return gpu.wgslLanguageFeatures;
      },
    };
    // The usage and stage constants (GPUBufferUsage, GPUMapMode, ...) the peers reference as globals.
    Object.assign(globalThis, globals);
    acceptSharedViews();
    Object.defineProperty(globalThis, 'navigator', {
      value: { ...((globalThis as { navigator?: object }).navigator ?? {}), gpu: shim },
      configurable: true,
      writable: true,
    });
    installed = {
      adapter: `${adapterText(adapter.info)}, via ${source.label}`,
      featureLevel: options.featureLevel ?? 'core',
      features: [...adapter.features].map(String).sort(),
      gpu,
    };
    return installed;
  }
  throw new Error(`no WebGPU adapter: ${reasons.join('; ')}`);
}

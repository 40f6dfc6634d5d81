/**
 * Walking a host's GPU sources for adapters, shared by everything that looks for one: the WebGPU
 * provider, the readback probe, the bench's WebGPU peers and the tests. No backend import, so the
 * probe process stays small.
 */

export interface GpuSource {
  /** How the GPU object is obtained, e.g. "Dawn native (core)"; named in the report. */
  label: string;
  open(): GPU | Promise<GPU>;
  /** Asked in order; different power preferences may yield different adapters. */
  adapterOptions: GPURequestAdapterOptions[];
  /** Why there may be no adapter (e.g. a missing Vulkan loader), appended to the reason. */
  noAdapterHint?(): string;
}

/** How long requestAdapter may take before the source counts as broken. */
export const ADAPTER_TIMEOUT_MS = 30_000;

/** `promise`, or an error naming `what` once `ms` have passed; the timer never keeps Node alive. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
    (timer as { unref?: () => void }).unref?.();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface FoundAdapter {
  source: GpuSource;
  /** The GPU object the adapter came from: keep it referenced as long as the adapter is used. */
  gpu: GPU;
  options: GPURequestAdapterOptions;
  adapter: GPUAdapter;
}

/**
 * Every adapter the sources offer, best first (a caller stops at the one it wants). Why a source
 * gave none goes into `reasons`: it did not open, its requestAdapter threw or took longer than
 * `timeoutMs` (null: no limit), or it found no adapter at all.
 */
export async function* gpuAdapters(sources: readonly GpuSource[], reasons: string[], timeoutMs: number | null = ADAPTER_TIMEOUT_MS): AsyncGenerator<FoundAdapter> {
  for (const source of sources) {
    let gpu: GPU;
    try {
      gpu = await source.open();
    } catch (err) {
      reasons.push(`${source.label}: ${(err as Error).message}`);
      continue;
    }
    let any = false;
    for (const options of source.adapterOptions) {
      let adapter: GPUAdapter | null;
      try {
        const asked = gpu.requestAdapter(options);
        adapter = await (timeoutMs === null ? asked : within(asked, timeoutMs, 'requestAdapter'));
      } catch (err) {
        reasons.push(`${source.label}: ${(err as Error).message}`);
        continue;
      }
      if (!adapter) continue;
      any = true;
      yield { source, gpu, options, adapter };
    }
    if (!any) reasons.push(`${source.label}: no adapter${source.noAdapterHint?.() ?? ''}`);
  }
}


/** Whether an adapter is a software renderer: shared with the workbench, which labels the in-window adapter too. */
export { softwareRenderer, type AdapterLike } from '../../../shared/backend-label.ts';

/// <reference types="@webgpu/types" />
/**
 * WebGPU plumbing shared by the backend's modules: usage flags, limits, and the guard that turns
 * device loss, GPU errors and stuck promises into EngineErrors naming the op. Uses only the
 * WebGPU API, so it runs on Dawn in Node and on navigator.gpu in a browser Worker alike.
 */
import { EngineError } from '../../errors.ts';
import type { GpuLimits } from '../../ops/types.ts';

// The spec's GPUBufferUsage / GPUMapMode / GPUShaderStage values: Node has no such globals unless
// the webgpu package's `globals` are installed, and the engine does not rely on that.
export const USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80, QUERY_RESOLVE: 0x200 } as const;
export const MAP_READ = 0x1;
export const STAGE_COMPUTE = 0x4;

const LIMIT_KEYS: (keyof GpuLimits)[] = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
  'minStorageBufferOffsetAlignment',
];

export function limitsOf(limits: GPUSupportedLimits): GpuLimits {
  const out = {} as GpuLimits;
  for (const key of LIMIT_KEYS) out[key] = Number(limits[key]);
  return out;
}

/** Every numeric limit the adapter reports, at its maximum: defaults are far lower (128 MiB bindings). */
export function maxLimits(adapter: GPUAdapter): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key in adapter.limits) {
    const value = (adapter.limits as unknown as Record<string, unknown>)[key];
    if (typeof value === 'number') out[key] = value;
  }
  return out;
}

export function adapterText(info: GPUAdapterInfo | undefined): string {
  if (!info) return 'unknown adapter';
  const name = [info.vendor, info.architecture, info.device].filter((s) => s && s.trim()).join(' ');
  const description = info.description?.trim();
  if (name && description) return `${name} (${description})`;
  return name || description || 'unnamed adapter';
}

/**
 * Watches one device: `wait` races a promise against device loss and a timeout so no caller ever
 * hangs; `check` reports an error the device raised outside any error scope.
 */
export class DeviceGuard {
  private lostReason: string | null = null;
  private uncaptured: string | null = null;
  private disposed = false;
  private readonly lost: Promise<never>;

  constructor(
    private readonly device: GPUDevice,
    readonly timeoutMs: number,
  ) {
    this.lost = device.lost.then((info) => {
      if (!this.disposed) this.lostReason = `${info.reason}${info.message ? `: ${info.message}` : ''}`;
      throw new EngineError(`the GPU device was lost (${this.lostReason ?? 'disposed'})`);
    });
    this.lost.catch(() => {});
    device.onuncapturederror = (e: GPUUncapturedErrorEvent) => {
      this.uncaptured ??= e.error.message;
    };
  }

  markDisposed(): void {
    this.disposed = true;
  }

  /** Throws if the device is lost or raised an error nobody caught; `where` names the op or phase. */
  check(where: string, node?: string): void {
    if (this.lostReason) throw new EngineError(`GPU device lost ${where}: ${this.lostReason}`, node);
    if (this.uncaptured) {
      const message = this.uncaptured;
      this.uncaptured = null;
      throw new EngineError(`GPU error ${where}: ${message}`, node);
    }
  }

  async wait<T>(promise: Promise<T>, where: string, node?: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EngineError(`the GPU did not finish within ${this.timeoutMs / 1000} s ${where}`, node)), this.timeoutMs);
      // A pending guard must not keep Node alive on its own.
      (timer as { unref?: () => void }).unref?.();
    });
    try {
      return await Promise.race([promise, timeout, this.lost.catch((err: Error) => Promise.reject(new EngineError(`${err.message} ${where}`, node)))]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Opens validation, out-of-memory and internal error scopes; close them with `popScopes`. */
  pushScopes(): void {
    this.device.pushErrorScope('internal');
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
  }

  /** The first error the three scopes caught, or null. */
  async popScopes(where: string, node?: string): Promise<string | null> {
    const pops = [this.device.popErrorScope(), this.device.popErrorScope(), this.device.popErrorScope()];
    const errors = await this.wait(Promise.all(pops), where, node);
    const kinds = ['validation', 'out-of-memory', 'internal'];
    const i = errors.findIndex((e) => e !== null);
    return i < 0 ? null : `${kinds[i]} error: ${errors[i]!.message}`;
  }

  /** Runs `fn` inside error scopes; a GPU error or a throw becomes an EngineError naming `where`. */
  async scoped<T>(where: string, node: string | undefined, fn: () => T | Promise<T>): Promise<T> {
    this.pushScopes();
    let value: T | undefined;
    let thrown: unknown;
    try {
      value = await fn();
    } catch (err) {
      thrown = err;
    }
    const error = await this.popScopes(where, node);
    if (thrown instanceof EngineError) throw thrown;
    if (error || thrown) throw new EngineError(`${where}: ${error ?? (thrown as Error).message}`, node);
    return value as T;
  }
}

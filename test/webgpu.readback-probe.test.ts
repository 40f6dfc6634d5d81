/**
 * The start-up probe the Electron app uses to decide whether Dawn can read GPU buffers back in its
 * engine process (Electron's memory cage refuses dawn.node's external ArrayBuffers) or GPU
 * profiles must go to the renderer's engine Worker. Node has no cage: here the probe must say
 * `works`, in-process and in a child; a refused getMappedRange and a probe that crashes must both
 * read as `refused`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeGpuSources } from '../src/engine/backends/webgpu/node-gpu.ts';
import { probeGpuReadback, probeGpuReadbackInChild } from '../src/engine/backends/webgpu/readback-probe.ts';
import type { GpuSource } from '../src/engine/backends/webgpu/provider.ts';
import { WEBGPU_TESTS } from './helpers/webgpu.ts';

const tmp = mkdtempSync(join(tmpdir(), 'convscope-probe-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** `target` with some methods replaced; every other method stays bound to the native object. */
function overriding<T extends object>(target: T, overrides: Record<string, (...args: any[]) => unknown>): T {
  return new Proxy(target, {
    get(t, key) {
      if (typeof key === 'string' && key in overrides) return overrides[key];
      const value = Reflect.get(t, key, t);
      return typeof value === 'function' ? value.bind(t) : value;
    },
  });
}

/** Dawn as Electron's caged Node sees it: mapping works, exposing the mapped memory to JS does not. */
function cagedSources(): GpuSource[] {
  return nodeGpuSources().map((source) => ({
    ...source,
    open: async () => {
      const gpu = await source.open();
      return overriding(gpu, {
        requestAdapter: async (opts?: GPURequestAdapterOptions) => {
          const adapter = await gpu.requestAdapter(opts);
          return (
            adapter &&
            overriding(adapter, {
              requestDevice: async (desc?: GPUDeviceDescriptor) => {
                const device = await adapter.requestDevice(desc);
                return overriding(device, {
                  createBuffer: (d: GPUBufferDescriptor) => {
                    // The real buffer (Dawn crashes on a Proxy passed back to it), its method shadowed.
                    const buffer = device.createBuffer(d);
                    buffer.getMappedRange = () => {
                      throw new Error('External buffers are not allowed');
                    };
                    return buffer;
                  },
                });
              },
            })
          );
        },
      });
    },
  }));
}

describe.skipIf(!WEBGPU_TESTS)('Dawn readback probe', () => {
  it('reads a buffer back in this Node process', async () => {
    const result = await probeGpuReadback();
    expect(result).toMatchObject({ readback: 'works', adapter: expect.stringContaining('via Dawn') });
  });

  it('says the same from a child process', async () => {
    const [here, child] = await Promise.all([probeGpuReadback(), probeGpuReadbackInChild()]);
    expect(child).toEqual(here);
  });

  it('reports a refused getMappedRange as refused, naming the adapter and the error', async () => {
    const result = await probeGpuReadback({ sources: cagedSources() });
    expect(result).toMatchObject({ readback: 'refused', adapter: expect.stringContaining('via Dawn'), reason: 'getMappedRange failed: External buffers are not allowed' });
  });
});

describe('Dawn readback probe in a child that dies', () => {
  it('reads a crash before the answer as refused, with the signal', async () => {
    const entry = join(tmp, 'abort.mjs');
    writeFileSync(entry, "process.stderr.write('Fatal error in V8: ArrayBuffer backing stores must be allocated inside the sandbox\\n');\nprocess.abort();\n");
    const result = await probeGpuReadbackInChild({ entry });
    expect(result).toMatchObject({ readback: 'refused', adapter: null, reason: expect.stringMatching(/SIGABRT.*inside the sandbox/) });
  });

  it('reads silence as refused after the timeout', async () => {
    const entry = join(tmp, 'silent.mjs');
    writeFileSync(entry, 'setInterval(() => {}, 1000);\n');
    const result = await probeGpuReadbackInChild({ entry, timeoutMs: 500 });
    expect(result).toMatchObject({ readback: 'refused', reason: expect.stringContaining('did not answer within 0.5 s') });
  });
});

/**
 * Can this process read GPU buffers back through Dawn (the `webgpu` package)? Node can. Electron
 * (21 and later) runs Node inside V8's memory cage, which refuses the external ArrayBuffer that
 * dawn.node's `getMappedRange` returns: every WebGPU profile would fail at its first readback,
 * either with an exception ("External buffers are not allowed") or, where the addon does not check
 * for that, with a fatal V8 error that takes the process down.
 *
 * So the Electron app asks once at start-up, in a process of its own (the probe may crash it):
 * `utilityProcess.fork(READBACK_PROBE_ENTRY)` (or `probeGpuReadbackInChild()` where
 * child_process is the way), and routes GPU profiles to the renderer's engine Worker
 * (src/engine/worker: Chromium's own WebGPU) unless the answer is `works`. A probe that dies
 * before answering counts as `refused`.
 *
 * Node-only: it loads Dawn. The browser Worker never imports this file.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { adapterText, MAP_READ, USAGE } from './gpu.ts';
import { nodeGpuSources } from './node-gpu.ts';
import { gpuAdapters, within, type GpuSource } from './adapters.ts';

export type ReadbackProbeResult =
  /** Dawn read a buffer back correctly: GPU profiles can run in this (kind of) process. */
  | { readback: 'works'; adapter: string }
  /** Dawn has an adapter but reading a buffer back failed (Electron's memory cage) or crashed the probe. */
  | { readback: 'refused'; adapter: string | null; reason: string }
  /** Dawn found no adapter: no WebGPU in Node here; the browser's WebGPU may still have one. */
  | { readback: 'no-adapter'; reason: string };

/** The script a separate process runs to probe (plain Node or an Electron utilityProcess). */
export const READBACK_PROBE_ENTRY = fileURLToPath(new URL('./readback-probe-process.mjs', import.meta.url));

const VALUES = 64;

/**
 * Opens the first Dawn adapter, writes 64 floats to a storage buffer, copies them to a mappable
 * buffer and reads them back exactly as the WebGPU backend does (mapAsync, getMappedRange, copy
 * into a JS ArrayBuffer). In-process: call it where a crash is acceptable, i.e. in a probe process.
 */
export async function probeGpuReadback(options: { sources?: GpuSource[]; timeoutMs?: number } = {}): Promise<ReadbackProbeResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const reasons: string[] = [];
  for await (const { source, adapter } of gpuAdapters(options.sources ?? nodeGpuSources(), reasons, timeoutMs)) {
    const name = `${adapterText(adapter.info)}, via ${source.label}`;
    try {
      await readBackOnce(adapter, timeoutMs);
      return { readback: 'works', adapter: name };
    } catch (err) {
      return { readback: 'refused', adapter: name, reason: (err as Error).message };
    }
  }
  return { readback: 'no-adapter', reason: reasons.join('; ') };
}

async function readBackOnce(adapter: GPUAdapter, timeoutMs: number): Promise<void> {
  const device = await within(adapter.requestDevice(), timeoutMs, 'requestDevice');
  try {
    const data = Float32Array.from({ length: VALUES }, (_, i) => i * 0.5 - 3);
    const bytes = data.byteLength;
    const src = device.createBuffer({ size: bytes, usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST });
    const dst = device.createBuffer({ size: bytes, usage: USAGE.MAP_READ | USAGE.COPY_DST });
    device.queue.writeBuffer(src, 0, data.buffer, 0, bytes);
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(src, 0, dst, 0, bytes);
    device.queue.submit([encoder.finish()]);
    await within(dst.mapAsync(MAP_READ, 0, bytes), timeoutMs, 'mapAsync');
    let got: Float32Array;
    try {
      // The external ArrayBuffer the memory cage refuses is created here.
      got = new Float32Array(dst.getMappedRange(0, bytes).slice(0));
    } catch (err) {
      throw new Error(`getMappedRange failed: ${(err as Error).message}`);
    } finally {
      dst.unmap();
    }
    const bad = data.findIndex((v, i) => got[i] !== v);
    if (got.length !== VALUES || bad >= 0) throw new Error(`read back wrong values (element ${bad}: ${got[bad]} instead of ${data[bad]})`);
  } finally {
    device.destroy();
  }
}

/**
 * Runs the probe in a Node child process (child_process.fork, which in Electron's main process
 * runs Electron's own Node, memory cage included). A child that exits or is killed before
 * answering is `refused`: a fatal V8 error on the caged external buffer ends it that way.
 */
export function probeGpuReadbackInChild(options: { timeoutMs?: number; entry?: string } = {}): Promise<ReadbackProbeResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve) => {
    const child = fork(options.entry ?? READBACK_PROBE_ENTRY, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json' });
    let stderr = '';
    let settled = false;
    const finish = (result: ReadbackProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ readback: 'refused', adapter: null, reason: `the probe process did not answer within ${timeoutMs / 1000} s` }), timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 8000) stderr += chunk.toString();
    });
    child.on('message', (message) => finish(message as ReadbackProbeResult));
    child.on('error', (err) => finish({ readback: 'refused', adapter: null, reason: `the probe process failed: ${err.message}` }));
    // 'close', not 'exit': it comes after the IPC channel is drained, so an answer is never lost to it.
    child.on('close', (code, signal) => {
      // V8's fatal errors span many lines of '#' and stack; the line that names the error is enough.
      const lines = stderr.split('\n').map((l) => l.replace(/^[#\s]+/, '').trim()).filter(Boolean);
      const cause = lines.find((l) => /fatal|error|check failed/i.test(l)) ?? lines[0];
      finish({ readback: 'refused', adapter: null, reason: `the probe process ended (${signal ?? `exit code ${code}`}) before answering${cause ? `: ${cause.slice(0, 500)}` : ''}` });
    });
  });
}

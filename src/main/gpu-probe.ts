/**
 * Electron main asks once, before starting the engine, whether Dawn can read GPU buffers back in
 * an Electron process (src/engine/backends/webgpu/readback-probe.ts: Electron's V8 memory cage
 * refuses them). The probe runs in a utilityProcess of its own because it may crash; no answer is
 * a refusal. Unless it works, the engine starts with WebGPU refused and that reason, so `auto`
 * falls back to the CPU saying why instead of a profile taking the engine down; the window, told
 * so, offers and preselects WebGPU in its own engine Worker instead.
 */
import type { GpuReadback } from '../shared/ipc.ts';
import type { UtilityChild } from './engine-process.ts';

export type ProbeAnswer =
  | { readback: 'works'; adapter: string }
  | { readback: 'refused'; adapter: string | null; reason: string }
  | { readback: 'no-adapter'; reason: string };

export function probeReadback(fork: (entry: string) => UtilityChild, entry: string, timeoutMs = 60_000): Promise<ProbeAnswer> {
  return new Promise((resolve) => {
    let settled = false;
    let child: UtilityChild | null = null;
    const finish = (answer: ProbeAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child?.kill();
      resolve(answer);
    };
    const timer = setTimeout(() => finish({ readback: 'refused', adapter: null, reason: `the GPU probe did not answer within ${timeoutMs / 1000} s` }), timeoutMs);
    try {
      child = fork(entry);
    } catch (err) {
      finish({ readback: 'refused', adapter: null, reason: `the GPU probe could not start: ${(err as Error).message}` });
      return;
    }
    child.on('message', (m) => {
      const r = m as ProbeAnswer;
      if (r && (r.readback === 'works' || r.readback === 'refused' || r.readback === 'no-adapter')) finish(r);
    });
    child.on('exit', (code) => finish({ readback: 'refused', adapter: null, reason: `the GPU probe ended (exit code ${code}) before answering` }));
  });
}

/** The engine's command line for a probe answer: empty when WebGPU may run in the engine process. */
export function engineArgs(answer: ProbeAnswer): string[] {
  if (answer.readback === 'works') return [];
  const why =
    answer.readback === 'no-adapter'
      ? `no WebGPU adapter in the engine process (${answer.reason})`
      : `WebGPU cannot read GPU buffers back in Electron's engine process (${answer.reason})`;
  return [`--webgpu-refused=${why}`];
}

/** What the window is told: with `refused`, its picker moves GPU profiles to its own engine Worker. */
export function readbackForWindow(answer: ProbeAnswer): GpuReadback {
  if (answer.readback === 'works') return { readback: 'works', reason: `Dawn reads back on ${answer.adapter}` };
  return { readback: answer.readback, reason: answer.reason };
}

/**
 * One-off events worth telling a waiting user about, outside any request: the CPU backend
 * compiling its WebAssembly kernels on first use (tens of seconds, once per install). Emitted by
 * the engine, shown by each host its own way: the CLI on stderr, the workbench engine as a
 * `notice` message (shared/protocol.ts) that the Profile panel shows.
 */
export interface EngineNotice {
  kind: 'compile';
  phase: 'start' | 'done';
  text: string;
}

type Listener = (notice: EngineNotice) => void;
const listeners = new Set<Listener>();

/** Subscribes; returns the unsubscribe. */
export function onEngineNotice(listener: Listener): () => void {
  listeners.add(listener);
  return () => void listeners.delete(listener);
}

export function emitEngineNotice(notice: EngineNotice): void {
  for (const l of listeners) {
    try {
      l(notice);
    } catch {
      // A listener that fails (a closed stream) must not fail the compile it is told about.
    }
  }
}

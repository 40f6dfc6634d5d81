/**
 * The transport interface both kinds of engine connection implement (transport.ts: the engine
 * process; worker-transport.ts: the page's engine Worker). DOM-free, so tests load it in Node.
 */
import type { EngineStatusMessage, Request } from '../../shared/protocol.ts';

export interface Transport {
  send(message: Request): void;
  onMessage(listener: (raw: unknown) => void): void;
  onStatus(listener: (s: EngineStatusMessage) => void): void;
}

/** Listeners; with `replay`, one added late gets the last value at once (status is a state, not an event). */
export class Listeners<T> {
  private readonly set = new Set<(v: T) => void>();
  private last: { v: T } | null = null;
  constructor(private readonly replay = false) {}
  add(l: (v: T) => void) {
    this.set.add(l);
    if (this.replay && this.last) l(this.last.v);
  }
  emit(v: T) {
    this.last = { v };
    for (const l of this.set) l(v);
  }
}

/**
 * The page's engine Worker (src/engine/worker) as a Transport: the same protocol as the engine
 * process, over postMessage. DOM-free (WorkerLike), so tests drive it with a fake.
 */
import type { EngineStatusMessage } from '../../shared/protocol.ts';
import { Listeners, type Transport } from './channel.ts';

/** The parts of a DOM Worker used here (a fake stands in for it in tests). */
export interface WorkerLike {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (e: { data: unknown }) => void): void;
  addEventListener(type: 'error', listener: (e: { message?: string }) => void): void;
}

/**
 * postMessage to the engine Worker. Messages sent before its module has loaded wait in the
 * Worker's queue; it says `ready` itself (an `engine` message the client reads). A load failure
 * is an `error` event, reported as `failed` so requests in flight end instead of hanging.
 */
export function workerTransport(worker: WorkerLike): Transport {
  const messages = new Listeners<unknown>();
  const status = new Listeners<EngineStatusMessage>(true);
  status.emit({ type: 'engine', state: 'starting', message: 'starting the engine Worker', restarts: 0 });
  worker.addEventListener('message', (e) => messages.emit(e.data));
  worker.addEventListener('error', (e) => status.emit({ type: 'engine', state: 'failed', message: `the engine Worker failed: ${e.message || 'it could not load'}`, restarts: 0 }));
  return {
    send: (message) => worker.postMessage(message),
    onMessage: (l) => messages.add(l),
    onStatus: (l) => status.add(l),
  };
}

/**
 * How the workbench reaches the engine. In the browser (`convscope serve`): a WebSocket to the
 * page's own engine process. In Electron: a MessagePort straight to the engine's utilityProcess,
 * handed over by the preload script; main replaces it when it restarts the engine. And in either
 * host: the page's own engine Worker (src/engine/worker), for WebGPU on the browser's navigator.gpu.
 */
import type { EngineStatusMessage, Request } from '../../shared/protocol.ts';
import { Listeners, type Transport } from './channel.ts';
import type { WorkerLike } from './worker-transport.ts';

export type { Transport } from './channel.ts';

/**
 * A WebSocket that reconnects: the server starts a fresh engine for each connection, so a lost
 * connection (the server restarted) heals itself while the design stays in the page.
 */
export function webSocketTransport(url: string): Transport {
  const messages = new Listeners<unknown>();
  const status = new Listeners<EngineStatusMessage>(true);
  let ws: WebSocket | null = null;
  let attempt = 0;
  let lost = 0;

  const connect = () => {
    const socket = new WebSocket(url);
    ws = socket;
    socket.onopen = () => {
      attempt = 0;
    };
    socket.onmessage = (e) => {
      try {
        messages.emit(JSON.parse(String(e.data)));
      } catch {
        // Not JSON: the client reports malformed messages; here there is nothing to hand over.
      }
    };
    socket.onclose = () => {
      if (ws !== socket) return;
      ws = null;
      attempt++;
      lost++;
      const delay = Math.min(500 * 2 ** (attempt - 1), 8000);
      status.emit({ type: 'engine', state: 'restarting', message: `lost the connection to the workbench server; reconnecting in ${(delay / 1000).toFixed(1)} s`, restarts: lost });
      setTimeout(connect, delay);
    };
  };
  connect();

  return {
    send(message) {
      if (!ws || ws.readyState !== WebSocket.OPEN) throw new Error('not connected to the workbench server');
      ws.send(JSON.stringify(message));
    },
    onMessage: (l) => messages.add(l),
    onStatus: (l) => status.add(l),
  };
}

/** The MessagePort the preload script forwards with `window.postMessage('convscope:engine-port', ...)`. */
export function messagePortTransport(): Transport {
  const messages = new Listeners<unknown>();
  const status = new Listeners<EngineStatusMessage>(true);
  let port: MessagePort | null = null;
  const queue: Request[] = [];
  window.convscope?.onEngineStatus((s) => status.emit(s));

  window.addEventListener('message', (e) => {
    if (e.source !== window || e.data !== 'convscope:engine-port' || !e.ports[0]) return;
    port?.close();
    port = e.ports[0];
    port.onmessage = (m) => messages.emit(m.data);
    port.start();
    for (const m of queue.splice(0)) port.postMessage(m);
  });
  window.convscope?.connectEngine();

  return {
    send(message) {
      if (port) port.postMessage(message);
      else queue.push(message);
    },
    onMessage: (l) => messages.add(l),
    onStatus: (l) => status.add(l),
  };
}

/**
 * The engine Worker, bundled by Vite with the renderer (dist/web, out/renderer): the same engine
 * code and protocol, with WebGPU on this page's navigator.gpu. Started only when first used.
 */
export function startEngineWorker(): WorkerLike {
  return new Worker(new URL('../../engine/worker/index.ts', import.meta.url), { type: 'module', name: 'convscope-engine' });
}

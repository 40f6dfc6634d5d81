/**
 * The engine in a browser Dedicated Worker: the workbench protocol (src/shared/protocol.ts) over
 * postMessage, with WebGPU on the browser's own navigator.gpu. Serves `convscope serve` pages that
 * want the browser's GPU, and the Electron renderer where Electron's V8 memory cage keeps Dawn in
 * the engine process from reading GPU buffers back (see backends/webgpu/readback-probe.ts).
 *
 * The renderer's build bundles it (src/renderer/connection/transport.ts starts it by URL, never
 * imports it); `npm run build:worker` (vite.worker.config.ts) also builds it standalone into
 * dist/worker/engine-worker.js for the browser tests. Start it as a module worker. It posts `{ type: 'engine', state: 'ready' }` once loaded, then
 * answers each request as the Node engine does; `hello` reports pid 0.
 */
import { version } from '../../../package.json';
import type { EngineMessage } from '../../shared/protocol.ts';
import { createEngineService } from '../engine-service.ts';
import { useOnnxSchema } from '../onnx/proto.ts';
import onnxProto from '../onnx/onnx.proto?raw';
import { browserBackends } from './backends.ts';
import { browserEnvironment } from './environment.ts';

interface WorkerScope {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}

interface BrowserPort {
  onmessage: (() => void) | null;
  postMessage(message: unknown): void;
  close(): void;
}

const scope = globalThis as unknown as WorkerScope;

/** A MessageChannel round trip: a macrotask without setTimeout's clamping to 4 ms when nested. */
function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => {
    // The DOM's MessagePort (onmessage), not the Node one the engine's types describe.
    const { port1, port2 } = new MessageChannel() as unknown as { port1: BrowserPort; port2: BrowserPort };
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}

// Parsed here from the bundled text; in Node proto.ts reads the file beside it.
useOnnxSchema(onnxProto);

const service = createEngineService({
  post: (message: EngineMessage) => scope.postMessage(message),
  backends: browserBackends(),
  environment: browserEnvironment(version),
  pid: 0,
  yieldToEvents,
  // ~1 MB, fetched as its own chunk the first time an HTML report is exported.
  readEcharts: async () => (await import('echarts/dist/echarts.min.js?raw')).default,
});

scope.addEventListener('message', (event) => void service.handle(event.data));
scope.postMessage({ type: 'engine', state: 'ready', message: 'the engine Worker is ready', restarts: 0 } satisfies EngineMessage);

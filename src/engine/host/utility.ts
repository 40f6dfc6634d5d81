/**
 * The engine in an Electron utilityProcess. Main hands it one MessagePort per workbench window
 * load (`{ type: 'connect' }` with the port attached); the renderer holds the other end, so
 * results go straight to the window without passing through main. Electron's types are not
 * imported: the engine never depends on Electron, only on the shape of these two objects.
 */
import { z } from 'zod';
import { registerBackend } from '../backends/registry.ts';
import { SpecError } from '../errors.ts';
import { createEngineHost, type EngineHost } from './index.ts';

interface PortMessage {
  data: unknown;
}
interface PortLike {
  on(event: 'message', listener: (e: PortMessage) => void): void;
  on(event: 'close', listener: () => void): void;
  postMessage(message: unknown): void;
  start(): void;
  close(): void;
}
interface ParentPort {
  on(event: 'message', listener: (e: { data: unknown; ports: PortLike[] }) => void): void;
  postMessage(message: unknown): void;
}

const parentMessage = z.object({ type: z.literal('connect') });

// Main probes Dawn's readback before starting us (src/main/gpu-probe.ts); where it fails, WebGPU
// is refused with the reason, so `auto` runs on the CPU and says why instead of crashing here.
const refused = process.argv.find((a) => a.startsWith('--webgpu-refused='))?.slice('--webgpu-refused='.length);
if (refused) {
  registerBackend({
    name: 'webgpu',
    priority: 10,
    create: async () => {
      throw new SpecError(refused, undefined, 'backend');
    },
  });
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (!parentPort) throw new Error('utility.ts runs in an Electron utilityProcess (process.parentPort is missing)');

let current: { host: EngineHost; port: PortLike } | null = null;

parentPort.on('message', (e) => {
  const parsed = parentMessage.safeParse(e.data);
  const port = e.ports?.[0];
  if (!parsed.success || !port) {
    parentPort.postMessage({ type: 'error', message: 'expected { type: "connect" } with a MessagePort' });
    return;
  }
  // A reloaded window gets a fresh port; the previous session's runs stop with it.
  const previous = current;
  current = null;
  if (previous) {
    previous.port.close();
    void previous.host.dispose();
  }
  let open = true;
  const host = createEngineHost({
    post(message) {
      if (open) port.postMessage(message);
    },
  });
  port.on('message', (m) => void host.handle(m.data));
  port.on('close', () => {
    open = false;
    void host.dispose();
  });
  port.start();
  current = { host, port };
  parentPort.postMessage({ type: 'connected', pid: process.pid });
});

parentPort.postMessage({ type: 'ready', pid: process.pid });

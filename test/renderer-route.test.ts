/**
 * The workbench's choice of transport: the in-window WebGPU picker value routes to the engine
 * Worker, everything else to the engine process; Electron's refused readback preselects it; the
 * Worker transport reports load failures so requests in flight end.
 */
import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from '../src/host/static.ts';
import { WINDOW_CSP } from '../src/main/security.ts';
import { EngineClient, EngineRequestError } from '../src/renderer/connection/client.ts';
import { adapterName, IN_WINDOW, inWindowLabel, routeOf, startingChoice } from '../src/renderer/connection/route.ts';
import { workerTransport, type WorkerLike } from '../src/renderer/connection/worker-transport.ts';

describe('routeOf', () => {
  it('sends the in-window choice to the Worker as webgpu, engine backends to the process unchanged', () => {
    expect(routeOf(IN_WINDOW)).toEqual({ via: 'window', backend: 'webgpu' });
    expect(routeOf('webgpu')).toEqual({ via: 'process', backend: 'webgpu' });
    expect(routeOf('auto')).toEqual({ via: 'process', backend: 'auto' });
    expect(routeOf('cpu')).toEqual({ via: 'process', backend: 'cpu' });
  });
});

describe('startingChoice', () => {
  const refused = 'External buffers are not allowed';
  it('moves auto and webgpu to the in-window WebGPU when the engine process cannot read back, saying why', () => {
    for (const saved of ['auto', 'webgpu', IN_WINDOW]) {
      const s = startingChoice(saved, 'SwiftShader Device', refused);
      expect(s.choice).toBe(IN_WINDOW);
      expect(s.why).toContain(refused);
      expect(s.why).not.toContain('\n');
    }
  });
  it('keeps an explicit CPU choice, and everything when readback works', () => {
    expect(startingChoice('cpu', 'SwiftShader Device', refused)).toEqual({ choice: 'cpu', why: null });
    expect(startingChoice('auto', 'SwiftShader Device', null)).toEqual({ choice: 'auto', why: null });
    expect(startingChoice(IN_WINDOW, 'SwiftShader Device', null)).toEqual({ choice: IN_WINDOW, why: null });
  });
  it('without an adapter in the page, the in-window choice falls back to auto and nothing is preselected', () => {
    expect(startingChoice(IN_WINDOW, null, null)).toEqual({ choice: 'auto', why: null });
    expect(startingChoice('auto', null, refused)).toEqual({ choice: 'auto', why: null });
  });
});

describe('adapter labels', () => {
  it('prefers the description, else vendor and architecture', () => {
    expect(adapterName({ description: 'SwiftShader Device (Subzero)', vendor: 'google' })).toBe('SwiftShader Device (Subzero)');
    expect(adapterName({ vendor: 'google', architecture: 'swiftshader', description: '' })).toBe('google swiftshader');
    expect(adapterName(undefined)).toBe('unnamed adapter');
    expect(inWindowLabel('google swiftshader')).toBe('WebGPU (this window: google swiftshader)');
    expect(inWindowLabel('SwiftShader Device', true)).toBe('WebGPU (software adapter) (this window: SwiftShader Device)');
  });
});

class FakeWorker implements WorkerLike {
  sent: unknown[] = [];
  private readonly listeners: Record<string, ((e: never) => void)[]> = { message: [], error: [] };
  postMessage(message: unknown): void {
    this.sent.push(message);
  }
  addEventListener(type: 'message' | 'error', listener: (e: never) => void): void {
    this.listeners[type].push(listener);
  }
  emit(type: 'message' | 'error', e: object): void {
    for (const l of this.listeners[type]) l(e as never);
  }
}

describe('workerTransport', () => {
  it('carries requests and answers through postMessage', async () => {
    const worker = new FakeWorker();
    const transport = workerTransport(worker);
    const states: string[] = [];
    transport.onStatus((s) => states.push(s.state));
    const client = new EngineClient(transport);
    const seen: string[] = [];
    client.onStatus((s) => seen.push(s.state));
    const answer = client.request('cancel', { target: 7 });
    expect(worker.sent).toEqual([{ id: 1, type: 'cancel', target: 7 }]);
    worker.emit('message', { data: { type: 'engine', state: 'ready', message: 'the engine Worker is ready', restarts: 0 } });
    worker.emit('message', { data: { type: 'result', id: 1, result: { cancelled: false } } });
    await expect(answer).resolves.toEqual({ cancelled: false });
    // The transport knows only that it started; the Worker itself says ready, through the client.
    expect(states).toEqual(['starting']);
    expect(seen).toEqual(['ready']);
  });
  it('a Worker that fails to load ends the requests in flight', async () => {
    const worker = new FakeWorker();
    const client = new EngineClient(workerTransport(worker));
    const answer = client.request('cancel', { target: 1 });
    worker.emit('error', { message: 'SyntaxError in engine-worker.js' });
    const err = await answer.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineRequestError);
    expect((err as EngineRequestError).kind).toBe('engine_stopped');
    expect((err as Error).message).toContain('SyntaxError in engine-worker.js');
  });
});

describe('content security policy', () => {
  it('lets both hosts start the bundled engine Worker from their own origin, and nothing else', () => {
    for (const csp of [WINDOW_CSP, contentSecurityPolicy(['ws://127.0.0.1:1234'])]) {
      expect(csp).toMatch(/(^|; )worker-src 'self'(;|$)/);
      expect(csp).toContain("script-src 'self';");
      expect(csp).not.toContain('unsafe-eval');
    }
  });
});

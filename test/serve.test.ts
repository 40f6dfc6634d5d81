/** The browser host: static files, the /engine WebSocket, engine supervision, and `convscope serve`. */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../src/server/index.ts';
import { engineMessageSchema, type EngineMessage } from '../src/shared/protocol.ts';
import type { ModelSpec } from '../src/shared/spec.ts';

const ui = mkdtempSync(join(tmpdir(), 'convscope-ui-'));
writeFileSync(join(ui, 'index.html'), '<!doctype html><title>workbench</title>');
writeFileSync(join(ui, 'app.js'), 'console.log(1)');

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ root: ui, port: 0, backoffMs: () => 50 });
});
afterAll(() => server?.close());

function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A WebSocket session that records every message and can wait for one. */
class Session {
  readonly messages: EngineMessage[] = [];
  private waiters: (() => void)[] = [];
  private nextId = 1;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(engineMessageSchema.parse(JSON.parse(data.toString())));
      for (const w of this.waiters.splice(0)) w();
    });
  }
  static open(origin = `http://127.0.0.1:${server.port}`): Promise<Session> {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/engine`, { origin });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new Session(ws)));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
    });
  }
  async waitFor(pred: (m: EngineMessage) => boolean, ms = 30_000): Promise<EngineMessage> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.messages.find(pred);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no such message; got ${JSON.stringify(this.messages.slice(-5))}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }
  send(message: Record<string, unknown>): number {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, ...message }));
    return id;
  }
  async call(message: Record<string, unknown>): Promise<EngineMessage> {
    const id = this.send(message);
    return this.waitFor((m) => (m.type === 'result' || m.type === 'error') && m.id === id);
  }
}

const readyAfter = (s: Session, restarts: number) => s.waitFor((m) => m.type === 'engine' && m.state === 'ready' && m.restarts === restarts);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const model: ModelSpec = {
  format: 'convscope/v1',
  name: 'big enough to take a while',
  input: { shape: [1, 64, 56, 56] },
  layers: [{ id: 'c', op: 'conv2d', params: { out_channels: 64, kernel: 3, padding: 1 } }],
};

describe('serve: static files', () => {
  it('serves the workbench with a strict content security policy', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(res.body).toContain('<title>workbench</title>');
    expect(String(res.headers['content-security-policy'])).toContain("default-src 'none'");
    expect(String(res.headers['content-security-policy'])).toContain(`connect-src 'self' ws://127.0.0.1:${server.port}`);
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect((await get('/app.js')).headers['content-type']).toMatch(/^text\/javascript/);
  });

  it('refuses paths outside its folder, missing files and other hosts', async () => {
    expect((await get('/%2e%2e/%2e%2e/etc/passwd')).status).toBe(404);
    expect((await get('/..%2f..%2fetc%2fpasswd')).status).toBe(404);
    expect((await get('/nope.js')).status).toBe(404);
    expect((await get('/%E0%A4%A')).status).toBe(404);
    // DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends its own Host.
    expect((await get('/', { Host: `evil.example:${server.port}` })).status).toBe(421);
  });

  it('binds to 127.0.0.1 by default', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
  });
});

describe('serve: the engine socket', () => {
  it('refuses a socket from another origin', async () => {
    await expect(Session.open('http://evil.example')).rejects.toThrow(/403/);
  });

  it('starts an engine process per page and answers protocol requests through it', async () => {
    const s = await Session.open();
    const ready = await readyAfter(s, 0);
    const hello = await s.call({ type: 'hello' });
    expect(hello.type === 'result' && (hello.result as { pid: number }).pid).toBe(ready.type === 'engine' && ready.pid);
    expect((hello as { result: { pid: number } }).result.pid).not.toBe(process.pid);
    // The server validates before relaying: a malformed request never reaches the engine.
    const bad = await s.call({ type: 'inspect' });
    expect(bad).toMatchObject({ type: 'error', error: { kind: 'protocol' } });
    s.ws.send('not json');
    await s.waitFor((m) => m.type === 'error' && m.id === -1);
    s.ws.close();
  });

  it('restarts a crashed engine with backoff, failing the request in flight and telling the page', async () => {
    const s = await Session.open();
    const first = await readyAfter(s, 0);
    const pid = (first as { pid: number }).pid;
    const run = s.send({ type: 'profile', spec: model, backend: 'cpu', warmup: 0, repeat: 10000 });
    await s.waitFor((m) => m.type === 'progress' && m.id === run && m.phase === 'measure');
    process.kill(pid, 'SIGKILL');
    const failed = await s.waitFor((m) => m.type === 'error' && m.id === run);
    expect(failed).toMatchObject({ error: { kind: 'engine_stopped', message: expect.stringContaining('SIGKILL') } });
    await s.waitFor((m) => m.type === 'engine' && m.state === 'restarting' && m.restarts === 1);
    const again = await readyAfter(s, 1);
    expect((again as { pid: number }).pid).not.toBe(pid);
    const inspect = await s.call({ type: 'inspect', spec: model });
    expect(inspect.type).toBe('result');
    expect(server.sessions().some((x) => x.restarts === 1)).toBe(true);
    s.ws.close();
  });

  it('stops the page\'s engine when the page goes away', async () => {
    const s = await Session.open();
    const ready = await readyAfter(s, 0);
    const pid = (ready as { pid: number }).pid;
    expect(alive(pid)).toBe(true);
    s.ws.close();
    const deadline = Date.now() + 10_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive(pid)).toBe(false);
  });
});

describe('convscope serve', () => {
  const cli = (args: string[]) => spawn(process.execPath, ['bin/convscope.mjs', 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });

  it('prints its URL, serves the UI, and exits 0 on SIGINT', async () => {
    const child = cli(['--port', '0', '--ui', ui]);
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c) => {
        out += c;
        const m = /Convscope workbench: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const res = await fetch(url);
    expect(await res.text()).toContain('<title>workbench</title>');
    const code = new Promise((r) => child.on('exit', r));
    child.kill('SIGINT');
    expect(await code).toBe(0);
  });

  it('refuses a port in use with exit status 2 and the reason', async () => {
    const child = cli(['--port', String(server.port), '--ui', ui]);
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(2);
    expect(err).toContain(`--port ${server.port}: already in use`);
  });
});

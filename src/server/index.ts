/**
 * The browser host (`convscope serve`): serves the built workbench from one folder and, on
 * `/engine`, a WebSocket per page that is bridged to that page's own supervised engine process.
 * It binds to 127.0.0.1 by default and, because a local port is reachable from any web page the
 * user visits, it accepts only requests addressed to itself (Host) from its own pages (Origin).
 */
import { createReadStream, existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { forkEngine } from '../host/child-engine.ts';
import { contentSecurityPolicy, mimeOf, resolveStatic } from '../host/static.ts';
import { EngineSupervisor, type EngineProcess, type EngineProcessEvents, type SupervisorOptions } from '../host/supervisor.ts';
import { describeIssues, MAX_ONNX_TEXT_BYTES, requestSchema, type EngineMessage } from '../shared/protocol.ts';

export interface ServeOptions {
  /** The built workbench (index.html and its assets). */
  root: string;
  /** 0 picks a free port. */
  port: number;
  host?: string;
  spawnEngine?(events: EngineProcessEvents): EngineProcess;
  backoffMs?: SupervisorOptions['backoffMs'];
  log?(line: string): void;
}

export interface RunningServer {
  url: string;
  port: number;
  host: string;
  /** Sessions (open pages) and their engine processes. */
  sessions(): { pid: number | undefined; restarts: number }[];
  close(): Promise<void>;
}

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const root = resolve(options.root);
  if (!existsSync(join(root, 'index.html'))) throw new Error(`${root} has no index.html (build the workbench with \`npm run build:web\`)`);
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? (() => undefined);
  const supervisors = new Set<EngineSupervisor>();
  let port = 0;

  /** Host names this server answers to: what it is bound to, and the loopback names when local. */
  const allowedHosts = () => {
    const names = new Set([host.includes(':') ? `[${host}]` : host]);
    if (LOOPBACK_NAMES.has(host) || host === '::1') for (const n of LOOPBACK_NAMES) names.add(n);
    return new Set([...names].map((n) => `${n}:${port}`));
  };
  const hostAllowed = (req: IncomingMessage) => allowedHosts().has((req.headers.host ?? '').toLowerCase());

  const server: Server = createServer((req, res) => {
    if (!hostAllowed(req)) return refuse(res, 421, 'this server only answers requests addressed to itself');
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'only GET and HEAD');
    const file = resolveStatic(root, new URL(req.url ?? '/', 'http://x').pathname);
    if (!file) return refuse(res, 404, 'not found');
    res.writeHead(200, {
      'Content-Type': mimeOf(file),
      'Content-Security-Policy': contentSecurityPolicy([`ws://${req.headers.host}`]),
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'X-Frame-Options': 'DENY',
      'Cache-Control': extname(file) === '.html' ? 'no-cache' : 'max-age=3600',
    });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file).pipe(res);
  });

  // Room for the largest message a page sends: an ONNX file as base64 (MAX_ONNX_TEXT_BYTES), plus its envelope.
  const wss = new WebSocketServer({ noServer: true, maxPayload: Math.ceil(MAX_ONNX_TEXT_BYTES / 3) * 4 + 2 ** 20 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const origin = req.headers.origin;
    if (url.pathname !== '/engine' || !hostAllowed(req) || origin !== `http://${req.headers.host}`) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => session(ws));
  });

  function session(ws: WebSocket): void {
    const deliver = (m: EngineMessage) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
    };
    const supervisor = new EngineSupervisor({ spawn: options.spawnEngine ?? forkEngine, deliver, backoffMs: options.backoffMs });
    supervisors.add(supervisor);
    ws.on('message', (data, isBinary) => {
      let value: unknown;
      try {
        value = JSON.parse(isBinary ? '' : data.toString());
      } catch {
        deliver({ type: 'error', id: -1, error: { kind: 'protocol', message: 'a message was not JSON text' } });
        return;
      }
      const parsed = requestSchema.safeParse(value);
      if (!parsed.success) {
        const id = (value as { id?: unknown })?.id;
        deliver({ type: 'error', id: Number.isInteger(id) && (id as number) >= 0 ? (id as number) : -1, error: { kind: 'protocol', message: `malformed request: ${describeIssues(parsed.error)}` } });
        return;
      }
      supervisor.send(parsed.data);
    });
    ws.on('close', () => {
      supervisor.stop();
      supervisors.delete(supervisor);
      log('page closed; its engine stopped');
    });
    supervisor.start();
  }

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    host,
    sessions: () => [...supervisors].map((s) => ({ pid: s.pid, restarts: s.restarts })),
    async close() {
      for (const s of supervisors) s.stop();
      supervisors.clear();
      for (const client of wss.clients) client.terminate();
      wss.close();
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function refuse(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(`${text}\n`);
}

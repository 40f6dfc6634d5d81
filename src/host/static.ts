/** Serving the built workbench from a folder: path resolution that cannot leave it, and MIME types. */
import { existsSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';

export const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

export function mimeOf(file: string): string {
  return MIME[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The file under `root` that a URL path names ("/" is index.html), or null when it is outside
 * `root`, missing, not a file, or the path is malformed (bad percent-encoding, a NUL byte).
 */
export function resolveStatic(root: string, urlPath: string): string | null {
  const base = resolve(root);
  let path: string;
  try {
    path = decodeURIComponent(urlPath.split(/[?#]/)[0]);
  } catch {
    return null;
  }
  if (path.includes('\0')) return null;
  const file = path === '/' || path === '' ? join(base, 'index.html') : normalize(join(base, path));
  if (!file.startsWith(base + sep)) return null;
  if (!existsSync(file) || !statSync(file).isFile()) return null;
  return file;
}

/**
 * The workbench's content security policy: its own scripts and styles only, no eval, no frames,
 * network only to `connect` (the engine socket in the browser host; nothing in Electron).
 */
export function contentSecurityPolicy(connect: string[] = []): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    // Vue and ECharts set element styles at run time.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src 'self'${connect.map((c) => ` ${c}`).join('')}`,
    // The engine Worker is a bundled file of the app's own (connection/transport.ts); no blob: workers.
    "worker-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "frame-src 'none'",
    "object-src 'none'",
  ].join('; ');
}

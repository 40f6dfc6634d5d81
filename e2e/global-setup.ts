/**
 * Builds what the selected projects run, when the sources are newer than the build: the browser
 * host's renderer (dist/web) for `web`; the Electron app (out/) for `electron`, where the binary exists.
 * CI starts from a fresh clone, so there the build always happens.
 */
import type { FullConfig } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ELECTRON_MISSING, electronBinary } from './electron-binary.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function newest(paths: string[]): number {
  let t = 0;
  const visit = (p: string) => {
    if (!existsSync(p)) return;
    const s = statSync(p);
    if (s.isDirectory()) for (const e of readdirSync(p)) visit(join(p, e));
    else t = Math.max(t, s.mtimeMs);
  };
  for (const p of paths) visit(join(ROOT, p));
  return t;
}

function stale(output: string, inputs: string[]): boolean {
  const out = join(ROOT, output);
  return !existsSync(out) || statSync(out).mtimeMs < newest(inputs);
}

export default function globalSetup(config: FullConfig): void {
  const projects = new Set(config.projects.map((p) => p.name));
  const selected = (name: string) => projects.has(name) && (process.argv.every((a) => !a.startsWith('--project')) || process.argv.some((a, i) => a === `--project=${name}` || (a === '--project' && process.argv[i + 1] === name)));
  const renderer = ['src/renderer', 'src/shared', 'vite.config.ts', 'package.json'];
  if (selected('web') && stale('dist/web/index.html', renderer)) {
    console.log('building the workbench for the browser host (dist/web)...');
    execFileSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
  }
  if (selected('electron') && !electronBinary()) console.log(`\n[electron] every spec skips: ${ELECTRON_MISSING}\n`);
  if (selected('electron') && electronBinary() && stale('out/main/index.js', [...renderer, 'src/main', 'src/preload', 'electron.vite.config.ts'])) {
    console.log('building the Electron app (out/)...');
    execFileSync(process.execPath, [join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: ROOT, stdio: 'inherit' });
  }
}

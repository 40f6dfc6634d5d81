/**
 * `npm start` without the Electron binary: scripts/check-electron.mjs says how to get it in one
 * line, before electron-vite builds for a minute and dies with a stack trace. The check reads the
 * electron package's path.txt the way the package does, never require('electron') (which may
 * start a download).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { electronBinary, startProblem } from '../src/main/electron-binary.ts';

const ROOT = join(import.meta.dirname, '..');

/** A stand-in node_modules/electron: package.json, and path.txt/dist as asked. */
function electronPackage(opts: { pathTxt?: boolean; binary?: boolean }): string {
  const dir = mkdtempSync(join(tmpdir(), 'convscope-electron-pkg-'));
  writeFileSync(join(dir, 'package.json'), '{"name":"electron"}');
  if (opts.pathTxt) writeFileSync(join(dir, 'path.txt'), 'electron\n');
  if (opts.binary) {
    mkdirSync(join(dir, 'dist'));
    writeFileSync(join(dir, 'dist', 'electron'), '');
  }
  return dir;
}

describe('the Electron binary check', () => {
  it('finds the binary named by path.txt in dist/, or under ELECTRON_OVERRIDE_DIST_PATH', () => {
    const dir = electronPackage({ pathTxt: true, binary: true });
    expect(electronBinary(dir, {})).toBe(join(dir, 'dist', 'electron'));
    expect(startProblem(dir, {})).toBeNull();
    const other = mkdtempSync(join(tmpdir(), 'convscope-electron-dist-'));
    expect(electronBinary(dir, { ELECTRON_OVERRIDE_DIST_PATH: other })).toBeNull();
    writeFileSync(join(other, 'electron'), '');
    expect(electronBinary(dir, { ELECTRON_OVERRIDE_DIST_PATH: other })).toBe(join(other, 'electron'));
  });

  it('says in one line how to get it when it was never downloaded, or downloaded only half', () => {
    for (const dir of [electronPackage({}), electronPackage({ pathTxt: true })]) {
      const line = startProblem(dir, {})!;
      expect(line).not.toContain('\n');
      expect(line).toContain('node node_modules/electron/install.js');
      expect(line).toContain('npm run serve');
    }
    const none = startProblem(join(tmpdir(), 'no-such-electron-package'), {})!;
    expect(none).toContain('npm install');
  });

  it('`npm start` and `npm run dev` check before building, and `npm run serve` is the browser workbench', () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toMatch(/^node scripts\/check-electron\.mjs && electron-vite preview$/);
    expect(scripts.dev).toMatch(/^node scripts\/check-electron\.mjs && electron-vite dev$/);
    expect(scripts.serve).toBe('node bin/convscope.mjs serve');
  });

  it('the script exits 1 with that line when the binary is missing, else 0 saying that the build starts', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/check-electron.mjs')], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    const expected = startProblem();
    expect(r.status).toBe(expected ? 1 : 0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(expected ? `${expected}\n` : 'convscope: building the app (electron-vite: main, preload, renderer; a minute or so the first time), then opening it...\n');
  });
});

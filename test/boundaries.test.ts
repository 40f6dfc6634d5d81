/**
 * Who may import what (docs/architecture.md): the renderer never reaches into the engine or Node,
 * Electron is imported only by the two Electron entry files, and main's logic modules stay plain
 * Node so that tests run them. ESLint checks the .ts files; this also covers .vue files.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

function files(dir: string, exts: string[]): string[] {
  const out: string[] = [];
  const visit = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) visit(p);
      else if (exts.some((x) => p.endsWith(x))) out.push(p);
    }
  };
  visit(join(ROOT, dir));
  return out;
}

/** Module specifiers of static and dynamic imports (and re-exports). */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g)) specs.push(m[1]);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)) specs.push(m[1]);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1]);
  for (const m of text.matchAll(/\brequire\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1]);
  return specs;
}

const rel = (f: string) => relative(ROOT, f);

describe('import boundaries', () => {
  it('the renderer (.ts and .vue) imports only itself, src/shared and browser packages', () => {
    const renderer = files('src/renderer', ['.ts', '.vue']);
    expect(renderer.length).toBeGreaterThan(10);
    const bad = renderer.flatMap((f) =>
      imports(f)
        .filter((s) => /(^|\/)(engine|main|cli|server|host|preload)(\/|$)/.test(s) || s.startsWith('node:') || s === 'electron' || s === 'ws')
        .map((s) => `${rel(f)}: ${s}`),
    );
    expect(bad).toEqual([]);
  });

  it('only the Electron entry files import electron', () => {
    const all = [...files('src', ['.ts', '.vue', '.mjs'])];
    const importers = all.filter((f) => imports(f).includes('electron')).map(rel).sort();
    expect(importers).toEqual(['src/main/index.ts', 'src/preload/index.ts']);
  });

  it('the engine never imports a host', () => {
    const bad = files('src/engine', ['.ts']).flatMap((f) =>
      imports(f)
        .filter((s) => /(^|\/)(renderer|main|cli|server|preload)(\/|$)/.test(s) || s.includes('host/supervisor'))
        .map((s) => `${rel(f)}: ${s}`),
    );
    expect(bad).toEqual([]);
  });

  it('this check sees imports (it can fail)', () => {
    expect(imports(join(ROOT, 'test/boundaries.test.ts'))).toContain('node:fs');
  });
});

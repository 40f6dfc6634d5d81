/**
 * Builds a browser Worker bundle (vite.worker.config.ts) unless the one on disk was built from the
 * same sources: a hash of every file under src/engine, src/shared and test/browser, the build
 * config and package.json is kept next to the bundle. A fresh clone builds once, a rerun with no
 * source change builds nothing. The bundle is built aside and then moved into place, so an
 * interrupted build never leaves a half-written folder that looks current.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { workerBuildConfig, type WorkerBundle } from '../../vite.worker.config.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const INPUT_DIRS = ['src/engine', 'src/shared', 'test/browser'];
const INPUT_FILES = ['vite.worker.config.ts', 'package.json'];
const STAMP = '.inputs-hash';

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

function inputsHash(bundle: WorkerBundle): string {
  const hash = createHash('sha256').update(JSON.stringify(bundle));
  const files = [...INPUT_DIRS.flatMap((d) => listFiles(join(ROOT, d))), ...INPUT_FILES.map((f) => join(ROOT, f))];
  for (const file of files) hash.update(file).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

/** The bundle's folder (absolute), built first if its sources changed. */
export async function ensureWorkerBuild(bundle: WorkerBundle): Promise<string> {
  const outDir = isAbsolute(bundle.outDir) ? bundle.outDir : join(ROOT, bundle.outDir);
  const hash = inputsHash(bundle);
  const stamp = join(outDir, STAMP);
  if (existsSync(join(outDir, bundle.fileName)) && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return outDir;
  const aside = `${outDir}.building-${process.pid}`;
  rmSync(aside, { recursive: true, force: true });
  try {
    await build(workerBuildConfig({ ...bundle, outDir: aside }));
    writeFileSync(join(aside, STAMP), hash);
    rmSync(outDir, { recursive: true, force: true });
    renameSync(aside, outDir);
  } finally {
    rmSync(aside, { recursive: true, force: true });
  }
  return outDir;
}

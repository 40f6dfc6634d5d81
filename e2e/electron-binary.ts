/**
 * Where the Electron binary is, found the way the `electron` package finds it (path.txt next to
 * its dist/), without requiring the package: its index throws when the binary was never downloaded.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = fileURLToPath(new URL('../node_modules/electron/', import.meta.url));

export function electronBinary(): string | null {
  const pathFile = join(PACKAGE, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const name = readFileSync(pathFile, 'utf8').trim();
  const dist = process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(PACKAGE, 'dist');
  const exe = join(dist, name);
  return existsSync(exe) ? exe : null;
}

export const ELECTRON_MISSING =
  'the Electron binary is not installed (node_modules/electron/dist is missing: package.json denies ' +
  "electron's install script in allowScripts, so `npm ci` does not download it). To run the electron " +
  'project on a machine that can download it: `node node_modules/electron/install.js` (or ' +
  '`npm rebuild electron --ignore-scripts=false`), then `npx playwright test --project=electron`; the ' +
  'app is built with `npx electron-vite build` first, which the global setup does when out/ is stale.';

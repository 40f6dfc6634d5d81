/**
 * Whether the Electron binary is there, found the way the `electron` package finds it (path.txt
 * next to its dist/, or ELECTRON_OVERRIDE_DIST_PATH) without requiring the package: its index
 * throws when the binary was never downloaded, and requiring it may start a download. Used by
 * `npm start`/`npm run dev` (scripts/check-electron.mjs: say so before a minute of building) and
 * by the e2e electron project (skip with the same advice). Plain Node, no Electron import.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ELECTRON_PACKAGE = fileURLToPath(new URL('../../node_modules/electron/', import.meta.url));

export function electronBinary(packageDir = ELECTRON_PACKAGE, env: NodeJS.ProcessEnv = process.env): string | null {
  const pathFile = join(packageDir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const name = readFileSync(pathFile, 'utf8').trim();
  const dist = env.ELECTRON_OVERRIDE_DIST_PATH ?? join(packageDir, 'dist');
  const exe = join(dist, name);
  return existsSync(exe) ? exe : null;
}

export const ELECTRON_MISSING =
  'the Electron binary is not installed (node_modules/electron/dist is missing: package.json denies ' +
  "electron's install script in allowScripts, so `npm ci` does not download it). To run the electron " +
  'project on a machine that can download it: `node node_modules/electron/install.js` (or ' +
  '`npm rebuild electron --ignore-scripts=false`), then `npx playwright test --project=electron`; the ' +
  'app is built with `npx electron-vite build` first, which the global setup does when out/ is stale.';

/** The one line `npm start` prints instead of building, or null when the binary is there. */
export function startProblem(packageDir = ELECTRON_PACKAGE, env: NodeJS.ProcessEnv = process.env): string | null {
  if (!existsSync(join(packageDir, 'package.json'))) {
    return 'convscope: the electron package is not installed: run `npm install`, then `node node_modules/electron/install.js` (or use the browser workbench: `npm run serve`)';
  }
  if (electronBinary(packageDir, env)) return null;
  return (
    'convscope: the Electron binary is not installed (npm does not download it; see README, Requirements): ' +
    'run `node node_modules/electron/install.js` once, then `npm start` again; or open the same workbench in a browser with `npm run serve`'
  );
}

/**
 * The `wb` fixture: the workbench as a user meets it, in either project.
 * - web: `convscope serve --port 0` (one per worker) and a fresh page (so a fresh engine) per test.
 * - electron: the built app launched with `_electron`; native file dialogs are replaced in the main
 *   process so the specs can say where a file goes. Skips with ELECTRON_MISSING without the binary.
 * The specs see the same `Workbench` either way.
 */
import { test as base, expect, type Browser, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron, type ElectronApplication } from 'playwright-core';
import { ELECTRON_MISSING, electronBinary } from './electron-binary.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface SavedFile {
  name: string;
  text: string;
  path: string;
}

export interface Workbench {
  kind: 'web' | 'electron';
  page: Page;
  /** Runs `action`, which saves or exports a file, and returns that file. */
  save(action: () => Promise<void>): Promise<SavedFile>;
  /** Runs `action`, which asks for a file to open, and answers with `path`. */
  open(path: string, action: () => Promise<void>): Promise<void>;
  /** A screenshot of the window (docs/screenshots with CONVSCOPE_SCREENSHOTS=docs, else test-results). */
  shot(name: string): Promise<void>;
}

interface WebHost {
  url: string;
  browser: Browser;
}

function startServe(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/convscope.mjs'), 'serve', '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c) => (err += c));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c) => {
      out += c;
      const m = /Convscope workbench: (http:\/\/\S+)/.exec(out);
      if (m) resolve({ url: m[1], child });
    });
    child.on('exit', (code) => reject(new Error(`convscope serve exited with ${code}: ${err}`)));
  });
}

/** Before a screenshot: notices dismissed, chart animations finished. */
async function settle(page: Page): Promise<void> {
  for (const notice of await page.getByTestId('notice').all()) await notice.click().catch(() => undefined);
  await expect(page.getByTestId('notice')).toHaveCount(0);
  await page.waitForTimeout(700);
}

function screenshotDir(project: string): string {
  const dir = process.env.CONVSCOPE_SCREENSHOTS === 'docs' && project === 'web' ? join(ROOT, 'docs/screenshots') : join(ROOT, 'test-results/screenshots', project);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export const test = base.extend<{ wb: Workbench }, { webHost: WebHost | null }>({
  webHost: [
    async ({ playwright }, use, workerInfo) => {
      if (workerInfo.project.name !== 'web') return use(null);
      const { url, child } = await startServe();
      const browser = await playwright.chromium.launch(workerInfo.project.use.launchOptions);
      await use({ url, browser });
      await browser.close();
      child.kill('SIGINT');
    },
    { scope: 'worker' },
  ],

  wb: async ({ webHost }, use, testInfo) => {
    const project = testInfo.project.name;
    const shots = screenshotDir(project);
    if (project === 'web') {
      const context = await webHost!.browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true, deviceScaleFactor: 1 });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
      });
      await page.goto(webHost!.url);
      await expect(page.getByTestId('engine-status')).toHaveText('Engine ready');
      await use({
        kind: 'web',
        page,
        async save(action) {
          const [download] = await Promise.all([page.waitForEvent('download'), action()]);
          const path = await download.path();
          return { name: download.suggestedFilename(), text: readFileSync(path, 'utf8'), path };
        },
        async open(path, action) {
          const [chooser] = await Promise.all([page.waitForEvent('filechooser'), action()]);
          await chooser.setFiles(path);
        },
        async shot(name) {
          await settle(page);
          await page.screenshot({ path: join(shots, `${name}.png`) });
        },
      });
      await context.close();
      // The workbench must not log errors while a user works (a CSP violation, a Vue warning that is an error).
      expect(problems, problems.join('\n')).toEqual([]);
      return;
    }

    const binary = electronBinary();
    testInfo.skip(!binary, ELECTRON_MISSING);
    const userData = mkdtempSync(join(tmpdir(), 'convscope-electron-'));
    const files = mkdtempSync(join(tmpdir(), 'convscope-files-'));
    const app: ElectronApplication = await _electron.launch({
      executablePath: binary!,
      args: [ROOT, `--user-data-dir=${userData}`],
      env: { ...process.env, CONVSCOPE_USER_DATA: userData },
    });
    const page = await app.firstWindow();
    await page.setViewportSize({ width: 1440, height: 900 }).catch(() => undefined);
    await expect(page.getByTestId('engine-status')).toHaveText('Engine ready');
    await use({
      kind: 'electron',
      page,
      async save(action) {
        await app.evaluate(({ dialog }, dir) => {
          const g = globalThis as unknown as { __saved?: string };
          g.__saved = undefined;
          dialog.showSaveDialog = (async (...args: unknown[]) => {
            const opts = args[args.length - 1] as { defaultPath?: string };
            const name = (opts.defaultPath ?? 'file').split(/[\\/]/).pop()!;
            g.__saved = `${dir}/${name}`;
            return { canceled: false, filePath: g.__saved };
          }) as typeof dialog.showSaveDialog;
        }, files);
        await action();
        let path: string | undefined;
        await expect
          .poll(async () => {
            path = await app.evaluate(() => (globalThis as unknown as { __saved?: string }).__saved);
            return !!path && existsSync(path);
          })
          .toBe(true);
        return { name: basename(path!), text: readFileSync(path!, 'utf8'), path: path! };
      },
      async open(path, action) {
        await app.evaluate(({ dialog }, p) => {
          dialog.showOpenDialog = (async () => ({ canceled: false, filePaths: [p] })) as typeof dialog.showOpenDialog;
        }, path);
        await action();
      },
      async shot(name) {
        await settle(page);
        await page.screenshot({ path: join(shots, `${name}.png`) });
      },
    });
    // Closing with unsaved changes asks Save / Don't Save / Cancel; the specs leave designs unsaved.
    await app.evaluate(({ dialog }) => {
      dialog.showMessageBoxSync = (() => 1) as typeof dialog.showMessageBoxSync;
    });
    await app.close();
  },
});

export { expect };

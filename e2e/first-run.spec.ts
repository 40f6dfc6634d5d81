/**
 * First run of the browser workbench on a machine whose WebAssembly kernels are not compiled yet:
 * the Profile panel says what the engine is doing and that it happens once, then that it is done.
 * Its own `convscope serve`, with an empty kernel cache (CONVSCOPE_CACHE_DIR).
 */
import { test, expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './fixtures.ts';

test('a first run says the WebAssembly kernels are compiling, once, and when they are done', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'web', 'the browser host starts its engine per page; the Electron app compiles in its utilityProcess the same way');
  const cache = mkdtempSync(join(tmpdir(), 'convscope-kernel-cache-'));
  const child = spawn(process.execPath, [join(ROOT, 'bin/convscope.mjs'), 'serve', '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CONVSCOPE_CACHE_DIR: cache } });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (c) => {
        out += c;
        const m = /Convscope workbench: (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`convscope serve exited with ${code}`)));
    });
    await page.goto(url);
    const notice = page.getByTestId('engine-notice');
    await expect(notice).toContainText("compiling the CPU backend's WebAssembly kernels: this happens once", { timeout: 60_000 });
    await expect(notice).toHaveCount(0, { timeout: 240_000 });
    await expect(page.getByTestId('notice').filter({ hasText: /compiled the WebAssembly kernels in \d+\.\d s; later runs start at once/ })).toBeVisible();
    await expect(page.getByTestId('backend-adapter')).toContainText('WebAssembly');
  } finally {
    child.kill('SIGINT');
  }
});

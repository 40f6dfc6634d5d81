/**
 * One set of workbench specs (e2e/), two projects:
 * - `web`: the browser host (`convscope serve`) in Debian's Chromium. Runs in CI, never skipped.
 *   WebGPU is on, on SwiftShader (CPU), for the in-window engine Worker's spec.
 * - `electron`: the built Electron app through Playwright's `_electron`. Runs where the Electron
 *   binary is installed; elsewhere every spec skips with how to install it (see e2e/fixtures.ts).
 */
import { defineConfig } from '@playwright/test';

/** Debian's Chromium (`apt-get install chromium`); Playwright's own download is not used. */
const chromium = process.env.CONVSCOPE_CHROMIUM ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  timeout: 180_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  outputDir: 'test-results',
  globalSetup: './e2e/global-setup.ts',
  use: {
    viewport: { width: 1440, height: 900 },
    actionTimeout: 30_000,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    {
      name: 'web',
      use: {
        browserName: 'chromium',
        acceptDownloads: true,
        launchOptions: {
          executablePath: chromium,
          args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'],
        },
      },
    },
    { name: 'electron' },
  ],
});

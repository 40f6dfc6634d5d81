/**
 * WebGPU in the page's own engine Worker: the picker offers it when navigator.gpu gives an
 * adapter, and a profile chosen there runs in the Worker, not the engine process. The web project
 * starts Chromium with SwiftShader's WebGPU (playwright.config.ts), so this runs without a GPU.
 */
import { expect, test } from './fixtures.ts';

test('profiles a preset on WebGPU in this window: the table fills and the report names SwiftShader', async ({ wb }) => {
  test.skip(wb.kind !== 'web', 'the Electron window has its own GPU and flags; this checks the browser host');
  const { page } = wb;
  await page.getByTestId('open-presets').click();
  await page.getByTestId('preset-conv_zoo').click();
  await expect(page.getByTestId('preset-gallery')).toBeHidden();
  await expect(page.getByTestId('status-bar')).toContainText('valid');

  const option = page.getByTestId('backend-in-window');
  // SwiftShader emulates the GPU on the CPU: the picker says so.
  await expect(option).toHaveText(/^WebGPU \(software adapter\) \(this window: .+\)$/);
  const value = await option.getAttribute('value');
  await page.getByTestId('backend-select').selectOption(value!);
  await expect(page.getByTestId('backend-adapter')).toContainText('navigator.gpu in this window');
  await page.getByTestId('warmup-input').fill('1');
  await page.getByTestId('repeat-input').fill('2');
  await page.getByTestId('run-button').click();
  await expect(page.getByTestId('run-status')).toContainText('Done', { timeout: 150_000 });

  const table = page.getByTestId('results-table');
  await expect(table).toBeVisible();
  expect(Number(await table.getAttribute('data-rows'))).toBeGreaterThan(5);
  await expect(page.getByTestId('results-time')).toHaveText(/^\d+(\.\d+)? ms$/);
  // The report says where it ran: WebGPU through the browser's navigator.gpu, on SwiftShader.
  const backend = page.getByTestId('results-backend');
  await expect(backend).toContainText(/^webgpu \(software adapter\) · /);
  await expect(backend).toContainText(/swiftshader/i);
  await expect(backend).toContainText('navigator.gpu');
});

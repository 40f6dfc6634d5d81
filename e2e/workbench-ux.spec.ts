/**
 * The workbench's guard rails: the backend picker on a software adapter, run settings that refuse
 * bad numbers, the question before a join is rewired, keyboard (Ctrl+Enter, Escape), and a
 * session that survives a reload and a restart with a question before unsaved work is discarded.
 */
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';

/** Input 1x240x28x28 -> shufflenet_unit_1 -> se_1 -> add_1 (reads se_1 and shufflenet_unit_1). */
async function joinDesign(page: Page) {
  await page.getByTestId('new-design').click();
  await page.getByTestId('input-shape').fill('1, 240, 28, 28');
  await page.getByTestId('tab-layers').click();
  await page.getByTestId('layer-row-conv1').click();
  await page.getByTestId('palette-search').fill('shufflenet');
  await page.getByTestId('palette-item-shufflenet_unit').click();
  // conv1 feeds no join: it goes without a question.
  await page.getByTestId('layer-row-conv1').hover();
  await page.getByTestId('layer-delete-conv1').click();
  await expect(page.getByTestId('confirm-dialog')).toHaveCount(0);
  await expect(page.getByTestId('layer-row-conv1')).toHaveCount(0);
  await page.getByTestId('layer-row-shufflenet_unit_1').click();
  await page.getByTestId('param-out_channels').fill('240');
  await page.getByTestId('param-groups').fill('3');
  await page.getByTestId('palette-search').fill('se');
  await page.getByTestId('palette-item-se').click();
  await page.getByTestId('palette-search').fill('add');
  await page.getByTestId('palette-item-add').click();
  await expect(page.getByTestId('layer-row-add_1')).toContainText('← se_1, shufflenet_unit_1');
  await expect(page.getByTestId('status-bar')).toContainText('valid');
}

async function profileOnCpu(page: Page) {
  await page.getByTestId('backend-select').selectOption('cpu');
  await page.getByTestId('warmup-input').fill('0');
  await page.getByTestId('repeat-input').fill('1');
  await page.getByTestId('run-button').click();
  await expect(page.getByTestId('run-status')).toContainText('Done', { timeout: 120_000 });
}

test('the picker names a software adapter, and auto takes the CPU over it, saying why', async ({ wb }) => {
  const { page } = wb;
  await expect(page.getByTestId('backend-adapter')).not.toHaveText(/probing/);
  const webgpu = page.locator('[data-testid="backend-select"] option[value="webgpu"]');
  const auto = page.locator('[data-testid="backend-select"] option[value="auto"]');
  const gpuText = (await webgpu.textContent())!;
  if (/unavailable/.test(gpuText)) {
    // No WebGPU adapter at all in the engine process (no Mesa): auto is the CPU, as the first that starts.
    await expect(auto).toHaveText('auto (cpu)');
    await expect(page.getByTestId('backend-reason')).toContainText('auto: cpu, the first backend that could start');
  } else if (/software adapter/.test(gpuText)) {
    // This box's Dawn offers llvmpipe (or another software renderer): labelled, and passed over.
    await expect(webgpu).toHaveText('webgpu (software adapter)');
    await expect(auto).toHaveText('auto (cpu)');
    await expect(page.getByTestId('backend-reason')).toHaveText(/^auto: the only webgpu adapter is software \(\w+\), the cpu backend is faster$/);
  } else {
    await expect(auto).toHaveText('auto (webgpu)');
    await expect(page.getByTestId('backend-reason')).toContainText('auto: webgpu, the first backend by priority');
  }
  // The page's own WebGPU here is SwiftShader: the in-window choice says it is software.
  await expect(page.getByTestId('backend-in-window')).toHaveText(/^WebGPU \(software adapter\) \(this window: .*\)$/);

  await page.getByTestId('new-design').click();
  await page.getByTestId('input-shape').fill('1, 3, 32, 32');
  await page.getByTestId('warmup-input').fill('0');
  await page.getByTestId('repeat-input').fill('1');
  await page.getByTestId('run-button').click();
  await expect(page.getByTestId('run-status')).toContainText('Done', { timeout: 120_000 });
  const shownAs = /software adapter/.test(gpuText) || /unavailable/.test(gpuText) ? /^cpu · / : /^webgpu · /;
  await expect(page.getByTestId('results-backend')).toHaveText(shownAs);
  await expect(page.getByTestId('results-backend')).toHaveAttribute('title', /^auto: /);
});

test('run settings refuse 0 repeats and a negative warm-up with a message; Ctrl+Enter runs and shows Results', async ({ wb }) => {
  const { page } = wb;
  await page.getByTestId('new-design').click();
  await page.getByTestId('input-shape').fill('1, 3, 32, 32');
  await page.getByTestId('backend-select').selectOption('cpu');
  await page.getByTestId('repeat-input').fill('0');
  await expect(page.getByTestId('run-input-error')).toHaveText('Repeats must be a whole number, 1 or more; got 0');
  await expect(page.getByTestId('repeat-input')).toHaveClass(/invalid/);
  // The field keeps what was typed: the message is about what the user sees.
  await expect(page.getByTestId('repeat-input')).toHaveValue('0');
  await expect(page.getByTestId('run-button')).toBeDisabled();
  // The keyboard cannot get round it either.
  await page.getByTestId('repeat-input').press('Control+Enter');
  await expect(page.getByTestId('run-status')).toHaveText('Failed: fix the run settings first: Repeats must be a whole number, 1 or more; got 0');
  await page.getByTestId('repeat-input').fill('-3');
  await expect(page.getByTestId('run-input-error')).toHaveText('Repeats must be a whole number, 1 or more; got -3');
  await page.getByTestId('repeat-input').fill('2');
  await page.getByTestId('warmup-input').fill('-1');
  await expect(page.getByTestId('run-input-error')).toHaveText('Warm-up must be a whole number, 0 or more; got -1');
  await page.getByTestId('warmup-input').fill('0');
  await page.getByTestId('batch-input').fill('0');
  await expect(page.getByTestId('run-input-error')).toContainText("Batch must be a whole number, 1 or more, or empty for the spec's; got 0");
  await page.getByTestId('batch-input').fill('');
  await expect(page.getByTestId('run-input-error')).toHaveCount(0);
  await expect(page.getByTestId('run-button')).toBeEnabled();

  await page.getByTestId('tab-layers').click();
  await page.getByTestId('layer-list').press('Control+Enter');
  await expect(page.getByTestId('run-status')).toContainText('Done', { timeout: 120_000 });
  await expect(page.getByTestId('tab-results')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('results-backend')).toContainText('cpu');
});

test('deleting a layer that feeds a join asks first; Escape closes dialogs', async ({ wb }) => {
  const { page } = wb;
  await joinDesign(page);
  await page.getByTestId('layer-row-se_1').hover();
  await page.getByTestId('layer-delete-se_1').click();
  const dialog = page.getByTestId('confirm-dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('Delete "se_1"? It feeds a join');
  await expect(page.getByTestId('confirm-line').first()).toHaveText('"add_1" reads [se_1, shufflenet_unit_1]; it would read [shufflenet_unit_1] instead.');
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(page.getByTestId('layer-row-se_1')).toBeVisible();

  // The keyboard's Delete asks the same; this time the answer is yes.
  await page.getByTestId('layer-row-se_1').click();
  await page.getByTestId('layer-list').press('Delete');
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('layer-row-se_1')).toHaveCount(0);
  await expect(page.getByTestId('layer-row-add_1')).toContainText('← shufflenet_unit_1');
  await page.keyboard.press('Control+z');
  await expect(page.getByTestId('layer-row-se_1')).toBeVisible();
  await expect(page.getByTestId('layer-row-add_1')).toContainText('← se_1, shufflenet_unit_1');

  await page.getByTestId('open-presets').click();
  await expect(page.getByTestId('preset-gallery')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('preset-gallery')).toHaveCount(0);
});

test('runs, pins and the open design survive a reload and a restart; unsaved work is not discarded without a question', async ({ wb }) => {
  const { page } = wb;
  await joinDesign(page);
  await page.getByTestId('design-name').fill('kept across reloads');
  await profileOnCpu(page);
  await page.getByTestId('repeat-input').fill('2');
  await page.getByTestId('run-button').click();
  await expect(page.getByTestId('run-status')).toContainText('Done', { timeout: 120_000 });
  await page.getByTestId('pin-run').click();
  await expect(page.getByTestId('tab-compare')).toContainText('1');
  await expect(page.getByTestId('tab-results')).toContainText('2');
  const shown = (await page.getByTestId('results-backend').textContent())!;
  // The session is written shortly after each change; pagehide writes a pending one.
  await page.waitForTimeout(800);

  const check = async (p: Page) => {
    await expect(p.getByTestId('engine-status')).toHaveText('Engine ready');
    await expect(p.getByTestId('design-name')).toHaveValue('kept across reloads');
    await expect(p.getByTestId('dirty-marker')).toBeVisible();
    await expect(p.getByTestId('recovery-banner')).toHaveCount(0);
    await expect(p.getByTestId('tab-results')).toHaveAttribute('aria-selected', 'true');
    await expect(p.getByTestId('tab-results')).toContainText('2');
    await expect(p.getByTestId('tab-compare')).toContainText('1');
    await expect(p.getByTestId('results-backend')).toHaveText(shown);
    await p.getByTestId('tab-layers').click();
    await expect(p.getByTestId('layer-row-add_1')).toContainText('← se_1, shufflenet_unit_1');
  };
  page.on('dialog', (d) => void d.accept());
  await page.reload();
  await check(page);

  // A restart: the window closed, a new one opened on the same storage.
  const url = page.url();
  const second = await page.context().newPage();
  await page.close();
  await second.goto(url);
  await check(second);

  // Opening a preset over unsaved work asks; Escape closes the question, then the gallery.
  await second.getByTestId('open-presets').click();
  await second.getByTestId('preset-mobilenet_v1').click();
  await expect(second.getByTestId('confirm-dialog')).toContainText('Discard the unsaved changes to "kept across reloads"?');
  await second.keyboard.press('Escape');
  await expect(second.getByTestId('confirm-dialog')).toHaveCount(0);
  await expect(second.getByTestId('preset-gallery')).toBeVisible();
  await second.keyboard.press('Escape');
  await expect(second.getByTestId('preset-gallery')).toHaveCount(0);
  await expect(second.getByTestId('design-name')).toHaveValue('kept across reloads');

  // New design: asked, and discarded on "Discard changes"; the runs stay.
  await second.getByTestId('new-design').click();
  await second.getByTestId('confirm-ok').click();
  await expect(second.getByTestId('layer-row-add_1')).toHaveCount(0);
  await expect(second.getByTestId('dirty-marker')).toHaveCount(0);
  await expect(second.getByTestId('tab-results')).toContainText('2');

  // Closing the window with unsaved work asks (beforeunload).
  await second.getByTestId('design-name').fill('unsaved again');
  await expect(second.getByTestId('dirty-marker')).toBeVisible();
  const asked = new Promise<string>((resolve) => second.once('dialog', (d) => (resolve(d.type()), void d.dismiss())));
  await second.close({ runBeforeUnload: true });
  expect(await asked).toBe('beforeunload');
});

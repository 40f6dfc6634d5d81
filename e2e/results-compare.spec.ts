/**
 * Results and Compare as a new user meets them on real models: a 169-op Xception (charts that
 * stay legible, a log scale, the roofline's measured roofs) and two ShuffleNet presets compared
 * op by op.
 */
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';

async function preset(page: Page, id: string) {
  await page.getByTestId('open-presets').click();
  await page.getByTestId(`preset-${id}`).click();
  await expect(page.getByTestId('preset-gallery')).toBeHidden();
  await expect(page.getByTestId('status-bar')).toContainText('valid');
}

/** One quick CPU profile (1 warm-up, 1 timed run): these specs check what is shown, not speed. */
async function profileOnCpu(page: Page) {
  await page.getByTestId('backend-select').selectOption('cpu');
  await page.getByTestId('warmup-input').fill('0');
  await page.getByTestId('repeat-input').fill('1');
  await page.getByTestId('run-button').click();
  await expect(page.getByTestId('run-status')).toContainText('Done', { timeout: 150_000 });
}

test('a 169-op model: thinned labels with a zoom slider, a log scale, and the roofline with its roofs', async ({ wb }) => {
  const { page } = wb;
  await preset(page, 'xception');
  await page.getByTestId('tab-results').click();
  const bars = page.getByTestId('chart-layers');
  await expect(bars).toHaveAttribute('data-points', '169');
  // Past 40 ops the axis gets a slider (and a zoom by wheel) instead of 169 overlapping labels.
  await expect(bars).toHaveAttribute('data-zoom', '2');
  await expect(bars).toHaveAttribute('data-axis', 'value');
  await page.getByTestId('chart-log').check();
  await expect(bars).toHaveAttribute('data-axis', 'log');
  await page.getByTestId('chart-log').uncheck();
  await expect(bars).toHaveAttribute('data-axis', 'value');

  await profileOnCpu(page);
  const roofs = page.getByTestId('roofline-roofs');
  await expect(roofs).toHaveText(/^roofs: \d[\d.]* GFLOP\/s · \d[\d.]* GB\/s$/);
  await expect(roofs).toHaveAttribute('title', /1x1 convolution/);
  const roofline = page.getByTestId('chart-roofline');
  await expect(roofline).toHaveAttribute('data-roofs', '2');
  await expect.poll(async () => Number(await roofline.getAttribute('data-points'))).toBeGreaterThan(50);
  // By time the bars get p10–p90 whiskers; the log scale still applies.
  await page.getByTestId('chart-metric').selectOption('time');
  await page.getByTestId('chart-log').check();
  await expect(bars).toHaveAttribute('data-axis', 'log');
  await wb.shot('results-many-layers');
});

test('compares two pinned runs op by op: each layer side by side with its delta and ratio', async ({ wb }) => {
  const { page } = wb;
  await preset(page, 'shufflenet_v1_g3');
  await profileOnCpu(page);
  await page.getByTestId('pin-run').click();
  await preset(page, 'shufflenet_v1_g8');
  await profileOnCpu(page);
  await page.getByTestId('pin-run').click();

  await page.getByTestId('tab-compare').click();
  const runs = page.locator('[data-testid^="compare-run-"]');
  await expect(runs).toHaveCount(2);
  const [a, b] = await runs.evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')!.replace('compare-run-', '')));
  // Runs are named by the design and the backend.
  await expect(page.getByTestId(`compare-label-${a}`)).toHaveValue(/^ShuffleNet v1 1x g3\b.* · cpu$/);
  await expect(page.getByTestId(`compare-label-${b}`)).toHaveValue(/^ShuffleNet v1 1x g8\b.* · cpu$/);

  const table = page.getByTestId('compare-layers');
  await expect.poll(async () => Number(await table.getAttribute('data-rows'))).toBeGreaterThan(100);
  // The stem is the same in both: equal params, ratio 1.00x; the grouped 1x1s differ.
  await page.getByTestId('compare-layer-metric').selectOption('params');
  const stem = page.getByTestId(`compare-cell-conv1-${b}`);
  await expect(stem).toContainText('±0 · 1.00x');
  await expect(page.getByTestId(`compare-cell-conv1-${a}`)).not.toContainText('x');
  await page.getByTestId('compare-layer-metric').selectOption('time');
  await expect(page.getByTestId(`compare-cell-conv1-${b}`)).toContainText(/ms/);
  await expect(page.getByTestId(`compare-cell-conv1-${b}`)).toContainText(/\d\.\d\dx$/);
  const chart = page.getByTestId('compare-layers-chart');
  await expect.poll(async () => Number(await chart.getAttribute('data-points'))).toBeGreaterThan(200);
  await expect(chart).toHaveAttribute('data-zoom', '2');
  await page.getByTestId('compare-layer-log').check();
  await expect(chart).toHaveAttribute('data-axis', 'log');
  // Making the other run the baseline moves the ratios to the first.
  await page.getByTestId(`baseline-${b}`).click();
  await page.getByTestId('compare-layer-metric').selectOption('params');
  await expect(page.getByTestId(`compare-cell-conv1-${a}`)).toContainText('1.00x');
  await wb.shot('compare-layers');
});

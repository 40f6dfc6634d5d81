/** The Sweep tab: a parameter against its values, charted and tabulated, with invalid values named. */
import { expect, test } from './fixtures.ts';

test('sweeps ShuffleNet v1 groups (Table 2) and a layer parameter of the design', async ({ wb }) => {
  const { page } = wb;
  await page.getByTestId('tab-sweep').click();
  await expect(page.getByTestId('tab-sweep')).toHaveAttribute('aria-selected', 'true');

  // The parameterised preset: groups 1, 2, 3, 4, 8 at Table 1's widths.
  await page.getByTestId('sweep-model').selectOption('shufflenet_v1');
  await expect(page.getByTestId('sweep-preset-param')).toHaveValue('groups');
  await expect(page.getByTestId('sweep-values')).toHaveValue('1,2,3,4,8');
  await page.getByTestId('sweep-run').click();
  const table = page.getByTestId('sweep-table');
  await expect(table.locator('tbody tr')).toHaveCount(5);
  // test/presets.test.ts: shufflenet_v1_g1 and _g8 MACs
  await expect(page.getByTestId('sweep-row-0')).toContainText('143,078,976');
  await expect(page.getByTestId('sweep-row-4')).toContainText('138,365,952');
  await expect(page.getByTestId('sweep-chart')).toHaveAttribute('data-points', '5');
  await page.getByTestId('sweep-metric').selectOption('params');
  await expect(page.getByTestId('sweep-chart')).toHaveAttribute('data-points', '5');
  await wb.shot('sweep-shufflenet-groups');

  // The current design (a new one: conv1, 64 channels from a 3-channel input): groups of conv1,
  // timed on the CPU. Groups 2 does not divide the 3 input channels: that row says so.
  await page.getByTestId('backend-select').selectOption('cpu');
  await page.getByTestId('repeat-input').fill('1');
  await page.getByTestId('sweep-model').selectOption('');
  await expect(page.getByTestId('sweep-layer')).toHaveValue('conv1');
  await page.getByTestId('sweep-param').selectOption('groups');
  await page.getByTestId('sweep-values').fill('1,2');
  await page.getByTestId('sweep-timed').check();
  await page.getByTestId('sweep-run').click();
  await expect(page.getByTestId('sweep-row-error-1')).toContainText('groups 2', { timeout: 120_000 });
  await expect(table.locator('tbody tr')).toHaveCount(2);
  await expect(page.getByTestId('sweep-status')).toContainText('cpu');
  await page.getByTestId('sweep-metric').selectOption('time_ms');
  await expect(page.getByTestId('sweep-chart')).toHaveAttribute('data-points', '2');

  // A range that is not one is refused before it reaches the engine.
  await page.getByTestId('sweep-values').fill('1:x');
  await expect(page.getByTestId('sweep-run')).toBeDisabled();
  await expect(page.getByTestId('sweep-status')).toContainText('"x" is not a number');
});

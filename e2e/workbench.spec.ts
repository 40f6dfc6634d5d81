/** The workbench as a new user uses it; the same specs run in the browser host and in Electron. */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';

/** `discard`: the design has unsaved changes, so opening the preset first asks to discard them. */
async function openPreset(page: Page, id: string, discard = false) {
  await page.getByTestId('open-presets').click();
  await expect(page.getByTestId('preset-gallery')).toBeVisible();
  await page.getByTestId(`preset-${id}`).click();
  if (discard) await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('preset-gallery')).toBeHidden();
  await expect(page.getByTestId('status-bar')).toContainText('valid');
}

async function selectLayer(page: Page, id: string) {
  await page.getByTestId('tab-layers').click();
  await page.getByTestId(`layer-row-${id}`).click();
  await expect(page.getByTestId('layer-id-input')).toHaveValue(id);
}

async function setParam(page: Page, name: string, value: string) {
  const field = page.getByTestId(`param-${name}`);
  await field.fill(value);
}

/** Figures settle once the debounced inspection has answered. */
async function figure(page: Page, name: 'params' | 'macs' | 'flops' | 'shape') {
  return (await page.getByTestId(`figure-${name}`).textContent())!.trim();
}

/** A small design that profiles in well under a second: input 1x240x28x28, one ShuffleNet unit. */
async function smallShuffleDesign(page: Page) {
  await page.getByTestId('new-design').click();
  await page.getByTestId('input-shape').fill('1, 240, 28, 28');
  await selectLayer(page, 'conv1');
  await page.getByTestId('palette-search').fill('shufflenet');
  await page.getByTestId('palette-item-shufflenet_unit').click();
  await expect(page.getByTestId('layer-id-input')).toHaveValue('shufflenet_unit_1');
  // Row actions appear on hover, as for a mouse user.
  await page.getByTestId('layer-row-conv1').hover();
  await page.getByTestId('layer-delete-conv1').click();
  await expect(page.getByTestId('layer-row-conv1')).toHaveCount(0);
  await selectLayer(page, 'shufflenet_unit_1');
  // It was placed after conv1 (64 channels); it now reads the 240-channel input.
  await setParam(page, 'out_channels', '240');
  await setParam(page, 'groups', '3');
  await expect(page.getByTestId('figure-shape')).toHaveText('[1, 240, 28, 28]');
  await expect(page.getByTestId('status-bar')).toContainText('valid');
}

async function runProfile(page: Page, repeat = 3) {
  await page.getByTestId('backend-select').selectOption('cpu');
  await page.getByTestId('warmup-input').fill('1');
  await page.getByTestId('repeat-input').fill(String(repeat));
  await page.getByTestId('run-button').click();
  await expect(page.getByTestId('run-status')).toContainText('Done', { timeout: 120_000 });
  await expect(page.getByTestId('tab-results')).toHaveAttribute('aria-selected', 'true');
}

test('opens a preset: layers, totals and the graph of the expanded DAG', async ({ wb }) => {
  const { page } = wb;
  await openPreset(page, 'shufflenet_v1_g3');
  await expect(page.getByTestId('design-name')).toHaveValue(/ShuffleNet/);
  await expect(page.getByTestId('layer-row-stage3.7')).toBeVisible();
  // Table 1 of the ShuffleNet paper: 140 MFLOPs (mult-adds) for g = 3 at 1x.
  await expect(page.getByTestId('total-macs')).toHaveText('137 M');
  await selectLayer(page, 'stage2.1');
  await expect(page.getByTestId('figure-shape')).toHaveText('[1, 240, 28, 28]');
  await wb.shot('layers');

  await page.getByTestId('tab-graph').click();
  await expect(page.getByTestId('graph-node-stage2.1/shuffle')).toBeVisible();
  // The selected layer is in view; its neighbour is a click away.
  await page.getByTestId('graph-node-stage2.2/gconv1').scrollIntoViewIfNeeded();
  await page.getByTestId('graph-node-stage2.1/bn1').click();
  await expect(page.getByTestId('layer-id-input')).toHaveValue('stage2.1');
  // Selecting a layer elsewhere brings its node into view.
  await selectLayer(page, 'stage3.0');
  await page.getByTestId('tab-graph').click();
  await page.getByTestId('graph-node-stage3.0/gconv1').click();
  await expect(page.getByTestId('layer-id-input')).toHaveValue('stage3.0');
  await page.getByTestId('graph-collapse').check();
  await expect(page.getByTestId('graph-node-stage3.0')).toBeVisible();
  await page.getByTestId('graph-fit').click();
  await page.getByTestId('graph-collapse').uncheck();
  // Laid out again, the view centres on the selected layer (stage3.0, a stride-2 unit with its concat).
  await expect(page.getByTestId('graph-node-stage3.0/concat')).toBeInViewport();
  await wb.shot('graph');
});

test('adds a ShuffleNet unit and an SE block, changes groups and sees the counts update; undo and redo', async ({ wb }) => {
  const { page } = wb;
  await openPreset(page, 'shufflenet_v1_g3');
  await selectLayer(page, 'stage2.3');
  await page.getByTestId('palette-search').fill('shuffle');
  await page.getByTestId('palette-item-shufflenet_unit').click();
  await expect(page.getByTestId('layer-id-input')).toHaveValue('shufflenet_unit_1');
  // Suggested parameters fit the 240-channel input: the unit is valid as placed.
  await expect(page.getByTestId('param-out_channels')).toHaveValue('240');
  await expect(page.getByTestId('param-groups')).toHaveValue('3');
  await expect(page.getByTestId('figure-shape')).toHaveText('[1, 240, 28, 28]');

  await page.getByTestId('palette-search').fill('squeeze');
  await page.getByTestId('palette-item-se').click();
  await expect(page.getByTestId('layer-id-input')).toHaveValue('se_1');
  await expect(page.getByTestId('param-reduction')).toHaveValue('16');
  // SE adds 2*C*C/r + C/r + C params: 2*240*15 + 15 + 240 = 7,455.
  await expect(page.getByTestId('figure-params')).toHaveText('7.46 K');
  await expect(page.getByTestId('status-bar')).toContainText('valid');

  await selectLayer(page, 'shufflenet_unit_1');
  const macsG3 = await figure(page, 'macs');
  const paramsG3 = await figure(page, 'params');
  await setParam(page, 'groups', '4');
  await expect(page.getByTestId('figure-macs')).not.toHaveText(macsG3);
  await expect(page.getByTestId('figure-params')).not.toHaveText(paramsG3);
  // More groups, fewer weights in the grouped 1x1 convolutions.
  const paramsG4 = await figure(page, 'params');
  expect(parseFloat(paramsG4)).toBeLessThan(parseFloat(paramsG3));
  await wb.shot('inspector');

  await page.getByTestId('undo').click();
  await expect(page.getByTestId('param-groups')).toHaveValue('3');
  await expect(page.getByTestId('figure-params')).toHaveText(paramsG3);
  await page.getByTestId('redo').click();
  await expect(page.getByTestId('param-groups')).toHaveValue('4');
  await expect(page.getByTestId('figure-params')).toHaveText(paramsG4);
});

test('an invalid value shows its error on the field that caused it', async ({ wb }) => {
  const { page } = wb;
  await smallShuffleDesign(page);
  await setParam(page, 'groups', 'abc');
  await expect(page.getByTestId('param-error-groups')).toContainText('must be an integer, got "abc"');
  await expect(page.getByTestId('param-groups')).toHaveClass(/invalid/);
  await expect(page.getByTestId('layer-row-shufflenet_unit_1')).toHaveClass(/error/);
  await expect(page.getByTestId('run-button')).toBeVisible();

  await setParam(page, 'groups', '7');
  await expect(page.getByTestId('param-error-out_channels')).toContainText('240 is not divisible by groups 7');
  await expect(page.getByTestId('param-error-groups')).toHaveCount(0);
  await expect(page.getByTestId('status-problem')).toContainText('shufflenet_unit_1');
  await wb.shot('error');

  await setParam(page, 'groups', '2');
  await expect(page.getByTestId('param-error-out_channels')).toHaveCount(0);
  await expect(page.getByTestId('status-bar')).toContainText('valid');
});

test('runs a profile to completion: the table and every chart fill in', async ({ wb }) => {
  const { page } = wb;
  await openPreset(page, 'mobilenet_v1');
  await expect(page.getByTestId('backend-adapter')).not.toHaveText(/probing/);
  await runProfile(page, 2);
  const table = page.getByTestId('results-table');
  await expect(table).toBeVisible();
  const rows = Number(await table.getAttribute('data-rows'));
  expect(rows).toBeGreaterThan(50);
  await expect(page.getByTestId('results-row-conv1')).toContainText(/\d/);
  // The batch norm and the relu after conv1 ran inside its kernel: their time column says so.
  await expect(page.getByTestId('fused-conv1_bn')).toHaveText('in conv1');
  await expect(page.getByTestId('fused-conv1_relu')).toHaveText('in conv1');
  await expect(page.getByTestId('results-time')).toHaveText(/^\d+(\.\d+)? ms$/);
  for (const chart of ['chart-layers', 'chart-blocks', 'chart-roofline', 'chart-memory']) {
    await expect(page.getByTestId(chart).locator('canvas')).toHaveCount(1);
    await expect.poll(async () => Number(await page.getByTestId(chart).getAttribute('data-points'))).toBeGreaterThan(0);
  }
  // Sorting by median time puts the slowest op first.
  await page.getByTestId('sort-median').click();
  const first = page.locator('[data-testid^="results-row-"]').first();
  await expect(first).toHaveAttribute('data-row', /.+/);
  // Clicking a row selects its layer everywhere.
  await page.getByTestId('results-row-ds2/dw').click();
  await expect(page.getByTestId('layer-id-input')).toHaveValue('ds2');
  await page.getByTestId('chart-metric').selectOption('time');
  await page.getByTestId('sort-order').click();
  await page.getByTestId('results-row-conv1').scrollIntoViewIfNeeded();
  await page.getByTestId('results-summary').scrollIntoViewIfNeeded();
  await wb.shot('results');

  // Without fusion every op is timed on its own: the batch norm gets a time, nothing says "in".
  await page.getByTestId('fuse-input').uncheck();
  await runProfile(page, 2);
  await expect(page.locator('[data-testid^="fused-"]')).toHaveCount(0);
  await expect(page.getByTestId('results-row-conv1_bn')).toContainText(/\d\.\d{3}/);
  await page.getByTestId('fuse-input').check();
});

test('pins two runs and compares them side by side with ratios', async ({ wb }) => {
  const { page } = wb;
  await smallShuffleDesign(page);
  await runProfile(page, 2);
  await page.getByTestId('pin-run').click();
  await expect(page.getByTestId('pin-run')).toHaveText(/Pinned/);

  await selectLayer(page, 'shufflenet_unit_1');
  await setParam(page, 'groups', '4');
  await expect(page.getByTestId('status-bar')).toContainText('valid');
  await runProfile(page, 2);
  await page.getByTestId('pin-run').click();

  await page.getByTestId('tab-compare').click();
  const rows = page.locator('[data-testid^="compare-run-"]');
  await expect(rows).toHaveCount(2);
  const [a, b] = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')!.replace('compare-run-', '')));
  await expect(page.getByTestId(`ratio-${a}-macs`)).toHaveText('1.00x');
  // g = 4 against g = 3: fewer MACs in the grouped 1x1s, the same depthwise work.
  const ratio = parseFloat((await page.getByTestId(`ratio-${b}-macs`).textContent())!);
  expect(ratio).toBeLessThan(1);
  expect(ratio).toBeGreaterThan(0.3);
  await expect(page.getByTestId(`ratio-${b}-time_ms`)).toHaveText(/^\d+\.\d+x$/);
  await expect.poll(async () => Number(await page.getByTestId('compare-chart').getAttribute('data-points'))).toBe(10);
  await page.getByTestId(`compare-label-${a}`).fill('groups = 3');
  await page.getByTestId(`compare-label-${a}`).press('Enter');
  await page.getByTestId(`compare-label-${b}`).fill('groups = 4');
  await page.getByTestId(`compare-label-${b}`).press('Enter');
  await page.getByTestId(`baseline-${b}`).click();
  await expect(page.getByTestId(`ratio-${b}-macs`)).toHaveText('1.00x');
  await wb.shot('compare');
});

test('exports every report format and the design, each with the right contents', async ({ wb }) => {
  const { page } = wb;
  await smallShuffleDesign(page);
  await page.getByTestId('design-name').fill('export check');
  await runProfile(page, 2);
  const exported = async (format: string) => {
    await page.getByTestId('export-menu').click();
    return wb.save(() => page.getByTestId(`export-${format}`).click());
  };

  const json = await exported('json');
  expect(json.name).toBe('export-check.report.json');
  const report = JSON.parse(json.text);
  expect(report.schema).toBe('convscope.report/v1');
  expect(report.model.name).toBe('export check');
  expect(report.backend.name).toBe('cpu');
  expect(report.layers.length).toBeGreaterThan(5);
  expect(report.layers.every((l: { time_ms: unknown }) => l.time_ms !== null)).toBe(true);

  const csv = await exported('csv');
  expect(csv.name).toBe('export-check.csv');
  const lines = csv.text.trim().split('\n');
  expect(lines[0]).toMatch(/^id,layer,/);
  expect(lines).toHaveLength(report.layers.length + 1);
  expect(lines[1]).toContain('shufflenet_unit_1/gconv1');

  const md = await exported('md');
  expect(md.name).toBe('export-check.md');
  expect(md.text).toContain('| shufflenet_unit_1/gconv1');

  const html = await exported('html');
  expect(html.name).toBe('export-check.html');
  expect(html.text).toMatch(/^<!doctype html>/i);
  expect(html.text).toContain('export check');
  expect(html.text).toContain('echarts');

  const trace = await exported('trace');
  expect(trace.name).toBe('export-check.trace.json');
  const events = JSON.parse(trace.text).traceEvents as { name: string; ph: string }[];
  expect(events.filter((e) => e.ph === 'X').map((e) => e.name)).toContain('shufflenet_unit_1/gconv1');

  const design = await exported('design');
  expect(design.name).toBe('export-check.convscope.json');
  expect(JSON.parse(design.text)).toMatchObject({ format: 'convscope/v1', name: 'export check', input: { shape: [1, 240, 28, 28] } });
});

test('saves a design and opens it again', async ({ wb }) => {
  const { page } = wb;
  await smallShuffleDesign(page);
  await page.getByTestId('design-name').fill('my unit');
  await page.getByTestId('palette-search').fill('se');
  await page.getByTestId('palette-item-se').click();
  await expect(page.getByTestId('dirty-marker')).toBeVisible();
  const saved = await wb.save(() => page.getByTestId('save-design').click());
  expect(saved.name).toBe('my-unit.convscope.json');
  expect(JSON.parse(saved.text).layers.map((l: { id: string }) => l.id)).toEqual(['shufflenet_unit_1', 'se_1']);
  await expect(page.getByTestId('dirty-marker')).toHaveCount(0);

  await page.getByTestId('new-design').click();
  await expect(page.getByTestId('layer-row-se_1')).toHaveCount(0);
  const copy = join(tmpdir(), `reopen-${Date.now()}.convscope.json`);
  writeFileSync(copy, saved.text);
  await wb.open(copy, () => page.getByTestId('open-design').click());
  await expect(page.getByTestId('design-name')).toHaveValue('my unit');
  await expect(page.getByTestId('layer-row-shufflenet_unit_1')).toBeVisible();
  await expect(page.getByTestId('layer-row-se_1')).toBeVisible();
  await expect(page.getByTestId('dirty-marker')).toHaveCount(0);

  // A file that is not a design is refused with the reason, and the open design stays.
  const bad = join(tmpdir(), `bad-${Date.now()}.json`);
  writeFileSync(bad, '{"format": "something/else"}');
  await wb.open(bad, () => page.getByTestId('open-design').click());
  await expect(page.getByTestId('alert-message')).toContainText('not a convscope/v1 design');
  await page.getByTestId('alert-ok').click();
  await expect(page.getByTestId('layer-row-se_1')).toBeVisible();
});

test('cancels a long run, and the next run still works', async ({ wb }) => {
  const { page } = wb;
  await openPreset(page, 'resnet50');
  await page.getByTestId('backend-select').selectOption('cpu');
  await page.getByTestId('warmup-input').fill('0');
  await page.getByTestId('repeat-input').fill('1000');
  await page.getByTestId('run-button').click();
  const progress = page.getByTestId('run-progress');
  await expect(progress).toBeVisible();
  await expect(progress).toContainText('Measuring', { timeout: 120_000 });
  await wb.shot('running');
  await page.getByTestId('cancel-button').click();
  await expect(page.getByTestId('run-status')).toHaveText('Cancelled.');
  await expect(page.getByTestId('run-button')).toBeEnabled();

  await page.getByTestId('new-design').click();
  await page.getByTestId('input-shape').fill('1, 3, 32, 32');
  await runProfile(page, 1);
});

test('keyboard: move through layers, reorder, duplicate and delete; the dark theme', async ({ wb }) => {
  const { page } = wb;
  await smallShuffleDesign(page);
  await page.getByTestId('palette-search').fill('squeeze');
  await page.getByTestId('palette-item-se').click();
  await page.getByTestId('palette-search').fill('relu');
  await page.getByTestId('palette-item-relu').click();
  const ids = () => page.locator('[data-testid^="layer-row-"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
  await expect.poll(ids).toEqual(['shufflenet_unit_1', 'se_1', 'relu_1']);
  await page.getByTestId('tab-layers').click();
  await page.getByTestId('layer-row-relu_1').click();
  const list = page.getByTestId('layer-list');
  await list.press('ArrowUp');
  await expect(page.getByTestId('layer-id-input')).toHaveValue('se_1');
  await list.press('Alt+ArrowUp');
  await expect.poll(ids).toEqual(['se_1', 'shufflenet_unit_1', 'relu_1']);
  await list.press('Control+d');
  await expect.poll(ids).toEqual(['se_1', 'se_2', 'shufflenet_unit_1', 'relu_1']);
  await list.press('Delete');
  await expect.poll(ids).toEqual(['se_1', 'shufflenet_unit_1', 'relu_1']);
  // Drag the ReLU to the top.
  await page.getByTestId('layer-row-relu_1').dragTo(page.getByTestId('layer-row-se_1'), { targetPosition: { x: 40, y: 4 } });
  await expect.poll(ids).toEqual(['relu_1', 'se_1', 'shufflenet_unit_1']);

  await page.getByTestId('theme-toggle').click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', /dark|light/);
  const theme = await page.locator('html').getAttribute('data-theme');
  if (theme !== 'dark') await page.getByTestId('theme-toggle').click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await openPreset(page, 'se_resnet50', true);
  await runProfile(page, 1);
  await wb.shot('results-dark');
});

test('the engine process dies: the workbench says so, it restarts, and the design survives', async ({ wb }) => {
  const { page } = wb;
  await smallShuffleDesign(page);
  await page.getByTestId('design-name').fill('survivor');
  const status = page.getByTestId('engine-status');
  const pid = Number(await status.getAttribute('data-pid'));
  expect(pid).toBeGreaterThan(0);
  process.kill(pid, 'SIGKILL');
  await expect(page.getByTestId('engine-banner')).toContainText('The engine process stopped');
  await expect(status).toHaveText('Engine ready');
  await expect(status).not.toHaveAttribute('data-pid', String(pid));
  await expect(page.getByTestId('notice').first()).toContainText('The engine was restarted');
  await expect(page.getByTestId('engine-banner')).toHaveCount(0);
  await expect(page.getByTestId('design-name')).toHaveValue('survivor');
  await expect(page.getByTestId('layer-row-shufflenet_unit_1')).toBeVisible();
  // The new engine answers: an edit is counted again.
  await selectLayer(page, 'shufflenet_unit_1');
  await setParam(page, 'groups', '4');
  await expect(page.getByTestId('figure-params')).toHaveText('8.46 K');
  await runProfile(page, 1);
});

test('a join chooses its inputs from the earlier layers', async ({ wb }) => {
  const { page } = wb;
  await smallShuffleDesign(page);
  await page.getByTestId('palette-search').fill('squeeze');
  await page.getByTestId('palette-item-se').click();
  await page.getByTestId('palette-search').fill('add');
  await page.getByTestId('palette-item-add').click();
  await expect(page.getByTestId('layer-id-input')).toHaveValue('add_1');
  // Placed after se_1, it reads se_1 and the nearest earlier tensor of the same shape.
  await expect(page.getByTestId('input-slot-0')).toHaveValue('se_1');
  await expect(page.getByTestId('input-slot-1')).toHaveValue('shufflenet_unit_1');
  await expect(page.getByTestId('status-bar')).toContainText('valid');
  const options = await page.getByTestId('input-slot-1').locator('option').allTextContents();
  expect(options).toEqual(['input', 'shufflenet_unit_1', 'se_1']);
  await page.getByTestId('input-slot-1').selectOption('input');
  await expect(page.getByTestId('layer-row-add_1')).toContainText('← se_1, input');
  await expect(page.getByTestId('status-bar')).toContainText('valid');
  await page.getByTestId('tab-graph').click();
  await expect(page.getByTestId('graph-node-add_1')).toBeVisible();
});

test('an unsaved design is back after the window goes away, still unsaved', async ({ wb }) => {
  const { page } = wb;
  page.on('dialog', (d) => void d.accept());
  await smallShuffleDesign(page);
  await page.getByTestId('design-name').fill('not saved yet');
  await expect(page.getByTestId('dirty-marker')).toBeVisible();
  // Autosave follows edits after a short pause.
  await page.waitForTimeout(1200);
  await page.reload();
  await expect(page.getByTestId('engine-status')).toHaveText('Engine ready');
  // The session puts it back at once; the crash-recovery banner, which would offer the same design, stays away.
  await expect(page.getByTestId('design-name')).toHaveValue('not saved yet');
  await expect(page.getByTestId('layer-row-shufflenet_unit_1')).toBeVisible();
  await expect(page.getByTestId('dirty-marker')).toBeVisible();
  await expect(page.getByTestId('recovery-banner')).toHaveCount(0);
});

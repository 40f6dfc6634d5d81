/** ONNX in the workbench: File > Open takes an .onnx model, Export writes the design as ONNX; bad files get a dialog. */
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from './fixtures.ts';

const design = {
  format: 'convscope/v1',
  name: 'onnx trip',
  input: { shape: [1, 16, 12, 12] },
  seed: 5,
  layers: [
    { id: 'c1', op: 'conv2d', params: { out_channels: 24, kernel: 3, padding: 1, groups: 2 } },
    { id: 'r1', op: 'relu' },
    { id: 'p1', op: 'max_pool2d', params: { kernel: 2 } },
    { id: 'gap', op: 'global_avg_pool' },
    { id: 'flat', op: 'flatten' },
    { id: 'fc', op: 'linear', params: { out_features: 10 } },
  ],
};

test('exports the design as ONNX, opens that file as the same design, and refuses broken files with a dialog', async ({ wb }) => {
  const { page } = wb;
  const stamp = Date.now();
  const designPath = join(tmpdir(), `onnx-trip-${stamp}.convscope.json`);
  writeFileSync(designPath, JSON.stringify(design));
  // The empty design's figures first, so that the ones read below are the opened design's.
  await expect(page.getByTestId('status-bar')).toContainText('valid');
  const before = (await page.getByTestId('status-bar').textContent())!;
  await wb.open(designPath, () => page.getByTestId('open-design').click());
  await expect(page.getByTestId('layer-row-fc')).toBeVisible();
  await expect(page.getByTestId('status-bar')).toContainText('valid');
  await expect(page.getByTestId('status-bar')).not.toHaveText(before);
  const params = (await page.getByTestId('status-bar').textContent())!;

  await page.getByTestId('export-menu').click();
  const exported = await wb.save(() => page.getByTestId('export-onnx').click());
  expect(exported.name).toBe('onnx-trip.onnx');
  const bytes = readFileSync(exported.path);
  // ModelProto field 1 (ir_version, a varint) comes first in what the exporter writes.
  expect(bytes[0]).toBe(0x08);
  expect(bytes.length).toBeGreaterThan(4 * 24 * 8 * 9);

  await page.getByTestId('new-design').click();
  await expect(page.getByTestId('layer-row-fc')).toHaveCount(0);
  const onnxPath = join(tmpdir(), `onnx-trip-${stamp}.onnx`);
  writeFileSync(onnxPath, bytes);
  await wb.open(onnxPath, () => page.getByTestId('open-design').click());
  for (const id of design.layers.map((l) => l.id)) await expect(page.getByTestId(`layer-row-${id}`)).toBeVisible();
  await expect(page.getByTestId('design-name')).toHaveValue('onnx trip');
  await expect(page.getByTestId('status-bar')).toContainText('valid');
  // The same counts as the design it came from (the status bar sums params and MACs).
  await expect(page.getByTestId('status-bar')).toHaveText(params);
  await page.getByTestId('tab-graph').click();
  await expect(page.getByTestId('graph-view')).toBeVisible();
  await page.getByTestId('tab-layers').click();

  // A truncated model, a file that is not ONNX, and a model with an op convscope lacks: each a
  // dialog with the reason; the open design stays.
  const cut = join(tmpdir(), `cut-${stamp}.onnx`);
  writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
  const text = join(tmpdir(), `text-${stamp}.onnx`);
  writeFileSync(text, 'this is not a model\n');
  for (const [path, reason] of [
    [cut, `cut-${stamp}.onnx`],
    [text, `text-${stamp}.onnx`],
  ]) {
    await wb.open(path, () => page.getByTestId('open-design').click());
    await expect(page.getByTestId('alert-dialog')).toBeVisible();
    await expect(page.getByTestId('alert-message')).toContainText(reason);
    await expect(page.getByTestId('alert-dialog')).toContainText('The open design was not changed');
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('alert-dialog')).toHaveCount(0);
    await expect(page.getByTestId('layer-row-fc')).toBeVisible();
    await expect(page.getByTestId('design-name')).toHaveValue('onnx trip');
  }
});

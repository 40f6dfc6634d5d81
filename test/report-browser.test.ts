/**
 * The HTML report as a user gets it: opened from disk in a real Chromium, with its inlined
 * ECharts drawing every chart, nothing fetched from anywhere, and the table interactive.
 * Browser-side code is passed as strings: the project's TypeScript has no DOM types, on purpose.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/engine/backends/cpu/backend.ts';
import { buildPlan } from '../src/engine/graph/plan.ts';
import { getPreset } from '../src/engine/presets/index.ts';
import { profilePlan } from '../src/engine/profiler.ts';
import { renderReport } from '../src/engine/report/index.ts';
import { buildReport } from '../src/engine/reporting.ts';
import type { Report } from '../src/shared/report.ts';
import { smallSpec } from './helpers/small-model.ts';

const CHROMIUM = '/usr/bin/chromium';
const ENV = { app_version: 'test', node: process.version, platform: `${process.platform}-${process.arch}`, cpu: 'test CPU' };

let browser: Browser;
let dir: string;
let profiled: Report;
let inspected: Report;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the HTML report test needs a real Chromium. Install it with \`apt-get install chromium\` (CI installs it).`);
  }
  const plan = buildPlan(smallSpec());
  const backend = new CpuBackend(2);
  try {
    const result = await profilePlan(plan, backend, { warmup: 1, repeat: 3 });
    profiled = buildReport(plan, {
      environment: ENV,
      backend: { name: backend.name, adapter: backend.adapter, timing: backend.timing, threads: backend.threads },
      profile: result,
    });
  } finally {
    await backend.dispose();
  }
  inspected = buildReport(plan, { environment: ENV });
  dir = mkdtempSync(join(tmpdir(), 'convscope-html-'));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
});

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  url: string;
  /** Console errors and uncaught exceptions, in order. */
  problems: string[];
  /** Every URL the page asked for. */
  requests: string[];
}

async function open(report: Report, name: string): Promise<Opened> {
  const path = join(dir, name);
  writeFileSync(path, renderReport(report, 'html'));
  const url = pathToFileURL(path).href;
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  // Anything but the file itself is refused (and recorded above), so a stray fetch fails here, not silently.
  await page.route('**/*', (route) => (route.request().url() === url ? route.continue() : route.abort()));
  await page.goto(url, { waitUntil: 'load' });
  return { page, url, problems, requests };
}

interface ChartPaint {
  id: string;
  instance: boolean;
  canvases: number;
  pixels: number;
  painted: number;
}

/** For every chart container: is there an ECharts instance, and how many canvas pixels are not transparent. */
const PAINT = `(() => Array.from(document.querySelectorAll('.chart')).map((el) => {
  let pixels = 0, painted = 0;
  const canvases = Array.from(el.querySelectorAll('canvas'));
  for (const c of canvases) {
    if (!c.width || !c.height) continue;
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    pixels += c.width * c.height;
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted++;
  }
  return { id: el.id, instance: !!(window.echarts && window.echarts.getInstanceByDom(el)), canvases: canvases.length, pixels, painted };
}))()`;

/** ECharts paints on the next animation frame; wait until every chart has drawn (or give up after a few seconds). */
async function chartPaint(page: Page): Promise<ChartPaint[]> {
  let paint: ChartPaint[] = [];
  for (let i = 0; i < 50; i++) {
    paint = await page.evaluate<ChartPaint[]>(PAINT);
    if (paint.length > 0 && paint.every((c) => c.painted > 0)) break;
    await page.waitForTimeout(100);
  }
  return paint;
}

function expectDrawn(paint: ChartPaint[], ids: string[]) {
  expect(paint.map((c) => c.id).sort()).toEqual([...ids].sort());
  for (const c of paint) {
    expect(c.instance, `${c.id} has an ECharts instance`).toBe(true);
    expect(c.canvases, `${c.id} has a canvas`).toBeGreaterThan(0);
    // Axes, labels and marks cover well over 1% of a chart; a blank canvas has 0 painted pixels.
    expect(c.painted / c.pixels, `${c.id}: ${c.painted} of ${c.pixels} pixels painted`).toBeGreaterThan(0.01);
  }
}

/** Row ids in table order, and the raw (data-v) values of one column. */
async function tableColumn(page: Page, title: string): Promise<{ ids: string[]; values: string[] }> {
  return page.evaluate<{ ids: string[]; values: string[] }>(`(() => {
    const table = document.getElementById('layers');
    const col = Array.from(table.tHead.rows[0].cells).findIndex((th) => th.textContent === ${JSON.stringify(title)});
    const rows = Array.from(table.tBodies[0].rows);
    return {
      ids: rows.map((tr) => tr.cells[1].textContent),
      values: rows.map((tr) => { const c = tr.cells[col]; return c.hasAttribute('data-v') ? c.getAttribute('data-v') : c.textContent; }),
    };
  })()`);
}

function expectClean(o: Opened) {
  expect(o.problems).toEqual([]);
  // data: URLs are not network requests (the CSP allows data: images, which ECharts may use).
  expect(o.requests.filter((u) => !u.startsWith('data:'))).toEqual([o.url]);
}

describe('HTML report in Chromium', () => {
  it('a profiled report draws all six charts, fetches nothing, and has a sortable row per layer', async () => {
    const o = await open(profiled, 'profiled.html');
    const { page } = o;
    try {
      expectDrawn(await chartPaint(page), ['chart-flops', 'chart-params', 'chart-time', 'chart-share', 'chart-roofline', 'chart-memory']);
      expect(await page.locator('.empty').count()).toBe(0);
      expect(await page.locator('h1').textContent()).toBe(profiled.model.name);
      expect(await page.locator('.stat', { hasText: 'Forward time (median)' }).count()).toBe(1);

      const rows = page.locator('#layers tbody tr');
      expect(await rows.count()).toBe(profiled.layers.length);
      const initial = await tableColumn(page, 'MACs');
      expect(initial.ids).toEqual(profiled.layers.map((l) => l.id));

      // Numeric column: largest first on the first click, ascending on the second.
      const macs = page.locator('#layers thead th', { hasText: /^MACs$/ });
      await macs.click();
      expect(await macs.getAttribute('aria-sort')).toBe('descending');
      const down = await tableColumn(page, 'MACs');
      const downValues = down.values.map(Number);
      expect(downValues).toEqual([...downValues].sort((a, b) => b - a));
      expect([...down.ids].sort()).toEqual([...initial.ids].sort());
      expect(down.ids).not.toEqual(initial.ids); // the model's MACs are not already in order
      await macs.click();
      expect(await macs.getAttribute('aria-sort')).toBe('ascending');
      const upValues = (await tableColumn(page, 'MACs')).values.map(Number);
      expect(upValues).toEqual([...upValues].sort((a, b) => a - b));

      // Times sort by value, not by the text shown; a text column sorts alphabetically.
      const timeHeader = page.locator('#layers thead th', { hasText: /^time median \(ms\)$/ });
      await timeHeader.click();
      await timeHeader.click();
      const times = (await tableColumn(page, 'time median (ms)')).values.map(Number);
      // A batch norm folded into its conv has no time of its own (fused_into); every other row does.
      const fused = profiled.layers.filter((l) => l.fused_into).length;
      expect(fused).toBeGreaterThan(0);
      expect(times.filter((t) => t === 0)).toHaveLength(fused);
      expect(times.filter((t) => t > 0)).toHaveLength(times.length - fused);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      // A folded row's time cell names the op it ran in.
      const bnTime = await page.evaluate(`(() => {
        const table = document.getElementById('layers');
        const col = Array.from(table.tHead.rows[0].cells).findIndex((th) => th.textContent === 'time median (ms)');
        const row = Array.from(table.tBodies[0].rows).find((tr) => tr.cells[1].textContent === 'bn');
        return row.cells[col].textContent;
      })()`);
      expect(bnTime).toBe('in c1');
      // The time chart's tooltips: the folded op points at its conv, the conv names what it ran.
      const tip = async (id: string) =>
        page.evaluate(`(() => {
          const chart = echarts.getInstanceByDom(document.getElementById('chart-time'));
          const data = chart.getOption().series[0].data;
          const item = data.find((d) => d.id === ${JSON.stringify(id)});
          return item ? chart.getOption().tooltip[0].formatter({ data: item }) : 'no bar';
        })()`);
      // A folded op has no bar of its own (its time is in the conv's); the conv's tooltip names it.
      expect(await tip('bn')).toBe('no bar');
      expect(await tip('c1')).toContain('includes bn (fused)');
      const op = page.locator('#layers thead th', { hasText: /^op$/ });
      await op.click();
      expect(await macs.getAttribute('aria-sort')).toBeNull();
      const ops = (await tableColumn(page, 'op')).values;
      expect(ops).toEqual([...ops].sort((a, b) => a.localeCompare(b)));

      // A row click highlights it; a click in a chart column selects that op in the table.
      await rows.filter({ hasText: 'se/fc1' }).click();
      expect(await page.locator('#selected').textContent()).toBe('se/fc1');
      expect(await page.locator('#layers tbody tr.hl').count()).toBe(1);
      const target = profiled.layers.findIndex((l) => l.id === 'p');
      const point = await page.evaluate<[number, number]>(`(() => {
        const chart = echarts.getInstanceByDom(document.getElementById('chart-flops'));
        return [chart.convertToPixel({ xAxisIndex: 0 }, ${target}), chart.getHeight() / 2];
      })()`);
      // The FLOPs chart plots every op, so its category index is the row index.
      await page.locator('#chart-flops').click({ position: { x: point[0], y: point[1] } });
      expect(await page.locator('#selected').textContent()).toBe('p');
      expect(await page.locator('#layers tbody tr.hl td.id').textContent()).toBe('p');

      expectClean(o);
    } finally {
      await page.close();
    }
  });

  it('an inspect-only report (times null) draws the count charts and says the rest is not profiled', async () => {
    const o = await open(inspected, 'inspected.html');
    const { page } = o;
    try {
      expectDrawn(await chartPaint(page), ['chart-flops', 'chart-params', 'chart-share', 'chart-memory']);
      const empty = page.locator('.empty');
      expect(await empty.count()).toBe(2); // time per op and the roofline need times
      for (const text of await empty.allTextContents()) expect(text).toMatch(/not profiled/);
      expect(await page.locator('.stat', { hasText: 'Forward time' }).textContent()).toMatch(/not profiled/);
      expect(await page.locator('h2', { hasText: 'Share of FLOPs by layer' }).count()).toBe(1);
      expect(await page.locator('#layers tbody tr').count()).toBe(inspected.layers.length);
      const times = (await tableColumn(page, 'time median (ms)')).values;
      expect(times.every((t) => t === '')).toBe(true);
      expectClean(o);
    } finally {
      await page.close();
    }
  });
});

/**
 * A model with 169 ops (Xception), timed with made-up but plausible figures and carrying roofs:
 * what a new user's first real report looks like. The layout must hold at a laptop's width and on paper.
 */
describe('HTML report of a 169-op model', () => {
  let big: Report;
  beforeAll(() => {
    const plan = buildPlan(getPreset('xception')!.build());
    const inspectedBig = buildReport(plan, { environment: ENV });
    big = {
      ...inspectedBig,
      backend: {
        name: 'cpu',
        adapter: 'test CPU',
        timing: 'host wall clock',
        roofline: { peak_gflops_per_s: 120, bandwidth_gb_per_s: 15, measured_by: 'test figures' },
      },
      layers: inspectedBig.layers.map((l, i) => {
        const median = 0.05 + ((i * 37) % 101) / 50;
        return { ...l, time_ms: { median, p10: median * 0.9, p90: median * 1.2 }, gflops_per_s: l.flops > 0 ? l.flops / (median * 1e6) : null };
      }),
      totals: { ...inspectedBig.totals, time_ms: 150 },
    };
    expect(big.layers).toHaveLength(169);
  });

  it('shows every column within a 1300 px page, with the op id sticky when it scrolls sideways', async () => {
    const path = join(dir, 'big.html');
    writeFileSync(path, renderReport(big, 'html'));
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    try {
      await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
      const fit = await page.evaluate<{ table: number; wrap: number; headers: string[]; page: number }>(`(() => {
        const table = document.getElementById('layers');
        const wrap = table.parentElement;
        return { table: table.scrollWidth, wrap: wrap.clientWidth, page: document.documentElement.scrollWidth,
          headers: Array.from(table.tHead.rows[0].cells).map((th) => th.textContent) };
      })()`);
      expect(fit.headers).toHaveLength(15);
      expect(fit.table, `table ${fit.table}px in a ${fit.wrap}px box`).toBeLessThanOrEqual(fit.wrap);
      expect(fit.page).toBeLessThanOrEqual(1300);
      // Every header cell, the last (formula) included, lies inside the visible box.
      const inside = await page.evaluate<boolean[]>(`(() => {
        const wrap = document.getElementById('layers').parentElement.getBoundingClientRect();
        return Array.from(document.querySelectorAll('#layers thead th')).map((th) => { const r = th.getBoundingClientRect(); return r.left >= wrap.left - 1 && r.right <= wrap.right + 1; });
      })()`);
      expect(inside.every(Boolean)).toBe(true);

      // In a narrow window the table scrolls sideways and the id column stays put.
      await page.setViewportSize({ width: 700, height: 900 });
      const stuck = await page.evaluate<{ before: number; after: number; scrolled: number }>(`(() => {
        const table = document.getElementById('layers');
        const wrap = table.parentElement;
        const cell = table.tBodies[0].rows[0].cells[1];
        const before = cell.getBoundingClientRect().left - wrap.getBoundingClientRect().left;
        wrap.scrollLeft = 300;
        const after = cell.getBoundingClientRect().left - wrap.getBoundingClientRect().left;
        return { before, after, scrolled: wrap.scrollLeft };
      })()`);
      expect(stuck.scrolled).toBeGreaterThan(0);
      expect(Math.abs(stuck.after - stuck.before)).toBeLessThan(1);
    } finally {
      await page.close();
    }
  });

  it('prints every row and column, and the charts at the width of the paper', async () => {
    const path = join(dir, 'big-print.html');
    writeFileSync(path, renderReport(big, 'html'));
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    try {
      await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
      await page.emulateMedia({ media: 'print' });
      await page.setViewportSize({ width: 1050, height: 740 }); // A4 landscape less the margins, at 96 dpi
      await page.waitForTimeout(200);
      const printed = await page.evaluate<{ rows: number; clipped: number; wrapOverflow: string; tableWidth: number; pageWidth: number; charts: { id: string; w: number; box: number }[] }>(`(() => {
        const table = document.getElementById('layers');
        const wrap = table.parentElement;
        const box = wrap.getBoundingClientRect();
        const rows = Array.from(table.tBodies[0].rows);
        const clipped = rows.filter((tr) => { const r = tr.getBoundingClientRect(); return r.height === 0 || r.bottom > box.bottom + 1 || r.top < box.top - 1; }).length;
        return { rows: rows.length, clipped, wrapOverflow: getComputedStyle(wrap).overflowY, tableWidth: table.scrollWidth, pageWidth: document.documentElement.clientWidth,
          charts: Array.from(document.querySelectorAll('.chart')).map((el) => ({ id: el.id, w: el.querySelector('canvas').getBoundingClientRect().width, box: el.getBoundingClientRect().width })) };
      })()`);
      expect(printed.rows).toBe(169);
      expect(printed.clipped).toBe(0);
      expect(printed.wrapOverflow).toBe('visible');
      expect(printed.tableWidth).toBeLessThanOrEqual(printed.pageWidth);
      expect(printed.charts).toHaveLength(6);
      for (const c of printed.charts) {
        // Redrawn at the page's width, not left at the screen's two-column size.
        expect(c.box, c.id).toBeGreaterThan(printed.pageWidth * 0.9);
        expect(Math.abs(c.w - c.box), c.id).toBeLessThan(2);
      }
      // A real print: the PDF has pages enough for 169 rows (a 13-row clip would fit on the first few).
      const pdf = await page.pdf({ format: 'A4', landscape: true, printBackground: false });
      const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length;
      expect(pages).toBeGreaterThan(5);
    } finally {
      await page.close();
    }
  });

  it('thins the op axis with a zoom slider, switches to a log scale, and draws the roofs', async () => {
    const path = join(dir, 'big-charts.html');
    writeFileSync(path, renderReport(big, 'html'));
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    try {
      await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
      const axis = await page.evaluate<{ zoom: string[]; interval: unknown; yType: string }>(`(() => {
        const o = echarts.getInstanceByDom(document.getElementById('chart-flops')).getOption();
        return { zoom: o.dataZoom.map((z) => z.type), interval: o.xAxis[0].axisLabel.interval, yType: o.yAxis[0].type };
      })()`);
      expect(axis.zoom.sort()).toEqual(['inside', 'slider']);
      expect(axis.interval).toBe('auto');
      expect(axis.yType).toBe('value');
      await page.locator('input[data-log="chart-flops"]').check();
      expect(await page.evaluate(`echarts.getInstanceByDom(document.getElementById('chart-flops')).getOption().yAxis[0].type`)).toBe('log');
      await page.locator('input[data-log="chart-flops"]').uncheck();
      expect(await page.evaluate(`echarts.getInstanceByDom(document.getElementById('chart-flops')).getOption().yAxis[0].type`)).toBe('value');
      // Labels ECharts actually drew on the op axis do not overlap (upright, so their boxes are exact).
      const overlaps = await page.evaluate<{ labels: number; overlaps: number }>(`(() => {
        const ids = ${JSON.stringify(big.layers.map((l) => l.id))};
        const chart = echarts.getInstanceByDom(document.getElementById('chart-flops'));
        const boxes = chart.getZr().storage.getDisplayList()
          .filter((el) => el.type === 'tspan' && !el.ignore && !el.invisible && el.style && typeof el.style.text === 'string' && el.style.text.length > 2 && ids.some((id) => id.startsWith(el.style.text.replace(/\\.\\.\\.$/, ''))))
          .map((el) => { const r = el.getBoundingRect().clone(); r.applyTransform(el.getComputedTransform()); return r; });
        let n = 0;
        for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) if (boxes[i].intersect(boxes[j])) n++;
        return { labels: boxes.length, overlaps: n };
      })()`);
      expect(overlaps.labels).toBeGreaterThan(10);
      expect(overlaps.labels).toBeLessThan(169);
      expect(overlaps.overlaps).toBe(0);
      const roof = await page.evaluate<string[]>(`echarts.getInstanceByDom(document.getElementById('chart-roofline')).getOption().series.filter((s) => s.type === 'line').map((s) => s.name)`);
      expect(roof).toEqual(['memory roof 15 GB/s', 'compute roof 120 GFLOP/s']);
      expect(await page.locator('dl.run').textContent()).toContain('120 GFLOP/s peak compute, 15 GB/s memory bandwidth');
    } finally {
      await page.close();
    }
  });
});

/** The report renderers: JSON (and its validation), CSV, Markdown, HTML, Chrome trace. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { SpecError } from '../src/engine/errors.ts';
import { CSV_COLUMNS, csvField } from '../src/engine/report/csv.ts';
import { bytes, siUnit, siWord } from '../src/shared/present/format.ts';
import { escapeHtml, jsonForScript } from '../src/engine/report/html.ts';
import {
  formatFromPath,
  memoryTimeline,
  parseReport,
  renderReport,
  ReportError,
  toCsv,
  toHtml,
  toJson,
  toMarkdown,
  toTraceObject,
  validateReport,
} from '../src/engine/report/index.ts';
import { escapeMarkdown } from '../src/engine/report/markdown.ts';
import { parseCsv } from './helpers/csv.ts';
import { base64, sha256 } from '../src/engine/report/sha256.ts';
import type { LayerRow, Report } from '../src/shared/report.ts';

const CONV_FORMULA = 'MACs = 1 * 4 * 8 * 8 * (3 / 1) * 3 * 3 = 6,912; FLOPs = 2 * MACs + 256 (bias) = 14,080, "exact"';

function row(partial: Partial<LayerRow> & Pick<LayerRow, 'id' | 'op'>): LayerRow {
  return {
    layer: partial.id,
    block: null,
    inputs: [],
    input_shapes: [[1, 4, 8, 8]],
    output_shape: [1, 4, 8, 8],
    params: 0,
    buffers: 0,
    macs: 0,
    flops: 0,
    formula: '',
    output_bytes: 1024,
    bytes_moved: 2048,
    time_ms: null,
    gflops_per_s: null,
    arithmetic_intensity: 0,
    ...partial,
  };
}

/** conv -> SE-style block (global pool, scale) -> relu, on a 1x3x8x8 input; timed. */
function fixture(): Report {
  const layers: LayerRow[] = [
    row({
      id: 'c1',
      op: 'conv2d',
      inputs: ['input'],
      input_shapes: [[1, 3, 8, 8]],
      params: 112,
      macs: 6912,
      flops: 14080,
      formula: CONV_FORMULA,
      bytes_moved: 768 + 448 + 1024,
      time_ms: { median: 0.5, p10: 0.4, p90: 0.7 },
    }),
    row({
      id: 'se/pool',
      layer: 'se',
      block: 'se',
      op: 'global_avg_pool',
      inputs: ['c1'],
      output_shape: [1, 4, 1, 1],
      flops: 256,
      formula: 'FLOPs = 256 input elements',
      output_bytes: 16,
      bytes_moved: 1040,
      time_ms: { median: 0.1, p10: 0.09, p90: 0.12 },
    }),
    row({
      id: 'se/scale',
      layer: 'se',
      block: 'se',
      op: 'mul',
      inputs: ['c1', 'se/pool'],
      input_shapes: [
        [1, 4, 8, 8],
        [1, 4, 1, 1],
      ],
      flops: 256,
      formula: 'FLOPs = 256 output elements (mul)',
      bytes_moved: 2064,
      time_ms: { median: 0.2, p10: 0.15, p90: 0.3 },
    }),
    row({
      id: 'r',
      op: 'relu',
      inputs: ['se/scale'],
      flops: 256,
      formula: 'FLOPs = 256 output elements (relu)',
      time_ms: { median: 0.05, p10: 0.04, p90: 0.06 },
    }),
  ];
  for (const r of layers) {
    r.arithmetic_intensity = r.flops / r.bytes_moved;
    r.gflops_per_s = r.time_ms ? r.flops / (r.time_ms.median * 1e6) : null;
  }
  return {
    schema: 'convscope.report/v1',
    created: '2025-01-02T03:04:05.000Z',
    model: {
      name: 'tiny SE net',
      input_shape: [1, 3, 8, 8],
      output_shape: [1, 4, 8, 8],
      spec: {
        format: 'convscope/v1',
        name: 'tiny SE net',
        input: { shape: [1, 3, 8, 8] },
        seed: 7,
        layers: [
          { id: 'c1', op: 'conv2d', params: { out_channels: 4, kernel: 3, padding: 1 } },
          { id: 'se', block: 'se', params: { reduction: 2 } },
          { id: 'r', op: 'relu' },
        ],
      },
    },
    backend: { name: 'cpu', adapter: 'Test CPU (2 threads)', timing: 'host wall clock (performance.now) around each op', threads: 2, warmup: 1, repeat: 5 },
    totals: {
      params: 112,
      buffers: 0,
      macs: 6912,
      flops: 14848,
      param_bytes: 448,
      activation_bytes: 1024 + 16 + 1024 + 1024,
      peak_bytes: 2064,
      time_ms: 0.9,
    },
    layers,
    environment: { app_version: '0.1.0', node: 'v20.0.0', platform: 'linux x64', cpu: 'Test CPU' },
  };
}

/** The same model as `convscope inspect` reports it: no backend, no times. */
function untimed(): Report {
  const r = fixture();
  r.backend = null;
  r.totals.time_ms = null;
  for (const l of r.layers) {
    l.time_ms = null;
    l.gflops_per_s = null;
  }
  return r;
}


const MALICIOUS = '</script><img src=x onerror=alert(1)>';

describe('JSON', () => {
  it('is pretty-printed and round-trips through parseReport', () => {
    const r = fixture();
    const text = toJson(r);
    expect(text.split('\n')[1]).toBe('  "schema": "convscope.report/v1",');
    expect(parseReport(text)).toEqual(r);
    expect(parseReport(toJson(untimed()))).toEqual(untimed());
  });

  it('keeps fields it does not know (later v1 additions survive a rewrite)', () => {
    const r = { ...fixture(), extra: { note: 'kept' } };
    expect(parseReport(JSON.stringify(r))).toHaveProperty('extra', { note: 'kept' });
  });

  it('names the layer and field of a wrong value', () => {
    const bad = JSON.parse(toJson(fixture()));
    bad.layers[1].macs = 'lots';
    expect(() => parseReport(JSON.stringify(bad))).toThrow(ReportError);
    expect(() => parseReport(JSON.stringify(bad))).toThrow(/layers\[1\] \(id "se\/pool"\)\.macs: expected number, received string/);
  });

  it('says which field is missing and refuses fractional counts', () => {
    const bad = JSON.parse(toJson(fixture()));
    delete bad.totals.flops;
    bad.layers[0].params = 1.5;
    const message = (() => {
      try {
        validateReport(bad);
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(message).toContain('totals.flops: missing (expected number)');
    expect(message).toContain('layers[0] (id "c1").params: expected int');
  });

  it('refuses text that is not JSON, a foreign schema and a model spec', () => {
    expect(() => parseReport('{"schema": ')).toThrow(/not valid JSON/);
    expect(() => parseReport(JSON.stringify({ ...fixture(), schema: 'convscope.report/v2' }))).toThrow(
      'unsupported report schema "convscope.report/v2": this version of convscope reads "convscope.report/v1"',
    );
    expect(() => parseReport(JSON.stringify(fixture().model.spec))).toThrow(/no "schema" field/);
    expect(() => parseReport('[1, 2]')).toThrow(/expected a JSON object/);
  });
});

describe('CSV', () => {
  it('quotes per RFC 4180', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
  });

  it('writes one row per layer that parses back to the same values', () => {
    const r = fixture();
    const text = toCsv(r);
    const records = parseCsv(text);
    expect(records[0]).toEqual([...CSV_COLUMNS]);
    expect(records).toHaveLength(r.layers.length + 1);
    const rows = records.slice(1).map((cells) => Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, cells[i]])));
    expect(rows[0].formula).toBe(CONV_FORMULA);
    expect(rows[2]).toMatchObject({ id: 'se/scale', layer: 'se', block: 'se', op: 'mul', input_shapes: '1x4x8x8;1x4x1x1', output_shape: '1x4x8x8' });
    expect(rows[0]).toMatchObject({ block: '', macs: '6912', flops: '14080', params: '112', time_median_ms: '0.5', time_p10_ms: '0.4', time_p90_ms: '0.7' });
    expect(Number(rows[3].gflops_per_s)).toBeCloseTo(r.layers[3].gflops_per_s!, 4);
    expect(text.split('\r\n')[1]).toBe(
      'c1,c1,,conv2d,1x3x8x8,1x4x8x8,112,0,6912,14080,1024,2240,6.28571,0.5,0.4,0.7,0.02816,,' +
        '"MACs = 1 * 4 * 8 * 8 * (3 / 1) * 3 * 3 = 6,912; FLOPs = 2 * MACs + 256 (bias) = 14,080, ""exact"""',
    );
  });

  it('names the op a fused row ran inside', () => {
    const r = fixture();
    r.layers[1] = { ...r.layers[1], fused_into: 'c1', time_ms: { median: 0, p10: 0, p90: 0 }, gflops_per_s: null };
    const rows = parseCsv(toCsv(r)).slice(1).map((cells) => Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, cells[i]])));
    expect(rows.map((row) => row.fused_into)).toEqual(r.layers.map((l) => l.fused_into ?? ''));
    expect(rows[1].fused_into).toBe('c1');
    const md = toMarkdown(r).split('\n').find((line) => line.includes(`| ${escapeMarkdown(r.layers[1].id)} |`))!;
    expect(md).toContain('| in c1 |');
  });

  it('leaves time cells empty when the model was not profiled', () => {
    const rows = parseCsv(toCsv(untimed())).slice(1);
    for (const cells of rows) {
      const byName = Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, cells[i]]));
      expect([byName.time_median_ms, byName.time_p10_ms, byName.time_p90_ms, byName.gflops_per_s]).toEqual(['', '', '', '']);
      expect(byName.flops).not.toBe('');
    }
  });
});

describe('Markdown', () => {
  it('has a title, a summary with human units and one table row per layer', () => {
    const md = toMarkdown(fixture());
    const lines = md.split('\n');
    expect(lines[0]).toBe('# Convscope report: tiny SE net');
    expect(md).toContain('- **Input** `1x3x8x8` → **output** `1x4x8x8`');
    expect(md).toContain('- **Backend** cpu on Test CPU (2 threads) (2 threads, 1 warm-up, 5 repeats)');
    expect(md).toContain('- **Timing** host wall clock (performance.now) around each op');
    expect(md).toContain('- **Compute** 6.91 KMACs, 14.8 KFLOPs');
    expect(md).toContain('- **Time** 0.900 ms end-to-end median');
    expect(lines).toContain('| # | id | op | output shape | params | MACs | FLOPs | time median (ms) | share of time (%) |');
    // 0.5 of 0.85 ms summed over the layers.
    expect(lines).toContain('| 1 | c1 | conv2d | `1x4x8x8` | 112 | 6,912 | 14,080 | 0.500 | 58.8 |');
    expect(lines).toContain('| 3 | se/scale | mul | `1x4x8x8` | 0 | 0 | 256 | 0.200 | 23.5 |');
    expect(lines).toContain('|  | **total** |  |  | 112 | 6,912 | 14,848 | 0.850 | 100.0 |');
  });

  it('drops the time columns and says so when not profiled', () => {
    const md = toMarkdown(untimed());
    expect(md).toContain('- **Time** not profiled (inspect only)');
    expect(md).toContain('| 2 | se/pool | global_avg_pool | `1x4x1x1` | 0 | 0 | 256 |');
    expect(md).not.toContain('time median');
  });

  it('escapes pipes and line breaks so a cell cannot split the table', () => {
    const r = fixture();
    r.model.name = 'a|b\nc';
    r.layers[3].id = 'x|y';
    const md = toMarkdown(r);
    expect(md.split('\n')[0]).toBe('# Convscope report: a\\|b c');
    const line = md.split('\n').find((l) => l.startsWith('| 4 |'))!;
    expect(line).toContain('x\\|y');
    expect(line.split(/(?<!\\)\|/).length - 2).toBe(9);
    expect(escapeMarkdown('<img src=x onerror=alert(1)> [a](javascript:x)')).toBe('&lt;img src=x onerror=alert(1)> \\[a\\](javascript:x)');
  });

  it('formats totals in human units', () => {
    expect(siWord(25_557_032, 'params')).toBe('25.6 M params');
    expect(siUnit(4_089_184_256, 'MACs')).toBe('4.09 GMACs');
    expect(siUnit(999_999, 'FLOPs')).toBe('1 MFLOPs');
    expect(siWord(64, 'params')).toBe('64 params');
    expect(bytes(102_760_448)).toBe('98.0 MiB');
    expect(bytes(512)).toBe('512 B');
  });
});

function scripts(html: string): { attrs: string; body: string }[] {
  return [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)].map((m) => ({ attrs: m[1], body: m[2] }));
}

/** A stand-in for echarts.min.js, so that failures print a page rather than a megabyte of library. */
const FAKE_ECHARTS = { readEcharts: () => 'window.echarts = undefined;' };

describe('HTML', () => {
  const echartsPath = createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js');
  const echartsSource = readFileSync(echartsPath, 'utf8');

  it('inlines ECharts and loads nothing from the network', () => {
    const html = toHtml(fixture());
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.includes(`<script>${echartsSource}</script>`)).toBe(true);
    expect(html.includes('src="http')).toBe(false);
    const page = html.replace(echartsSource, '');
    expect(page.length).toBeLessThan(html.length / 4);
    expect(page).not.toMatch(/\b(src|href)\s*=|<link\b|@import|url\(|https?:/i);
    for (const s of scripts(html)) expect(s.attrs).not.toContain('src');
  });

  it('carries a CSP that allows exactly its own inline scripts', () => {
    const html = toHtml(fixture());
    const meta = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]+)">/);
    expect(meta).not.toBeNull();
    const csp = meta![1].replace(/&#39;/g, "'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/unsafe-eval|https?:|\*/);
    const executable = scripts(html).filter((s) => !s.attrs.includes('application/json'));
    expect(executable).toHaveLength(2);
    const hashes = executable.map((s) => `'sha256-${createHash('sha256').update(s.body, 'utf8').digest('base64')}'`);
    expect(csp.match(/script-src ([^;]+)/)![1].split(' ')).toEqual(hashes);
    expect(html.indexOf('Content-Security-Policy')).toBeLessThan(html.indexOf('<script'));
  });

  it('embeds the report JSON, which parses back to the report', () => {
    const r = fixture();
    const html = toHtml(r, FAKE_ECHARTS);
    const data = scripts(html).find((s) => s.attrs.includes('id="convscope-report"'))!;
    expect(data.attrs).toContain('type="application/json"');
    expect(parseReport(data.body)).toEqual(r);
    const memory = JSON.parse(scripts(html).find((s) => s.attrs.includes('id="convscope-memory"'))!.body);
    expect(memory.peak).toBe(2064);
  });

  it('escapes a malicious model name and layer id everywhere', () => {
    expect(escapeHtml(MALICIOUS)).toBe('&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(escapeHtml(`"'&`)).toBe('&quot;&#39;&amp;');
    const r = fixture();
    r.model.name = MALICIOUS;
    r.layers[0].id = `c1${MALICIOUS}<!--<script>`;
    r.layers[1].formula = MALICIOUS;
    r.backend!.adapter = MALICIOUS;
    const html = toHtml(r, FAKE_ECHARTS);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<!--');
    expect(html).toContain('<h1>&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;</h1>');
    expect(html).toContain('<title>&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; · Convscope report</title>');
    // Every </script> closes one of the page's own five script elements.
    expect(html.match(/<\/script/gi)).toHaveLength(5);
    // The chart options carry the ids (in tooltips, escaped) without a raw `<` anywhere.
    const charts = scripts(html).find((s) => s.attrs.includes('id="convscope-charts"'))!;
    expect(charts.body).not.toContain('<');
    expect(JSON.stringify(JSON.parse(charts.body))).toContain('c1&lt;/script&gt;&lt;img');
    const data = scripts(html).find((s) => s.attrs.includes('id="convscope-report"'))!;
    const back = parseReport(data.body);
    expect(back.model.name).toBe(MALICIOUS);
    expect(back.layers[0].id).toBe(`c1${MALICIOUS}<!--<script>`);
    expect(jsonForScript({ a: '</script>' })).toBe('{"a":"\\u003c/script>"}');
  });

  it('renders a sortable table row per layer with the formula', () => {
    const html = toHtml(fixture(), FAKE_ECHARTS);
    expect(html.match(/<tr data-i="\d+">/g)).toHaveLength(4);
    expect(html).toMatch(/<th scope="col" data-type="num" title="[^"]*">GFLOP\/s<\/th>/);
    expect(html).toMatch(/<th scope="col" data-type="num" title="[^"]*">FLOP\/byte<\/th>/);
    expect(html).toMatch(/<th scope="col" data-type="num" title="[^"]*">p10 \(ms\)<\/th>/);
    expect(html).toContain(escapeHtml(CONV_FORMULA));
    expect(html).toContain('<td class="num" data-v="0.5">0.500</td>');
    // Counts are compact in the cell, exact in its title and sort value.
    expect(html).toContain('<td class="num" data-v="6912" title="6,912">6.91 K</td>');
    for (const id of ['chart-flops', 'chart-params', 'chart-time', 'chart-share', 'chart-roofline', 'chart-memory']) {
      expect(html).toContain(`<div class="chart" id="${id}"></div>`);
    }
    expect(html).toContain('Live activation memory');
  });

  it('says "not profiled (inspect only)" instead of empty time charts', () => {
    const html = toHtml(untimed(), FAKE_ECHARTS);
    expect(html).toContain('not profiled (inspect only)');
    expect(html).not.toContain('id="chart-time"');
    expect(html).not.toContain('id="chart-roofline"');
    expect(html).toContain('id="chart-flops"');
    expect(html).toContain('Share of FLOPs by layer');
  });

  it('takes the ECharts script from an injected reader, made safe to inline', () => {
    const html = toHtml(fixture(), { readEcharts: () => 'window.echarts = { s: "</script>" };' });
    expect(html).toContain('<script>window.echarts = { s: "<\\/script>" };</script>');
    expect(html).not.toContain(echartsSource.slice(0, 2000));
    expect(() => toHtml(fixture(), { readEcharts: () => '/* <!-- */' })).toThrow(/<!--/);
  });

  it('falls back to cumulative output bytes for reports without inputs', () => {
    const r = fixture();
    for (const l of r.layers) delete l.inputs;
    expect(memoryTimeline(r)).toEqual({
      mode: 'cumulative',
      steps: [
        { id: 'c1', live: 1024, after: 1024 },
        { id: 'se/pool', live: 1040, after: 1040 },
        { id: 'se/scale', live: 2064, after: 2064 },
        { id: 'r', live: 3088, after: 3088 },
      ],
      peak: 3088,
    });
    expect(toHtml(r, FAKE_ECHARTS)).toContain('Cumulative output memory');
  });
});

describe('memory timeline', () => {
  it('frees each output after its last reader and matches the plan peak', () => {
    const r = fixture();
    const m = memoryTimeline(r);
    expect(m.mode).toBe('live');
    // input 768 B; c1 1024 B is read by se/scale, so it stays live across se/pool.
    expect(m.steps).toEqual([
      { id: 'c1', live: 1792, after: 1024 },
      { id: 'se/pool', live: 1040, after: 1040 },
      { id: 'se/scale', live: 2064, after: 1024 },
      { id: 'r', live: 2048, after: 1024 },
    ]);
    expect(m.peak).toBe(r.totals.peak_bytes);
  });
});

describe('Chrome trace', () => {
  it('lays the layers end to end by median time, in microseconds', () => {
    const r = fixture();
    const trace = toTraceObject(r);
    expect(trace.displayTimeUnit).toBe('ms');
    const ops = trace.traceEvents.filter((e) => e.ph === 'X' && e.cat !== 'block');
    expect(ops.map((e) => e.name)).toEqual(['c1', 'se/pool', 'se/scale', 'r']);
    expect(ops.map((e) => e.dur)).toEqual([500, 100, 200, 50]);
    expect(ops.map((e) => e.ts)).toEqual([0, 500, 600, 800]);
    for (let i = 1; i < ops.length; i++) expect(ops[i].ts).toBeCloseTo(ops[i - 1].ts! + ops[i - 1].dur!, 9);
    const sum = ops.reduce((s, e) => s + e.dur!, 0);
    expect(sum).toBeCloseTo(r.layers.reduce((s, l) => s + l.time_ms!.median, 0) * 1000, 6);
    expect(ops[0].args).toMatchObject({ op: 'conv2d', macs: 6912, flops: 14080, input_shapes: ['1x3x8x8'], output_shape: '1x4x8x8' });
    for (const e of ops) expect([e.pid, e.tid]).toEqual([1, 1]);
  });

  it('names the process after the model and the thread after the backend', () => {
    const trace = toTraceObject(fixture());
    const meta = trace.traceEvents.filter((e) => e.ph === 'M');
    expect(meta).toContainEqual({ name: 'process_name', ph: 'M', pid: 1, tid: 1, args: { name: 'tiny SE net' } });
    expect(meta).toContainEqual({ name: 'thread_name', ph: 'M', pid: 1, tid: 1, args: { name: 'cpu: Test CPU (2 threads)' } });
  });

  it('wraps a block in one event that spans its ops', () => {
    const blocks = toTraceObject(fixture()).traceEvents.filter((e) => e.cat === 'block');
    expect(blocks).toEqual([{ name: 'se', cat: 'block', ph: 'X', pid: 1, tid: 1, ts: 500, dur: 300, args: { block: 'se', ops: 2 } }]);
  });

  it('is valid JSON from renderReport and refuses a report without timings', () => {
    const parsed = JSON.parse(renderReport(fixture(), 'trace'));
    expect(Array.isArray(parsed.traceEvents)).toBe(true);
    expect(() => renderReport(untimed(), 'trace')).toThrow(/the report has no timings: run `convscope profile/);
  });
});

describe('renderReport and formatFromPath', () => {
  it('maps extensions to formats and dispatches', () => {
    expect(formatFromPath('out/report.json')).toBe('json');
    expect(formatFromPath('r.CSV')).toBe('csv');
    expect(formatFromPath('r.md')).toBe('md');
    expect(formatFromPath('C:\\x\\r.htm')).toBe('html');
    expect(formatFromPath('r.html')).toBe('html');
    expect(() => formatFromPath('r.txt')).toThrow(SpecError);
    expect(() => formatFromPath('dir.v2/report')).toThrow(/without an extension/);
    const r = fixture();
    expect(renderReport(r, 'json')).toBe(toJson(r));
    expect(renderReport(r, 'csv')).toBe(toCsv(r));
    expect(renderReport(r, 'md')).toBe(toMarkdown(r));
    expect(renderReport(r, 'html', { readEcharts: () => '' })).toContain('<script type="application/json" id="convscope-report">');
  });
});

describe('sha256 (CSP hashes)', () => {
  it('agrees with node:crypto across block boundaries', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 1000]) {
      const data = new Uint8Array(n).map((_, i) => (i * 131 + 7) & 255);
      expect(base64(sha256(data))).toBe(createHash('sha256').update(data).digest('base64'));
    }
  });
});

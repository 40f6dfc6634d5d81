import type { LayerRow, Report } from '../../shared/report.ts';
import { backendLabel } from '../../shared/backend-label.ts';
import { LIGHT_CHART_COLORS, blockShareOption, layerBarsOption, memoryOption, rooflineOption, serializeOption, type LayerMetric } from '../../shared/present/charts.ts';
import { bytes, exact, gbps, gflops, ms, num3, shapeX, si, siUnit, siWord } from '../../shared/present/format.ts';
import { CLIENT_SCRIPT } from './html-client.ts';
import { layerTimeSum } from './markdown.ts';
import { memoryTimeline, type MemoryTimeline } from './memory.ts';
import { cspHash } from './sha256.ts';

export interface HtmlOptions {
  /**
   * Returns the text of echarts.min.js. The default reads it from node_modules; a browser host,
   * which has no file system, passes the script it already has.
   */
  readEcharts?: () => string;
}

/** Escapes text for an HTML text node or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * JSON for a `<script type="application/json">` element. Every `<` becomes `\u003c` (still the
 * same JSON): that covers `</` (which could close the element early) and `<!--` (which can make
 * the parser skip the real closing tag), whatever a layer id or model name holds.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

let echartsCache: string | undefined;

/**
 * Node's modules are fetched at call time, not imported: this file is also bundled into the
 * browser Worker, which renders HTML with a `readEcharts` of its own.
 */
export function readEchartsFromNodeModules(): string {
  if (echartsCache === undefined) {
    const node = (globalThis as { process?: typeof process }).process;
    if (!node?.getBuiltinModule) throw new Error('no file system to read echarts.min.js from: pass readEcharts');
    const { createRequire } = node.getBuiltinModule('node:module');
    const { readFileSync } = node.getBuiltinModule('node:fs');
    echartsCache = readFileSync(createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js'), 'utf8');
  }
  return echartsCache;
}

/** Makes a script's text safe to inline: it must not end its own element. */
function inlineScript(text: string, what: string): string {
  if (/<!--/.test(text)) throw new Error(`cannot inline ${what}: it contains "<!--", which HTML would misparse inside <script>`);
  // Only valid in JS strings, regexes and comments, where `<\/` means the same.
  return text.replace(/<\/(script)/gi, '<\\/$1');
}

const hashCache = new Map<string, string>();

function hashOf(text: string): string {
  let h = hashCache.get(text);
  if (h === undefined) {
    h = cspHash(text);
    if (hashCache.size > 8) hashCache.clear();
    hashCache.set(text, h);
  }
  return h;
}

interface Column {
  title: string;
  /** Longer explanation, the header's tooltip. */
  help: string;
  num: boolean;
  /** Cell text (already escaped), its raw sort value ('' when missing) and an optional title. */
  cell(r: LayerRow, i: number): { html: string; v?: string; title?: string };
  className?: string;
}

/**
 * The layer table's columns. Numbers are compact (three significant figures, binary bytes) with
 * the exact figure in the cell's title, so every column fits a laptop-width page next to the
 * sticky op id; the JSON, CSV and Markdown keep the exact integers.
 */
function columns(share: (r: LayerRow) => number | null): Column[] {
  const dash = { html: '—', v: '' };
  const count = (f: (r: LayerRow) => number) => (r: LayerRow) => ({ html: si(f(r)), v: String(f(r)), title: exact(f(r)) });
  const t = (f: (r: LayerRow) => number) => (r: LayerRow) => (r.time_ms ? { html: ms(f(r)), v: String(f(r)) } : dash);
  // An op that ran inside another's kernel has no time of its own: say where it ran.
  const median = (r: LayerRow) =>
    r.fused_into && r.time_ms ? { html: `<span class="fused" title="ran inside ${escapeHtml(r.fused_into)}'s kernel">in ${escapeHtml(r.fused_into)}</span>`, v: '0' } : t((x) => x.time_ms!.median)(r);
  return [
    { title: '#', help: 'execution order', num: true, cell: (_r, i) => ({ html: String(i + 1), v: String(i) }), className: 'ord' },
    {
      title: 'id',
      help: 'expanded op id: <layer>/<name>',
      num: false,
      cell: (r) => ({ html: escapeHtml(r.id), title: r.block ? `${r.id}: in layer ${r.layer} (${r.block})` : r.id }),
      className: 'id',
    },
    { title: 'op', help: 'op type', num: false, cell: (r) => ({ html: escapeHtml(r.op) }) },
    { title: 'output shape', help: 'N x C x H x W', num: false, cell: (r) => ({ html: escapeHtml(shapeX(r.output_shape)) }), className: 'mono' },
    { title: 'params', help: 'trainable parameters (hover for the exact count)', num: true, cell: count((r) => r.params) },
    { title: 'MACs', help: 'multiply-accumulates (hover for the exact count)', num: true, cell: count((r) => r.macs) },
    { title: 'FLOPs', help: 'floating-point operations (hover for the exact count)', num: true, cell: count((r) => r.flops) },
    { title: 'time median (ms)', help: 'median over the timed repeats', num: true, cell: median },
    { title: 'p10 (ms)', help: '10th percentile', num: true, cell: (r) => (r.fused_into ? { html: '', v: '0' } : t((x) => x.time_ms!.p10)(r)) },
    { title: 'p90 (ms)', help: '90th percentile', num: true, cell: (r) => (r.fused_into ? { html: '', v: '0' } : t((x) => x.time_ms!.p90)(r)) },
    {
      title: 'share of time (%)',
      help: 'share of the summed per-op medians',
      num: true,
      cell: (r) => {
        const s = share(r);
        return s === null ? dash : { html: s.toFixed(1), v: String(s) };
      },
    },
    { title: 'GFLOP/s', help: 'FLOPs / median time', num: true, cell: (r) => (r.gflops_per_s === null ? dash : { html: num3(r.gflops_per_s), v: String(r.gflops_per_s) }) },
    { title: 'FLOP/byte', help: 'arithmetic intensity: FLOPs per byte read and written', num: true, cell: (r) => ({ html: num3(r.arithmetic_intensity), v: String(r.arithmetic_intensity) }) },
    { title: 'output bytes', help: 'bytes of the output activation', num: true, cell: (r) => ({ html: bytes(r.output_bytes), v: String(r.output_bytes), title: `${exact(r.output_bytes)} B` }) },
    { title: 'formula', help: 'how the MACs were counted', num: false, cell: (r) => ({ html: escapeHtml(r.formula) }), className: 'formula' },
  ];
}

function table(report: Report): string {
  const total = layerTimeSum(report);
  const cols = columns((r) => (total !== null && total > 0 && r.time_ms ? (100 * r.time_ms.median) / total : null));
  const head = cols
    .map((c) => `<th scope="col" data-type="${c.num ? 'num' : 'str'}"${c.className ? ` class="${c.className}"` : ''} title="${escapeHtml(`${c.help}; click to sort`)}">${escapeHtml(c.title)}</th>`)
    .join('');
  const body = report.layers
    .map((r, i) => {
      const tds = cols
        .map((c) => {
          const { html, v, title } = c.cell(r, i);
          const cls = [c.num ? 'num' : '', c.className ?? ''].filter(Boolean).join(' ');
          return `<td${cls ? ` class="${cls}"` : ''}${v !== undefined ? ` data-v="${escapeHtml(v)}"` : ''}${title !== undefined ? ` title="${escapeHtml(title)}"` : ''}>${html}</td>`;
        })
        .join('');
      return `<tr data-i="${i}">${tds}</tr>`;
    })
    .join('\n');
  return `<table id="layers"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function stat(label: string, value: string, sub = ''): string {
  return `<div class="stat"><div class="label">${escapeHtml(label)}</div><div class="value">${escapeHtml(value)}</div>${sub ? `<div class="sub">${escapeHtml(sub)}</div>` : ''}</div>`;
}

function header(report: Report): string {
  const { model, totals, backend } = report;
  const stats = [
    stat('Params', siWord(totals.params, 'params'), `${exact(totals.params)}${totals.buffers ? ` + ${exact(totals.buffers)} buffers` : ''}`),
    stat('MACs', siUnit(totals.macs, 'MACs'), exact(totals.macs)),
    stat('FLOPs', siUnit(totals.flops, 'FLOPs'), exact(totals.flops)),
    stat('Parameter memory', bytes(totals.param_bytes)),
    stat('Peak live activations', bytes(totals.peak_bytes), `${bytes(totals.activation_bytes)} of outputs in all`),
    totals.time_ms !== null
      ? stat(
          'Forward time (median)',
          `${ms(totals.time_ms)} ms`,
          backend?.e2e_ms ? `p10 ${ms(backend.e2e_ms.p10)} ms, p90 ${ms(backend.e2e_ms.p90)} ms` : 'end to end',
        )
      : stat('Forward time', 'not profiled', 'inspect only: counts without execution'),
  ].join('');

  let run = '<p class="run">Not executed: shapes and counts only (<code>convscope inspect</code>).</p>';
  if (backend) {
    const facts = [
      backend.threads !== undefined ? `${backend.threads} threads` : '',
      backend.warmup !== undefined ? `${backend.warmup} warm-up runs` : '',
      backend.repeat !== undefined ? `${backend.repeat} timed repeats` : '',
      backend.first_run_ms !== undefined ? `first run ${ms(backend.first_run_ms)} ms` : '',
    ].filter(Boolean);
    const fallbacks = (backend.fallbacks ?? []).map((f) => `<li>${escapeHtml(f)}</li>`).join('');
    run =
      `<dl class="run">` +
      `<dt>Backend</dt><dd><b>${escapeHtml(backendLabel(backend))}</b> on ${escapeHtml(backend.adapter)}${facts.length ? ` · ${escapeHtml(facts.join(', '))}` : ''}</dd>` +
      (backend.reason ? `<dt>Why</dt><dd>${escapeHtml(backend.reason)}</dd>` : '') +
      `<dt>Timing</dt><dd>${escapeHtml(backend.timing)}</dd>` +
      (backend.roofline
        ? `<dt>Roofs</dt><dd>${escapeHtml(`${gflops(backend.roofline.peak_gflops_per_s)} peak compute, ${gbps(backend.roofline.bandwidth_gb_per_s)} memory bandwidth`)} <span class="muted">(${escapeHtml(backend.roofline.measured_by)})</span></dd>`
        : '') +
      (fallbacks ? `<dt>Not used</dt><dd><ul>${fallbacks}</ul></dd>` : '') +
      `</dl>`;
  }
  return (
    `<header><div class="kicker">Convscope report</div><h1>${escapeHtml(model.name)}</h1>` +
    `<p class="meta">input <code>${escapeHtml(shapeX(model.input_shape))}</code> → output <code>${escapeHtml(shapeX(model.output_shape))}</code>` +
    ` · ${report.layers.length} ops · created ${escapeHtml(report.created)}</p>` +
    `<div class="stats">${stats}</div>${run}</header>`
  );
}

const NOT_PROFILED = '<div class="empty"><p>not profiled (inspect only): run <code>convscope profile</code> to time the layers</p></div>';

function card(title: string, body: string, note = '', tools = ''): string {
  return `<section class="card"><div class="cardhead"><h2>${escapeHtml(title)}</h2>${tools}</div>${note ? `<p class="note">${escapeHtml(note)}</p>` : ''}${body}</section>`;
}

/** A per-op chart's card header: its title and the log-scale switch (counts and times span decades). */
function logSwitch(id: string): string {
  return `<label class="logswitch"><input type="checkbox" data-log="${id}"> log scale</label>`;
}

function charts(report: Report, memoryMode: 'live' | 'cumulative'): string {
  const timed = isTimed(report);
  const chart = (id: string) => `<div class="chart" id="${id}"></div>`;
  const zeroFlops = report.layers.filter((r) => !(r.flops > 0) || !(r.gflops_per_s !== null && r.gflops_per_s > 0)).length;
  const roof = report.backend?.roofline;
  const roofNote = roof
    ? ` Roofs measured on this backend: ${gflops(roof.peak_gflops_per_s)} peak compute, ${gbps(roof.bandwidth_gb_per_s)} memory bandwidth (${roof.measured_by}).`
    : ' This report carries no measured roofs (made before they were measured, or inspect only).';
  const many = report.layers.length > 40 ? ' Drag the slider under the axis to zoom in: labels that would overlap are left out until then.' : '';
  return (
    `<div class="grid">` +
    card('FLOPs per op', chart('chart-flops'), `Bars coloured by op type; click one to find it in the table.${many}`, logSwitch('chart-flops')) +
    card('Parameters per op', chart('chart-params'), '', logSwitch('chart-params')) +
    card('Time per op', timed ? chart('chart-time') : NOT_PROFILED, timed ? 'Median bar, p10–p90 whisker.' : '', timed ? logSwitch('chart-time') : '') +
    card(
      timed ? 'Share of time by layer' : 'Share of FLOPs by layer',
      chart('chart-share'),
      timed ? 'Ops summed under the layer (block) they belong to; the 12 largest, then the rest.' : 'Not profiled (inspect only): FLOPs shown in place of time.',
    ) +
    card(
      'Roofline: arithmetic intensity vs achieved GFLOP/s',
      timed ? chart('chart-roofline') : NOT_PROFILED,
      timed ? `Log axes; point size follows FLOPs.${zeroFlops ? ` ${zeroFlops} op(s) with no FLOPs are not plotted.` : ''}${roofNote}` : '',
    ) +
    card(
      memoryMode === 'live' ? 'Live activation memory' : 'Cumulative output memory',
      chart('chart-memory'),
      memoryMode === 'live'
        ? 'Bytes live while each op runs: outputs are allocated at their op and freed after their last reader.'
        : 'This report does not record which op reads which, so this is the running sum of output bytes, not live memory.',
    ) +
    `</div>`
  );
}

function isTimed(report: Report): boolean {
  return report.layers.length > 0 && report.layers.every((r) => r.time_ms !== null);
}

/**
 * Every chart's ECharts option, built by the same functions the workbench draws with
 * (src/shared/present/charts.ts), as JSON: `{ "<chart id>": { linear, log? } }`.
 */
export function chartOptions(report: Report, memory: MemoryTimeline): Record<string, { linear: unknown; log?: unknown }> {
  const c = LIGHT_CHART_COLORS;
  const bars = (metric: LayerMetric) => ({
    linear: layerBarsOption(report, metric, null, c, { whiskers: true }),
    log: layerBarsOption(report, metric, null, c, { whiskers: true, log: true }),
  });
  const out: Record<string, { linear: unknown; log?: unknown }> = {
    'chart-flops': bars('flops'),
    'chart-params': bars('params'),
    'chart-share': { linear: blockShareOption(report, c) },
    'chart-memory': { linear: memoryOption(memory, null, c) },
  };
  if (isTimed(report)) {
    out['chart-time'] = bars('time');
    out['chart-roofline'] = { linear: rooflineOption(report, null, c) };
  }
  return out;
}

const STYLE = `
:root { color-scheme: light; --fg: #1d2330; --muted: #667085; --line: #e4e7ec; --bg: #f6f7f9; --card: #fff; --accent: #4e79a7; --hl: #fff4c2; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1400px; margin: 0 auto; padding: 24px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
header { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 20px 24px; margin-bottom: 20px; }
.kicker { color: var(--accent); font-weight: 600; text-transform: uppercase; letter-spacing: .06em; font-size: 12px; }
h1 { margin: 4px 0 4px; font-size: 26px; overflow-wrap: anywhere; }
.meta { margin: 0 0 16px; color: var(--muted); }
.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: 12px; }
.stat { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.stat .label { color: var(--muted); font-size: 12px; }
.stat .value { font-size: 20px; font-weight: 600; }
.stat .sub { color: var(--muted); font-size: 12px; }
.run { margin: 16px 0 0; }
dl.run { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; }
.run dt { color: var(--muted); }
.run dd { margin: 0; overflow-wrap: anywhere; }
.run ul { margin: 0; padding-left: 18px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(600px, 1fr)); gap: 20px; margin-bottom: 20px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px; min-width: 0; }
.card h2 { margin: 0 0 2px; font-size: 16px; }
.note { margin: 0 0 8px; color: var(--muted); font-size: 12.5px; }
.chart { height: 380px; }
.empty { height: 340px; display: flex; align-items: center; justify-content: center; text-align: center; color: var(--muted); background: repeating-linear-gradient(45deg, #fafbfc, #fafbfc 10px, #f3f4f6 10px, #f3f4f6 20px); border-radius: 8px; padding: 0 24px; }
.cardhead { display: flex; align-items: baseline; gap: 12px; }
.logswitch { margin-left: auto; color: var(--muted); font-size: 12px; cursor: pointer; white-space: nowrap; }
.muted { color: var(--muted); }
.tablewrap { max-height: 75vh; overflow: auto; border: 1px solid var(--line); border-radius: 8px; }
/* Compact cells and wrapping headers keep all 15 columns on a laptop-width page; the formula,
   the one long text, wraps in whatever width is left. */
table { border-collapse: separate; border-spacing: 0; width: 100%; font-size: 12px; }
th, td { padding: 4px 7px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; background: var(--card); }
thead th { position: sticky; top: 0; background: #eef1f5; cursor: pointer; user-select: none; z-index: 2; white-space: normal; vertical-align: bottom; font-weight: 600; line-height: 1.2; }
thead th:hover { background: #e2e7ee; }
th[aria-sort=ascending]::after { content: " ▲"; font-size: 10px; }
th[aria-sort=descending]::after { content: " ▼"; font-size: 10px; }
td.num, th[data-type=num] { text-align: right; font-variant-numeric: tabular-nums; }
/* The op id stays in view while the table scrolls sideways (narrow windows). */
td.ord, th.ord { position: sticky; left: 0; z-index: 1; width: 3.2em; min-width: 3.2em; max-width: 3.2em; color: var(--muted); }
td.id, th.id { position: sticky; left: 3.2em; z-index: 1; box-shadow: inset -1px 0 0 var(--line); }
thead th.ord, thead th.id { z-index: 3; }
td.id { font-weight: 600; max-width: 16em; overflow: hidden; text-overflow: ellipsis; }
.fused { color: var(--muted); font-style: italic; }
td.formula { white-space: normal; overflow-wrap: anywhere; min-width: 12em; color: var(--muted); font-size: 11px; line-height: 1.3; }
tbody tr { cursor: pointer; }
tbody tr:hover td { background: #f5f8fc; }
tbody tr.hl td, tbody tr.hl:hover td { background: var(--hl); }
tbody tr.hl td:first-child { box-shadow: inset 3px 0 0 #e0b500; }
.tablehead { display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; }
#selected { color: var(--muted); font-size: 12.5px; overflow-wrap: anywhere; }
@media (max-width: 900px) { main { padding: 12px; } .grid { grid-template-columns: 1fr; } }
/* Paper: every row and every column, charts the width of the page, cards not split. */
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { background: #fff; font-size: 11px; }
  main { max-width: none; padding: 0; }
  header, .card { border: none; padding: 0; margin-bottom: 10px; }
  .grid { display: block; }
  .grid .card { break-inside: avoid; }
  .chart, .empty { height: 7.5cm; width: 100%; }
  .logswitch, .tablehead .note, #selected { display: none; }
  .tablewrap { max-height: none; overflow: visible; border: none; }
  table { font-size: 9px; }
  th, td { padding: 2px 4px; }
  thead { display: table-header-group; }
  thead th, td.ord, th.ord, td.id, th.id { position: static; }
  tbody tr { break-inside: avoid; }
  td.id { max-width: none; }
}
footer { color: var(--muted); font-size: 12px; margin-top: 16px; }
`;

/**
 * One self-contained HTML file: ECharts and the report inlined, no network access at all (the
 * CSP allows nothing but the page's own inline scripts, by hash, and inline styles).
 */
export function toHtml(report: Report, options: HtmlOptions = {}): string {
  const echarts = inlineScript((options.readEcharts ?? readEchartsFromNodeModules)(), 'the ECharts script');
  const app = inlineScript(CLIENT_SCRIPT, 'the report script');
  const memory = memoryTimeline(report);
  const csp = [
    "default-src 'none'",
    `script-src ${hashOf(echarts)} ${hashOf(app)}`,
    // ECharts' tooltips carry style attributes, and styles cannot fetch or run anything here.
    "style-src 'unsafe-inline'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  const env = report.environment;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="convscope ${escapeHtml(env.app_version)}">
<title>${escapeHtml(report.model.name)} · Convscope report</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${header(report)}
${charts(report, memory.mode)}
<section class="card">
<div class="tablehead"><h2>Layers</h2><span class="note">click a column header to sort (largest first), a row or a chart mark to highlight; hover a count for its exact value</span><span id="selected"></span></div>
<div class="tablewrap">
${table(report)}
</div>
</section>
<footer>${escapeHtml(report.schema)} · convscope ${escapeHtml(env.app_version)} · Node ${escapeHtml(env.node)} · ${escapeHtml(env.platform)} · ${escapeHtml(env.cpu)}</footer>
</main>
<script type="application/json" id="convscope-report">${jsonForScript(report)}</script>
<script type="application/json" id="convscope-memory">${jsonForScript(memory)}</script>
<script type="application/json" id="convscope-charts">${serializeOption(chartOptions(report, memory)).replace(/</g, '\\u003c')}</script>
<script>${echarts}</script>
<script>${app}</script>
</body>
</html>
`;
}

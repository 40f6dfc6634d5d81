import type { LayerRow, Report } from '../../shared/report.ts';
import { backendLabel } from '../../shared/backend-label.ts';
import { bytes, exact, ms, shapeX, sig, siUnit, siWord } from './format.ts';
import { CLIENT_SCRIPT } from './html-client.ts';
import { layerTimeSum } from './markdown.ts';
import { memoryTimeline } from './memory.ts';
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
  num: boolean;
  /** Cell text (already escaped) and, for numeric columns, the raw sort value ('' when missing). */
  cell(r: LayerRow, i: number): { html: string; v?: string };
  className?: string;
}

function columns(share: (r: LayerRow) => number | null): Column[] {
  const dash = { html: '—', v: '' };
  const t = (f: (r: LayerRow) => number) => (r: LayerRow) => (r.time_ms ? { html: ms(f(r)), v: String(f(r)) } : dash);
  // An op that ran inside another's kernel has no time of its own: say where it ran.
  const median = (r: LayerRow) =>
    r.fused_into && r.time_ms ? { html: `<span class="fused" title="ran inside ${escapeHtml(r.fused_into)}'s kernel">in ${escapeHtml(r.fused_into)}</span>`, v: '0' } : t((x) => x.time_ms!.median)(r);
  return [
    { title: '#', num: true, cell: (_r, i) => ({ html: String(i + 1), v: String(i) }) },
    { title: 'id', num: false, cell: (r) => ({ html: escapeHtml(r.id) }), className: 'id' },
    { title: 'layer', num: false, cell: (r) => ({ html: escapeHtml(r.block ? `${r.layer} (${r.block})` : r.layer) }) },
    { title: 'op', num: false, cell: (r) => ({ html: escapeHtml(r.op) }) },
    { title: 'output shape', num: false, cell: (r) => ({ html: escapeHtml(shapeX(r.output_shape)) }), className: 'mono' },
    { title: 'params', num: true, cell: (r) => ({ html: exact(r.params), v: String(r.params) }) },
    { title: 'MACs', num: true, cell: (r) => ({ html: exact(r.macs), v: String(r.macs) }) },
    { title: 'FLOPs', num: true, cell: (r) => ({ html: exact(r.flops), v: String(r.flops) }) },
    { title: 'time median (ms)', num: true, cell: median },
    { title: 'p10 (ms)', num: true, cell: (r) => (r.fused_into ? { html: '', v: '0' } : t((x) => x.time_ms!.p10)(r)) },
    { title: 'p90 (ms)', num: true, cell: (r) => (r.fused_into ? { html: '', v: '0' } : t((x) => x.time_ms!.p90)(r)) },
    {
      title: 'share of time (%)',
      num: true,
      cell: (r) => {
        const s = share(r);
        return s === null ? dash : { html: s.toFixed(1), v: String(s) };
      },
    },
    { title: 'GFLOP/s', num: true, cell: (r) => (r.gflops_per_s === null ? dash : { html: sig(r.gflops_per_s, 4), v: String(r.gflops_per_s) }) },
    { title: 'FLOP/byte', num: true, cell: (r) => ({ html: sig(r.arithmetic_intensity, 4), v: String(r.arithmetic_intensity) }) },
    { title: 'output bytes', num: true, cell: (r) => ({ html: bytes(r.output_bytes), v: String(r.output_bytes) }) },
    { title: 'formula', num: false, cell: (r) => ({ html: escapeHtml(r.formula) }), className: 'formula' },
  ];
}

function table(report: Report): string {
  const total = layerTimeSum(report);
  const cols = columns((r) => (total !== null && total > 0 && r.time_ms ? (100 * r.time_ms.median) / total : null));
  const head = cols.map((c) => `<th scope="col" data-type="${c.num ? 'num' : 'str'}">${escapeHtml(c.title)}</th>`).join('');
  const body = report.layers
    .map((r, i) => {
      const tds = cols
        .map((c) => {
          const { html, v } = c.cell(r, i);
          const cls = [c.num ? 'num' : '', c.className ?? ''].filter(Boolean).join(' ');
          return `<td${cls ? ` class="${cls}"` : ''}${v !== undefined ? ` data-v="${escapeHtml(v)}"` : ''}>${html}</td>`;
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

function card(title: string, body: string, note = ''): string {
  return `<section class="card"><h2>${escapeHtml(title)}</h2>${note ? `<p class="note">${escapeHtml(note)}</p>` : ''}${body}</section>`;
}

function charts(report: Report, memoryMode: 'live' | 'cumulative'): string {
  const timed = report.layers.length > 0 && report.layers.every((r) => r.time_ms !== null);
  const chart = (id: string) => `<div class="chart" id="${id}"></div>`;
  const zeroFlops = report.layers.filter((r) => !(r.flops > 0) || !(r.gflops_per_s !== null && r.gflops_per_s > 0)).length;
  return (
    `<div class="grid">` +
    card('FLOPs per op', chart('chart-flops'), 'Bars coloured by op type; click one to find it in the table.') +
    card('Parameters per op', chart('chart-params')) +
    card('Time per op', timed ? chart('chart-time') : NOT_PROFILED, timed ? 'Median bar, p10–p90 whisker.' : '') +
    card(
      timed ? 'Share of time by layer' : 'Share of FLOPs by layer',
      chart('chart-share'),
      timed ? 'Ops grouped under the layer (block) they belong to.' : 'Not profiled (inspect only): FLOPs shown in place of time.',
    ) +
    card(
      'Roofline: arithmetic intensity vs achieved GFLOP/s',
      timed ? chart('chart-roofline') : NOT_PROFILED,
      timed ? `Log axes; point size follows FLOPs.${zeroFlops ? ` ${zeroFlops} op(s) with no FLOPs are not plotted.` : ''}` : '',
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
.chart { height: 340px; }
.empty { height: 340px; display: flex; align-items: center; justify-content: center; text-align: center; color: var(--muted); background: repeating-linear-gradient(45deg, #fafbfc, #fafbfc 10px, #f3f4f6 10px, #f3f4f6 20px); border-radius: 8px; padding: 0 24px; }
.tablewrap { max-height: 75vh; overflow: auto; border: 1px solid var(--line); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
thead th { position: sticky; top: 0; background: #eef1f5; cursor: pointer; user-select: none; z-index: 1; }
thead th:hover { background: #e2e7ee; }
th[aria-sort=ascending]::after { content: " ▲"; font-size: 10px; }
th[aria-sort=descending]::after { content: " ▼"; font-size: 10px; }
td.num, th[data-type=num] { text-align: right; font-variant-numeric: tabular-nums; }
.fused { color: var(--muted); font-style: italic; }
td.id { font-weight: 600; }
td.formula { white-space: normal; min-width: 340px; color: var(--muted); font-size: 11.5px; }
tbody tr { cursor: pointer; }
tbody tr:hover { background: #f5f8fc; }
tbody tr.hl, tbody tr.hl:hover { background: var(--hl); outline: 2px solid #e0b500; outline-offset: -2px; }
.tablehead { display: flex; align-items: baseline; gap: 12px; }
#selected { color: var(--muted); font-size: 12.5px; overflow-wrap: anywhere; }
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
<div class="tablehead"><h2>Layers</h2><span class="note">click a column header to sort, a row or a chart mark to highlight</span><span id="selected"></span></div>
<div class="tablewrap">
${table(report)}
</div>
</section>
<footer>${escapeHtml(report.schema)} · convscope ${escapeHtml(env.app_version)} · Node ${escapeHtml(env.node)} · ${escapeHtml(env.platform)} · ${escapeHtml(env.cpu)}</footer>
</main>
<script type="application/json" id="convscope-report">${jsonForScript(report)}</script>
<script type="application/json" id="convscope-memory">${jsonForScript(memory)}</script>
<script>${echarts}</script>
<script>${app}</script>
</body>
</html>
`;
}

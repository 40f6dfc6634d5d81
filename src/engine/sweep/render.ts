/**
 * A sweep result as JSON, CSV (one row per value, raw integers), Markdown (the table docs and
 * issues paste) and a terminal table. Counts are exact; memory in binary units; errors in place of
 * a point's numbers.
 */
import { SpecError } from '../errors.ts';
import { csvField } from '../report/csv.ts';
import { bytes, exact, ms, shapeX } from '../../shared/present/format.ts';
import { escapeMarkdown } from '../report/markdown.ts';
import type { SweepPoint, SweepResult } from '../../shared/sweep.ts';

export const SWEEP_OUTPUT_FORMATS = ['json', 'csv', 'md', 'txt'] as const;
export type SweepOutputFormat = (typeof SWEEP_OUTPUT_FORMATS)[number];

const CSV_COLUMNS = ['value', 'params', 'buffers', 'macs', 'flops', 'param_bytes', 'activation_bytes', 'peak_bytes', 'time_ms', 'output_shape', 'error'] as const;

function csv(r: SweepResult): string {
  const rows = r.points.map((p) => {
    const t = p.totals;
    const counts = t ? [t.params, t.buffers, t.macs, t.flops, t.param_bytes, t.activation_bytes, t.peak_bytes].map(String) : Array<string>(7).fill('');
    return [String(p.value), ...counts, p.time_ms === null ? '' : String(p.time_ms), p.output_shape ? shapeX(p.output_shape) : '', p.error?.message ?? ''].map(csvField).join(',');
  });
  return [CSV_COLUMNS.join(','), ...rows].join('\r\n') + '\r\n';
}

/** The columns a person reads: counts exact, memory in MiB, time when timed, the error otherwise. */
function cells(r: SweepResult): { head: string[]; rows: string[][] } {
  const timed = r.points.some((p) => p.time_ms !== null);
  const failed = r.points.some((p) => p.error);
  const head = [r.param, 'params', 'MACs', 'FLOPs', 'weights', 'peak memory', ...(timed ? ['time ms'] : []), 'output', ...(failed ? ['error'] : [])];
  const row = (p: SweepPoint) => {
    const t = p.totals;
    const nums = t ? [exact(t.params), exact(t.macs), exact(t.flops), bytes(t.param_bytes), bytes(t.peak_bytes)] : ['', '', '', '', ''];
    return [String(p.value), ...nums, ...(timed ? [p.time_ms === null ? '' : ms(p.time_ms)] : []), p.output_shape ? shapeX(p.output_shape) : '', ...(failed ? [p.error?.message ?? ''] : [])];
  };
  return { head, rows: r.points.map(row) };
}

function markdown(r: SweepResult): string {
  const { head, rows } = cells(r);
  const line = (c: string[]) => `| ${c.map(escapeMarkdown).join(' | ')} |`;
  const out = [`# Convscope sweep: ${escapeMarkdown(r.name)}`, '', `- **Model** ${escapeMarkdown(r.model)}`, `- **Parameter** ${escapeMarkdown(r.parameter)}`];
  if (r.backend) out.push(`- **Backend** ${escapeMarkdown(r.backend.name)} on ${escapeMarkdown(r.backend.adapter)}; ${escapeMarkdown(r.backend.timing)}`);
  for (const f of r.backend?.fallbacks ?? []) out.push(`- **Not used** ${escapeMarkdown(f)}`);
  out.push('', line(head), `|${head.map((_, i) => (i === 0 || head[i] === 'output' || head[i] === 'error' ? ' --- ' : ' ---: ')).join('|')}|`, ...rows.map(line));
  return out.join('\n') + '\n';
}

function text(r: SweepResult): string {
  const { head, rows } = cells(r);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((c) => c[i].length)));
  const left = (i: number) => head[i] === 'output' || head[i] === 'error';
  const line = (c: string[]) => c.map((x, i) => (left(i) ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ').trimEnd();
  const out = [`sweep     ${r.name}`, `model     ${r.model}`, `parameter ${r.parameter}`];
  if (r.backend) out.push(`backend   ${r.backend.name} on ${r.backend.adapter}; timing: ${r.backend.timing}`);
  for (const f of r.backend?.fallbacks ?? []) out.push(`          not used: ${f}`);
  out.push('', line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line));
  const bad = r.points.filter((p) => p.error).length;
  if (bad) out.push('', `${bad} of ${r.points.length} values give no valid model (see "error")`);
  return out.join('\n') + '\n';
}

export function renderSweep(result: SweepResult, format: SweepOutputFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(result, null, 2) + '\n';
    case 'csv':
      return csv(result);
    case 'md':
      return markdown(result);
    case 'txt':
      return text(result);
  }
}

const BY_EXTENSION: Record<string, SweepOutputFormat> = { '.json': 'json', '.csv': 'csv', '.md': 'md', '.markdown': 'md', '.txt': 'txt' };

export function sweepFormatFromPath(path: string): SweepOutputFormat {
  const ext = /\.[^./\\]+$/.exec(path.toLowerCase())?.[0] ?? '';
  const f = BY_EXTENSION[ext];
  if (!f) throw new SpecError(`--out ${path}: cannot tell the format from "${ext || 'no extension'}"; use .json, .csv, .md or .txt`, undefined, 'out');
  return f;
}

import type { Report } from '../../shared/report.ts';
import { backendLabel } from '../../shared/backend-label.ts';
import { bytes, exact, ms, shapeX, siUnit, siWord } from '../../shared/present/format.ts';

/**
 * Text that came from the user (layer ids, model names) made inert: a `|` would split a table
 * cell, a line break would end the row, brackets could form a link and `<` could open raw HTML
 * in renderers that allow it. `_` and `*` stay as they are: op names are full of underscores and
 * the worst they can do is italicise.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\|`[\]]/g, (c) => `\\${c}`)
    .replace(/</g, '&lt;')
    .replace(/\r\n|[\r\n]/g, ' ');
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** Sum of the per-layer medians: the denominator of each layer's share of time. */
export function layerTimeSum(report: Report): number | null {
  if (report.layers.length === 0 || report.layers.some((r) => r.time_ms === null)) return null;
  return report.layers.reduce((s, r) => s + r.time_ms!.median, 0);
}

export function toMarkdown(report: Report): string {
  const { model, totals, backend } = report;
  const out: string[] = [];
  out.push(`# Convscope report: ${escapeMarkdown(model.name)}`, '');
  out.push(`- **Input** \`${shapeX(model.input_shape)}\` → **output** \`${shapeX(model.output_shape)}\``);
  if (backend) {
    const runs = [
      backend.threads !== undefined ? `${backend.threads} threads` : '',
      backend.warmup !== undefined ? `${backend.warmup} warm-up` : '',
      backend.repeat !== undefined ? `${backend.repeat} repeats` : '',
    ].filter(Boolean);
    out.push(`- **Backend** ${escapeMarkdown(backendLabel(backend))} on ${escapeMarkdown(backend.adapter)}${runs.length ? ` (${runs.join(', ')})` : ''}`);
    if (backend.reason) out.push(`- **Why** ${escapeMarkdown(backend.reason)}`);
    out.push(`- **Timing** ${escapeMarkdown(backend.timing)}`);
    for (const f of backend.fallbacks ?? []) out.push(`- **Not used** ${escapeMarkdown(f)}`);
  }
  out.push(
    `- **Params** ${siWord(totals.params, 'params')} (${exact(totals.params)})` +
      (totals.buffers ? `, plus ${siWord(totals.buffers, 'buffers')} (${exact(totals.buffers)})` : ''),
  );
  out.push(`- **Compute** ${siUnit(totals.macs, 'MACs')}, ${siUnit(totals.flops, 'FLOPs')}`);
  out.push(
    `- **Memory** parameters ${bytes(totals.param_bytes)}, activations ${bytes(totals.activation_bytes)}, peak live activations ${bytes(totals.peak_bytes)}`,
  );
  if (totals.time_ms !== null) {
    const e2e = backend?.e2e_ms;
    const spread = e2e ? ` (p10 ${ms(e2e.p10)}, p90 ${ms(e2e.p90)})` : '';
    out.push(`- **Time** ${ms(totals.time_ms)} ms end-to-end median${spread}`);
  } else {
    out.push('- **Time** not profiled (inspect only)');
  }
  out.push('');

  const total = layerTimeSum(report);
  const timed = total !== null;
  const header = ['#', 'id', 'op', 'output shape', 'params', 'MACs', 'FLOPs'];
  if (timed) header.push('time median (ms)', 'share of time (%)');
  out.push(row(header));
  out.push(row(header.map((_, i) => (i === 0 || i >= 4 ? '---:' : '---'))));
  report.layers.forEach((r, i) => {
    const cells = [
      String(i + 1),
      escapeMarkdown(r.id),
      escapeMarkdown(r.op),
      `\`${shapeX(r.output_shape)}\``,
      exact(r.params),
      exact(r.macs),
      exact(r.flops),
    ];
    if (timed && r.fused_into) cells.push(`in ${escapeMarkdown(r.fused_into)}`, '');
    else if (timed) cells.push(ms(r.time_ms!.median), total > 0 ? ((100 * r.time_ms!.median) / total).toFixed(1) : '0.0');
    out.push(row(cells));
  });
  const sums = ['', '**total**', '', '', exact(totals.params), exact(totals.macs), exact(totals.flops)];
  if (timed) sums.push(ms(total), '100.0');
  out.push(row(sums));
  if (timed) {
    out.push('', '_Shares are of the summed per-layer medians; the end-to-end time above also includes what happens between layers._');
  }
  out.push('', `_${escapeMarkdown(report.schema)}, created ${escapeMarkdown(report.created)} by convscope ${escapeMarkdown(report.environment.app_version)}._`, '');
  return out.join('\n');
}

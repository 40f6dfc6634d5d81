import { backendLabel } from '../shared/backend-label.ts';
import type { Report } from '../shared/report.ts';

export function human(n: number, unit = ''): string {
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toFixed(2)} G${unit}`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(2)} M${unit}`;
  if (abs >= 1e3) return `${(n / 1e3).toFixed(2)} K${unit}`;
  return `${n} ${unit}`.trim();
}

export function bytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(2)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

/** The terminal view of a report: a per-layer table and the totals. */
export function textTable(report: Report): string {
  const timed = report.layers.some((l) => l.time_ms !== null);
  const head = ['id', 'op', 'output', 'params', 'MACs', 'FLOPs', ...(timed ? ['median ms', 'GFLOP/s'] : [])];
  const rows = report.layers.map((l) => [
    l.id,
    l.op,
    l.output_shape.join('x'),
    l.params.toLocaleString('en-US'),
    l.macs.toLocaleString('en-US'),
    l.flops.toLocaleString('en-US'),
    ...(timed
      ? l.fused_into
        ? [`in ${l.fused_into}`, '']
        : [l.time_ms ? l.time_ms.median.toFixed(3) : '', l.gflops_per_s !== null ? l.gflops_per_s.toFixed(2) : '']
      : []),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const numeric = (i: number) => i >= 3;
  const line = (cells: string[]) => cells.map((c, i) => (numeric(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  const t = report.totals;
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line), ''];
  out.push(`model     ${report.model.name}: input ${report.model.input_shape.join('x')} -> output ${report.model.output_shape.join('x')}`);
  out.push(`params    ${t.params.toLocaleString('en-US')} (${human(t.params)}) + ${t.buffers.toLocaleString('en-US')} buffers`);
  out.push(`MACs      ${t.macs.toLocaleString('en-US')} (${human(t.macs, 'MAC')})`);
  out.push(`FLOPs     ${t.flops.toLocaleString('en-US')} (${human(t.flops, 'FLOP')})`);
  out.push(`memory    weights ${bytes(t.param_bytes)}, activations ${bytes(t.activation_bytes)}, peak live ${bytes(t.peak_bytes)}`);
  if (report.backend) {
    const b = report.backend;
    out.push(`backend   ${backendLabel(b)} on ${b.adapter}; timing: ${b.timing}`);
    if (b.reason) out.push(`          why: ${b.reason}`);
    if (b.fallbacks?.length) out.push(`          not used: ${b.fallbacks.join('; ')}`);
  }
  if (t.time_ms !== null) {
    const e = report.backend?.e2e_ms;
    out.push(`time      ${t.time_ms.toFixed(2)} ms median end to end${e ? ` (p10 ${e.p10.toFixed(2)}, p90 ${e.p90.toFixed(2)})` : ''}; first run ${report.backend?.first_run_ms?.toFixed(1)} ms`);
  }
  return out.join('\n') + '\n';
}

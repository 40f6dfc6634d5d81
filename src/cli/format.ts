import { backendLabel } from '../shared/backend-label.ts';
import { bytes, exact, gflops, ms, num3, shapeX, si, siUnit, siWord } from '../shared/present/format.ts';
import type { Report } from '../shared/report.ts';

/**
 * The terminal view of a report: a per-layer table and the totals. Counts, bytes, times and
 * rates read as they do in the workbench and the HTML report (src/shared/present/format.ts): the
 * table is compact, the totals give the exact integers as well.
 */
export function textTable(report: Report): string {
  const timed = report.layers.some((l) => l.time_ms !== null);
  const head = ['id', 'op', 'output', 'params', 'MACs', 'FLOPs', 'memory', ...(timed ? ['median ms', 'GFLOP/s'] : [])];
  const rows = report.layers.map((l) => [
    l.id,
    l.op,
    shapeX(l.output_shape),
    si(l.params),
    si(l.macs),
    si(l.flops),
    bytes(l.output_bytes),
    ...(timed ? (l.fused_into ? [`in ${l.fused_into}`, ''] : [l.time_ms ? ms(l.time_ms.median) : '', l.gflops_per_s !== null ? num3(l.gflops_per_s) : '']) : []),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const numeric = (i: number) => i >= 3;
  const line = (cells: string[]) => cells.map((c, i) => (numeric(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  const t = report.totals;
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line), ''];
  out.push(`model     ${report.model.name}: input ${shapeX(report.model.input_shape)} -> output ${shapeX(report.model.output_shape)}`);
  out.push(`params    ${exact(t.params)} (${siWord(t.params, 'params')}) + ${exact(t.buffers)} buffers`);
  out.push(`MACs      ${exact(t.macs)} (${siUnit(t.macs, 'MACs')})`);
  out.push(`FLOPs     ${exact(t.flops)} (${siUnit(t.flops, 'FLOPs')})`);
  out.push(`memory    weights ${bytes(t.param_bytes)}, activations ${bytes(t.activation_bytes)}, peak live ${bytes(t.peak_bytes)}`);
  if (report.backend) {
    const b = report.backend;
    out.push(`backend   ${backendLabel(b)} on ${b.adapter}; timing: ${b.timing}`);
    if (b.reason) out.push(`          why: ${b.reason}`);
    if (b.fallbacks?.length) out.push(`          not used: ${b.fallbacks.join('; ')}`);
    if (b.roofline) out.push(`roofs     ${gflops(b.roofline.peak_gflops_per_s)} peak, ${num3(b.roofline.bandwidth_gb_per_s)} GB/s memory (${b.roofline.measured_by})`);
  }
  if (t.time_ms !== null) {
    const e = report.backend?.e2e_ms;
    out.push(`time      ${t.time_ms.toFixed(2)} ms median end to end${e ? ` (p10 ${e.p10.toFixed(2)}, p90 ${e.p90.toFixed(2)})` : ''}; first run ${report.backend?.first_run_ms?.toFixed(1)} ms`);
  }
  return out.join('\n') + '\n';
}

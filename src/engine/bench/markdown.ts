/** The bench report as Markdown tables, the form docs/performance.md quotes. */
import type { BenchReport, CaseReport, CaseResult } from './report.ts';

function ms(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3);
}

function rate(c: CaseReport, r: CaseResult): string {
  if (c.bound === 'memory' || c.flops === 0) return `${r.gb_per_s!.toFixed(1)} GB/s`;
  return `${r.gflops_per_s!.toFixed(1)} GFLOP/s`;
}

function cell(r: CaseResult | undefined): string {
  if (!r) return '';
  switch (r.status) {
    case 'ok':
      return `${ms(r.time_ms!.median)} ms ±${(r.spread! * 50).toFixed(0)}%`;
    case 'wrong':
      return `WRONG (${ms(r.time_ms!.median)} ms, err ${r.check?.max_err?.toExponential(1) ?? 'n/a'})`;
    case 'unsupported':
      return 'n/a';
    case 'unavailable':
      return 'unavailable';
    case 'error':
      return 'error';
  }
}

function ratio(x: number | null | undefined): string {
  return x === null || x === undefined ? '' : ` (${x.toFixed(2)}x)`;
}

export function renderBenchMarkdown(report: BenchReport): string {
  const backends = report.runners.filter((r) => r.kind === 'backend');
  const peers = report.runners.filter((r) => r.kind === 'peer');
  const lead = backends[0]?.id;
  const lines: string[] = [];
  const m = report.machine;
  lines.push(
    `Machine: ${m.cpu}, ${m.cores} cores, ${(m.memory_bytes / 1024 ** 3).toFixed(0)} GiB, ${m.platform}, Node ${m.node}; ` +
      `${report.settings.threads} threads; ${report.settings.warmup} warm-up runs, then at least ${report.settings.repeat} timed runs` +
      (report.settings.min_time_ms > 0 ? ` and ${report.settings.min_time_ms} ms` : '') +
      ` per case` +
      (report.settings.rounds > 1 ? `, best of ${report.settings.rounds} rounds per runner (the round with the lowest median)` : '') +
      `${report.settings.quick ? ' (quick mode: not for quoting)' : ''}.`,
  );
  if (report.peak.fma_gflops) lines.push(`FMA peak of ${report.settings.threads} threads: ${report.peak.fma_gflops} GFLOP/s (${report.peak.fma_source}).`);
  lines.push('');
  lines.push(`Times are medians, ± half the p10-p90 range. In brackets: ${lead ?? 'the backend'}'s median time over the peer's (below 1: ${lead ?? 'the backend'} is faster).`);
  lines.push('');
  for (const group of ['ops', 'models'] as const) {
    const cases = report.cases.filter((c) => c.group === group);
    if (cases.length === 0) continue;
    const head = ['case', ...backends.map((b) => b.id), 'rate', ...(report.peak.fma_gflops ? ['of FMA peak'] : []), ...peers.map((p) => p.id)];
    lines.push(`| ${head.join(' | ')} |`);
    lines.push(`|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`);
    for (const c of cases) {
      const leadResult = lead ? c.results[lead] : undefined;
      const row = [
        c.title,
        ...backends.map((b) => cell(c.results[b.id])),
        leadResult?.status === 'ok' ? rate(c, leadResult) : '',
        ...(report.peak.fma_gflops ? [leadResult?.status === 'ok' && leadResult.of_fma_peak != null ? `${(leadResult.of_fma_peak * 100).toFixed(0)}%` : ''] : []),
        ...peers.map((p) => cell(c.results[p.id]) + (lead ? ratio(c.ratios[lead]?.[p.id]) : '')),
      ];
      lines.push(`| ${row.join(' | ')} |`);
    }
    lines.push('');
  }
  lines.push('| runner | runtime | threads | peak RSS |');
  lines.push('| --- | --- | ---: | ---: |');
  for (const r of report.runners) {
    const rss = r.peak_rss_bytes ? `${(r.peak_rss_bytes / 1024 ** 2).toFixed(0)} MiB` : '';
    lines.push(`| ${r.id} | ${r.status === 'ok' ? r.runtime : `${r.status}: ${r.reason}`} | ${r.threads ?? ''} | ${rss} |`);
  }
  const notes = report.cases.flatMap((c) =>
    Object.entries(c.results)
      .filter(([, r]) => r.status !== 'ok' && r.reason && r.status !== 'unavailable')
      .map(([id, r]) => `- ${c.id} on ${id}: ${r.status}: ${r.reason}`),
  );
  if (notes.length > 0) lines.push('', ...notes);
  return lines.join('\n') + '\n';
}

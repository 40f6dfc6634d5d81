import type { LayerRow, Report } from '../../shared/report.ts';
import { shapeX, sig } from '../../shared/present/format.ts';

export const CSV_COLUMNS = [
  'id',
  'layer',
  'block',
  'op',
  'input_shapes',
  'output_shape',
  'params',
  'buffers',
  'macs',
  'flops',
  'output_bytes',
  'bytes_moved',
  'arithmetic_intensity',
  'time_median_ms',
  'time_p10_ms',
  'time_p90_ms',
  'gflops_per_s',
  'fused_into',
  'formula',
] as const;

/** RFC 4180: quote a field holding a comma, quote or line break, doubling its quotes. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function cells(r: LayerRow): string[] {
  const t = r.time_ms;
  return [
    r.id,
    r.layer,
    r.block ?? '',
    r.op,
    r.input_shapes.map(shapeX).join(';'),
    shapeX(r.output_shape),
    String(r.params),
    String(r.buffers),
    String(r.macs),
    String(r.flops),
    String(r.output_bytes),
    String(r.bytes_moved),
    sig(r.arithmetic_intensity),
    t ? sig(t.median) : '',
    t ? sig(t.p10) : '',
    t ? sig(t.p90) : '',
    r.gflops_per_s === null ? '' : sig(r.gflops_per_s),
    r.fused_into ?? '',
    r.formula,
  ];
}

/** One row per layer under a header row; CRLF line ends as RFC 4180 has them. */
export function toCsv(report: Report): string {
  const lines = [CSV_COLUMNS.join(','), ...report.layers.map((r) => cells(r).map(csvField).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}

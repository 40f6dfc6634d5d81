import { SpecError } from '../errors.ts';
import type { Report } from '../../shared/report.ts';
import { toCsv } from './csv.ts';
import { toHtml, type HtmlOptions } from './html.ts';
import { toJson } from './json.ts';
import { toMarkdown } from './markdown.ts';
import { toTrace } from './trace.ts';

export { parseReport, validateReport, toJson, ReportError } from './json.ts';
export { toCsv } from './csv.ts';
export { toMarkdown } from './markdown.ts';
export { toHtml, escapeHtml, type HtmlOptions } from './html.ts';
export { toTrace, toTraceObject } from './trace.ts';
export { memoryTimeline } from './memory.ts';

export const REPORT_FORMATS = ['json', 'csv', 'md', 'html', 'trace'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function renderReport(report: Report, format: ReportFormat, options: HtmlOptions = {}): string {
  switch (format) {
    case 'json':
      return toJson(report);
    case 'csv':
      return toCsv(report);
    case 'md':
      return toMarkdown(report);
    case 'html':
      return toHtml(report, options);
    case 'trace':
      return toTrace(report);
    default:
      throw new Error(`unknown report format ${JSON.stringify(format)}; use one of ${REPORT_FORMATS.join(', ')}`);
  }
}

const BY_EXTENSION: Record<string, ReportFormat> = {
  '.json': 'json',
  '.csv': 'csv',
  '.md': 'md',
  '.markdown': 'md',
  '.html': 'html',
  '.htm': 'html',
};

/**
 * The format an output path asks for. A trace is also `.json`, so it is never guessed: it has
 * its own option (`--trace`). An unknown extension is the user's argument to fix (SpecError).
 */
export function formatFromPath(path: string): ReportFormat {
  const name = path.split(/[\\/]/).pop() ?? path;
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 ? name.slice(dot).toLowerCase() : '';
  const format = BY_EXTENSION[ext];
  if (!format) {
    throw new SpecError(
      `--out ${path}: cannot tell the report format from ${ext ? `the extension "${ext}"` : 'a name without an extension'}; ` +
        'use .json, .csv, .md, .html or .htm (a Chrome trace is written with --trace)',
      undefined,
      'out',
    );
  }
  return format;
}

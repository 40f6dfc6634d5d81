import { z } from 'zod';
import { REPORT_SCHEMA, type Report } from '../../shared/report.ts';
import { reportSchema } from '../../shared/report-schema.ts';

/** A report file that cannot be read: not JSON, another schema, or a field of the wrong kind. */
export class ReportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportError';
  }
}

/** The report as a file: pretty JSON with 2-space indentation and a trailing newline. */
export function toJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

// The schema lives in src/shared so the renderer and Electron main validate with the same one.

/** Reads a report file's text; throws ReportError naming the field (and layer) that is wrong. */
export function parseReport(text: string): Report {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ReportError(`the report is not valid JSON: ${(e as Error).message}`);
  }
  return validateReport(value);
}

/** Checks an already-parsed value against convscope.report/v1 and returns it typed. */
export function validateReport(value: unknown): Report {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ReportError(`not a convscope report: expected a JSON object with "schema": "${REPORT_SCHEMA}"`);
  }
  const schema = (value as { schema?: unknown }).schema;
  if (schema === undefined) {
    throw new ReportError(`not a convscope report: it has no "schema" field (expected "${REPORT_SCHEMA}"; a model spec is opened with \`convscope inspect\`, not as a report)`);
  }
  if (schema !== REPORT_SCHEMA) {
    throw new ReportError(`unsupported report schema ${JSON.stringify(schema)}: this version of convscope reads "${REPORT_SCHEMA}"`);
  }
  const result = reportSchema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const shown = issues.slice(0, 3).map((issue) => `${where(issue.path, value)}: ${describe(issue)}`);
  const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : '';
  throw new ReportError(`invalid convscope report: ${shown.join('; ')}${more}`);
}

/** `layers[2] (id "conv1").macs`: the index alone is useless in a report with 200 rows. */
function where(path: PropertyKey[], value: unknown): string {
  let text = '';
  let node: unknown = value;
  for (let i = 0; i < path.length; i++) {
    const key = path[i];
    if (typeof key === 'number') {
      text += `[${key}]`;
      node = Array.isArray(node) ? node[key] : undefined;
      const id = node !== null && typeof node === 'object' ? (node as { id?: unknown }).id : undefined;
      if (typeof id === 'string' && id !== '' && i < path.length - 1) text += ` (id ${JSON.stringify(id)})`;
    } else {
      text += `${text ? '.' : ''}${String(key)}`;
      node = node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined;
    }
  }
  return text || 'report';
}

function describe(issue: z.core.$ZodIssue): string {
  const text = issue.message.replace(/^Invalid input: /, '');
  return text.replace(/^expected (.+), received undefined$/, 'missing (expected $1)');
}

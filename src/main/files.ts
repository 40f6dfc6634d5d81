/** Design files and report files on disk, for Electron main; plain Node, tested without Electron. */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { modelSpecSchema } from '../shared/report-schema.ts';
import { describeIssues } from '../shared/protocol.ts';
import type { ModelSpec } from '../shared/spec.ts';
import type { OpenedDesign } from '../shared/ipc.ts';

export const DESIGN_EXTENSION = '.convscope.json';

/** A file the user picked that is not a design: the message says which file and why. */
export class DesignFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DesignFileError';
  }
}

export function readDesign(path: string): OpenedDesign {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DesignFileError(`${basename(path)} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new DesignFileError(`${basename(path)} is not JSON: ${(err as Error).message}`);
  }
  const parsed = modelSpecSchema.safeParse(value);
  if (!parsed.success) throw new DesignFileError(`${basename(path)} is not a convscope/v1 design: ${describeIssues(parsed.error)}`);
  return { spec: parsed.data, path, name: basename(path) };
}

/** Writes through a temporary file and a rename, so a crash mid-write never leaves half a design. */
export function writeAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

export function designText(spec: ModelSpec): string {
  return `${JSON.stringify(spec, null, 2)}\n`;
}

export function writeDesign(path: string, spec: ModelSpec): void {
  writeAtomic(path, designText(spec));
}

/** `name` with `ext` unless it already ends with it (a save dialog returns what the user typed). */
export function withExtension(path: string, ext: string): string {
  return path.toLowerCase().endsWith(ext.toLowerCase()) ? path : `${path}${ext}`;
}

/** A safe default file name for a design called `name`. */
export function designFileName(name: string): string {
  const base = name.trim().replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'design';
  return `${base}${DESIGN_EXTENSION}`;
}

/** Design files and report files on disk, for Electron main; plain Node, tested without Electron. */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { modelSpecSchema } from '../shared/report-schema.ts';
import { describeIssues } from '../shared/protocol.ts';
import type { ModelSpec } from '../shared/spec.ts';
import type { OpenedAny, OpenedDesign } from '../shared/ipc.ts';
import { MAX_ONNX_BYTES } from '../shared/protocol.ts';

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

/**
 * What File > Open picked: an .onnx file's bytes (the engine turns them into a design; a file
 * that is not ONNX is refused there, by the importer, with the reason), else a design.
 */
export function readOpenable(path: string): OpenedAny {
  if (!path.toLowerCase().endsWith('.onnx')) return readDesign(path);
  let size: number;
  try {
    size = statSync(path).size;
  } catch (err) {
    throw new DesignFileError(`${basename(path)} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  // Checked before reading: a file ONNX itself cannot hold is refused without loading gigabytes.
  if (size > MAX_ONNX_BYTES) throw new DesignFileError(`${basename(path)} is ${(size / 2 ** 30).toFixed(1)} GiB; an ONNX file holds at most 2 GiB (larger models keep their weights in external data files, which the workbench does not open: use \`convscope inspect\`)`);
  const data = readFileSync(path);
  return { kind: 'onnx', path, name: basename(path), data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** Writes through a temporary file and a rename, so a crash mid-write never leaves half a design. */
export function writeAtomic(path: string, text: string | Uint8Array): void {
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

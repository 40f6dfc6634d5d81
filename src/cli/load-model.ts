import { readFileSync, existsSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { SpecError } from '../engine/errors.ts';
import { ModelWithWeights } from '../engine/graph/plan.ts';
import { closest } from '../engine/graph/validate.ts';
import { importOnnx } from '../engine/onnx/import.ts';
import { getPreset, PRESETS } from '../engine/presets/index.ts';

/**
 * A file the user named, read whole. A path that cannot be read (missing, a directory, no
 * permission) is the user's argument to fix, so it is a SpecError (exit 2), not a stack trace.
 */
export function readUserFile(path: string, what: string): Buffer {
  try {
    if (statSync(path).isDirectory()) throw new SpecError(`${what} ${path}: is a directory, not a file`, undefined, what);
    return readFileSync(path);
  } catch (err) {
    if (err instanceof SpecError) throw err;
    throw new SpecError(`${what} ${path}: cannot read it (${ioReason(err)})`, undefined, what);
  }
}

/** `ENOENT: no such file or directory` without the syscall and path Node appends. */
export function ioReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.code === 'string') {
    const text = /^\w+: ([^,]+)/.exec(e.message)?.[1];
    return text ? `${e.code}: ${text}` : e.code;
  }
  return String((err as Error)?.message ?? err);
}

/** `<model>`: a preset id, a `*.convscope.json` spec file, or an ONNX file (see loadOnnx). */
export function loadModelSpec(model: string): unknown {
  const preset = getPreset(model);
  if (preset && !existsSync(model)) return preset.build();
  if (!existsSync(model)) {
    // A path (a folder or an extension in it) was meant as a file; a bare word as a preset.
    if (/[\\/]|\.[a-z0-9]+$/i.test(model)) throw new SpecError(`file not found: ${model}`, undefined, 'model');
    const hint = closest(model, PRESETS.keys());
    throw new SpecError(`model "${model}" is neither a file nor a preset${hint ? `; did you mean "${hint}"?` : ''}; presets: ${[...PRESETS.keys()].join(', ')}`, undefined, 'model');
  }
  const ext = extname(model).toLowerCase();
  if (ext === '.onnx') return loadOnnx(model);
  const text = readUserFile(model, 'model').toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new SpecError(`${model}: not valid JSON (${jsonErrorText(text, (err as Error).message)})`, undefined, 'model');
  }
}

/** V8's JSON message on one line (it may quote the text, newlines and all), with a line and column. */
function jsonErrorText(text: string, message: string): string {
  const oneLine = message.replace(/\r?\n/g, '\\n');
  const pos = /at position (\d+)/.exec(message);
  if (!pos || /\(line \d+/.test(message)) return oneLine;
  const before = text.slice(0, Number(pos[1])).split('\n');
  return `${oneLine}, line ${before.length} column ${before[before.length - 1].length + 1}`;
}

/**
 * An ONNX file as a spec with the file's weights (buildPlan takes it like a spec). External
 * data files are read relative to the model's folder; the batch, when symbolic, is 1 until
 * --batch replaces it.
 */
function loadOnnx(model: string): ModelWithWeights {
  const bytes = readUserFile(model, 'model');
  const folder = dirname(model);
  // The bytes are read for this import alone: the weights become views onto them (ownBytes), so
  // a 500 MB file is in memory once, not twice.
  const { spec, weights } = importOnnx(bytes, {
    source: model,
    ownBytes: true,
    readExternal: (location) => readUserFile(join(folder, location), `external data of ${model}:`),
  });
  return new ModelWithWeights(spec, weights);
}

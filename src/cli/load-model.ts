import { readFileSync, existsSync } from 'node:fs';
import { extname } from 'node:path';
import { SpecError } from '../engine/errors.ts';
import { getPreset, PRESETS } from '../engine/presets/index.ts';

/** `<model>`: a preset id, a `*.convscope.json` spec file, or (later) an ONNX file. */
export function loadModelSpec(model: string): unknown {
  const preset = getPreset(model);
  if (preset && !existsSync(model)) return preset.build();
  if (!existsSync(model)) {
    throw new SpecError(`model "${model}" is neither a file nor a preset; presets: ${[...PRESETS.keys()].join(', ')}`, undefined, 'model');
  }
  const ext = extname(model).toLowerCase();
  if (ext === '.onnx') {
    throw new SpecError(`${model}: reading ONNX models is not supported yet; give a .convscope.json spec or a preset`, undefined, 'model');
  }
  const text = readFileSync(model, 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new SpecError(`${model}: not valid JSON (${(err as Error).message})`, undefined, 'model');
  }
}

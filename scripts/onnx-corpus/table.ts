/**
 * The corpus table in docs/onnx.md, from what generate.py wrote (meta.json) and what
 * test/onnx-corpus.test.ts measured (results.json), so no figure is typed in by hand:
 *
 *     npx tsx scripts/onnx-corpus/table.ts            # print it
 *     npx tsx scripts/onnx-corpus/table.ts --write    # replace it in docs/onnx.md
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const corpus = process.env.CONVSCOPE_CORPUS ?? join(root, 'test', 'corpus');
const resultsFile = join(corpus, 'results.json');
const results = existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as Record<string, Record<string, unknown>>) : {};

const millions = (n: number) => (n / 1e6).toFixed(2);
const err = (v: unknown) => (typeof v === 'number' ? v.toExponential(1) : '-');

const rows = readdirSync(corpus)
  .filter((m) => existsSync(join(corpus, m, 'meta.json')))
  .sort()
  .map((m) => {
    const meta = JSON.parse(readFileSync(join(corpus, m, 'meta.json'), 'utf8'));
    const r = results[m] ?? {};
    const status = Array.isArray(r.refused) ? `refused: ${(r.refused as string[]).join(', ')}` : typeof r.cpu_vs_onnxruntime === 'number' ? 'imports, runs' : 'not tested';
    return `| ${m} | ${meta.input_shape.slice(2).join('x')} | ${(meta.file_bytes / 1e6).toFixed(1)} | ${millions(meta.torch_parameters)} | ${millions(meta.file_float_initializer_elements_per_use)} | ${(meta.hook_macs.total / 1e9).toFixed(3)} | ${status} | ${err(r.cpu_vs_onnxruntime)} | ${err(r.cpu_vs_pytorch)} | ${err(r.webgpu_vs_onnxruntime)} |`;
  });

const table = [
  '| model | input | file MB | torch params (M) | file weights (M, per use) | GMACs (hooks) | today | cpu vs onnxruntime | cpu vs PyTorch | webgpu vs onnxruntime |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows,
].join('\n');

if (process.argv.includes('--write')) {
  const doc = join(root, 'docs', 'onnx.md');
  const text = readFileSync(doc, 'utf8');
  const start = '<!-- corpus-table -->';
  const end = '<!-- /corpus-table -->';
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${doc}: no ${start} ... ${end} markers`);
  writeFileSync(doc, `${text.slice(0, a + start.length)}\n${table}\n${text.slice(b)}`);
} else {
  console.log(table);
}

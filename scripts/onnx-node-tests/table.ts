/**
 * Writes docs/onnx-node-tests.md, the pass table of ONNX's node tests, from a run of the same
 * harness test/onnx-node.test.ts uses (test/helpers/onnx-node.ts) on the CPU reference, the CPU
 * backend and WebGPU (CONVSCOPE_WEBGPU_TESTS=0: not run).
 *
 *   /usr/bin/python3 scripts/onnx-node-tests/generate.py   # the data, once
 *   npx tsx scripts/onnx-node-tests/table.ts [--out FILE|-]
 *
 * Exit status 1 when a case fails on a backend or is refused unexpectedly (the table is written
 * anyway, naming them), 2 when there is no data.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CpuBackend } from '../../src/engine/backends/cpu/backend.ts';
import { InlineCpuBackend } from '../../src/engine/backends/cpu/inline.ts';
import type { Backend } from '../../src/engine/backends/types.ts';
import { IMPORTED_ONNX_OPS } from '../../src/engine/onnx/import.ts';
import {
  ATOL,
  BACKENDS,
  GENERATE_COMMAND,
  listNodeTests,
  NODE_TESTS_DIR,
  nodeTestsPresent,
  nodeTestsVersion,
  RTOL,
  runNodeTest,
  type BackendOutcome,
  type NodeTestResult,
} from '../../test/helpers/onnx-node.ts';
import { CASES, expectedRefusal, REVIEWED_OPS, RULES } from '../../test/helpers/onnx-node-refusals.ts';
import { resolveBackend } from '../../src/engine/backends/registry.ts';
import { WEBGPU_TESTS } from '../../test/helpers/webgpu.ts';

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args[outAt + 1] : fileURLToPath(new URL('../../docs/onnx-node-tests.md', import.meta.url));

if (!nodeTestsPresent()) {
  process.stderr.write(`no ONNX node test data in ${NODE_TESTS_DIR}/node; generate it with ${GENERATE_COMMAND}\n`);
  process.exit(2);
}

const reference = new InlineCpuBackend('node tests');
const cpu = await CpuBackend.create({ threads: 2, minParallelWork: 0, kernels: 'wasm' });
const webgpu: Backend | null = WEBGPU_TESTS ? (await resolveBackend('webgpu')).backend : null;
const tests = listNodeTests();
const results: NodeTestResult[] = [];
const started = performance.now();
for (const t of tests.filter((c) => c.claimed)) results.push(await runNodeTest(t, { reference, cpu, webgpu }, { webgpu: 'CONVSCOPE_WEBGPU_TESTS=0' }));
const seconds = (performance.now() - started) / 1000;

const reviewed = new Set(REVIEWED_OPS);
const problems: string[] = [];

/** The short reason of a refusal, and whether the refusal list expects it. */
function why(r: NodeTestResult): { text: string; expected: boolean } {
  const known = expectedRefusal(r.name, r.facts, r.refusal!);
  if (known) return { text: known, expected: true };
  const message = r.refusal!.split('\n')[0].replace(`${r.name}: `, '').replace(/^node \(unnamed, output "[^"]*"\) \(\w+\): /, '');
  return { text: `${reviewed.has(r.op) ? 'UNEXPECTED' : 'not reviewed yet'}: ${message}`, expected: false };
}

for (const r of results) {
  if (r.status === 'refused') {
    const w = why(r);
    if (!w.expected && reviewed.has(r.op)) problems.push(`${r.name}: refused unexpectedly: ${r.refusal}`);
  } else {
    for (const b of BACKENDS) {
      const o = r.backends[b];
      if (o?.status === 'failed') problems.push(`${r.name} on ${b}: ${o.detail}`);
    }
  }
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const passed = (rs: NodeTestResult[], b: (typeof BACKENDS)[number]) => rs.filter((r) => r.backends[b]?.status === 'passed').length;
const outcome = (o: BackendOutcome | undefined) => (!o ? '' : o.status === 'passed' ? 'pass' : o.status === 'skipped' ? 'not run' : `${o.status.toUpperCase()}: ${o.detail}`);

const ops = [...IMPORTED_ONNX_OPS].sort();
const rows = ops.map((op) => {
  const all = tests.filter((t) => t.op === op);
  const mine = results.filter((r) => r.op === op);
  const reasons = new Map<string, number>();
  for (const r of mine.filter((x) => x.status === 'refused')) {
    const text = why(r).text;
    reasons.set(text, (reasons.get(text) ?? 0) + 1);
  }
  const refused = mine.filter((r) => r.status === 'refused').length;
  const webgpuCell = webgpu ? String(passed(mine, 'webgpu')) : 'not run';
  const reasonText = [...reasons].map(([text, n]) => `${text} (${n})`).join('; ');
  const name = all.length === 0 ? `${op} (no node test in this onnx)` : op;
  return `| ${name} | ${all.length} | ${mine.length} | ${passed(mine, 'cpu')} | ${webgpuCell} | ${refused} | ${cell(reasonText)} |`;
});

const total = (f: (r: NodeTestResult) => boolean) => results.filter(f).length;
const stale = Object.keys(CASES).filter((name) => results.find((r) => r.name === name)?.status === 'ran');
const unreviewed = ops.filter((op) => !reviewed.has(op));
const detail = results.map((r) => {
  const cells = r.status === 'refused' ? ['refused', 'refused', `${why(r).text}: ${r.refusal!.split('\n')[0].replace(`${r.name}: `, '')}`] : [outcome(r.backends.cpu), outcome(r.backends.webgpu), r.backends.reference?.status === 'passed' ? '' : `reference: ${outcome(r.backends.reference)}`];
  return `| ${r.name} | ${r.op} | ${cells.map(cell).join(' | ')} |`;
});

const md = `# ONNX node tests

ONNX's own backend node tests (the test data of the \`onnx\` package: one small model per case with
its inputs and expected outputs) for every op convscope's importer claims, run by
\`test/onnx-node.test.ts\`. This page is written by \`npx tsx scripts/onnx-node-tests/table.ts\`
from one run; regenerate it after the importer gains ops (nothing else needs to change: the cases
run are those whose ops are all in \`IMPORTED_ONNX_OPS\`, \`src/engine/onnx/import.ts\`).

- Data: ${nodeTestsVersion() ?? 'unknown onnx version'}, ${tests.length} node tests, generated by
  \`${GENERATE_COMMAND}\` (Debian's python3-onnx ships the generators, not the data) into
  \`test/data/onnx-node/\` (gitignored).
- Backends: the CPU reference (TypeScript kernels, inline, unfused) must pass every case that imports;
  **cpu** is the CPU backend (${cpu.adapter}, every op split across both threads);
  **webgpu** is ${webgpu ? webgpu.adapter : 'not run (CONVSCOPE_WEBGPU_TESTS=0)'}.
- Tolerance: ONNX's backend runner's, \`numpy.testing.assert_allclose(rtol=${RTOL}, atol=${ATOL})\`:
  |got - expected| <= ${ATOL} + ${RTOL} * |expected| per element, and the same shape.
- One input: a convscope model has one input tensor, a node test feeds every operand (Conv's W,
  BatchNormalization's statistics, Reshape's shape) as a graph input. Each case runs as a
  rewritten model whose first float32 input stays the input and whose other inputs are
  initializers holding the case's data, like the weights of an exported model.
- Refused: the importer said no with a SpecError (the reason, in a few words, is below; every
  message is in the list of cases). \`test/helpers/onnx-node-refusals.ts\` lists the expected
  refusals with their reasons; for the ops reviewed there, any other refusal fails the suite.
  Most node tests of element-wise ops feed 1-D to 3-D tensors (\`[3, 4, 5]\`), which a convscope
  model (one \`[N, C, H, W]\` input) cannot take, whatever the op. The reasons that come from the
  model format rather than an op:
${RULES.map((r) => `  - *${r.why}*: ${r.detail}.`).join('\n')}

Totals: ${results.length} cases run (all ops claimed) of the ${tests.filter((t) => IMPORTED_ONNX_OPS.has(t.op)).length} cases of
these ops; passed on cpu ${total((r) => r.backends.cpu?.status === 'passed')}, on webgpu ${webgpu ? total((r) => r.backends.webgpu?.status === 'passed') : 'not run'};
refused ${total((r) => r.status === 'refused')}; failed ${problems.length}.

| ONNX op | node tests | run | passed (cpu) | passed (webgpu) | refused | why refused (cases) |
| --- | ---: | ---: | ---: | ---: | ---: | --- |
${rows.join('\n')}

"node tests" counts every case of the op, "run" those whose ops are all claimed: the others are
\`_expanded\` cases, the op's function body written out in ops the importer does not claim.
${unreviewed.length > 0 ? `\nOps claimed but not yet reviewed in the refusal list (their refusals are recorded, not checked): ${unreviewed.join(', ')}.\n` : ''}${stale.length > 0 ? `\nListed as expected refusals but now passing (take them off the list): ${stale.join(', ')}.\n` : ''}${problems.length > 0 ? `\n## Failures\n\n${problems.map((p) => `- ${cell(p)}`).join('\n')}\n` : ''}
## Every case run

| case | op | cpu | webgpu | note |
| --- | --- | --- | --- | --- |
${detail.join('\n')}
`;

if (out === '-') process.stdout.write(md);
else writeFileSync(out, md);
process.stderr.write(`${results.length} cases, ${problems.length} problems, ${seconds.toFixed(1)} s${out === '-' ? '' : `; wrote ${out}`}\n`);
await cpu.dispose();
await webgpu?.dispose();
process.exit(problems.length > 0 ? 1 : 0);

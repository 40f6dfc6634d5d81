import { Command, CommanderError, Option } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, platform, arch } from 'node:os';
import { resolveBackend, backendNames } from '../engine/backends/registry.ts';
import { BLOCKS } from '../engine/blocks/registry.ts';
import { CancelledError, SpecError } from '../engine/errors.ts';
import { forwardWithFallback, profileWithFallback } from '../engine/fallback.ts';
import { buildPlan, DEFAULT_MEMORY_BUDGET, overBudget, type Plan } from '../engine/graph/plan.ts';
import { readNpy, writeNpy } from '../engine/npy.ts';
import { OPS } from '../engine/ops/registry.ts';
import { PRESETS } from '../engine/presets/index.ts';
import { formatFromPath, renderReport } from '../engine/report/index.ts';
import { backendInfo, buildReport } from '../engine/reporting.ts';
import { numel, shapeText } from '../engine/tensor.ts';
import { onEngineNotice } from '../engine/notices.ts';
import type { Report } from '../shared/report.ts';
import { siUnit, siWord } from '../shared/present/format.ts';
import { rooflineForReport } from '../engine/roofline.ts';
import { textTable } from './format.ts';
import { ioReason, loadModelSpec, readUserFile } from './load-model.ts';
import { backendName, cpuFallback, positiveInt } from './options.ts';
import { progressReporter } from './progress.ts';
import { registerExport } from './commands/export.ts';
import { registerBench } from './commands/bench.ts';
import { registerServe } from './commands/serve.ts';
import { registerSweep } from './commands/sweep.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function environment(): Report['environment'] {
  return { app_version: pkg.version, node: process.version, platform: `${platform()}-${arch()}`, cpu: `${cpus()[0]?.model?.trim() ?? 'unknown'} x ${cpus().length}` };
}

function loadPlan(model: string, opts: { batch?: number; memoryBudget?: number }): Plan {
  return buildPlan(loadModelSpec(model), { batch: opts.batch, memoryBudgetBytes: budgetBytes(opts) });
}

const budgetBytes = (opts: { memoryBudget?: number }) => (opts.memoryBudget ? opts.memoryBudget * 1024 ** 2 : undefined);

/** A path the user gave that cannot be written is their argument to fix (exit 2), not a crash. */
function writeUserFile(path: string, data: string | Uint8Array, what: string): void {
  try {
    writeFileSync(path, data);
  } catch (err) {
    throw new SpecError(`${what} ${path}: cannot write it (${ioReason(err)})`, undefined, what);
  }
  process.stderr.write(`wrote ${path}\n`);
}

/**
 * Checked before any work: a typo in an extension must not cost the user a whole profiling run
 * (or leave the outputs before it written and the rest missing).
 */
function checkOutputs(outs: string[]): void {
  for (const path of outs) formatFromPath(path);
}

function writeOutputs(report: Report, outs: string[], trace?: string) {
  for (const path of outs) writeUserFile(path, renderReport(report, formatFromPath(path)), '--out');
  if (trace) writeUserFile(trace, renderReport(report, 'trace'), '--trace');
}

const MODEL_HELP = 'a .convscope.json spec, an .onnx model, or a preset name (see `convscope presets`)';
const batchOption = () => new Option('--batch <n>', 'replace the batch dimension of the input').argParser(positiveInt('--batch'));
const budgetOption = () =>
  new Option('--memory-budget <MiB>', 'refuse models whose weights + activations exceed this (default 4096 MiB)').argParser(positiveInt('--memory-budget'));
const backendOption = () => new Option('--backend <name>', `auto, ${backendNames().join(', ')}`).default('auto');
const threadsOption = () => new Option('--threads <n>', 'CPU worker threads (default: all cores)').argParser(positiveInt('--threads'));
const adapterOption = () => new Option('--adapter <substring>', 'webgpu: the adapter whose description contains this (implies --backend webgpu)');

export function buildProgram(): Command {
  const program = new Command('convscope')
    .description('Profile convolutional architectures: exact shapes, params, MACs, FLOPs and memory, and real per-layer timings.')
    .version(pkg.version)
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('presets')
    .description('list the preset architectures with their params and MACs')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) => {
      const rows = [...PRESETS.values()].map((p) => {
        const plan = buildPlan(p.build());
        return { id: p.id, title: p.title, params: plan.totals.params, macs: plan.totals.macs, input_shape: plan.inputShape, source: p.source };
      });
      if (opts.json) return void process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      const w = Math.max(...rows.map((r) => r.id.length));
      for (const r of rows) process.stdout.write(`${r.id.padEnd(w)}  ${siWord(r.params, 'params').padStart(13)}  ${siUnit(r.macs, 'MACs').padStart(11)}  ${r.title}\n`);
    });

  program
    .command('ops')
    .description('list every op and block with what it costs')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) => {
      const ops = [...OPS.values()].map((o) => ({ kind: 'op', name: o.type, category: o.category, summary: o.summary }));
      const blocks = [...BLOCKS.values()].map((b) => ({ kind: 'block', name: b.type, category: 'block', summary: b.summary }));
      if (opts.json) return void process.stdout.write(JSON.stringify([...ops, ...blocks], null, 2) + '\n');
      for (const r of [...ops, ...blocks]) process.stdout.write(`${r.kind.padEnd(5)}  ${r.name.padEnd(24)} ${r.summary}\n`);
    });

  program
    .command('inspect')
    .description('shapes, params, MACs, FLOPs and memory of every layer; nothing is executed')
    .argument('<model>', MODEL_HELP)
    .option('--json', 'print the report JSON (convscope.report/v1, times null)')
    .option('--out <file...>', 'write the report: .json, .html, .csv or .md')
    .addOption(batchOption())
    .addOption(new Option('--memory-budget <MiB>', 'inspect allocates nothing and is never refused; says on stderr when profile/run would be (default 4096 MiB)').argParser(positiveInt('--memory-budget')))
    .action((model: string, opts: { json?: boolean; out?: string[]; batch?: number; memoryBudget?: number }) => {
      checkOutputs(opts.out ?? []);
      // Counting allocates nothing, so no execution budget applies; only the note says what would.
      const plan = buildPlan(loadModelSpec(model), { batch: opts.batch, memoryBudgetBytes: Infinity });
      const over = overBudget(plan.spec.name, plan.nodes, plan.inputShape, plan.output, plan.totals, budgetBytes(opts) ?? DEFAULT_MEMORY_BUDGET);
      if (over) process.stderr.write(`note: profile and run would refuse this model: ${over.message}\n`);
      const report = buildReport(plan, { environment: environment() });
      writeOutputs(report, opts.out ?? []);
      process.stdout.write(opts.json ? renderReport(report, 'json') + '\n' : textTable(report));
    });

  program
    .command('profile')
    .description('run the model on real tensors and time every layer')
    .argument('<model>', MODEL_HELP)
    .addOption(backendOption())
    .addOption(new Option('--warmup <n>', 'unmeasured runs after the first').default(1).argParser(positiveInt('--warmup', 0)))
    .addOption(new Option('--repeat <n>', 'measured runs').default(5).argParser(positiveInt('--repeat')))
    .addOption(batchOption())
    .addOption(threadsOption())
    .addOption(adapterOption())
    .addOption(budgetOption())
    .option('--out <file...>', 'write the report: .json, .html, .csv or .md (several allowed)')
    .option('--trace <file>', 'write a Chrome/Perfetto trace (traceEvents JSON)')
    .option('--json', 'print the report JSON instead of the table')
    .option('--no-fuse', 'run every op as its own kernel, to time each alone: no batch-norm folding, no fused activations')
    .option('--quiet', 'no progress on stderr')
    .action(async (model: string, opts: { backend: string; warmup: number; repeat: number; batch?: number; threads?: number; adapter?: string; memoryBudget?: number; out?: string[]; trace?: string; json?: boolean; fuse: boolean; quiet?: boolean }) => {
      checkOutputs(opts.out ?? []);
      const plan = loadPlan(model, opts);
      const requested = backendName(opts);
      const resolved = await resolveBackend(requested, { threads: opts.threads, adapter: opts.adapter, ops: plan.nodes.map((n) => n.op) });
      const cpu = cpuFallback(requested, opts.threads);
      const controller = new AbortController();
      const onSigint = () => controller.abort();
      process.once('SIGINT', onSigint);
      const progress = progressReporter(process.stderr, opts.quiet);
      try {
        const { backend, fallbacks, reason, result } = await profileWithFallback(plan, resolved, cpu, {
          warmup: opts.warmup,
          repeat: opts.repeat,
          signal: controller.signal,
          onProgress: (e) => progress.update(e),
          fuse: opts.fuse,
        });
        // The roofs of the roofline: measured on this backend's first profile, then cached on disk.
        const roofs = await rooflineForReport(backend, { signal: controller.signal });
        progress.done();
        const report = buildReport(plan, {
          environment: environment(),
          backend: { ...backendInfo({ backend, fallbacks, reason }), ...roofs },
          profile: result,
        });
        writeOutputs(report, opts.out ?? [], opts.trace);
        process.stdout.write(opts.json ? renderReport(report, 'json') + '\n' : textTable(report));
      } finally {
        process.off('SIGINT', onSigint);
        await resolved.backend.dispose();
        await cpu.dispose();
      }
    });

  program
    .command('run')
    .description('one forward pass; input from a .npy file or from the seed')
    .argument('<model>', MODEL_HELP)
    .addOption(backendOption())
    .option('--input <x.npy>', 'float32 NCHW input (default: generated from the spec seed)')
    .requiredOption('--output <y.npy>', 'where to write the output (float32 .npy)')
    .addOption(batchOption())
    .addOption(threadsOption())
    .addOption(adapterOption())
    .addOption(budgetOption())
    .action(async (model: string, opts: { backend: string; input?: string; output: string; batch?: number; threads?: number; adapter?: string; memoryBudget?: number }) => {
      let input: Float32Array | undefined;
      let batch = opts.batch;
      const spec = loadModelSpec(model);
      if (opts.input) {
        const x = readNpy(readUserFile(opts.input, '--input'), `--input ${opts.input}`);
        // The batch is the file's to choose; every other dimension is the model's.
        const want = buildPlan(spec, { batch: 1, memoryBudgetBytes: Infinity }).inputShape;
        if (x.shape.length !== want.length || x.shape[0] < 1 || x.shape.some((d, i) => i > 0 && d !== want[i])) {
          const takes = `[N, ${want.slice(1).join(', ')}]`;
          throw new SpecError(`--input ${opts.input}: has shape ${shapeText(x.shape)}, the model takes ${takes} (N >= 1)`, undefined, 'input');
        }
        if (batch !== undefined && batch !== x.shape[0]) {
          throw new SpecError(`--batch ${batch} contradicts --input ${opts.input}, whose batch is ${x.shape[0]}; leave out --batch`, undefined, 'batch');
        }
        input = x.data;
        batch = x.shape[0];
      }
      const plan = buildPlan(spec, { batch, memoryBudgetBytes: opts.memoryBudget ? opts.memoryBudget * 1024 ** 2 : undefined });
      const requested = backendName(opts);
      const resolved = await resolveBackend(requested, { threads: opts.threads, adapter: opts.adapter, ops: plan.nodes.map((n) => n.op) });
      const cpu = cpuFallback(requested, opts.threads);
      try {
        const { backend, fallbacks, result: output } = await forwardWithFallback(plan, resolved, cpu, input);
        // `run` writes no report, so the notice that the GPU gave up goes to stderr.
        if (backend !== resolved.backend) process.stderr.write(`convscope: ${fallbacks[fallbacks.length - 1]}\n`);
        if (output.length !== numel(plan.outputShape)) throw new Error('output size mismatch');
        writeUserFile(opts.output, writeNpy(plan.outputShape, output), '--output');
        process.stderr.write(`output ${shapeText(plan.outputShape)} (${backend.name} on ${backend.adapter})\n`);
      } finally {
        await resolved.backend.dispose();
        await cpu.dispose();
      }
    });

  // Commands of later features live in src/cli/commands/<name>.ts as register<Name>(program),
  // one line each here.
  registerExport(program);
  registerBench(program);
  registerServe(program);
  registerSweep(program);
  return program;
}

/** Exit status: 0 success, 2 bad model or argument (reason on stderr), 1 internal failure. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  // The kernels compiling on first use take tens of seconds: say what the wait is (stderr, like progress).
  const stopNotices = onEngineNotice((n) => process.stderr.write(`convscope: ${n.text}\n`));
  for (const cmd of program.commands) cmd.exitOverride();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    return failure(err);
  } finally {
    stopNotices();
  }
}

/** Exit status and message for what main() caught. */
function failure(err: unknown): number {
  if (err instanceof CommanderError) {
    // --help, --version and `help` exit 0; usage errors, and no command at all (commander shows
    // the help on stderr with exit code 1), are bad arguments. Commander already printed why.
    return err.exitCode === 0 ? 0 : 2;
  }
  if (err instanceof SpecError) {
    process.stderr.write(`convscope: ${err.message}\n`);
    return 2;
  }
  if (err instanceof CancelledError) {
    process.stderr.write('\nconvscope: cancelled\n');
    return 130;
  }
  process.stderr.write(`convscope: internal error: ${(err as Error).stack ?? err}\n`);
  return 1;
}

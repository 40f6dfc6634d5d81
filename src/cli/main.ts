import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, platform, arch } from 'node:os';
import { resolveBackend, backendNames } from '../engine/backends/registry.ts';
import { BLOCKS } from '../engine/blocks/registry.ts';
import { CancelledError, SpecError } from '../engine/errors.ts';
import { buildPlan, type Plan } from '../engine/graph/plan.ts';
import { readNpy, writeNpy } from '../engine/npy.ts';
import { OPS } from '../engine/ops/registry.ts';
import { PRESETS } from '../engine/presets/index.ts';
import { profilePlan } from '../engine/profiler.ts';
import { formatFromPath, renderReport } from '../engine/report/index.ts';
import { buildReport } from '../engine/reporting.ts';
import { numel, shapeText } from '../engine/tensor.ts';
import type { Report } from '../shared/report.ts';
import { human, textTable } from './format.ts';
import { loadModelSpec } from './load-model.ts';
import { progressReporter } from './progress.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function environment(): Report['environment'] {
  return { app_version: pkg.version, node: process.version, platform: `${platform()}-${arch()}`, cpu: `${cpus()[0]?.model?.trim() ?? 'unknown'} x ${cpus().length}` };
}

function positiveInt(name: string, min = 1) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

function loadPlan(model: string, opts: { batch?: number; memoryBudget?: number }): Plan {
  return buildPlan(loadModelSpec(model), { batch: opts.batch, memoryBudgetBytes: opts.memoryBudget ? opts.memoryBudget * 1024 ** 2 : undefined });
}

function writeOutputs(report: Report, outs: string[], trace?: string) {
  for (const path of outs) {
    writeFileSync(path, renderReport(report, formatFromPath(path)));
    process.stderr.write(`wrote ${path}\n`);
  }
  if (trace) {
    writeFileSync(trace, renderReport(report, 'trace'));
    process.stderr.write(`wrote ${trace}\n`);
  }
}

const batchOption = () => new Option('--batch <n>', 'replace the batch dimension of the input').argParser(positiveInt('--batch'));
const budgetOption = () =>
  new Option('--memory-budget <MiB>', 'refuse models whose weights + activations exceed this (default 4096 MiB)').argParser(positiveInt('--memory-budget'));
const backendOption = () => new Option('--backend <name>', `auto, ${backendNames().join(', ')}`).default('auto');
const threadsOption = () => new Option('--threads <n>', 'CPU worker threads (default: all cores)').argParser(positiveInt('--threads'));

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
      for (const r of rows) process.stdout.write(`${r.id.padEnd(w)}  ${human(r.params).padStart(9)} params  ${human(r.macs, 'MAC').padStart(12)}  ${r.title}\n`);
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
    .argument('<model>', 'a .convscope.json spec file or a preset name')
    .option('--json', 'print the report JSON (convscope.report/v1, times null)')
    .option('--out <file...>', 'write the report: .json, .html, .csv or .md')
    .addOption(batchOption())
    .addOption(budgetOption())
    .action((model: string, opts: { json?: boolean; out?: string[]; batch?: number; memoryBudget?: number }) => {
      const report = buildReport(loadPlan(model, opts), { environment: environment() });
      writeOutputs(report, opts.out ?? []);
      process.stdout.write(opts.json ? renderReport(report, 'json') + '\n' : textTable(report));
    });

  program
    .command('profile')
    .description('run the model on real tensors and time every layer')
    .argument('<model>', 'a .convscope.json spec file or a preset name')
    .addOption(backendOption())
    .addOption(new Option('--warmup <n>', 'unmeasured runs after the first').default(1).argParser(positiveInt('--warmup', 0)))
    .addOption(new Option('--repeat <n>', 'measured runs').default(5).argParser(positiveInt('--repeat')))
    .addOption(batchOption())
    .addOption(threadsOption())
    .addOption(budgetOption())
    .option('--out <file...>', 'write the report: .json, .html, .csv or .md (several allowed)')
    .option('--trace <file>', 'write a Chrome/Perfetto trace (traceEvents JSON)')
    .option('--json', 'print the report JSON instead of the table')
    .option('--quiet', 'no progress on stderr')
    .action(async (model: string, opts: { backend: string; warmup: number; repeat: number; batch?: number; threads?: number; memoryBudget?: number; out?: string[]; trace?: string; json?: boolean; quiet?: boolean }) => {
      const plan = loadPlan(model, opts);
      const { backend, fallbacks } = await resolveBackend(opts.backend, { threads: opts.threads });
      const controller = new AbortController();
      const onSigint = () => controller.abort();
      process.once('SIGINT', onSigint);
      const progress = progressReporter(process.stderr, opts.quiet);
      try {
        const result = await profilePlan(plan, backend, { warmup: opts.warmup, repeat: opts.repeat, signal: controller.signal, onProgress: (e) => progress.update(e) });
        progress.done();
        const report = buildReport(plan, {
          environment: environment(),
          backend: { name: backend.name, adapter: backend.adapter, timing: backend.timing, threads: backend.threads, fallbacks },
          profile: result,
        });
        writeOutputs(report, opts.out ?? [], opts.trace);
        process.stdout.write(opts.json ? renderReport(report, 'json') + '\n' : textTable(report));
      } finally {
        process.off('SIGINT', onSigint);
        await backend.dispose();
      }
    });

  program
    .command('run')
    .description('one forward pass; input from a .npy file or from the seed')
    .argument('<model>', 'a .convscope.json spec file or a preset name')
    .addOption(backendOption())
    .option('--input <x.npy>', 'float32 NCHW input (default: generated from the spec seed)')
    .requiredOption('--output <y.npy>', 'where to write the output (float32 .npy)')
    .addOption(batchOption())
    .addOption(threadsOption())
    .addOption(budgetOption())
    .action(async (model: string, opts: { backend: string; input?: string; output: string; batch?: number; threads?: number; memoryBudget?: number }) => {
      let input: Float32Array | undefined;
      let batch = opts.batch;
      const spec = loadModelSpec(model);
      if (opts.input) {
        const x = readNpy(readFileSync(opts.input), '--input');
        const planned = buildPlan(spec, { batch: x.shape[0] });
        const want = planned.inputShape;
        if (x.shape.length !== want.length || x.shape.some((d, i) => d !== want[i])) {
          throw new SpecError(`--input: ${opts.input} has shape ${shapeText(x.shape)}, the model takes ${shapeText(want)}`, undefined, 'input');
        }
        input = x.data;
        batch = x.shape[0];
      }
      const plan = buildPlan(spec, { batch, memoryBudgetBytes: opts.memoryBudget ? opts.memoryBudget * 1024 ** 2 : undefined });
      const { backend } = await resolveBackend(opts.backend, { threads: opts.threads });
      try {
        const result = await profilePlan(plan, backend, { warmup: 0, repeat: 1, input });
        if (result.output.length !== numel(plan.outputShape)) throw new Error('output size mismatch');
        writeFileSync(opts.output, writeNpy(plan.outputShape, result.output));
        process.stderr.write(`wrote ${opts.output} ${shapeText(plan.outputShape)} (${backend.name} on ${backend.adapter})\n`);
      } finally {
        await backend.dispose();
      }
    });

  return program;
}

/** Exit status: 0 success, 2 bad model or argument (reason on stderr), 1 internal failure. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  for (const cmd of program.commands) cmd.exitOverride();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2; // commander already printed the reason
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
}

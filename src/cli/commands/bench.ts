import { InvalidArgumentError, Option, type Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { BENCH_CASES, selectCases } from '../../engine/bench/cases.ts';
import { renderBenchMarkdown } from '../../engine/bench/markdown.ts';
import { runBench, runnerInfo } from '../../engine/bench/run.ts';
import { BACKEND_RUNNERS, DEFAULT_BACKENDS, DEFAULT_PEERS, PEER_RUNNERS, WEBGPU_PEERS } from '../../engine/bench/runner.ts';
import { SpecError } from '../../engine/errors.ts';
import { ioReason } from '../load-model.ts';

function positiveNumber(name: string, integer: boolean, min: number) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) throw new InvalidArgumentError(`${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}`);
    return n;
  };
}

function list(value: string, kind: 'backend' | 'peer'): string[] {
  if (value === 'none') return [];
  const ids = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of ids) {
    const info = runnerInfo(id);
    if (info.kind !== kind) throw new SpecError(`--${kind}s: "${id}" is a${kind === 'peer' ? 'n engine backend (use --backends)' : ' peer (use --peers)'}`, undefined, `${kind}s`);
  }
  return ids;
}

interface BenchCliOptions {
  cases?: string;
  backends?: string;
  /** The same as --backends, as `profile` and `run` spell it. */
  backend?: string;
  peers?: string;
  threads?: number;
  quick?: boolean;
  warmup?: number;
  repeat?: number;
  minTime?: number;
  rounds?: number;
  fmaPeak?: number;
  json?: boolean;
  out?: string[];
  list?: boolean;
  quiet?: boolean;
}

/**
 * `convscope bench`: the benchmark cases on the engine's backends and, in the same run, on the
 * peer runtimes installed as dev dependencies; Markdown table (or --json) on stdout.
 */
export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('the speed benchmark: engine backends side by side with onnxruntime and tfjs on the same shapes and weights')
    .option('--cases <ids>', `comma-separated case ids, groups (ops, models) or prefixes ending in * (default: all)`)
    .option('--backends <ids>', `engine backends: ${BACKEND_RUNNERS.map((r) => r.id).join(', ')} or none (default: ${DEFAULT_BACKENDS.join(',')})`)
    .option('--backend <ids>', 'the same as --backends')
    .option('--peers <ids>', `peers: ${PEER_RUNNERS.map((r) => r.id).join(', ')} or none (default: ${DEFAULT_PEERS.join(',')}, and ${WEBGPU_PEERS.join(',')} with --backends webgpu)`)
    .addOption(new Option('--threads <n>', 'threads for every runner that takes a count (default: all cores)').argParser(positiveNumber('--threads', true, 1)))
    .option('--quick', 'two timed runs per case, no warm-up: checks that everything runs, numbers not for quoting')
    .addOption(new Option('--warmup <n>', 'unmeasured runs after the first (default 3; quick 0)').argParser(positiveNumber('--warmup', true, 0)))
    .addOption(new Option('--repeat <n>', 'at least this many timed runs (default 10; quick 2)').argParser(positiveNumber('--repeat', true, 1)))
    .addOption(new Option('--min-time <ms>', 'keep timing a case until this much time is measured (default 400; quick 0)').argParser(positiveNumber('--min-time', false, 0)))
    .addOption(new Option('--rounds <n>', 'run every runner n times in turns and keep, per case, its round with the lowest median (for a machine other work shares)').argParser(positiveNumber('--rounds', true, 1)))
    .addOption(new Option('--fma-peak <GFLOP/s>', "the machine's measured FMA peak over the benchmark's threads; adds a fraction-of-peak column").argParser(positiveNumber('--fma-peak', false, 0.001)))
    .option('--json', 'print the report as JSON (convscope.bench/v1) instead of Markdown')
    .option('--out <file...>', 'also write the report: .json or .md')
    .option('--list', 'list the cases and runners, run nothing')
    .option('--quiet', 'no progress on stderr')
    .action(async (opts: BenchCliOptions) => {
      if (opts.list) {
        for (const c of BENCH_CASES) process.stdout.write(`${c.id.padEnd(22)} ${c.group.padEnd(7)} ${c.title}\n`);
        for (const r of [...BACKEND_RUNNERS, ...PEER_RUNNERS]) process.stdout.write(`${r.id.padEnd(22)} ${r.kind.padEnd(7)} ${r.label}\n`);
        return;
      }
      for (const path of opts.out ?? []) {
        if (!/\.(json|md)$/i.test(path)) throw new SpecError(`--out ${path}: give a file name ending in .json or .md`, undefined, 'out');
      }
      const cases = selectCases(opts.cases);
      if (opts.backend !== undefined && opts.backends !== undefined && opts.backend !== opts.backends) {
        throw new SpecError(`--backend ${opts.backend} and --backends ${opts.backends} disagree: give one of them`, undefined, 'backends');
      }
      const backends = list(opts.backends ?? opts.backend ?? DEFAULT_BACKENDS.join(','), 'backend');
      // The WebGPU backend's own peers run the same work on the same adapter; the CPU peers stay for scale.
      const peers = opts.peers !== undefined ? list(opts.peers, 'peer') : [...DEFAULT_PEERS, ...(backends.includes('webgpu') ? WEBGPU_PEERS : [])];
      const runners = [...backends, ...peers];
      if (runners.length === 0) throw new SpecError('--backends none and --peers none leave nothing to run', undefined, 'backends');
      const report = await runBench({
        cases,
        runners,
        threads: opts.threads,
        quick: opts.quick,
        warmup: opts.warmup,
        repeat: opts.repeat,
        minTimeMs: opts.minTime,
        rounds: opts.rounds,
        fmaPeakGflops: opts.fmaPeak,
        onProgress: opts.quiet ? undefined : (line) => process.stderr.write(line + '\n'),
      });
      const json = JSON.stringify(report, null, 2) + '\n';
      const md = renderBenchMarkdown(report);
      for (const path of opts.out ?? []) {
        try {
          writeFileSync(path, path.toLowerCase().endsWith('.json') ? json : md);
        } catch (err) {
          throw new SpecError(`--out ${path}: cannot write it (${ioReason(err)})`, undefined, 'out');
        }
        process.stderr.write(`wrote ${path}\n`);
      }
      process.stdout.write(opts.json ? json : md);
      const wrong = report.cases.flatMap((c) => Object.entries(c.results).filter(([, r]) => r.status === 'wrong').map(([id]) => `${c.id} on ${id}`));
      if (wrong.length > 0) process.stderr.write(`convscope bench: outputs that disagree with the others: ${wrong.join(', ')}\n`);
      // A wrong answer from the engine itself is a failure of this run, not a footnote.
      const ours = new Set(BACKEND_RUNNERS.map((r) => r.id));
      if (report.cases.some((c) => Object.entries(c.results).some(([id, r]) => ours.has(id) && r.status === 'wrong'))) {
        throw new Error('an engine backend computed a wrong result (see above)');
      }
    });
}

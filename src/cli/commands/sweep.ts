import { Option, type Command } from 'commander';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { resolveBackend, backendNames } from '../../engine/backends/registry.ts';
import type { ResolvedBackend } from '../../engine/backends/resolve.ts';
import { SpecError } from '../../engine/errors.ts';
import { profileWithFallback } from '../../engine/fallback.ts';
import { medianMs, renderSweep, runSweep, sweepFormatFromPath, type SweepTiming } from '../../engine/sweep/index.ts';
import { INPUT_DIMS, parseValuesText, SWEEP_FORMAT, type SweepDefinitionInput } from '../../shared/sweep.ts';
import { ioReason, loadModelSpec, readUserFile } from '../load-model.ts';
import { backendName, cpuFallback, positiveInt } from '../options.ts';
import { progressReporter } from '../progress.ts';

interface SweepCliOptions {
  layer?: string;
  param?: string;
  input?: string;
  presetParam?: string;
  set?: string[];
  values?: string;
  batch?: number;
  profile?: boolean;
  backend?: string;
  warmup?: number;
  repeat?: number;
  threads?: number;
  adapter?: string;
  memoryBudget?: number;
  json?: boolean;
  out?: string[];
  quiet?: boolean;
}

function values(text: string) {
  const r = parseValuesText(text);
  if ('error' in r) throw new SpecError(`--values ${text}: ${r.error}`, undefined, 'values');
  return r.values;
}

function presetParams(set: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of set) {
    const m = /^([^=]+)=(.+)$/.exec(item);
    if (!m) throw new SpecError(`--set ${item}: give name=value, e.g. --set scale=0.5`, undefined, 'set');
    const v = Number(m[2].trim());
    if (m[2].trim() === '' || !Number.isFinite(v)) throw new SpecError(`--set ${item}: "${m[2]}" is not a number`, undefined, 'set');
    out[m[1].trim()] = v;
  }
  return out;
}

/** A `.json` file that says it is a sweep definition; anything else names a model. */
function readDefinition(arg: string): unknown | undefined {
  if (!existsSync(arg) || extname(arg).toLowerCase() !== '.json') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(readUserFile(arg, 'sweep').toString('utf8'));
  } catch (err) {
    if (err instanceof SpecError) throw err;
    throw new SpecError(`${arg}: not valid JSON (${(err as Error).message})`, undefined, 'sweep');
  }
  return (value as { format?: unknown } | null)?.format === SWEEP_FORMAT ? value : undefined;
}

/** The definition the command line spells out: `<model> --layer L --param P --values ...`. */
function definitionFromOptions(model: string, o: SweepCliOptions): SweepDefinitionInput {
  const kinds = [o.layer !== undefined || o.param !== undefined, o.input !== undefined, o.presetParam !== undefined].filter(Boolean).length;
  if (kinds !== 1) throw new SpecError('say what to sweep: --layer <ids> --param <name>, --input <dim> or --preset-param <name> (exactly one)', undefined, 'target');
  if (o.values === undefined) throw new SpecError('--values is required: a list 1,2,4 or a range from:to[:step] or from:to:xfactor', undefined, 'values');
  let target: SweepDefinitionInput['target'];
  if (o.input !== undefined) {
    if (!(INPUT_DIMS as readonly string[]).includes(o.input)) throw new SpecError(`--input ${o.input}: use one of ${INPUT_DIMS.join(', ')}`, undefined, 'input');
    target = { input: o.input as (typeof INPUT_DIMS)[number] };
  } else if (o.presetParam !== undefined) {
    target = { preset_param: o.presetParam };
  } else {
    if (!o.layer || !o.param) throw new SpecError('--layer and --param go together: the layer id(s) and the parameter to vary', undefined, o.layer ? 'param' : 'layer');
    const ids = o.layer.split(',').map((s) => s.trim()).filter(Boolean);
    target = { layer: ids.length === 1 ? ids[0] : ids, param: o.param };
  }
  const params = presetParams(o.set ?? []);
  return {
    format: SWEEP_FORMAT,
    model: Object.keys(params).length ? { preset: model, params } : model,
    target,
    values: values(o.values),
    ...(o.batch !== undefined ? { batch: o.batch } : {}),
  };
}

function write(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (err) {
    throw new SpecError(`--out ${path}: cannot write it (${ioReason(err)})`, undefined, 'out');
  }
  process.stderr.write(`wrote ${path}\n`);
}

/**
 * `convscope sweep`: one parameter over a list or range of values, a row per value (params, MACs,
 * FLOPs, memory, and the median time with --profile). A value that makes no valid model is shown
 * with its reason; when none does, that is the user's argument to fix (exit 2).
 */
export function registerSweep(program: Command): void {
  program
    .command('sweep')
    .description('vary one parameter (of a layer, the input or a parameterised preset) and tabulate params, MACs, FLOPs, memory and time')
    .argument('<sweep-or-model>', 'a convscope.sweep/v1 .json file, or a model (spec, .onnx, preset or parameterised preset such as shufflenet_v1) with the options below')
    .option('--layer <ids>', 'the layer(s) whose parameter varies, comma-separated')
    .option('--param <name>', 'the parameter of those layers (groups, reduction, dilation, out_channels, ...)')
    .option('--input <dim>', `vary the input instead: ${INPUT_DIMS.join(', ')} (size sets H and W)`)
    .option('--preset-param <name>', 'vary a parameter of a parameterised preset (shufflenet_v1: groups, scale)')
    .option('--set <name=value...>', 'fix other parameters of a parameterised preset (e.g. --set scale=0.5)')
    .option('--values <list|range>', 'the values: 1,2,4 or from:to (step 1), from:to:step, from:to:xfactor')
    .addOption(new Option('--batch <n>', 'replace the batch dimension of the input').argParser(positiveInt('--batch')))
    .option('--profile', 'also time every point (median end-to-end forward)')
    .addOption(new Option('--backend <name>', `with --profile: auto, ${backendNames().join(', ')} (default auto)`))
    .addOption(new Option('--warmup <n>', 'with --profile: unmeasured runs after the first (default 1)').argParser(positiveInt('--warmup', 0)))
    .addOption(new Option('--repeat <n>', 'with --profile: measured runs per point (default 5)').argParser(positiveInt('--repeat')))
    .addOption(new Option('--threads <n>', 'CPU worker threads (default: all cores)').argParser(positiveInt('--threads')))
    .option('--adapter <substring>', 'webgpu: the adapter whose description contains this (implies --backend webgpu)')
    .addOption(new Option('--memory-budget <MiB>', 'refuse points whose weights + activations exceed this (default 4096 MiB)').argParser(positiveInt('--memory-budget')))
    .option('--json', 'print the result JSON (convscope.sweep-result/v1) instead of the table')
    .option('--out <file...>', 'write the result: .json, .csv, .md or .txt (several allowed)')
    .option('--quiet', 'no progress on stderr')
    .action(async (arg: string, o: SweepCliOptions) => {
      const outs = (o.out ?? []).map((path) => ({ path, format: sweepFormatFromPath(path) }));
      const file = readDefinition(arg);
      if (file && (o.layer || o.param || o.input || o.presetParam || o.values || o.set)) {
        throw new SpecError(`${arg} is a sweep definition: its target and values are in the file; leave out --layer/--param/--input/--preset-param/--values/--set`, undefined, 'sweep');
      }
      const def = (file ?? definitionFromOptions(arg, o)) as SweepDefinitionInput;
      const wantsProfile = o.profile || o.backend !== undefined || o.warmup !== undefined || o.repeat !== undefined;
      if (wantsProfile) {
        def.profile = { ...def.profile, ...(o.backend ? { backend: o.backend } : {}), ...(o.warmup !== undefined ? { warmup: o.warmup } : {}), ...(o.repeat !== undefined ? { repeat: o.repeat } : {}) };
      }
      // A definition file names models relative to itself.
      const base = file ? dirname(resolve(arg)) : process.cwd();
      const loadModel = (name: string) => loadModelSpec(existsSync(resolve(base, name)) ? resolve(base, name) : name);

      const controller = new AbortController();
      const onSigint = () => controller.abort();
      process.once('SIGINT', onSigint);
      const progress = progressReporter(process.stderr, o.quiet);
      let resolved: Promise<ResolvedBackend> | undefined;
      let cpu: ReturnType<typeof cpuFallback> | undefined;
      try {
        const result = await runSweep(def, {
          loadModel,
          signal: controller.signal,
          memoryBudgetBytes: o.memoryBudget ? o.memoryBudget * 1024 ** 2 : undefined,
          onProgress: (e) => {
            if (def.profile && e.phase === 'plan' && e.done === 0 && !o.quiet) process.stderr.write(`${e.point + 1}/${e.points}: ${e.value}\n`);
          },
          profile: async (plan, settings, opts): Promise<SweepTiming> => {
            // One backend for every point (a worker pool or GPU device per point would time its start-up).
            const requested = backendName({ backend: settings.backend, adapter: o.adapter });
            cpu ??= cpuFallback(requested, o.threads);
            resolved ??= resolveBackend(requested, { threads: o.threads, adapter: o.adapter, ops: plan.nodes.map((n) => n.op) });
            const { backend, fallbacks, result } = await profileWithFallback(plan, await resolved, cpu, {
              warmup: settings.warmup,
              repeat: settings.repeat,
              signal: opts.signal,
              onProgress: (e) => progress.update(e),
            });
            progress.done();
            return { time_ms: medianMs(result.e2eTimes), backend: { name: backend.name, adapter: backend.adapter, timing: backend.timing, fallbacks } };
          },
        });
        if (result.points.every((p) => p.error)) {
          throw new SpecError(`no value of ${result.parameter} gives a valid model; at ${result.values[0]}: ${result.points[0].error!.message}`, undefined, 'values');
        }
        for (const { path, format } of outs) write(path, renderSweep(result, format));
        process.stdout.write(renderSweep(result, o.json ? 'json' : 'txt'));
      } finally {
        process.off('SIGINT', onSigint);
        const r = await resolved?.catch(() => undefined);
        await r?.backend.dispose();
        await cpu?.dispose();
      }
    });
}

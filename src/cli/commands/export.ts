import { InvalidArgumentError, Option, type Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { SpecError } from '../../engine/errors.ts';
import { buildPlan } from '../../engine/graph/plan.ts';
import { exportOnnx } from '../../engine/onnx/export.ts';
import { makeWeights } from '../../engine/weights.ts';
import { ioReason, loadModelSpec } from '../load-model.ts';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

function positiveInt(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be an integer >= 1`);
    return n;
  };
}

/**
 * `convscope export <model> --onnx out.onnx`: the model as ONNX with the weights `run` uses
 * (seeded, or the file's own for an imported ONNX model), so any ONNX runtime reproduces
 * `convscope run` on the same input.
 */
export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write the model as ONNX (opset 19) with the same weights `run` uses')
    .argument('<model>', 'a .convscope.json spec file, an .onnx file or a preset name')
    .requiredOption('--onnx <file>', 'the ONNX file to write')
    .option('--dynamic-batch', 'declare the batch as a symbolic dimension "N" (default: the fixed batch of the model)')
    .addOption(new Option('--batch <n>', 'replace the batch dimension of the input').argParser(positiveInt('--batch')))
    .action((model: string, opts: { onnx: string; dynamicBatch?: boolean; batch?: number }) => {
      if (!opts.onnx.toLowerCase().endsWith('.onnx')) {
        throw new SpecError(`--onnx ${opts.onnx}: give a file name ending in .onnx`, undefined, 'onnx');
      }
      // An export holds every weight at once; the plan's own memory budget still applies.
      const plan = buildPlan(loadModelSpec(model), { batch: opts.batch });
      const bytes = exportOnnx(plan, makeWeights(plan), { dynamicBatch: opts.dynamicBatch, producerVersion: pkg.version });
      try {
        writeFileSync(opts.onnx, bytes);
      } catch (err) {
        throw new SpecError(`--onnx ${opts.onnx}: cannot write it (${ioReason(err)})`, undefined, 'onnx');
      }
      const batch = opts.dynamicBatch ? 'batch N (symbolic)' : `batch ${plan.inputShape[0]}`;
      process.stderr.write(`wrote ${opts.onnx} (${(bytes.length / 1024 ** 2).toFixed(1)} MiB, ${plan.nodes.length} ops, ${batch}, opset 19)\n`);
    });
}

/**
 * One runner in its own process (forked by run.ts through child-entry.mjs): loads the runner,
 * runs the requested cases (warm-up, then timed runs), and sends back times, outputs and, at the
 * end, the process's peak RSS.
 */
import { makeInput, makeWeights } from '../weights.ts';
import { BENCH_CASES } from './cases.ts';
import { cpuRunner, webgpuRunner } from './engine-runner.ts';
import { PeerMissing } from './peers/load.ts';
import { ortNodeRunner, ortWebGpuRunner, ortWebRunner } from './peers/ort.ts';
import { tfjsCpuRunner, tfjsWasmRunner, tfjsWebGpuRunner } from './peers/tfjs.ts';
import { Unsupported, type Runner, type RunnerOptions } from './runner.ts';

export interface ChildRequest {
  runner: string;
  cases: string[];
  threads: number;
  warmup: number;
  repeat: number;
  /** Keep running past `repeat` until this much time has been measured (short cases get more runs). */
  minTimeMs: number;
  maxRepeat: number;
}

export type ChildMessage =
  | { type: 'ready'; describe: string; timing: string; threads: number }
  | { type: 'unavailable'; reason: string }
  | { type: 'progress'; id: string }
  | { type: 'case'; id: string; status: 'ok'; times: number[]; output: Float32Array; prepareMs: number }
  | { type: 'case'; id: string; status: 'unsupported' | 'error'; reason: string }
  | { type: 'done'; maxRssBytes: number };

export async function makeRunner(id: string, opts: RunnerOptions): Promise<Runner> {
  switch (id) {
    case 'cpu':
      return cpuRunner(opts, 'wasm');
    case 'cpu-js':
      return cpuRunner(opts, 'js');
    case 'webgpu':
      return webgpuRunner(opts);
    case 'ort-node':
      return ortNodeRunner(opts);
    case 'ort-web':
      return ortWebRunner(opts);
    case 'ort-web-1t':
      return ortWebRunner({ ...opts, threads: 1 });
    case 'tfjs-wasm':
      return tfjsWasmRunner(opts);
    case 'tfjs-cpu':
      return tfjsCpuRunner(opts);
    case 'ort-webgpu':
      return ortWebGpuRunner(opts);
    case 'tfjs-webgpu':
      return tfjsWebGpuRunner(opts);
    default:
      throw new Error(`unknown runner ${id}`);
  }
}

function send(msg: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) => process.send!(msg, undefined, {}, (err) => (err ? reject(err) : resolve())));
}

export async function runChild(req: ChildRequest): Promise<void> {
  let runner: Runner;
  try {
    runner = await makeRunner(req.runner, { threads: req.threads });
  } catch (err) {
    await send({ type: 'unavailable', reason: err instanceof PeerMissing ? err.message : `${(err as Error).message}` });
    return;
  }
  await send({ type: 'ready', describe: runner.describe(), timing: runner.timing, threads: runner.threads });
  for (const id of req.cases) {
    const def = BENCH_CASES.find((c) => c.id === id);
    if (!def) throw new Error(`unknown case ${id}`);
    await send({ type: 'progress', id });
    try {
      const plan = def.plan();
      const data = { id, group: def.group, plan, weights: makeWeights(plan), input: makeInput(plan.seed, plan.inputShape) };
      const t0 = performance.now();
      const prepared = await runner.prepare(data);
      try {
        await prepared.run();
        const prepareMs = performance.now() - t0;
        for (let i = 0; i < req.warmup; i++) await prepared.run();
        const times: number[] = [];
        let measured = 0;
        while (times.length < req.repeat || (measured < req.minTimeMs && times.length < req.maxRepeat)) {
          const ms = await prepared.run();
          times.push(ms);
          measured += ms;
        }
        await send({ type: 'case', id, status: 'ok', times, output: await prepared.output(), prepareMs });
      } finally {
        await prepared.dispose();
      }
    } catch (err) {
      const status = err instanceof Unsupported ? 'unsupported' : 'error';
      await send({ type: 'case', id, status, reason: (err as Error).message });
    }
  }
  await runner.dispose();
  // maxRSS is in KiB.
  await send({ type: 'done', maxRssBytes: process.resourceUsage().maxRSS * 1024 });
}

import { availableParallelism, cpus } from 'node:os';
import { CancelledError, EngineError } from '../../errors.ts';
import { INPUT, type Plan, type PlanNode } from '../../graph/plan.ts';
import { getOp } from '../../ops/registry.ts';
import { numel } from '../../tensor.ts';
import type { Backend, BackendOptions, BackendProvider, ForwardHooks, PreparedModel } from '../types.ts';
import { WorkerPool } from './pool.ts';
import { kernelArgs, nodeSeed, unitsOf } from './reference.ts';

/** Below this many FLOPs (or output elements) an op runs inline: a worker round trip costs more. */
const PARALLEL_MIN_WORK = 200_000;

function shared(n: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(Math.max(1, n) * 4), 0, n);
}

export class CpuBackend implements Backend {
  readonly name = 'cpu';
  readonly adapter: string;
  readonly timing = 'host wall clock (performance.now) around each op, worker threads included';
  private readonly pool: WorkerPool | null;

  constructor(
    readonly threads: number,
    /** Ops with less work than this run inline; tests set 0 to force every op through the pool. */
    private readonly minParallelWork = PARALLEL_MIN_WORK,
  ) {
    this.pool = threads > 1 ? new WorkerPool(threads) : null;
    const model = cpus()[0]?.model?.trim() || 'unknown CPU';
    this.adapter = `${model}, ${threads} thread${threads === 1 ? '' : 's'}`;
  }

  async runNode(node: PlanNode, inputs: Float32Array[], weights: Float32Array[], out: Float32Array, modelSeed: number): Promise<void> {
    const units = unitsOf(node);
    const work = Math.max(node.counts.flops, numel(node.outShape));
    if (this.pool && units > 1 && work >= this.minParallelWork) {
      await this.pool.run(
        { op: node.op, node: node.id, attrs: node.attrs, inShapes: node.inShapes, outShape: node.outShape, inputs, weights, out, seed: nodeSeed(modelSeed, node.id) },
        units,
      );
    } else {
      try {
        getOp(node.op)!.cpu.run(kernelArgs(node, inputs, weights, out, modelSeed), 0, units);
      } catch (err) {
        throw new EngineError(`op "${node.id}" (${node.op}) failed on the CPU: ${(err as Error).message}`, node.id);
      }
    }
  }

  async runOp(node: PlanNode, inputs: Float32Array[], weights: Float32Array[], seed: number): Promise<Float32Array> {
    const toShared = (a: Float32Array) => {
      const s = shared(a.length);
      s.set(a);
      return s;
    };
    const out = shared(numel(node.outShape));
    await this.runNode(node, inputs.map(toShared), weights.map(toShared), out, seed);
    return Float32Array.from(out);
  }

  async prepare(plan: Plan, weights: Map<string, Float32Array[]>): Promise<PreparedModel> {
    const placedWeights = new Map<string, Float32Array[]>();
    for (const node of plan.nodes) {
      placedWeights.set(
        node.id,
        (weights.get(node.id) ?? []).map((w) => {
          const s = shared(w.length);
          s.set(w);
          return s;
        }),
      );
    }
    const buffers = assignBuffers(plan);
    return {
      forward: async (input, hooks: ForwardHooks = {}) => {
        const tensors = new Map<string, Float32Array>();
        const inView = buffers.get(INPUT)!;
        inView.set(input);
        tensors.set(INPUT, inView);
        for (let i = 0; i < plan.nodes.length; i++) {
          if (hooks.signal?.aborted) throw new CancelledError();
          const node = plan.nodes[i];
          const out = buffers.get(node.id)!;
          const ins = node.inputs.map((ref) => tensors.get(ref)!);
          const t0 = performance.now();
          await this.runNode(node, ins, placedWeights.get(node.id)!, out, plan.seed);
          hooks.onNode?.(i, node, performance.now() - t0);
          tensors.set(node.id, out);
        }
        return Float32Array.from(tensors.get(plan.output)!);
      },
      dispose: async () => {},
    };
  }

  async dispose(): Promise<void> {
    await this.pool?.close();
  }
}

/**
 * Gives every tensor a view on shared memory, reusing a buffer once the tensor it held has been
 * read for the last time, so memory follows the plan's live-tensor peak rather than the sum of
 * all activations. A node never writes into a buffer one of its own inputs uses.
 */
function assignBuffers(plan: Plan): Map<string, Float32Array> {
  const lastUse = new Map<string, number>();
  plan.nodes.forEach((n, i) => n.inputs.forEach((ref) => lastUse.set(ref, i)));
  lastUse.set(plan.output, Infinity);
  const free: SharedArrayBuffer[] = [];
  const owner = new Map<string, SharedArrayBuffer>();
  const views = new Map<string, Float32Array>();
  const take = (id: string, n: number) => {
    const bytes = Math.max(4, n * 4);
    let best = -1;
    for (let i = 0; i < free.length; i++) {
      if (free[i].byteLength >= bytes && (best < 0 || free[i].byteLength < free[best].byteLength)) best = i;
    }
    const buf = best >= 0 ? free.splice(best, 1)[0] : new SharedArrayBuffer(bytes);
    owner.set(id, buf);
    views.set(id, new Float32Array(buf, 0, n));
  };
  take(INPUT, numel(plan.inputShape));
  plan.nodes.forEach((node, i) => {
    take(node.id, numel(node.outShape));
    for (const ref of new Set(node.inputs)) if (lastUse.get(ref) === i) free.push(owner.get(ref)!);
    if (!lastUse.has(node.id)) free.push(owner.get(node.id)!);
  });
  return views;
}

export const cpuProvider: BackendProvider = {
  name: 'cpu',
  priority: 0,
  async create(options: BackendOptions) {
    const threads = options.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) throw new EngineError(`threads must be a positive integer, got ${threads}`);
    return new CpuBackend(threads);
  },
};

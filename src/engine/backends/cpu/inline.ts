/**
 * The CPU backend where there are no worker threads, no shared WebAssembly memory and no file
 * system: a browser Worker. Every op runs its TypeScript reference kernel (reference.ts) on the
 * calling thread; activations reuse buffers by liveness as in the CPU backend. Imports nothing
 * Node-only, so the Worker bundle can fall back to it.
 */
import { CancelledError, EngineError } from '../../errors.ts';
import { INPUT, type Plan, type PlanNode } from '../../graph/plan.ts';
import { numel } from '../../tensor.ts';
import { assignSlots } from '../liveness.ts';
import type { Backend, BackendProvider, ForwardHooks, PreparedModel } from '../types.ts';
import { runNodeInline } from './reference.ts';

export class InlineCpuBackend implements Backend {
  readonly name = 'cpu';
  readonly adapter: string;
  readonly timing = 'host wall clock (performance.now) around each op, one thread';
  readonly threads = 1;
  readonly fallbacks: string[] = [];

  constructor(where = 'browser Worker') {
    this.adapter = `${where}, 1 thread, TypeScript reference kernels`;
  }

  async runOp(node: PlanNode, inputs: Float32Array[], weights: Float32Array[], seed: number): Promise<Float32Array> {
    return run(node, inputs, weights, seed);
  }

  async prepare(plan: Plan, weights: Map<string, Float32Array[]>): Promise<PreparedModel> {
    const steps = plan.nodes.map((n) => ({ id: n.id, bytes: numel(n.outShape) * 4, inputs: n.inputs }));
    const { slotOf, slotBytes } = assignSlots({ id: INPUT, bytes: numel(plan.inputShape) * 4 }, steps, plan.output);
    const slots = slotBytes.map((bytes) => new ArrayBuffer(bytes));
    const view = (id: string, shape: number[]) => new Float32Array(slots[slotOf.get(id)!], 0, numel(shape));
    const input = view(INPUT, plan.inputShape);
    const tensors = new Map<string, Float32Array>([[INPUT, input]]);
    for (const n of plan.nodes) tensors.set(n.id, view(n.id, n.outShape));
    const nodeWeights = plan.nodes.map((n) => weights.get(n.id) ?? []);
    let disposed = false;
    return {
      async forward(x: Float32Array, hooks: ForwardHooks = {}) {
        if (disposed) throw new EngineError('forward() on a disposed model');
        if (x.length !== input.length) throw new EngineError(`the input has ${x.length} values; the model takes ${input.length}`);
        input.set(x);
        for (let i = 0; i < plan.nodes.length; i++) {
          if (hooks.signal?.aborted) throw new CancelledError();
          const node = plan.nodes[i];
          const t0 = performance.now();
          run(node, node.inputs.map((ref) => tensors.get(ref)!), nodeWeights[i], plan.seed, tensors.get(node.id)!);
          hooks.onNode?.(i, node, performance.now() - t0);
        }
        return Float32Array.from(tensors.get(plan.output)!);
      },
      async dispose() {
        disposed = true;
      },
    };
  }

  async dispose(): Promise<void> {}
}

function run(node: PlanNode, inputs: Float32Array[], weights: Float32Array[], seed: number, out?: Float32Array): Float32Array {
  try {
    return runNodeInline(node, inputs, weights, seed, out);
  } catch (err) {
    throw new EngineError(`op "${node.id}" (${node.op}) failed on the CPU: ${(err as Error).message}`, node.id);
  }
}

export function makeInlineCpuProvider(where?: string): BackendProvider {
  return { name: 'cpu', priority: 0, create: async () => new InlineCpuBackend(where) };
}

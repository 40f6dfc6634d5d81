/**
 * The plan as the GPU runs it: one step per op, except that an element-wise activation (relu,
 * relu6, sigmoid: ops whose kernel has `activation`) whose only input is a conv2d / linear (kernel
 * with `fusesActivation`) that nothing else reads runs in that op's epilogue, as one step.
 */
import { SpecError } from '../../errors.ts';
import type { Plan, PlanNode } from '../../graph/plan.ts';
import { getOp } from '../../ops/registry.ts';

export interface Step {
  /** Plan indices of the nodes this step runs: the op, then the fused activation if any. */
  indices: number[];
  nodes: PlanNode[];
  /** The tensor the step writes: the last node's id. */
  output: string;
  /** The tensors it reads: the first node's inputs. */
  inputs: string[];
}

/** Op types among `ops` that have no WGSL kernel, sorted, each once. */
export function opsWithoutKernel(ops: Iterable<string>): string[] {
  return [...new Set(ops)].filter((op) => !getOp(op)?.webgpu).sort();
}

/** Refuses a plan that uses an op without a WGSL kernel, naming the ops and the layers using them. */
export function checkKernels(nodes: readonly Pick<PlanNode, 'id' | 'op'>[]): void {
  const missing = opsWithoutKernel(nodes.map((n) => n.op));
  if (missing.length === 0) return;
  const where = missing.map((op) => {
    const ids = nodes.filter((n) => n.op === op).map((n) => n.id);
    return `${op} (${ids.slice(0, 3).join(', ')}${ids.length > 3 ? `, +${ids.length - 3} more` : ''})`;
  });
  throw new SpecError(`the webgpu backend has no WGSL kernel yet for ${where.join('; ')}; use --backend cpu (or auto, which falls back to it)`, undefined, 'backend');
}

export function planSteps(plan: Plan, fuse = true): { steps: Step[]; fusedInto: Map<string, string> } {
  const readers = new Map<string, number>();
  for (const n of plan.nodes) for (const ref of n.inputs) readers.set(ref, (readers.get(ref) ?? 0) + 1);
  const fusedInto = new Map<string, string>();
  const byId = new Map(plan.nodes.map((n, i) => [n.id, i]));
  const consumerOf = new Map<string, number>();
  if (fuse) {
    plan.nodes.forEach((n, i) => {
      if (!getOp(n.op)?.webgpu?.activation || n.inputs.length !== 1) return;
      const src = n.inputs[0];
      const producer = byId.get(src);
      if (producer === undefined || readers.get(src) !== 1 || src === plan.output) return;
      if (!getOp(plan.nodes[producer].op)?.webgpu?.fusesActivation) return;
      consumerOf.set(src, i);
      fusedInto.set(n.id, src);
    });
  }
  const steps: Step[] = [];
  plan.nodes.forEach((n, i) => {
    if (fusedInto.has(n.id)) return;
    const c = consumerOf.get(n.id);
    const indices = c === undefined ? [i] : [i, c];
    const nodes = indices.map((j) => plan.nodes[j]);
    steps.push({ indices, nodes, output: nodes[nodes.length - 1].id, inputs: n.inputs });
  });
  return { steps, fusedInto };
}

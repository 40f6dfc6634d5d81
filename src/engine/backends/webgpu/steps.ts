/**
 * Which ops the GPU can run, and what it fuses (graph/fuse.ts plans the steps): an element-wise
 * activation (relu, relu6, sigmoid: kernels with `activation`) into the epilogue of a kernel with
 * `fusesActivation` (conv2d, linear, deform_conv2d).
 */
import { SpecError } from '../../errors.ts';
import type { FusionRules } from '../../graph/fuse.ts';
import type { PlanNode } from '../../graph/plan.ts';
import { getOp } from '../../ops/registry.ts';

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

/** What the WebGPU kernels fuse: an activation with a WGSL expression into a kernel that takes one. */
export const GPU_FUSION: FusionRules = {
  fusesActivation: (head, activation) => !!getOp(head.op)?.webgpu?.fusesActivation && !!getOp(activation.op)?.webgpu?.activation,
};

import type { PlanNode } from '../../graph/plan.ts';
import { getOp } from '../../ops/registry.ts';
import type { KernelArgs } from '../../ops/types.ts';
import { hashSeed } from '../../rng.ts';
import { numel } from '../../tensor.ts';

/** The per-op seed stochastic kernels get: a function of the model seed and the op id. */
export function nodeSeed(modelSeed: number, nodeId: string): number {
  return hashSeed(modelSeed, nodeId, 'kernel');
}

export function kernelArgs(node: PlanNode, inputs: Float32Array[], weights: Float32Array[], out: Float32Array, modelSeed: number): KernelArgs<unknown> {
  return { inputs, inShapes: node.inShapes, weights, out, outShape: node.outShape, attrs: node.attrs, seed: nodeSeed(modelSeed, node.id) };
}

export function unitsOf(node: PlanNode): number {
  const op = getOp(node.op)!;
  return Math.max(1, op.cpu.units?.({ inShapes: node.inShapes, outShape: node.outShape, attrs: node.attrs }) ?? 1);
}

/** Runs one op on the calling thread: the reference every other path is compared with. */
export function runNodeInline(node: PlanNode, inputs: Float32Array[], weights: Float32Array[], modelSeed: number, out?: Float32Array): Float32Array {
  const result = out ?? new Float32Array(numel(node.outShape));
  getOp(node.op)!.cpu.run(kernelArgs(node, inputs, weights, result, modelSeed), 0, unitsOf(node));
  return result;
}

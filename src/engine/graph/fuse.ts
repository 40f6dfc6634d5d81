/**
 * The plan as a backend runs it: one step per op, except chains that inference runtimes
 * (onnxruntime, TensorRT) also run as one kernel, and that every backend here shares:
 * - conv2d / linear -> batch_norm: the BN's per-channel scale and shift fold into the op's weights
 *   and bias once, at prepare time (OpDef.foldScaleShift);
 * - that op (folded or not) -> a residual add of a tensor of the same shape computed earlier,
 *   where the backend's kernel can add it in its epilogue (ResNet's and SE's `add`: the CPU's
 *   conv2d and mul);
 * - then an element-wise activation the backend can apply in the op's epilogue (relu, relu6,
 *   sigmoid: the backend says which, per op).
 * A link is taken only when nothing else reads the intermediate tensor and it is not the model's
 * output. The fused ops keep their rows, counts and formulas in the report, with `fused_into`
 * naming the op whose kernel ran them and no time of their own.
 */
import { INPUT, type Plan, type PlanNode } from './plan.ts';
import { getOp } from '../ops/registry.ts';
import { batchNormScaleShift, type BatchNormAttrs } from '../ops/batch_norm/index.ts';

export interface Step {
  /** Plan indices of the nodes this step runs, in plan order: the head, then what fused into it. */
  indices: number[];
  nodes: PlanNode[];
  /** The op whose kernel runs. */
  head: PlanNode;
  /** A batch norm folded into the head's weights. */
  batchNorm?: PlanNode;
  /** An add of the head's (folded) output and `residualInput`, done in the head's epilogue. */
  residual?: PlanNode;
  residualInput?: string;
  /** An activation applied in the head's epilogue. */
  activation?: PlanNode;
  /** The tensor the step writes: its last node's id. */
  output: string;
  /** The tensors it reads: the head's inputs, then the residual's. */
  inputs: string[];
}

export interface FusionRules {
  /** Whether the backend's kernel for `head` can apply `activation` in its epilogue. */
  fusesActivation(head: PlanNode, activation: PlanNode): boolean;
  /** Whether it can add a tensor of its output's shape in its epilogue, before the activation. */
  fusesResidual?(head: PlanNode): boolean;
}

export function planSteps(plan: Plan, rules: FusionRules | null): { steps: Step[]; fusedInto: Map<string, string> } {
  const readers = new Map<string, number>();
  for (const n of plan.nodes) for (const ref of n.inputs) readers.set(ref, (readers.get(ref) ?? 0) + 1);
  const byId = new Map(plan.nodes.map((n, i) => [n.id, i]));
  /** The one node reading `id`, when it may fuse into `id`'s producer. */
  const soleReader = (id: string): number | undefined => {
    if (readers.get(id) !== 1 || id === plan.output) return undefined;
    const i = plan.nodes.findIndex((n) => n.inputs.includes(id));
    return plan.nodes[i].inputs.length === 1 ? i : undefined;
  };
  /**
   * The add that alone reads `id` (the output of the step headed by node `head`), with its other
   * input, when that input is computed before the step runs and neither side broadcasts.
   */
  const residualAdd = (id: string, head: number): { add: PlanNode; other: string } | undefined => {
    if (readers.get(id) !== 1 || id === plan.output) return undefined;
    const add = plan.nodes.find((n) => n.inputs.includes(id))!;
    if (add.op !== 'add' || add.inputs.length !== 2 || add.inputs[0] === add.inputs[1]) return undefined;
    if (!add.inShapes.every((s) => sameShape(s, add.outShape))) return undefined;
    const other = add.inputs[0] === id ? add.inputs[1] : add.inputs[0];
    // Every node before the head runs in a step headed no later than itself.
    const producer = other === INPUT ? -1 : byId.get(other)!;
    return producer < head ? { add, other } : undefined;
  };
  const fusedInto = new Map<string, string>();
  const steps: Step[] = [];
  plan.nodes.forEach((head, i) => {
    if (fusedInto.has(head.id)) return;
    const step: Step = { indices: [i], nodes: [head], head, output: head.id, inputs: head.inputs };
    if (rules) {
      const bn = soleReader(head.id);
      // A BN normalises dim 1; the head's weight rows are its output channels only where those are
      // dim 1 too (a linear layer's features are its last dim: the same only for a 2-D output).
      const channelsAtDim1 = head.op !== 'linear' || head.outShape.length === 2;
      if (bn !== undefined && plan.nodes[bn].op === 'batch_norm' && getOp(head.op)?.foldScaleShift && channelsAtDim1) step.batchNorm = plan.nodes[bn];
      let tail = step.batchNorm ? step.batchNorm.id : head.id;
      const residual = rules.fusesResidual?.(head) ? residualAdd(tail, i) : undefined;
      if (residual) {
        step.residual = residual.add;
        step.residualInput = residual.other;
        step.inputs = [...head.inputs, residual.other];
        tail = residual.add.id;
      }
      const act = soleReader(tail);
      if (act !== undefined && getOp(plan.nodes[act].op)?.category === 'activation' && rules.fusesActivation(head, plan.nodes[act])) step.activation = plan.nodes[act];
      for (const n of [step.batchNorm, step.residual, step.activation]) {
        if (!n) continue;
        step.indices.push(byId.get(n.id)!);
        step.nodes.push(n);
        step.output = n.id;
        fusedInto.set(n.id, head.id);
      }
    }
    steps.push(step);
  });
  return { steps, fusedInto };
}

/**
 * The head as it runs: with a batch norm folded in, its attributes and weights rewritten (a bias
 * added if it had none), its output named after the step's; otherwise as planned.
 */
export function headAsRun(step: Step, weights: ReadonlyMap<string, Float32Array[]>): { node: PlanNode; weights: Float32Array[] } {
  const { head, batchNorm } = step;
  const own = weights.get(head.id) ?? [];
  if (!batchNorm) return { node: head, weights: own };
  const bn = batchNorm.attrs as BatchNormAttrs;
  const { scale, shift } = batchNormScaleShift(bn.c, bn.eps, weights.get(batchNorm.id) ?? []);
  const folded = getOp(head.op)!.foldScaleShift!(head.attrs, own, scale, shift);
  const decls = [head.weights[0], { name: `bias (with ${batchNorm.id} folded in)`, shape: [bn.c], role: 'param' as const, init: { kind: 'const' as const, value: 0 } }];
  return { node: { ...head, attrs: folded.attrs, weights: decls }, weights: folded.weights };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** `op "id" (op + folded/fused ...)`, for messages about a step. */
export function stepLabel(step: Step): string {
  const { head, batchNorm, residual, activation } = step;
  const extra =
    `${batchNorm ? ` + folded batch_norm "${batchNorm.id}"` : ''}${residual ? ` + fused add "${residual.id}"` : ''}` +
    `${activation ? ` + fused ${activation.op} "${activation.id}"` : ''}`;
  return `op "${head.id}" (${head.op}${extra})`;
}

/** A step of one node, as it is planned. */
export function singleStep(node: PlanNode): Step {
  return { indices: [0], nodes: [node], head: node, output: node.id, inputs: node.inputs };
}

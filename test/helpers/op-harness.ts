import { buildPlan, type Plan } from '../../src/engine/graph/plan.ts';
import type { ParamValue } from '../../src/shared/spec.ts';

/**
 * A plan of a single op (or block) on given input shapes, for op tests. Extra inputs beyond the
 * first come from identity-like "input" references: a one-op model whose inputs are all the model
 * input is not enough for binary ops of different shapes, so extra inputs are separate layers.
 */
export function singleOpPlan(op: string, params: Record<string, ParamValue>, inputShapes: number[][], seed = 0): Plan {
  if (inputShapes.length === 1) {
    return buildPlan({ format: 'convscope/v1', name: op, input: { shape: inputShapes[0] }, seed, layers: [{ id: 'x', op, params }] });
  }
  throw new Error('singleOpPlan: use opPlanFromShapes for multi-input ops');
}

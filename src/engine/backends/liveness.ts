/**
 * Buffer reuse by liveness, shared by every backend: a tensor's buffer goes back to the pool once
 * the tensor has been read for the last time, so memory follows the plan's live-tensor peak rather
 * than the sum of all activations.
 */

export interface TensorStep {
  /** The tensor this step writes. */
  id: string;
  bytes: number;
  /** Tensor ids it reads. */
  inputs: readonly string[];
}

export interface SlotAssignment {
  /** Tensor id -> slot index. */
  slotOf: Map<string, number>;
  /** Bytes of each slot: the largest tensor it ever holds. */
  slotBytes: number[];
}

/**
 * Places the model input and then each step's output (in execution order) in slots, best fit
 * among the free ones. A step never writes into a slot one of its own inputs occupies; `output`
 * (the model's result) is never freed.
 */
export function assignSlots(input: { id: string; bytes: number }, steps: readonly TensorStep[], output: string): SlotAssignment {
  const lastUse = new Map<string, number>();
  steps.forEach((s, i) => s.inputs.forEach((ref) => lastUse.set(ref, i)));
  lastUse.set(output, Infinity);
  const slotBytes: number[] = [];
  const slotOf = new Map<string, number>();
  const free: number[] = [];
  const take = (id: string, bytes: number) => {
    const need = Math.max(4, bytes);
    let best = -1;
    for (let i = 0; i < free.length; i++) {
      if (slotBytes[free[i]] >= need && (best < 0 || slotBytes[free[i]] < slotBytes[free[best]])) best = i;
    }
    const slot = best >= 0 ? free.splice(best, 1)[0] : slotBytes.push(need) - 1;
    slotOf.set(id, slot);
  };
  take(input.id, input.bytes);
  steps.forEach((step, i) => {
    take(step.id, step.bytes);
    for (const ref of new Set(step.inputs)) if (lastUse.get(ref) === i) free.push(slotOf.get(ref)!);
    if (!lastUse.has(step.id)) free.push(slotOf.get(step.id)!);
  });
  return { slotOf, slotBytes };
}

import type { Plan } from './graph/plan.ts';
import type { WeightDecl } from './ops/types.ts';
import { fillUniform, hashSeed } from './rng.ts';
import { numel, type Shape } from './tensor.ts';

/**
 * Weights are a pure function of (model seed, op id, weight name), so changing one layer leaves
 * every other layer's numbers alone, and `run`, `export` and every backend see the same values.
 * Convolution and linear weights are He-uniform (sqrt(6 / fan_in)): activations keep their scale
 * through deep presets instead of decaying into denormals, which would distort CPU timings.
 */
export function makeWeight(seed: number, nodeId: string, decl: WeightDecl, alloc: (n: number) => Float32Array = (n) => new Float32Array(n)): Float32Array {
  const out = alloc(numel(decl.shape));
  const key = hashSeed(seed, nodeId, decl.name);
  switch (decl.init.kind) {
    case 'uniform':
      return fillUniform(out, key, -decl.init.bound, decl.init.bound);
    case 'range':
      return fillUniform(out, key, decl.init.lo, decl.init.hi);
    case 'const':
      return out.fill(decl.init.value);
  }
}

/**
 * The weights a run of the plan uses: those that came with the model (an imported ONNX file),
 * else the seeded ones. Given weights are handed out as they are unless `alloc` asks for copies.
 */
export function makeWeights(plan: Plan, alloc?: (n: number) => Float32Array): Map<string, Float32Array[]> {
  const all = new Map<string, Float32Array[]>();
  for (const node of plan.nodes) {
    const given = plan.weights?.get(node.id);
    if (given) {
      all.set(node.id, given.map((w) => (alloc ? copyInto(alloc(w.length), w) : w)));
    } else {
      all.set(node.id, node.weights.map((w) => makeWeight(plan.seed, node.id, w, alloc)));
    }
  }
  return all;
}

function copyInto(out: Float32Array, from: Float32Array): Float32Array {
  out.set(from);
  return out;
}

/** The model input a seed implies: U(-1, 1). */
export function makeInput(seed: number, shape: Shape, alloc: (n: number) => Float32Array = (n) => new Float32Array(n)): Float32Array {
  return fillUniform(alloc(numel(shape)), hashSeed(seed, 'input'), -1, 1);
}

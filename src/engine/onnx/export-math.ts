/**
 * ONNX forms of the element-wise, normalisation, reduction and binary ops (and linear on N-D
 * inputs), for export.ts's table. The compositions are the ones torch.onnx.export writes (SiLU as
 * Sigmoid -> Mul, GELU as its Erf or Tanh chain: opset 19 has no Gelu), so that the importer reads
 * an exported model back into the same ops.
 */
import type { BinaryAttrs } from '../ops/add/binary.ts';
import type { LayerNormAttrs } from '../ops/layer_norm/index.ts';
import type { LinearAttrs } from '../ops/linear/index.ts';
import type { ReduceAttrs } from '../ops/reduce.ts';
import { numel } from '../tensor.ts';
import { float, int } from './builder.ts';
import { part, type EmitArgs, type EmitContext, type Emitter } from './export.ts';

/** A chain of nodes `[op, inputs]` from the op's input to its output; `$k` names step k's value. */
function chain(ctx: EmitContext, a: EmitArgs, steps: [op: string, inputs: string[]][]): void {
  const values: string[] = [];
  steps.forEach(([op, inputs], k) => {
    const last = k === steps.length - 1;
    const p = last ? { value: a.y, node: a.name } : part(ctx, a, `${op.toLowerCase()}_${k}`);
    const ins = inputs.map((i) => (i === 'x' ? a.x[0] : i.startsWith('$') ? values[Number(i.slice(1))] : i));
    ctx.g.node(op, ins, [p.value], {}, p.node);
    values.push(p.value);
  });
}

const binary =
  (opType: string): Emitter =>
  (ctx, a) => {
    const t = a.node.attrs as BinaryAttrs;
    const ins = t.weight === 'a' ? [a.w.weight, a.x[0]] : t.weight === 'b' ? [a.x[0], a.w.weight] : a.x;
    ctx.g.node(opType, ins, [a.y], {}, a.name);
  };

const reduce =
  (opType: string): Emitter =>
  (ctx, a) => {
    const t = a.node.attrs as ReduceAttrs;
    const axes = ctx.g.int64Initializer(ctx.names.value(`${a.node.id}.axes`), t.axes);
    const sameAs = (shape: number[]) => shape.length === a.node.outShape.length && shape.every((d, i) => d === a.node.outShape[i]);
    const keepdims = sameAs(a.node.inShapes[0].map((d, i) => (t.axes.includes(i) ? 1 : d)));
    if (keepdims || sameAs(a.node.inShapes[0].filter((_, i) => !t.axes.includes(i)))) {
      ctx.g.node(opType, [a.x[0], axes], [a.y], { keepdims: int(keepdims ? 1 : 0) }, a.name);
      return;
    }
    // Every axis reduced without keepdims: ONNX gives a scalar, the engine keeps a [1].
    const r = part(ctx, a, 'reduce');
    ctx.g.node(opType, [a.x[0], axes], [r.value], { keepdims: int(1) }, r.node);
    ctx.g.node('Reshape', [r.value, ctx.g.int64Initializer(ctx.names.value(`${a.node.id}.shape`), a.node.outShape)], [a.y], {}, a.name);
  };

export const MATH_EMITTERS: Record<string, Emitter> = {
  hardswish: (ctx, a) => {
    ctx.g.node('HardSwish', a.x, [a.y], {}, a.name);
  },
  hardsigmoid: (ctx, a) => {
    const t = a.node.attrs as { alpha: number; beta: number };
    ctx.g.node('HardSigmoid', a.x, [a.y], { alpha: float(t.alpha), beta: float(t.beta) }, a.name);
  },
  clip: (ctx, a) => {
    const t = a.node.attrs as { min: number | null; max: number | null };
    const bound = (v: number | null, what: string) => (v === null ? '' : ctx.scalar(`${a.node.id}.${what}`, v));
    ctx.g.node('Clip', [a.x[0], bound(t.min, 'min'), bound(t.max, 'max')], [a.y], {}, a.name);
  },
  silu: (ctx, a) => chain(ctx, a, [['Sigmoid', ['x']], ['Mul', ['x', '$0']]]),
  gelu: (ctx, a) => {
    const c = (key: string, v: number) => ctx.scalar(`const/gelu_${key}`, v);
    if ((a.node.attrs as { approximate: string }).approximate === 'tanh') {
      chain(ctx, a, [
        ['Mul', ['x', 'x']],
        ['Mul', ['x', '$0']],
        ['Mul', [c('kappa', 0.044715), '$1']],
        ['Add', ['x', '$2']],
        ['Mul', [c('beta', Math.sqrt(2 / Math.PI)), '$3']],
        ['Tanh', ['$4']],
        ['Add', [c('one', 1), '$5']],
        ['Mul', ['x', '$6']],
        ['Mul', [c('half', 0.5), '$7']],
      ]);
    } else {
      chain(ctx, a, [
        ['Div', ['x', c('sqrt2', Math.SQRT2)]],
        ['Erf', ['$0']],
        ['Add', ['$1', c('one', 1)]],
        ['Mul', ['x', '$2']],
        ['Mul', ['$3', c('half', 0.5)]],
      ]);
    }
  },
  add: binary('Add'),
  sub: binary('Sub'),
  mul: binary('Mul'),
  div: binary('Div'),
  layer_norm: (ctx, a) => {
    const t = a.node.attrs as LayerNormAttrs;
    const shape = a.node.inShapes[0];
    let axis = shape.length - 1;
    while (axis > 0 && numel(shape.slice(axis)) < t.inner) axis--;
    // LayerNormalization requires Scale: without elementwise_affine it is ones.
    const scale = t.weight ? a.w.weight : ctx.g.initializer(ctx.names.value(`${a.node.id}.ones`), new Float32Array(t.inner).fill(1), shape.slice(axis));
    ctx.g.node('LayerNormalization', [a.x[0], scale, ...(t.bias ? [a.w.bias] : [])], [a.y], { axis: int(axis), epsilon: float(t.eps) }, a.name);
  },
  reduce_mean: reduce('ReduceMean'),
  reduce_max: reduce('ReduceMax'),
  linear: (ctx, a) => {
    const t = a.node.attrs as LinearAttrs;
    if (a.node.inShapes[0].length === 2) {
      ctx.g.node('Gemm', [a.x[0], a.w.weight, ...(t.bias ? [a.w.bias] : [])], [a.y], { transB: int(1) }, a.name);
      return;
    }
    // Gemm is 2-D only: MatMul by the weight transposed to [in, out] (and the bias added), as
    // torch writes nn.Linear on N-D inputs.
    const w = a.data.weight;
    const wt = new Float32Array(w.length);
    for (let o = 0; o < t.outF; o++) for (let i = 0; i < t.inF; i++) wt[i * t.outF + o] = w[o * t.inF + i];
    const wName = ctx.g.initializer(ctx.names.value(`${a.node.id}.weight_t`), wt, [t.inF, t.outF]);
    const mm = t.bias ? part(ctx, a, 'matmul') : { value: a.y, node: a.name };
    ctx.g.node('MatMul', [a.x[0], wName], [mm.value], {}, mm.node);
    if (t.bias) ctx.g.node('Add', [mm.value, a.w.bias], [a.y], {}, a.name);
  },
};

import { fmt } from '../common.ts';
import { numel } from '../../tensor.ts';
import type { CpuKernel, OpDef } from '../types.ts';
import { softmaxWgsl } from './wgsl.ts';

export interface SoftmaxAttrs {
  /** Product of the dims before the axis. */
  outer: number;
  /** Length of the axis. */
  len: number;
  /** Product of the dims after the axis: the stride between neighbours along it. */
  inner: number;
}

/** Positions along `inner` per work unit; the running max and sum of a chunk stay in L1. */
const CHUNK = 1024;

/** exp(x - max) / sum(exp(x - max)) along `axis` (default 1, negative counts from the end); any rank. */
export const softmax: OpDef<SoftmaxAttrs> = {
  type: 'softmax',
  category: 'activation',
  summary: 'Normalised exponentials along one axis (max subtracted for stability): 5 FLOPs per element, no params.',
  arity: [1, 1],
  resolve(p, [input]) {
    const rank = input.length;
    const given = p.int('axis', { default: 1, min: -rank, max: rank - 1 });
    const axis = given < 0 ? given + rank : given;
    const outer = numel(input.slice(0, axis));
    const inner = numel(input.slice(axis + 1));
    const elements = numel(input);
    return {
      attrs: { outer, len: input[axis], inner },
      output: [...input],
      weights: [],
      counts: {
        macs: 0,
        flops: 5 * elements,
        formula: `FLOPs = 5 * ${fmt(elements)} elements = ${fmt(5 * elements)} (per element: compare for the max, subtract it, exp, add to the sum, divide)`,
      },
    };
  },
  cpu: softmaxCpu(),
  webgpu: softmaxWgsl,
};

function softmaxCpu(): CpuKernel<SoftmaxAttrs> {
  const chunks = (a: SoftmaxAttrs) => Math.ceil(a.inner / CHUNK);
  const max = new Float64Array(CHUNK);
  const sum = new Float64Array(CHUNK);
  return {
    units: ({ attrs }) => attrs.outer * chunks(attrs),
    run({ inputs: [x], out, attrs: a }, start, end) {
      const { len, inner } = a;
      const perOuter = chunks(a);
      for (let u = start; u < end; u++) {
        const o = Math.floor(u / perOuter);
        const j0 = (u % perOuter) * CHUNK;
        const width = Math.min(CHUNK, inner - j0);
        const base = o * len * inner + j0;
        max.fill(-Infinity, 0, width);
        sum.fill(0, 0, width);
        for (let i = 0; i < len; i++) {
          const off = base + i * inner;
          for (let j = 0; j < width; j++) if (x[off + j] > max[j]) max[j] = x[off + j];
        }
        for (let i = 0; i < len; i++) {
          const off = base + i * inner;
          for (let j = 0; j < width; j++) {
            const e = Math.exp(x[off + j] - max[j]);
            out[off + j] = e;
            sum[j] += e;
          }
        }
        for (let i = 0; i < len; i++) {
          const off = base + i * inner;
          for (let j = 0; j < width; j++) out[off + j] /= sum[j];
        }
      }
    },
  };
}

import { fmt } from '../common.ts';
import { resolvePool2d, windowWork, type Pool2dAttrs } from '../pool2d.ts';
import type { OpDef } from '../types.ts';
import { stochasticPoolCpu } from './cpu.ts';
import { stochasticPoolWgsl } from './wgsl.ts';

export interface StochasticPool2dAttrs extends Pool2dAttrs {
  training: boolean;
}

/**
 * Stochastic pooling (Zeiler & Fergus 2013) over a_i = max(x_i, 0). Training samples one window
 * element with probability a_i / sum(a); inference takes the probability-weighted average
 * sum(a_i^2) / sum(a_i). A window with sum(a) = 0 gives 0. Padded cells count as 0.
 */
export const stochasticPool2d: OpDef<StochasticPool2dAttrs> = {
  type: 'stochastic_pool2d',
  category: 'pooling',
  summary:
    'Samples each window by activation (training) or takes the activation-weighted mean (inference): 4 FLOPs per window element + 1 per output, no params.',
  arity: [1, 1],
  resolve(p, [input]) {
    const base = resolvePool2d(p, input, { dilation: false, ceilMode: false });
    const training = p.bool('training', false);
    const attrs = { ...base, training };
    const work = windowWork(attrs);
    const flops = work.outputs * work.perOutput * 4 + work.outputs;
    const perElement = training ? 'clamp, add to sum, add to running sum, compare' : 'clamp, square, add to sum(a), add to sum(a^2)';
    const perOutput = training ? 'multiply the uniform draw by sum(a)' : 'divide';
    return {
      attrs,
      output: [attrs.n, attrs.c, attrs.ho, attrs.wo],
      weights: [],
      counts: {
        macs: 0,
        flops,
        formula: `FLOPs = 4*(${work.text}) + ${fmt(work.outputs)} outputs = ${fmt(flops)} (${perElement} per window element; ${perOutput} per output)`,
      },
    };
  },
  cpu: stochasticPoolCpu,
  webgpu: stochasticPoolWgsl,
};

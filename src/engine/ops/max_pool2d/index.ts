import { extremePool, planes, resolvePool2d, windowWork, type Pool2dAttrs } from '../pool2d.ts';
import type { OpDef } from '../types.ts';
import { maxPool2dWgsl } from './wgsl.ts';

/** PyTorch MaxPool2d: kernel, stride (default kernel), padding, dilation, ceil_mode. */
export const maxPool2d: OpDef<Pool2dAttrs> = {
  type: 'max_pool2d',
  category: 'pooling',
  summary: 'Largest value in each window: 1 FLOP (compare) per window element, no params, no MACs.',
  arity: [1, 1],
  resolve(p, [input]) {
    const attrs = resolvePool2d(p, input, { dilation: true, ceilMode: true });
    const work = windowWork(attrs);
    return {
      attrs,
      output: [attrs.n, attrs.c, attrs.ho, attrs.wo],
      weights: [],
      counts: { macs: 0, flops: work.outputs * work.perOutput, formula: `FLOPs = ${work.text} (one compare per window element)` },
    };
  },
  cpu: {
    units: planes,
    run: (args, start, end) => extremePool(args, start, end, 1),
  },
  webgpu: maxPool2dWgsl,
};

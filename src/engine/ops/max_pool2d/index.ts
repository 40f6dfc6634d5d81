import { extremePoolOp } from '../pool2d.ts';
import { maxPool2dWgsl } from './wgsl.ts';

/** PyTorch MaxPool2d: kernel, stride (default kernel), padding, dilation, ceil_mode. */
export const maxPool2d = extremePoolOp(
  'max_pool2d',
  'Largest value in each window: 1 FLOP (compare) per window element, no params, no MACs.',
  1,
  maxPool2dWgsl,
);

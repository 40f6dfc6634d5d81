import { extremePoolOp } from '../pool2d.ts';
import { minPool2dWgsl } from './wgsl.ts';

/** Min pooling: max pooling's rules (PyTorch has none of its own), keeping the smallest value. */
export const minPool2d = extremePoolOp(
  'min_pool2d',
  'Smallest value in each window: 1 FLOP (compare) per window element, no params, no MACs.',
  -1,
  minPool2dWgsl,
);

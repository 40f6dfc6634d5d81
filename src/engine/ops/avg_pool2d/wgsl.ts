import { windowPoolWgsl } from '../pool2d-wgsl.ts';
import type { AvgPool2dAttrs } from './index.ts';

/** Mean over each window with the CPU kernel's divisor (ceil_mode, count_include_pad), 4 outputs per thread. */
export const avgPool2dWgsl = windowPoolWgsl<AvgPool2dAttrs>('avg', (a) => a.countIncludePad);

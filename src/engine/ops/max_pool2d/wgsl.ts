import { windowPoolWgsl } from '../pool2d-wgsl.ts';
import type { Pool2dAttrs } from '../pool2d.ts';

/** Max over each window, 4 outputs per thread; padding never wins (pool2d-wgsl.ts). */
export const maxPool2dWgsl = windowPoolWgsl<Pool2dAttrs>('max');

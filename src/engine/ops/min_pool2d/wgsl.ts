import { windowPoolWgsl } from '../pool2d-wgsl.ts';
import type { Pool2dAttrs } from '../pool2d.ts';

/** Min over each window, 4 outputs per thread; padding never wins (pool2d-wgsl.ts). */
export const minPool2dWgsl = windowPoolWgsl<Pool2dAttrs>('min');

import { reduceOp } from '../reduce.ts';

/** Maximum over axes (ONNX ReduceMax, torch.amax(dim)). */
export const reduceMax = reduceOp('max', 'Maximum over the given axes (all by default), keepdims by default: 1 FLOP per input element, no params.');

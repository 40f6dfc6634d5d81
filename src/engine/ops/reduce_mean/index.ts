import { reduceOp } from '../reduce.ts';

/** Mean over axes (ONNX ReduceMean, torch.mean(dim)): SE's squeeze written as a mean, token pooling. */
export const reduceMean = reduceOp('mean', 'Mean over the given axes (all by default), keepdims by default: 1 FLOP per input element, no params.');

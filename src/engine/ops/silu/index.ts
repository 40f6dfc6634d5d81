import { sigmoidOf, unaryOp, WGSL_SIGMOID } from '../unary.ts';

/** SiLU / swish, x * sigmoid(x) (EfficientNet); any rank. */
export const silu = unaryOp({
  type: 'silu',
  summary: 'x * sigmoid(x) per element (SiLU, swish): 2 FLOPs per element, no params.',
  params: () => ({}),
  flops: () => ({ perElement: 2, what: 'x * sigmoid(x): the sigmoid 1, the multiply 1' }),
  fn: () => (x) => x * sigmoidOf(x),
  wgsl: () => `x * ${WGSL_SIGMOID('x')}`,
});

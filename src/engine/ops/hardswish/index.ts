import { unaryOp } from '../unary.ts';

/** PyTorch's Hardswish, x * relu6(x + 3) / 6 (MobileNetV3); any rank. */
export const hardswish = unaryOp({
  type: 'hardswish',
  summary: 'x * relu6(x + 3) / 6 per element (MobileNetV3): 4 FLOPs per element, no params.',
  params: () => ({}),
  flops: () => ({ perElement: 4, what: 'x * min(max(x + 3, 0), 6) / 6: add, clamp, multiply, divide' }),
  fn: () => (x) => (x * Math.min(Math.max(x + 3, 0), 6)) / 6,
  wgsl: () => 'x * clamp(x + 3.0, 0.0, 6.0) / 6.0',
});

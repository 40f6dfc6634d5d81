import { wgslFloat } from '../../kernels/wgsl/elementwise.ts';
import { unaryOp } from '../unary.ts';

/**
 * max(0, min(1, alpha * x + beta)); any rank. The defaults are PyTorch's nn.Hardsigmoid
 * (alpha 1/6, beta 0.5: MobileNetV3's SE gate); ONNX's HardSigmoid defaults to alpha 0.2 and
 * imports state it.
 */
export const hardsigmoid = unaryOp({
  type: 'hardsigmoid',
  summary: 'max(0, min(1, alpha * x + beta)) per element (MobileNetV3 SE gate): 3 FLOPs per element, no params.',
  params: (p) => ({ alpha: p.number('alpha', { default: 1 / 6 }), beta: p.number('beta', { default: 0.5 }) }),
  flops: ({ alpha, beta }) => ({ perElement: 3, what: `min(max(${+alpha.toPrecision(6)} * x + ${beta}, 0), 1): multiply, add, clamp` }),
  fn: ({ alpha, beta }) => (x) => Math.min(Math.max(alpha * x + beta, 0), 1),
  wgsl: ({ alpha, beta }) => `clamp(${wgslFloat(alpha)} * x + ${wgslFloat(beta)}, 0.0, 1.0)`,
});

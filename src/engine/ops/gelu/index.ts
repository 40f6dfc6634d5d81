import { unaryOp } from '../unary.ts';

/** 1 + erf(z) in float64, via the fit the WGSL kernel uses (cs_erf1p): fractional error < 1.2e-7. */
export function erf1p(z: number): number {
  const a = Math.abs(z);
  const t = 1 / (1 + 0.5 * a);
  const p =
    -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const erfc = t * Math.exp(p - a * a);
  return z >= 0 ? 2 - erfc : erfc;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * GELU, PyTorch's nn.GELU (ConvNeXt, ViT): x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt 2)), or with
 * approximate "tanh" 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))). Any rank.
 */
export const gelu = unaryOp({
  type: 'gelu',
  summary: 'x * Phi(x) per element (ConvNeXt, ViT), erf or tanh form: 5 or 9 FLOPs per element, no params.',
  params: (p) => ({ approximate: p.oneOf('approximate', ['none', 'tanh'] as const, 'none') }),
  flops: ({ approximate }) =>
    approximate === 'tanh'
      ? { perElement: 9, what: '0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))): x^3 2, then 3 multiplies, 2 adds, tanh 1, one more multiply' }
      : { perElement: 5, what: '0.5 * x * (1 + erf(x / sqrt 2)): divide, erf, add, 2 multiplies' },
  fn: ({ approximate }) =>
    approximate === 'tanh' ? (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))) : (x) => 0.5 * x * erf1p(x * Math.SQRT1_2),
  wgsl: ({ approximate }) =>
    approximate === 'tanh' ? `0.5 * x * (1.0 + cs_tanh(${SQRT_2_OVER_PI} * (x + 0.044715 * x * x * x)))` : `0.5 * x * cs_erf1p(x * ${Math.SQRT1_2})`,
});

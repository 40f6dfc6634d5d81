import { wgslFloat } from '../../kernels/wgsl/elementwise.ts';
import { unaryOp } from '../unary.ts';

/**
 * torch.clamp / ONNX Clip: min(max(x, min), max), either bound optional; any rank. With min
 * above max every element is max, as in both. NaN passes through, as relu6 lets it.
 */
export const clip = unaryOp({
  type: 'clip',
  summary: 'min(max(x, min), max) per element, either bound optional: 1 FLOP per element, no params.',
  params: (p) => ({
    min: p.raw('min') === undefined ? null : p.number('min'),
    max: p.raw('max') === undefined ? null : p.number('max'),
  }),
  flops: ({ min, max }) => ({ perElement: 1, what: `clamp to [${min ?? '-inf'}, ${max ?? 'inf'}]` }),
  fn: ({ min, max }) => {
    const lo = min ?? -Infinity;
    const hi = max ?? Infinity;
    return (x) => Math.min(Math.max(x, lo), hi);
  },
  wgsl: ({ min, max }) => {
    let e = 'x';
    if (min !== null) e = `max(${e}, ${wgslFloat(min)})`;
    if (max !== null) e = `min(${e}, ${wgslFloat(max)})`;
    // WGSL's min / max may return either operand for a NaN; the CPU's keep it.
    return min === null && max === null ? e : `select(${e}, x, (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u)`;
  },
});

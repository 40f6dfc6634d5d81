import { activationCode, epilogue, type WasmKernel } from '../../backends/cpu/wasm/types.ts';
import { forEachRun, operands, type BinaryAttrs } from './binary.ts';

/** Output elements per unit, as the TypeScript kernel. */
const CHUNK = 65536;

/**
 * add and mul (eltwise.as): equal shapes in one pass; broadcasting as the TypeScript kernel walks
 * it, in runs of `inner` elements where one input is contiguous and the other one value (the SE
 * scale: a plane times its gate). Runs shorter than 8 elements are left to the TypeScript kernel:
 * a call per run would cost more than the arithmetic. A residual add after it (SE's scale, then
 * the shortcut) and a relu / relu6 after that (ResNet's residual add) run on each chunk just
 * written.
 */
export const binaryWasm: WasmKernel<BinaryAttrs> = {
  accepts: ({ attrs }) => attrs.same || (attrs.inner >= 8 && attrs.aStep + attrs.bStep === 1),
  activations: ['relu', 'relu6'],
  fusesResidual: true,
  units: ({ attrs }) => Math.ceil(attrs.total / CHUNK),
  run(k, args, start, end) {
    const { attrs: t, y } = args;
    const [a, b] = operands(t, args.x, args.w);
    const op = t.kind === 'mul' ? 1 : 0;
    const lo = start * CHUNK;
    const hi = Math.min(end * CHUNK, t.total);
    if (t.same) {
      k.binary_same(op, a + lo * 4, b + lo * 4, y + lo * 4, hi - lo);
    } else if (op === 1 && args.residual !== undefined) {
      // SE: the scale, the residual add and the activation in one pass.
      const r = args.residual;
      const act = activationCode(args.activation);
      forEachRun(t, lo, hi, (o, ao, bo, len) => {
        if (t.aStep === 1) k.scale_add(a + ao * 4, b + bo * 4, r + o * 4, y + o * 4, len, act);
        else k.scale_add(b + bo * 4, a + ao * 4, r + o * 4, y + o * 4, len, act);
      });
      return;
    } else {
      forEachRun(t, lo, hi, (o, ao, bo, len) => {
        // add and mul commute, so the contiguous input always goes first.
        if (t.aStep === 1) k.binary_scalar(op, a + ao * 4, b + bo * 4, y + o * 4, len);
        else k.binary_scalar(op, b + bo * 4, a + ao * 4, y + o * 4, len);
      });
    }
    epilogue(k, args, y + lo * 4, 1, hi - lo, (hi - lo) * 4);
  },
};

import { blockInput, optionalInt } from './common.ts';
import type { BlockDef } from './types.ts';

/**
 * Spatially separable convolution (the k x k -> k x 1, 1 x k factorisation of Inception v3,
 * Szegedy et al. 2016): a k x 1 convolution to mid_channels then a 1 x k convolution to
 * out_channels. With mid = out it costs 2/k of the k x k conv. The stride, if any, is taken by
 * each factor along its own axis, and so is the padding: `padding` means what it means on the
 * k x k conv (int, [ph, pw], [top, left, bottom, right] or "same", as conv2d), its rows go to the
 * k x 1 conv and its columns to the 1 x k, so the output is the k x k conv's. Without it the size
 * is kept ((k - 1) / 2 each side, k odd).
 */
export const spatialSeparableConv: BlockDef = {
  type: 'spatial_separable_conv',
  summary: 'Spatially separable conv: k x 1 then 1 x k (size kept unless padded otherwise); params and MACs ~2/k of a k x k conv at the same width.',
  arity: [1, 1],
  expand(p, b) {
    const [, , h, w] = blockInput(p, b);
    const out = p.int('out_channels', { min: 1 });
    const k = p.int('kernel', { default: 3, min: 1 });
    const stride = p.int('stride', { default: 1, min: 1 });
    const mid = optionalInt(p, 'mid_channels', { min: 1 }) ?? out;
    const bias = p.bool('bias', true);
    const given = p.raw('padding') !== undefined;
    if (!given && k % 2 === 0) {
      p.fail('kernel', `${k} must be odd so that the k x 1 and 1 x k convolutions keep the size with symmetric padding; or give padding (an int, [ph, pw], [top, left, bottom, right] or "same")`);
    }
    const half = (k - 1) / 2;
    // As on the k x k conv: "same" resolves against the block's input, the stride and the kernel on both axes.
    const [pt, pl, pb, pr] = p.padding('padding', [h, w], [k, k], [stride, stride], [1, 1], [half, half, half, half]);
    // Symmetric pairs where they are (what every exporter and runtime understands), else all four sides.
    const rows = pt === pb ? [pt, 0] : [pt, 0, pb, 0];
    const cols = pl === pr ? [0, pl] : [0, pl, 0, pr];
    b.op(`conv_${k}x1`, 'conv2d', { out_channels: mid, kernel: [k, 1], stride: [stride, 1], padding: rows, bias });
    b.op(`conv_1x${k}`, 'conv2d', { out_channels: out, kernel: [1, k], stride: [1, stride], padding: cols, bias });
  },
};

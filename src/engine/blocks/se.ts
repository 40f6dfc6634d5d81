import { blockInput, optionalInt } from './common.ts';
import type { BlockDef } from './types.ts';

/**
 * Squeeze-and-Excitation (Hu et al. 2018): global average pool, FC C -> C/r, ReLU, FC C/r -> C,
 * sigmoid, channel-wise scale of the input. The two FCs are 1x1 convolutions with bias on the
 * pooled [N, C, 1, 1] tensor: the same weights, params and MACs as nn.Linear with bias, and no
 * flatten/reshape is needed before the broadcasting multiply.
 */
export const se: BlockDef = {
  type: 'se',
  summary: 'Squeeze-and-Excitation: global pool, FC C->C/r, ReLU, FC C/r->C, sigmoid, scale; adds 2*C*C/r + C/r + C params and ~2*C*C/r MACs.',
  arity: [1, 1],
  expand(p, b) {
    const [, c] = blockInput(p, b);
    const reductionGiven = p.has('reduction');
    const reduction = p.int('reduction', { default: 16, min: 1 });
    const given = optionalInt(p, 'squeeze_channels', { min: 1 });
    if (given !== undefined && reductionGiven) {
      p.fail('squeeze_channels', `and reduction both set the squeeze width; give one of them`);
    }
    if (given === undefined && c % reduction !== 0) {
      p.fail('reduction', `${reduction} does not divide the ${c} input channels; use a divisor of ${c} or give squeeze_channels`);
    }
    const squeeze = given ?? c / reduction;
    const x = b.inputs[0];
    b.op('pool', 'global_avg_pool', {}, [x]);
    b.op('fc1', 'conv2d', { out_channels: squeeze, kernel: 1, bias: true });
    b.op('relu', 'relu');
    b.op('fc2', 'conv2d', { out_channels: c, kernel: 1, bias: true });
    const gate = b.op('sigmoid', 'sigmoid');
    b.op('scale', 'mul', {}, [x, gate]);
  },
};

import { blockInput, tfSamePads } from './common.ts';
import type { BlockDef } from './types.ts';

/**
 * An Xception entry-flow module (Chollet 2017, Fig. 5; Keras applications' block2-4): [ReLU],
 * separable conv, BN, ReLU, separable conv, BN, 3x3 stride-2 max pool ("same"), added to a
 * 1x1 stride-2 conv + BN shortcut. The first module of the network starts without the ReLU
 * (its input was just activated): relu_first false.
 */
export const xceptionEntry: BlockDef = {
  type: 'xception_entry',
  summary: 'Xception entry-flow module: [ReLU], sepconv, BN, ReLU, sepconv, BN, 3x3/2 max pool + 1x1/2 conv+BN shortcut, add; halves H and W.',
  arity: [1, 1],
  expand(p, b) {
    const [, , h, w] = blockInput(p, b);
    const out = p.int('out_channels', { min: 1 });
    const reluFirst = p.bool('relu_first', true);
    const x = b.inputs[0];
    if (reluFirst) b.op('sep1_act', 'relu', {}, [x]);
    b.block('sep1', 'separable_conv', { out_channels: out });
    b.op('sep1_bn', 'batch_norm');
    b.op('sep2_act', 'relu');
    b.block('sep2', 'separable_conv', { out_channels: out });
    b.op('sep2_bn', 'batch_norm');
    const pooled = b.op('pool', 'max_pool2d', { kernel: 3, stride: 2, padding: tfSamePads(h, w, [3, 3], [2, 2]) });
    b.op('shortcut', 'conv2d', { out_channels: out, kernel: 1, stride: 2, bias: false }, [x]);
    const shortcut = b.op('shortcut_bn', 'batch_norm');
    b.op('add', 'add', {}, [pooled, shortcut]);
  },
};

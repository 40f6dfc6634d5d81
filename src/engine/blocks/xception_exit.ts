import { blockInput, intList, optionalInt, tfSamePads } from './common.ts';
import type { BlockDef } from './types.ts';

/**
 * Xception's exit flow (Chollet 2017, Fig. 5; Keras block13-14): ReLU, separable conv
 * (mid_channels), BN, ReLU, separable conv (out_channels), BN, 3x3 stride-2 max pool, added to a
 * 1x1 stride-2 conv + BN shortcut; then, as in the paper's figure, the tail of separable convs
 * (default 1536 and 2048), each followed by BN and ReLU. `tail: []` leaves just the module.
 */
export const xceptionExit: BlockDef = {
  type: 'xception_exit',
  summary:
    'Xception exit flow: ReLU, sepconv, BN, ReLU, sepconv, BN, 3x3/2 max pool + 1x1/2 conv+BN shortcut, add; then sepconv+BN+ReLU per tail width (1536, 2048).',
  arity: [1, 1],
  expand(p, b) {
    const [, cin, h, w] = blockInput(p, b);
    const mid = optionalInt(p, 'mid_channels', { min: 1 }) ?? cin;
    const out = p.int('out_channels', { default: 1024, min: 1 });
    const tail = intList(p, 'tail', [1536, 2048]);
    const x = b.inputs[0];
    b.op('sep1_act', 'relu', {}, [x]);
    b.block('sep1', 'separable_conv', { out_channels: mid });
    b.op('sep1_bn', 'batch_norm');
    b.op('sep2_act', 'relu');
    b.block('sep2', 'separable_conv', { out_channels: out });
    b.op('sep2_bn', 'batch_norm');
    const pooled = b.op('pool', 'max_pool2d', { kernel: 3, stride: 2, padding: tfSamePads(h, w, [3, 3], [2, 2]) });
    b.op('shortcut', 'conv2d', { out_channels: out, kernel: 1, stride: 2, bias: false }, [x]);
    const shortcut = b.op('shortcut_bn', 'batch_norm');
    b.op('add', 'add', {}, [pooled, shortcut]);
    tail.forEach((channels, i) => {
      const n = i + 3;
      b.block(`sep${n}`, 'separable_conv', { out_channels: channels });
      b.op(`sep${n}_bn`, 'batch_norm');
      b.op(`sep${n}_act`, 'relu');
    });
  },
};

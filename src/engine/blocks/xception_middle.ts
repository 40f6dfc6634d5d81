import { blockInput } from './common.ts';
import type { BlockDef } from './types.ts';

/**
 * An Xception middle-flow module (Chollet 2017, Fig. 5; Keras block5-12): three times ReLU,
 * separable conv, BN at the input's width, added to the input. Shape-preserving; the network
 * repeats it eight times at 728 channels.
 */
export const xceptionMiddle: BlockDef = {
  type: 'xception_middle',
  summary: 'Xception middle-flow module: 3 x (ReLU, sepconv, BN) at the input width + identity shortcut; shape-preserving.',
  arity: [1, 1],
  expand(p, b) {
    const [, c] = blockInput(p, b);
    const x = b.inputs[0];
    let branch = x;
    for (let i = 1; i <= 3; i++) {
      b.op(`sep${i}_act`, 'relu');
      b.block(`sep${i}`, 'separable_conv', { out_channels: c });
      branch = b.op(`sep${i}_bn`, 'batch_norm');
    }
    b.op('add', 'add', {}, [branch, x]);
  },
};

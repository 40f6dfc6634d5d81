import { blockInput, optionalInt } from './common.ts';
import type { BlockDef } from './types.ts';

/**
 * ShuffleNet v1 unit (Zhang et al. 2017, Fig. 2 b/c). The main branch is 1x1 group conv, BN,
 * ReLU, channel shuffle, 3x3 depthwise (with the stride), BN, 1x1 group conv, BN. At stride 1 it
 * is added to the input; at stride 2 it produces out - in channels and is concatenated after a
 * 3x3 stride-2 average pool of the input, (shortcut, branch) in that order as in Megvii's
 * reference code, so out_channels come out either way. ReLU follows the add / concat (Fig. 2).
 * Convolutions have no bias (BN follows each); with groups = 1 the shuffle is the identity and
 * is left out.
 */
export const shufflenetUnit: BlockDef = {
  type: 'shufflenet_unit',
  summary:
    'ShuffleNet v1 unit: 1x1 group conv, BN, ReLU, channel shuffle, 3x3 depthwise (stride), BN, 1x1 group conv, BN; add at stride 1, avg-pool shortcut + concat at stride 2.',
  arity: [1, 1],
  expand(p, b) {
    const [, cin] = blockInput(p, b);
    const out = p.int('out_channels', { min: 1 });
    const groups = p.int('groups', { min: 1 });
    const stride = p.int('stride', { default: 1, min: 1, max: 2 });
    const firstGroup = p.bool('first_group', true);
    const givenBottleneck = optionalInt(p, 'bottleneck', { min: 1 });

    if (out % groups !== 0) p.fail('out_channels', `${out} is not divisible by groups ${groups}`);
    if (firstGroup && cin % groups !== 0) {
      p.fail('groups', `${groups} does not divide the ${cin} input channels of the first grouped 1x1; use a divisor of ${cin} or set first_group false`);
    }
    if (givenBottleneck === undefined && out % 4 !== 0) {
      p.fail('out_channels', `${out} is not divisible by 4 (the bottleneck defaults to a quarter of out_channels); give bottleneck explicitly`);
    }
    const mid = givenBottleneck ?? out / 4;
    if (mid % groups !== 0) {
      const what = givenBottleneck === undefined ? `bottleneck ${mid} (out_channels / 4)` : `bottleneck ${mid}`;
      p.error(`${what} is not divisible by groups ${groups}; the shuffle and the last grouped 1x1 split it into ${groups} groups`, 'bottleneck');
    }
    let branchOut = out;
    if (stride === 1) {
      if (cin !== out) {
        p.fail('out_channels', `${out} must equal the ${cin} input channels at stride 1 (the input is added to the branch); use stride 2 to change the width`);
      }
    } else {
      if (out <= cin) {
        p.fail('out_channels', `${out} must exceed the ${cin} input channels at stride 2 (the branch produces out_channels - ${cin} channels, concatenated with the pooled input)`);
      }
      branchOut = out - cin;
      if (branchOut % groups !== 0) {
        p.fail('out_channels', `${out} leaves ${branchOut} branch channels (out_channels - ${cin} input channels), not divisible by groups ${groups}`);
      }
    }

    const x = b.inputs[0];
    b.op('gconv1', 'conv2d', { out_channels: mid, kernel: 1, groups: firstGroup ? groups : 1, bias: false }, [x]);
    b.op('bn1', 'batch_norm');
    b.op('relu1', 'relu');
    if (groups > 1) b.op('shuffle', 'channel_shuffle', { groups });
    b.op('dwconv', 'conv2d', { out_channels: mid, kernel: 3, stride, padding: 1, groups: mid, bias: false });
    b.op('bn2', 'batch_norm');
    b.op('gconv2', 'conv2d', { out_channels: branchOut, kernel: 1, groups, bias: false });
    const branch = b.op('bn3', 'batch_norm');
    if (stride === 1) {
      b.op('add', 'add', {}, [branch, x]);
    } else {
      const shortcut = b.op('shortcut', 'avg_pool2d', { kernel: 3, stride: 2, padding: 1 }, [x]);
      b.op('concat', 'concat', { axis: 1 }, [shortcut, branch]);
    }
    b.op('relu', 'relu');
  },
};

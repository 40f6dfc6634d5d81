import type { ParamReader } from '../params.ts';
import { blockInput, optionalInt } from './common.ts';
import type { BlockBuilder, BlockDef } from './types.ts';

/**
 * The ResNet bottleneck in torchvision's layout ("v1.5": the stride sits in the 3x3, not the
 * first 1x1 as in He et al. 2016), optionally with Squeeze-and-Excitation on the residual branch
 * before the addition (Hu et al. 2018, Fig. 3). Shared by resnet_bottleneck and
 * se_resnet_bottleneck so that resnet50 and se_resnet50 differ only by the SE ops.
 */
export function expandBottleneck(p: ParamReader, b: BlockBuilder, withSe: boolean): void {
  const [, cin] = blockInput(p, b);
  const out = p.int('out_channels', { min: 1 });
  const stride = p.int('stride', { default: 1, min: 1 });
  const givenWidth = optionalInt(p, 'width', { min: 1 });
  if (givenWidth === undefined && out % 4 !== 0) {
    p.fail('out_channels', `${out} is not divisible by 4 (the bottleneck width defaults to out_channels / 4, the expansion of ResNet); give width explicitly`);
  }
  const width = givenWidth ?? out / 4;
  const needed = stride !== 1 || cin !== out;
  let downsample = needed;
  if (p.raw('downsample') !== undefined) {
    downsample = p.bool('downsample', needed);
    if (!downsample && needed) {
      const why = stride !== 1 ? `stride is ${stride}` : `the input has ${cin} channels and out_channels is ${out}`;
      p.fail('downsample', `cannot be false: ${why}, so the identity shortcut does not match the branch's output; leave downsample unset (auto) or true`);
    }
  }
  const reduction = withSe ? p.int('reduction', { default: 16, min: 1 }) : 0;
  if (withSe && (out % reduction !== 0 || out < reduction)) {
    p.fail('reduction', `${reduction} does not divide out_channels ${out} (SE squeezes ${out} channels to ${out} / ${reduction})`);
  }

  const x = b.inputs[0];
  b.op('conv1', 'conv2d', { out_channels: width, kernel: 1, bias: false }, [x]);
  b.op('bn1', 'batch_norm');
  b.op('relu1', 'relu');
  b.op('conv2', 'conv2d', { out_channels: width, kernel: 3, stride, padding: 1, bias: false });
  b.op('bn2', 'batch_norm');
  b.op('relu2', 'relu');
  b.op('conv3', 'conv2d', { out_channels: out, kernel: 1, bias: false });
  let branch = b.op('bn3', 'batch_norm');
  if (withSe) branch = b.block('se', 'se', { reduction });
  let shortcut = x;
  if (downsample) {
    b.op('downsample', 'conv2d', { out_channels: out, kernel: 1, stride, bias: false }, [x]);
    shortcut = b.op('downsample_bn', 'batch_norm');
  }
  b.op('add', 'add', {}, [branch, shortcut]);
  b.op('relu', 'relu');
}

export const resnetBottleneck: BlockDef = {
  type: 'resnet_bottleneck',
  summary:
    'ResNet bottleneck (torchvision v1.5, stride in the 3x3): 1x1 width, 3x3 width, 1x1 out, each with BN; 1x1 conv+BN shortcut when the shape changes; add, ReLU.',
  arity: [1, 1],
  expand: (p, b) => expandBottleneck(p, b, false),
};

/**
 * Shapes, params, MACs and FLOPs of add, mul, concat, channel_shuffle, linear, conv_transpose2d
 * and deform_conv2d against numbers worked out by hand (arithmetic in the comments), and the
 * errors they raise naming the layer and the parameter.
 */
import { describe, expect, it } from 'vitest';
import { SpecError } from '../src/engine/errors.ts';
import { planNodeFor } from '../src/engine/graph/plan.ts';
import type { ParamValue } from '../src/shared/spec.ts';

function specError(type: string, params: Record<string, ParamValue>, shapes: number[][], id: string): SpecError {
  try {
    planNodeFor(type, params, shapes, id);
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    return err as SpecError;
  }
  throw new Error(`${type} accepted ${JSON.stringify(params)} on ${JSON.stringify(shapes)}`);
}

describe('conv_transpose2d counts', () => {
  it('4x4, stride 2, padding 1, 64 -> 32 at 28x28 doubles the resolution', () => {
    const n = planNodeFor('conv_transpose2d', { out_channels: 32, kernel: 4, stride: 2, padding: 1 }, [[1, 64, 28, 28]]);
    // H_out = (28 - 1) * 2 - 1 - 1 + 1 * (4 - 1) + 0 + 1 = 54 - 2 + 3 + 1 = 56
    expect(n.outShape).toEqual([1, 32, 56, 56]);
    // weight [C_in, C_out, 4, 4] = 64 * 32 * 16 = 32,768; bias 32
    expect(n.weights.map((w) => w.shape)).toEqual([[64, 32, 4, 4], [32]]);
    expect(n.params).toBe(32_800);
    // MACs = N * C_in * H_in * W_in * C_out * kh * kw = 1 * 64 * 784 * 32 * 16 = 50,176 * 512 = 25,690,112
    expect(n.counts.macs).toBe(25_690_112);
    // FLOPs = 2 * 25,690,112 + 32 * 56 * 56 = 51,380,224 + 100,352 = 51,480,576
    expect(n.counts.flops).toBe(51_480_576);
    expect(n.counts.formula).toContain('1*64*28*28*(32/1)*4*4 = 25,690,112');
  });

  it('groups, output_padding, batch 2, no bias', () => {
    const n = planNodeFor(
      'conv_transpose2d',
      { out_channels: 4, kernel: 3, stride: 2, padding: 1, output_padding: 1, groups: 2, bias: false },
      [[2, 8, 7, 7]],
    );
    // H_out = 6 * 2 - 2 + 2 + 1 + 1 = 14
    expect(n.outShape).toEqual([2, 4, 14, 14]);
    // weight [8, 4 / 2, 3, 3] = 8 * 2 * 9 = 144
    expect(n.weights.map((w) => w.shape)).toEqual([[8, 2, 3, 3]]);
    expect(n.params).toBe(144);
    // MACs = 2 * 8 * 7 * 7 * (4 / 2) * 3 * 3 = 784 * 18 = 14,112; FLOPs = 2 * MACs
    expect(n.counts.macs).toBe(14_112);
    expect(n.counts.flops).toBe(28_224);
  });

  it('dilation 2 widens the stamp: H_out = (5 - 1) * 1 + 2 * (3 - 1) + 1 = 9', () => {
    const n = planNodeFor('conv_transpose2d', { out_channels: 1, kernel: 3, dilation: 2, bias: false }, [[1, 1, 5, 5]]);
    expect(n.outShape).toEqual([1, 1, 9, 9]);
    // MACs = 25 input pixels * 9 taps = 225, whatever the dilation
    expect(n.counts.macs).toBe(225);
  });
});

describe('deform_conv2d counts', () => {
  const x = [1, 64, 28, 28];
  const offset = [1, 18, 28, 28]; // 2 * offset_groups * kh * kw = 2 * 1 * 9
  const mask = [1, 9, 28, 28];
  const params = { out_channels: 64, kernel: 3, padding: 1 };

  it('v1: conv MACs plus 6 FLOPs per sampled value', () => {
    const n = planNodeFor('deform_conv2d', params, [x, offset]);
    expect(n.outShape).toEqual([1, 64, 28, 28]);
    // params = 64 * 64 * 9 + 64 = 36,864 + 64 = 36,928 (offset conv is a separate layer)
    expect(n.params).toBe(36_928);
    // MACs = 1 * 64 * 28 * 28 * 64 * 9 = 4,096 * 784 * 9 = 28,901,376
    expect(n.counts.macs).toBe(28_901_376);
    // S = N * C_in * kh * kw * H_out * W_out = 64 * 9 * 784 = 451,584 sampled values
    // FLOPs = 2 * 28,901,376 + 64 * 784 + 6 * 451,584 = 57,802,752 + 50,176 + 2,709,504 = 60,562,432
    expect(n.counts.flops).toBe(60_562_432);
    expect(n.counts.formula).toContain('451,584 sampled values');
    expect(n.counts.formula).toContain('6*S = 2,709,504');
    expect(n.counts.formula).not.toContain('mask');
  });

  it('v2 adds one mask multiply per sampled value and nothing else', () => {
    const v1 = planNodeFor('deform_conv2d', params, [x, offset]);
    const v2 = planNodeFor('deform_conv2d', params, [x, offset, mask]);
    expect(v2.counts.macs).toBe(v1.counts.macs);
    expect(v2.params).toBe(v1.params);
    // 60,562,432 + 451,584 = 61,014,016
    expect(v2.counts.flops).toBe(61_014_016);
    expect(v2.counts.formula).toContain('1*S = 451,584 mask multiplies');
  });

  it('weight groups, offset groups, stride 2, batch 2', () => {
    // H_out = floor((10 + 2 - 3) / 2) + 1 = 5; offset channels 2 * 4 * 9 = 72; mask 4 * 9 = 36
    const n = planNodeFor(
      'deform_conv2d',
      { out_channels: 8, kernel: 3, stride: 2, padding: 1, groups: 2, offset_groups: 4, bias: false },
      [[2, 16, 10, 10], [2, 72, 5, 5], [2, 36, 5, 5]],
    );
    expect(n.outShape).toEqual([2, 8, 5, 5]);
    // weight [8, 16 / 2, 3, 3] = 576
    expect(n.params).toBe(576);
    // MACs = 2 * 8 * 5 * 5 * (16 / 2) * 9 = 400 * 72 = 28,800
    expect(n.counts.macs).toBe(28_800);
    // S = 2 * 16 * 9 * 25 = 7,200; FLOPs = 57,600 + 6 * 7,200 + 7,200 = 108,000
    expect(n.counts.flops).toBe(108_000);
  });
});

describe('linear counts', () => {
  it('AlexNet fc6: 9216 -> 4096', () => {
    const n = planNodeFor('linear', { out_features: 4096 }, [[1, 9216]]);
    expect(n.outShape).toEqual([1, 4096]);
    // 9216 * 4096 = 36,864,000 + 884,736 = 37,748,736 weights, + 4,096 biases = 37,752,832
    expect(n.params).toBe(37_752_832);
    expect(n.counts.macs).toBe(37_748_736);
    // FLOPs = 2 * 37,748,736 + 4,096 = 75,497,472 + 4,096 = 75,501,568
    expect(n.counts.flops).toBe(75_501_568);
    expect(n.counts.formula).toContain('1*9216*4096 = 37,748,736');
  });

  it('batch 8 without bias: MACs scale with N, params do not', () => {
    const n = planNodeFor('linear', { out_features: 4096, bias: false }, [[8, 9216]]);
    expect(n.outShape).toEqual([8, 4096]);
    expect(n.params).toBe(37_748_736);
    // MACs = 8 * 37,748,736 = 301,989,888; FLOPs = 2 * MACs = 603,979,776
    expect(n.counts.macs).toBe(301_989_888);
    expect(n.counts.flops).toBe(603_979_776);
  });

  it('He-uniform weight bound sqrt(6 / in) and bias bound 1 / sqrt(in)', () => {
    const n = planNodeFor('linear', { out_features: 10 }, [[1, 24]]);
    // sqrt(6 / 24) = 0.5; 1 / sqrt(24) = 0.2041...
    expect(n.weights[0].init).toEqual({ kind: 'uniform', bound: 0.5 });
    expect(n.weights[1].init).toEqual({ kind: 'uniform', bound: 1 / Math.sqrt(24) });
  });
});

describe('add, mul, concat, channel_shuffle counts', () => {
  it('add of two [1, 240, 28, 28]: 1 FLOP per output element', () => {
    const n = planNodeFor('add', {}, [[1, 240, 28, 28], [1, 240, 28, 28]]);
    // 240 * 28 * 28 = 188,160
    expect(n.counts).toMatchObject({ macs: 0, flops: 188_160 });
    expect(n.params).toBe(0);
  });

  it('SE scaling mul [1, 256, 56, 56] * [1, 256, 1, 1] counts the broadcast output', () => {
    const n = planNodeFor('mul', {}, [[1, 256, 56, 56], [1, 256, 1, 1]]);
    expect(n.outShape).toEqual([1, 256, 56, 56]);
    // 256 * 3,136 = 802,816
    expect(n.counts).toMatchObject({ macs: 0, flops: 802_816 });
    expect(n.counts.formula).toContain('broadcast to [1, 256, 56, 56]');
  });

  it('concat of the ShuffleNet stride-2 join: 24 + 216 channels, 0 FLOPs', () => {
    const n = planNodeFor('concat', {}, [[1, 24, 28, 28], [1, 216, 28, 28]]);
    expect(n.outShape).toEqual([1, 240, 28, 28]);
    expect(n.counts).toMatchObject({ macs: 0, flops: 0 });
    // bytes moved = (24 + 216) * 784 * 4 read + 240 * 784 * 4 written = 752,640 + 752,640
    expect(n.bytesMoved).toBe(1_505_280);
    expect(n.counts.formula).toContain('24 + 216 = 240');
  });

  it('channel_shuffle keeps the shape and costs nothing', () => {
    const n = planNodeFor('channel_shuffle', { groups: 3 }, [[1, 240, 28, 28]]);
    expect(n.outShape).toEqual([1, 240, 28, 28]);
    expect(n.counts).toMatchObject({ macs: 0, flops: 0 });
    expect(n.params).toBe(0);
  });
});

describe('errors name the layer and the parameter', () => {
  it('add: both shapes and the dimension', () => {
    const e = specError('add', {}, [[1, 240, 28, 28], [1, 120, 28, 28]], 'j');
    expect(e.message).toContain('layer "j": add cannot broadcast [1, 240, 28, 28] with [1, 120, 28, 28] (dimension 1: 240 vs 120)');
    expect(e.layer).toBe('j');
    expect(e.param).toBe('inputs');
  });

  it('concat: the input index and the dimension', () => {
    const e = specError('concat', { axis: 1 }, [[1, 24, 28, 28], [1, 216, 14, 14]], 'cat');
    expect(e.message).toContain('layer "cat": concat input 1 has shape [1, 216, 14, 14]');
    expect(e.message).toContain('at dimension 2 (14 vs 28)');
  });

  it('channel_shuffle: channels and groups', () => {
    const e = specError('channel_shuffle', { groups: 7 }, [[1, 240, 28, 28]], 'shuf');
    expect(e.message).toBe('layer "shuf": groups 7 does not divide the 240 input channels; use a divisor of 240');
    expect(e.param).toBe('groups');
  });

  it('linear: a 4-D input is rows of its last dim (NHWC), counted as such; a 1-D one is refused', () => {
    const node = planNodeFor('linear', { out_features: 384 }, [[2, 56, 56, 96]]);
    expect(node.outShape).toEqual([2, 56, 56, 384]);
    expect(node.counts.macs).toBe(2 * 56 * 56 * 96 * 384);
    expect(node.counts.flops).toBe(2 * 2 * 56 * 56 * 96 * 384 + 2 * 56 * 56 * 384);
    expect(node.counts.formula).toBe('MACs = rows*in*out = 6272 (2*56*56)*96*384 = 231,211,008; FLOPs = 2*MACs + rows*out = 2,408,448 bias adds');
    expect(node.params).toBe(96 * 384 + 384);
    const e = specError('linear', { out_features: 4096 }, [[9216]], 'fc6');
    expect(e.message).toBe('layer "fc6": linear expects an input [..., in_features] of rank 2 or more, got [9216]');
  });

  it('conv_transpose2d: output_padding against stride and dilation', () => {
    const e = specError('conv_transpose2d', { out_channels: 8, kernel: 3, stride: [2, 1], output_padding: [1, 1] }, [[1, 4, 8, 8]], 'up');
    // height: 1 < stride 2 is fine; width: 1 is neither < stride 1 nor < dilation 1
    expect(e.message).toBe('layer "up": output_padding 1 (width) must be smaller than the stride 1 or the dilation 1 (PyTorch\'s rule)');
    expect(e.param).toBe('output_padding');
    // PyTorch accepts output_padding >= stride when it is below the dilation.
    expect(planNodeFor('conv_transpose2d', { out_channels: 8, kernel: 3, dilation: 2, output_padding: 1 }, [[1, 4, 8, 8]]).outShape).toEqual([
      1, 8, 13, 13,
    ]);
  });

  it('conv_transpose2d: unknown parameter names are refused', () => {
    const e = specError('conv_transpose2d', { out_channels: 8, kernel: 3, outputpadding: 1 }, [[1, 4, 8, 8]], 'up');
    expect(e.message).toContain('layer "up": outputpadding is not a parameter of conv_transpose2d');
  });

  it('deform_conv2d: the offset shape it needs', () => {
    const e = specError('deform_conv2d', { out_channels: 64, kernel: 3, padding: 1, offset_groups: 2 }, [[1, 64, 28, 28], [1, 18, 28, 28]], 'dcn');
    expect(e.message).toContain('layer "dcn": deform_conv2d offset (input 1) must have shape [1, 36, 28, 28] (N, 2*offset_groups*kh*kw = 2*2*3*3');
    expect(e.layer).toBe('dcn');
  });

  it('deform_conv2d: offset_groups must divide the channels', () => {
    const e = specError('deform_conv2d', { out_channels: 8, kernel: 1, offset_groups: 3 }, [[1, 8, 4, 4], [1, 6, 4, 4]], 'dcn');
    expect(e.message).toBe('layer "dcn": offset_groups 3 does not divide the 8 input channels; use a divisor of 8');
    expect(e.param).toBe('offset_groups');
  });
});

/**
 * Shapes and counts of single ops checked against arithmetic done by hand (the comments show it),
 * and the ParamReader errors each op raises, naming the layer and the parameter.
 */
import { describe, expect, it } from 'vitest';
import { SpecError } from '../src/engine/errors.ts';
import { planNodeFor } from '../src/engine/graph/plan.ts';
import type { ParamValue } from '../src/shared/spec.ts';

function node(op: string, params: Record<string, ParamValue>, shape: number[], id?: string) {
  return planNodeFor(op, params, [shape], id);
}

/** Expects planNodeFor to throw a SpecError for `param` whose message contains every substring. */
function refuses(op: string, params: Record<string, ParamValue>, shape: number[], param: string | undefined, ...parts: string[]) {
  let err: unknown;
  try {
    planNodeFor(op, params, [shape], 'L7');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SpecError);
  const e = err as SpecError;
  expect(e.layer).toBe('L7');
  expect(e.param).toBe(param);
  expect(e.message).toContain('layer "L7"');
  for (const part of parts) expect(e.message).toContain(part);
}

describe('max_pool2d', () => {
  it('ResNet stem pool: 3x3 stride 2 padding 1 on 64x112x112', () => {
    const n = node('max_pool2d', { kernel: 3, stride: 2, padding: 1 }, [1, 64, 112, 112]);
    // H_out = floor((112 + 2 - 3) / 2) + 1 = floor(55.5) + 1 = 56
    expect(n.outShape).toEqual([1, 64, 56, 56]);
    // FLOPs = 64 * 56 * 56 * 3 * 3 = 64 * 3136 * 9 = 1,806,336
    expect(n.counts).toMatchObject({ macs: 0, flops: 1_806_336 });
    expect(n.counts.formula).toContain('1*64*56*56*3*3 = 1,806,336');
    expect([n.params, n.buffers, n.weights.length]).toEqual([0, 0, 0]);
  });

  it('AlexNet pool: 3x3 stride 2, 55 -> 27', () => {
    const n = node('max_pool2d', { kernel: 3, stride: 2 }, [1, 96, 55, 55]);
    // floor((55 - 3) / 2) + 1 = 27; FLOPs = 96 * 27 * 27 * 9 = 96 * 729 * 9 = 629,856
    expect(n.outShape).toEqual([1, 96, 27, 27]);
    expect(n.counts.flops).toBe(629_856);
  });

  it('stride defaults to the kernel', () => {
    const n = node('max_pool2d', { kernel: [2, 4] }, [2, 3, 8, 8]);
    // stride [2, 4]: H_out = (8 - 2) / 2 + 1 = 4, W_out = (8 - 4) / 4 + 1 = 2; FLOPs = 2*3*4*2*2*4 = 384
    expect(n.outShape).toEqual([2, 3, 4, 2]);
    expect(n.counts.flops).toBe(384);
  });

  it('ceil_mode rounds up: 112 -> 56 instead of 55 (3x3 stride 2, no padding)', () => {
    // (112 - 3) / 2 = 54.5: floor -> 54 + 1 = 55, ceil -> 55 + 1 = 56; last window starts at 110 < 112
    expect(node('max_pool2d', { kernel: 3, stride: 2 }, [1, 64, 112, 112]).outShape).toEqual([1, 64, 55, 55]);
    const c = node('max_pool2d', { kernel: 3, stride: 2, ceil_mode: true }, [1, 64, 112, 112]);
    expect(c.outShape).toEqual([1, 64, 56, 56]);
    // FLOPs count whole windows: 64 * 56 * 56 * 9 = 1,806,336
    expect(c.counts.flops).toBe(1_806_336);
  });

  it('dilation widens the span, not the work: 3x3 dilation 2 on 10x10', () => {
    const n = node('max_pool2d', { kernel: 3, stride: 1, dilation: 2 }, [1, 3, 10, 10]);
    // span = 2 * (3 - 1) + 1 = 5; H_out = 10 - 5 + 1 = 6; FLOPs = 3 * 6 * 6 * 9 = 972
    expect(n.outShape).toEqual([1, 3, 6, 6]);
    expect(n.counts.flops).toBe(972);
  });

  it('refuses padding larger than half the kernel, an unknown parameter and a missing kernel', () => {
    refuses('max_pool2d', { kernel: 3, padding: 2 }, [1, 1, 8, 8], 'padding', 'padding [2, 2, 2, 2]', 'more than half the 3x3 kernel', '<= 1');
    refuses('max_pool2d', { kernel: 2, kernal: 3 }, [1, 1, 8, 8], 'kernal', 'kernal is not a parameter of max_pool2d', 'kernel');
    refuses('max_pool2d', {}, [1, 1, 8, 8], 'kernel', 'kernel is required');
    refuses('max_pool2d', { kernel: 2, ceil_mode: 1 }, [1, 1, 8, 8], 'ceil_mode', 'ceil_mode must be true or false');
    refuses('max_pool2d', { kernel: 2 }, [1, 8, 8], undefined, 'expects a 4-D NCHW input');
  });
});

describe('avg_pool2d', () => {
  it('ShuffleNet stride-2 shortcut: 3x3 stride 2 padding 1 on 240x28x28', () => {
    const n = node('avg_pool2d', { kernel: 3, stride: 2, padding: 1 }, [1, 240, 28, 28]);
    // floor((28 + 2 - 3) / 2) + 1 = 14; FLOPs = 240 * 14 * 14 * 9 = 240 * 196 * 9 = 423,360
    expect(n.outShape).toEqual([1, 240, 14, 14]);
    expect(n.counts).toMatchObject({ macs: 0, flops: 423_360 });
    expect([n.params, n.buffers]).toEqual([0, 0]);
  });

  it('count_include_pad does not change the counts; ceil_mode changes the shape', () => {
    const a = node('avg_pool2d', { kernel: 2, count_include_pad: false, ceil_mode: true }, [1, 8, 7, 7]);
    // ceil((7 - 2) / 2) + 1 = 3 + 1 = 4; last window starts at 6 < 7. FLOPs = 8 * 4 * 4 * 4 = 512
    expect(a.outShape).toEqual([1, 8, 4, 4]);
    expect(a.counts.flops).toBe(512);
  });

  it('refuses padding over half the kernel (per side) and dilation', () => {
    refuses('avg_pool2d', { kernel: 3, padding: [0, 2] }, [1, 1, 8, 8], 'padding', 'padding [0, 2, 0, 2]', '<= 1 at the left and right');
    refuses('avg_pool2d', { kernel: 3, dilation: 2 }, [1, 1, 8, 8], 'dilation', 'dilation is not a parameter of avg_pool2d');
    refuses('avg_pool2d', { kernel: 3, count_include_pad: 'no' }, [1, 1, 8, 8], 'count_include_pad', 'must be true or false');
  });
});

describe('min_pool2d', () => {
  it('3x3 with the default stride 3 on 2x8x9x9', () => {
    const n = node('min_pool2d', { kernel: 3 }, [2, 8, 9, 9]);
    // (9 - 3) / 3 + 1 = 3; FLOPs = 2 * 8 * 3 * 3 * 9 = 1,296
    expect(n.outShape).toEqual([2, 8, 3, 3]);
    expect(n.counts).toMatchObject({ macs: 0, flops: 1_296 });
  });

  it('refuses padding over half the kernel and a zero stride', () => {
    refuses('min_pool2d', { kernel: 2, padding: [0, 0, 0, 2] }, [1, 1, 8, 8], 'padding', 'padding [0, 0, 0, 2]', 'more than half the 2x2 kernel');
    refuses('min_pool2d', { kernel: 2, stride: 0 }, [1, 1, 8, 8], 'stride', 'stride must be >= 1');
  });
});

describe('stochastic_pool2d', () => {
  it('2x2 on 16x8x8: 4 FLOPs per window element + 1 per output, either mode', () => {
    // outputs = 16 * 4 * 4 = 256; FLOPs = 4 * 256 * 4 + 256 = 4,096 + 256 = 4,352
    for (const training of [false, true]) {
      const n = node('stochastic_pool2d', { kernel: 2, training }, [1, 16, 8, 8]);
      expect(n.outShape).toEqual([1, 16, 4, 4]);
      expect(n.counts).toMatchObject({ macs: 0, flops: 4_352 });
      expect(n.counts.formula).toContain('= 4,352');
      expect(n.params).toBe(0);
    }
  });

  it('3x3 stride 2 padding 1 on 32x14x14', () => {
    const n = node('stochastic_pool2d', { kernel: 3, stride: 2, padding: 1 }, [2, 32, 14, 14]);
    // floor((14 + 2 - 3) / 2) + 1 = 7; outputs = 2 * 32 * 7 * 7 = 3,136; FLOPs = 4 * 3136 * 9 + 3136 = 112,896 + 3,136 = 116,032
    expect(n.outShape).toEqual([2, 32, 7, 7]);
    expect(n.counts.flops).toBe(116_032);
  });

  it('refuses padding over half the kernel, dilation and a non-boolean training', () => {
    refuses('stochastic_pool2d', { kernel: 2, padding: 2 }, [1, 1, 8, 8], 'padding', 'more than half the 2x2 kernel');
    refuses('stochastic_pool2d', { kernel: 2, dilation: 2 }, [1, 1, 8, 8], 'dilation', 'dilation is not a parameter of stochastic_pool2d');
    refuses('stochastic_pool2d', { kernel: 2, training: 1 }, [1, 1, 8, 8], 'training', 'training must be true or false');
  });
});

describe('global_avg_pool', () => {
  it('ResNet-50 head: 2048x7x7 -> 2048x1x1', () => {
    const n = node('global_avg_pool', {}, [1, 2048, 7, 7]);
    // FLOPs = one per input element = 2048 * 7 * 7 = 100,352
    expect(n.outShape).toEqual([1, 2048, 1, 1]);
    expect(n.counts).toMatchObject({ macs: 0, flops: 100_352 });
    expect(n.counts.formula).toContain('1*2048*7*7 = 100,352');
  });

  it('refuses parameters and non-NCHW input', () => {
    refuses('global_avg_pool', { kernel: 7 }, [1, 8, 7, 7], 'kernel', 'kernel is not a parameter of global_avg_pool');
    refuses('global_avg_pool', {}, [8, 7], undefined, 'expects a 4-D NCHW input, got [8, 7]');
  });
});

describe('global_max_pool', () => {
  it('batch 2: 3x4x5 -> 3x1x1', () => {
    const n = node('global_max_pool', {}, [2, 3, 4, 5]);
    // FLOPs = 2 * 3 * 4 * 5 = 120
    expect(n.outShape).toEqual([2, 3, 1, 1]);
    expect(n.counts).toMatchObject({ macs: 0, flops: 120 });
    expect(n.params).toBe(0);
  });

  it('refuses parameters', () => {
    refuses('global_max_pool', { axis: 1 }, [1, 8, 7, 7], 'axis', 'axis is not a parameter of global_max_pool');
  });
});

describe('batch_norm', () => {
  it('NCHW 64x112x112: 2*C params, 2*C buffers, 2 FLOPs per element', () => {
    const n = node('batch_norm', {}, [1, 64, 112, 112]);
    // params: gamma 64 + beta 64 = 128; buffers: mean 64 + var 64 = 128
    // FLOPs = 2 * 64 * 112 * 112 = 2 * 802,816 = 1,605,632
    expect(n.outShape).toEqual([1, 64, 112, 112]);
    expect(n.counts).toMatchObject({ macs: 0, flops: 1_605_632 });
    expect([n.params, n.buffers]).toEqual([128, 128]);
    expect(n.weights.map((w) => [w.name, w.role, w.shape])).toEqual([
      ['weight', 'param', [64]],
      ['bias', 'param', [64]],
      ['running_mean', 'buffer', [64]],
      ['running_var', 'buffer', [64]],
    ]);
    expect(n.weights.map((w) => w.init)).toEqual([
      { kind: 'range', lo: 0.5, hi: 1.5 },
      { kind: 'range', lo: -0.1, hi: 0.1 },
      { kind: 'range', lo: -0.1, hi: 0.1 },
      { kind: 'range', lo: 0.5, hi: 1.5 },
    ]);
  });

  it('[N, C] input: 8x10', () => {
    const n = node('batch_norm', { eps: 1e-3 }, [8, 10]);
    // params 10 + 10 = 20, buffers 20; FLOPs = 2 * 8 * 10 = 160
    expect(n.outShape).toEqual([8, 10]);
    expect([n.params, n.buffers, n.counts.flops]).toEqual([20, 20, 160]);
  });

  it('refuses unknown parameters, a bad eps and 3-D input', () => {
    refuses('batch_norm', { momentum: 0.1 }, [1, 8, 4, 4], 'momentum', 'momentum is not a parameter of batch_norm', 'eps');
    refuses('batch_norm', { eps: -1 }, [1, 8, 4, 4], 'eps', 'eps must be > 0');
    refuses('batch_norm', {}, [1, 8, 4], undefined, 'expects a 4-D NCHW or a 2-D [N, C] input, got [1, 8, 4]');
  });
});

describe('relu6', () => {
  it('1 FLOP per element on any rank', () => {
    // 32 * 112 * 112 = 401,408
    const a = node('relu6', {}, [1, 32, 112, 112]);
    expect(a.outShape).toEqual([1, 32, 112, 112]);
    expect(a.counts).toMatchObject({ macs: 0, flops: 401_408 });
    // 4 * 10 = 40
    expect(node('relu6', {}, [4, 10]).counts.flops).toBe(40);
    expect(node('relu6', {}, [7]).outShape).toEqual([7]);
  });

  it('refuses parameters', () => {
    refuses('relu6', { max: 6 }, [4, 10], 'max', 'max is not a parameter of relu6');
  });
});

describe('sigmoid', () => {
  it('1 FLOP per element on any rank', () => {
    // SE gate: 256 * 1 * 1 = 256
    const a = node('sigmoid', {}, [1, 256, 1, 1]);
    expect(a.outShape).toEqual([1, 256, 1, 1]);
    expect(a.counts).toMatchObject({ macs: 0, flops: 256 });
    // 2 * 3 * 5 = 30
    expect(node('sigmoid', {}, [2, 3, 5]).counts.flops).toBe(30);
  });

  it('refuses parameters', () => {
    refuses('sigmoid', { inplace: true }, [4, 10], 'inplace', 'inplace is not a parameter of sigmoid');
  });
});

describe('lrn', () => {
  it('AlexNet conv1 LRN: size 5 on 96x55x55', () => {
    const n = node('lrn', { size: 5, alpha: 1e-4, beta: 0.75, k: 2 }, [1, 96, 55, 55]);
    // elements = 96 * 55 * 55 = 96 * 3025 = 290,400; FLOPs = (2*5 + 4) * 290,400 = 14 * 290,400 = 4,065,600
    expect(n.outShape).toEqual([1, 96, 55, 55]);
    expect(n.counts).toMatchObject({ macs: 0, flops: 4_065_600 });
    expect(n.counts.formula).toContain('(2*5 + 4) * 290,400 = 4,065,600');
    expect([n.params, n.buffers]).toEqual([0, 0]);
  });

  it('size 3 on a 3-D input', () => {
    // elements = 2 * 4 * 6 = 48; FLOPs = (2*3 + 4) * 48 = 480
    expect(node('lrn', { size: 3 }, [2, 4, 6]).counts.flops).toBe(480);
  });

  it('refuses a missing or zero size and unknown parameters', () => {
    refuses('lrn', {}, [1, 8, 4, 4], 'size', 'size is required');
    refuses('lrn', { size: 0 }, [1, 8, 4, 4], 'size', 'size must be >= 1, got 0');
    refuses('lrn', { size: 5, bias: 1 }, [1, 8, 4, 4], 'bias', 'bias is not a parameter of lrn');
  });
});

describe('softmax', () => {
  it('classifier head [1, 1000]: 5 FLOPs per element', () => {
    const n = node('softmax', {}, [1, 1000]);
    // FLOPs = 5 * 1000 = 5,000
    expect(n.outShape).toEqual([1, 1000]);
    expect(n.counts).toMatchObject({ macs: 0, flops: 5_000 });
    expect(n.counts.formula).toContain('5 * 1,000 elements = 5,000');
  });

  it('any axis of a 4-D input', () => {
    // 2 * 3 * 4 * 5 = 120 elements; FLOPs = 600 whichever axis
    expect(node('softmax', { axis: -1 }, [2, 3, 4, 5]).counts.flops).toBe(600);
    expect(node('softmax', { axis: 0 }, [2, 3, 4, 5]).outShape).toEqual([2, 3, 4, 5]);
  });

  it('refuses an axis outside the rank', () => {
    refuses('softmax', { axis: 2 }, [1, 1000], 'axis', 'axis must be <= 1, got 2');
    refuses('softmax', { axis: -3 }, [1, 1000], 'axis', 'axis must be >= -2, got -3');
  });
});

describe('dropout', () => {
  it('AlexNet fc6 dropout: 0 FLOPs, shape kept', () => {
    const n = node('dropout', { p: 0.5 }, [1, 9216]);
    expect(n.outShape).toEqual([1, 9216]);
    expect(n.counts).toMatchObject({ macs: 0, flops: 0 });
    expect([n.params, n.buffers]).toEqual([0, 0]);
    // it still moves bytes: 9216 floats read + 9216 written = 2 * 9216 * 4 = 73,728
    expect(n.bytesMoved).toBe(73_728);
  });

  it('refuses p outside [0, 1)', () => {
    refuses('dropout', { p: 1 }, [1, 10], 'p', 'p must be in [0, 1), got 1');
    refuses('dropout', { p: -0.5 }, [1, 10], 'p', 'p must be >= 0');
  });
});

describe('flatten', () => {
  it('AlexNet: [1, 256, 6, 6] -> [1, 9216], 0 FLOPs', () => {
    const n = node('flatten', {}, [1, 256, 6, 6]);
    // 256 * 6 * 6 = 9,216
    expect(n.outShape).toEqual([1, 9216]);
    expect(n.counts).toMatchObject({ macs: 0, flops: 0 });
  });

  it('start_dim / end_dim like torch.flatten', () => {
    // dims 1..2 of [2, 3, 4, 5]: 3 * 4 = 12
    expect(node('flatten', { start_dim: 1, end_dim: 2 }, [2, 3, 4, 5]).outShape).toEqual([2, 12, 5]);
    expect(node('flatten', { start_dim: 0 }, [2, 3, 4, 5]).outShape).toEqual([120]);
    // start_dim -3 = dim 1, end_dim -2 = dim 2
    expect(node('flatten', { start_dim: -3, end_dim: -2 }, [2, 3, 4, 5]).outShape).toEqual([2, 12, 5]);
    // a single dim is left as it is
    expect(node('flatten', { start_dim: 2, end_dim: 2 }, [2, 3, 4, 5]).outShape).toEqual([2, 3, 4, 5]);
  });

  it('refuses start_dim after end_dim and dims outside the rank', () => {
    refuses('flatten', { start_dim: 2, end_dim: 1 }, [2, 3, 4, 5], 'start_dim', 'start_dim (dim 2) comes after end_dim (dim 1)');
    refuses('flatten', { end_dim: 4 }, [2, 3, 4, 5], 'end_dim', 'end_dim must be <= 3, got 4');
  });
});

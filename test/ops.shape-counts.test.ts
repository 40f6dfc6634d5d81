/**
 * Shapes and counts of the data-movement ops (transpose, reshape, slice, pad, resize) checked
 * against arithmetic done by hand, the views they collapse to, and the ParamReader errors each
 * raises, naming the layer and the parameter.
 */
import { describe, expect, it } from 'vitest';
import { SpecError } from '../src/engine/errors.ts';
import { planNodeFor } from '../src/engine/graph/plan.ts';
import type { ParamValue } from '../src/shared/spec.ts';

const node = (op: string, params: Record<string, ParamValue>, shape: number[]) => planNodeFor(op, params, [shape]);

function refuses(op: string, params: Record<string, ParamValue>, shape: number[], param: string, ...parts: string[]) {
  let err: unknown;
  try {
    planNodeFor(op, params, [shape], 'L7');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SpecError);
  expect((err as SpecError).layer).toBe('L7');
  expect((err as SpecError).param).toBe(param);
  for (const part of ['layer "L7"', ...parts]) expect((err as Error).message).toContain(part);
}

describe('transpose', () => {
  it('NCHW -> NHWC on ShuffleNet v2 stage 2 (1x116x28x28): 0 FLOPs, 90,944 elements moved', () => {
    const n = node('transpose', { perm: [0, 2, 3, 1] }, [1, 116, 28, 28]);
    expect(n.outShape).toEqual([1, 28, 28, 116]);
    // 116 * 28 * 28 = 90,944 elements, 363,776 bytes.
    expect(n.counts).toEqual({ macs: 0, flops: 0, formula: 'FLOPs = 0 (perm [0, 2, 3, 1]: moves 90,944 elements, 363,776 bytes written)' });
    expect([n.params, n.buffers]).toEqual([0, 0]);
    // H and W stay neighbours: a 2-D gather [H*W, C] reading the input with strides [1, H*W].
    expect(n.attrs).toMatchObject({ dims: [784, 116], strides: [1, 784], base: 0 });
  });
  it('the channel shuffle swap [0, 2, 1, 3, 4] moves whole planes', () => {
    const n = node('transpose', { perm: [0, 2, 1, 3, 4] }, [1, 2, 58, 28, 28]);
    expect(n.outShape).toEqual([1, 58, 2, 28, 28]);
    expect(n.attrs).toMatchObject({ dims: [58, 2, 784], strides: [784, 58 * 784, 1] });
  });
  it('refuses a perm that is not a permutation', () => {
    refuses('transpose', { perm: [0, 1, 1, 2] }, [1, 2, 3, 4], 'perm', 'not a permutation of 0..3');
    refuses('transpose', { perm: [0, 1, 4, 2] }, [1, 2, 3, 4], 'perm', 'must be <= 3');
    refuses('transpose', {}, [1, 2, 3, 4], 'perm', 'is required', '[3, 2, 1, 0]');
  });
});

describe('reshape', () => {
  it('[1, 1024, 7, 7] to [0, -1]: the classifier flatten, 50,176 elements', () => {
    const n = node('reshape', { shape: [0, -1] }, [1, 1024, 7, 7]);
    expect(n.outShape).toEqual([1, 50176]);
    expect(n.counts.flops).toBe(0);
    expect(n.counts.formula).toContain('moves 50,176 elements, 200,704 bytes written');
  });
  it('refuses what cannot be a reshape', () => {
    refuses('reshape', { shape: [3, -1] }, [1, 4, 5, 5], 'shape', 'do not divide into sizes of 3');
    refuses('reshape', { shape: [1.5] }, [1, 4, 5, 5], 'shape', 'must be a list of integers');
    refuses('reshape', { shape: [-2, 50] }, [1, 4, 5, 5], 'shape', 'must be >= -1');
  });
});

describe('slice', () => {
  it("ShuffleNet v2's channel split: the second half of 116 channels, a contiguous block", () => {
    const n = node('slice', { starts: [58], ends: [116], axes: [1] }, [1, 116, 28, 28]);
    expect(n.outShape).toEqual([1, 58, 28, 28]);
    // 58 * 784 = 45,472 elements copied from element 58 * 784 = 45,472 on.
    expect(n.counts.formula).toBe('FLOPs = 0 (axis 1: 58 x 58: moves 45,472 elements, 181,888 bytes written)');
    expect(n.attrs).toMatchObject({ dims: [45472], strides: [1], base: 45472 });
  });
  it('a reversed, strided slice reads backwards', () => {
    // W = 8, start -1 -> 7, end -100 clamps to -1, step -3: 7, 4, 1 = 3 columns.
    const n = node('slice', { starts: [-1], ends: [-100], axes: [3], steps: [-3] }, [1, 2, 3, 8]);
    expect(n.outShape).toEqual([1, 2, 3, 3]);
    expect(n.attrs).toMatchObject({ dims: [6, 3], strides: [8, -3], base: 7 });
  });
  it('refuses empty and malformed slices', () => {
    refuses('slice', { starts: [5], ends: [2], axes: [2] }, [1, 2, 8, 8], 'starts', 'select nothing along axis 2');
    refuses('slice', { starts: [0], ends: [2], axes: [4] }, [1, 2, 8, 8], 'axes', 'must be <= 3');
    refuses('slice', { ends: [2] }, [1, 2, 8, 8], 'starts', 'is required');
  });
});

describe('pad', () => {
  it('reflect 3 on each side of H and W of 1x64x56x56 (a ResNet-style "reflect" stem)', () => {
    const n = node('pad', { pads: [3, 3, 3, 3], axes: [2, 3], mode: 'reflect' }, [1, 64, 56, 56]);
    // 62 * 62 * 64 = 246,016 elements.
    expect(n.outShape).toEqual([1, 64, 62, 62]);
    expect(n.counts).toEqual({ macs: 0, flops: 0, formula: 'FLOPs = 0 (reflect pad, axes 2: 3+3, 3: 3+3: moves 246,016 elements, 984,064 bytes written)' });
  });
  it('refuses pads that do not fit the axes', () => {
    refuses('pad', { pads: [1, 1, 1], axes: [2, 3] }, [1, 2, 8, 8], 'pads', 'needs 4 (the begins, then the ends)');
    refuses('pad', { pads: [1, 1], axes: [2], mode: 'wrap' }, [1, 2, 8, 8], 'mode', 'must be one of "constant", "reflect", "edge"');
  });
});

describe('resize', () => {
  it('bilinear x2 of 1x256x14x14 (an FPN upsample): 6 FLOPs per output', () => {
    const n = node('resize', { mode: 'linear', scales: [2, 2] }, [1, 256, 14, 14]);
    expect(n.outShape).toEqual([1, 256, 28, 28]);
    // 256 * 28 * 28 = 200,704 outputs; 6 * 200,704 = 1,204,224 FLOPs.
    expect(n.counts).toEqual({
      macs: 0,
      flops: 1_204_224,
      formula: 'FLOPs = 6 * N*C*Ho*Wo = 6 * 1*256*28*28 = 1,204,224 (linear, half_pixel: 14x14 -> 28x28; each output 4 reads and 3 lerps of 2 FLOPs)',
    });
  });
  it('nearest is a gather: 0 FLOPs; scales round the size down (7 * 1.5 = 10.5 -> 10)', () => {
    const n = node('resize', { scales: [1.5, 2], coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, [2, 3, 7, 5]);
    expect(n.outShape).toEqual([2, 3, 10, 10]);
    expect(n.counts.flops).toBe(0);
    // asymmetric floor: row i reads floor(i / 1.5) = 0, 0, 1, 2, 2, 3, 4, 4, 5, 6.
    expect(n.attrs).toMatchObject({ y0: [0, 0, 1, 2, 2, 3, 4, 4, 5, 6], x0: [0, 0, 1, 1, 2, 2, 3, 3, 4, 4] });
  });
  it('refuses bad sizes and scales', () => {
    refuses('resize', { scales: [0.1, 1] }, [1, 2, 8, 8], 'scales', 'round down to 0');
    refuses('resize', { scales: [2, -1] }, [1, 2, 8, 8], 'scales', 'must all be > 0');
    refuses('resize', { sizes: [4] }, [1, 2, 8, 8], 'sizes', 'must have 2 integers');
    refuses('resize', { scales: [2, 2], mode: 'cubic' }, [1, 2, 8, 8], 'mode', 'must be one of "nearest", "linear"');
  });
});

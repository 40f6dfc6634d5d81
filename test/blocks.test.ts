/**
 * Composite blocks: for a small instance of each, the expanded op ids, params, buffers and MACs
 * computed by hand (the arithmetic is in the comments), the output shape, and the messages for
 * bad block parameters. A few numerical checks run the expanded graph on the CPU to catch wiring
 * mistakes that counts cannot see (concat order, SE scaling).
 */
import { describe, expect, it } from 'vitest';
import { runNodeInline } from '../src/engine/backends/cpu/reference.ts';
import { BLOCKS } from '../src/engine/blocks/registry.ts';
import { SpecError } from '../src/engine/errors.ts';
import { buildPlan, INPUT, type Plan } from '../src/engine/graph/plan.ts';
import { makeInput, makeWeights } from '../src/engine/weights.ts';
import type { ParamValue } from '../src/shared/spec.ts';

type Params = Record<string, ParamValue>;

function plan(block: string, params: Params, shape: number[], id = 'b'): Plan {
  return buildPlan({ format: 'convscope/v1', name: block, input: { shape }, seed: 3, layers: [{ id, block, params }] });
}

function ids(p: Plan, id = 'b'): string[] {
  return p.nodes.map((n) => n.id.slice(id.length + 1));
}

function refused(block: string, params: Params, shape: number[], id = 'b'): string {
  try {
    plan(block, params, shape, id);
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    return (err as Error).message;
  }
  throw new Error(`block ${block} accepted ${JSON.stringify(params)} on ${JSON.stringify(shape)}`);
}

/** Runs every node inline, in plan order; returns each node's output (and the input). */
function forward(p: Plan): Map<string, Float32Array> {
  const weights = makeWeights(p);
  const values = new Map<string, Float32Array>([[INPUT, makeInput(p.seed, p.inputShape)]]);
  for (const node of p.nodes) {
    values.set(node.id, runNodeInline(node, node.inputs.map((r) => values.get(r)!), weights.get(node.id)!, p.seed));
  }
  return values;
}

interface Expect {
  ids: string[];
  params: number;
  buffers: number;
  macs: number;
  output: number[];
}

function check(p: Plan, e: Expect, id = 'b'): void {
  expect(ids(p, id)).toEqual(e.ids);
  expect(p.totals.params).toBe(e.params);
  expect(p.totals.buffers).toBe(e.buffers);
  expect(p.totals.macs).toBe(e.macs);
  expect(p.outputShape).toEqual(e.output);
  for (const n of p.nodes) {
    expect(n.layer).toBe(id);
    expect(n.id.startsWith(`${id}/`)).toBe(true);
  }
}

describe('block registry', () => {
  it('holds the minimum set of DESIGN.md plus resnet_bottleneck', () => {
    expect([...BLOCKS.keys()].sort()).toEqual(
      [
        'deformable_conv',
        'depthwise_separable',
        'dilated_conv',
        'grouped_conv',
        'resnet_bottleneck',
        'se',
        'se_resnet_bottleneck',
        'separable_conv',
        'shufflenet_unit',
        'spatial_separable_conv',
        'xception_entry',
        'xception_exit',
        'xception_middle',
      ].sort(),
    );
  });
});

describe('grouped_conv', () => {
  it('is conv2d with groups 2 by default, then ReLU', () => {
    // weight [16, 8/2, 3, 3] = 576 + bias 16 = 592; MACs = 16*10*10*(8/2)*9 = 57,600
    const p = plan('grouped_conv', { out_channels: 16, kernel: 3, padding: 1 }, [1, 8, 10, 10]);
    check(p, { ids: ['conv', 'relu'], params: 592, buffers: 0, macs: 57_600, output: [1, 16, 10, 10] });
    expect(p.nodes[0].attrs).toMatchObject({ groups: 2 });
  });

  it('takes groups, bias and relu', () => {
    // weight [16, 8/4, 3, 3] = 288, no bias; MACs = 16*5*5*2*9 = 7,200 (stride 2: 10 -> 5)
    const p = plan('grouped_conv', { out_channels: 16, kernel: 3, stride: 2, padding: 1, groups: 4, bias: false, relu: false }, [1, 8, 10, 10]);
    check(p, { ids: ['conv'], params: 288, buffers: 0, macs: 7_200, output: [1, 16, 5, 5] });
  });

  it('refuses channel counts the groups do not divide, naming the layer and param', () => {
    expect(refused('grouped_conv', { out_channels: 15, kernel: 3 }, [1, 8, 10, 10], 'g')).toBe('layer "g": out_channels 15 is not divisible by groups 2');
    expect(refused('grouped_conv', { out_channels: 12, kernel: 3, groups: 3 }, [1, 8, 10, 10], 'g')).toContain(
      'layer "g": groups 3 does not divide the 8 input channels',
    );
    expect(refused('grouped_conv', { out_channels: 12 }, [1, 8, 10, 10], 'g')).toContain('layer "g": kernel is required');
    expect(refused('grouped_conv', { out_channels: 12, kernel: 3, kernal: 3 }, [1, 8, 10, 10], 'g')).toContain(
      'layer "g": kernal is not a parameter of grouped_conv',
    );
  });
});

describe('shufflenet_unit', () => {
  it('stride 1: grouped 1x1, shuffle, depthwise, grouped 1x1, add, ReLU', () => {
    // in = out = 12, g = 3, bottleneck 12/4 = 3, 8x8 (64 positions):
    // gconv1 [3, 12/3, 1, 1] = 12 params, 12*64 = 768 MACs; bn1 3+3 (+6 buffers)
    // dwconv [3, 1, 3, 3] = 27, 27*64 = 1,728 MACs; bn2 6 (+6)
    // gconv2 [12, 3/3, 1, 1] = 12, 768 MACs; bn3 24 (+24)
    // params 12+6+27+6+12+24 = 87, buffers 36, MACs 3,264
    const p = plan('shufflenet_unit', { out_channels: 12, groups: 3 }, [1, 12, 8, 8]);
    check(p, {
      ids: ['gconv1', 'bn1', 'relu1', 'shuffle', 'dwconv', 'bn2', 'gconv2', 'bn3', 'add', 'relu'],
      params: 87,
      buffers: 36,
      macs: 3_264,
      output: [1, 12, 8, 8],
    });
    const add = p.nodes.find((n) => n.id === 'b/add')!;
    expect(add.inputs).toEqual(['b/bn3', INPUT]);
  });

  it('stride 2: the branch makes out - in channels, concatenated after the avg-pooled input', () => {
    // in 12, out 24, g = 3, bottleneck 6, branch 24 - 12 = 12 channels; 8x8 -> 4x4:
    // gconv1 [6, 4, 1, 1] = 24, 24*64 = 1,536 MACs; bn1 12 (+12)
    // dwconv [6, 1, 3, 3] = 54, 54*16 = 864 MACs; bn2 12 (+12)
    // gconv2 [12, 2, 1, 1] = 24, 24*16 = 384 MACs; bn3 24 (+24)
    // params 150, buffers 48, MACs 2,784
    const p = plan('shufflenet_unit', { out_channels: 24, groups: 3, stride: 2 }, [1, 12, 8, 8]);
    check(p, {
      ids: ['gconv1', 'bn1', 'relu1', 'shuffle', 'dwconv', 'bn2', 'gconv2', 'bn3', 'shortcut', 'concat', 'relu'],
      params: 150,
      buffers: 48,
      macs: 2_784,
      output: [1, 24, 4, 4],
    });
    const concat = p.nodes.find((n) => n.id === 'b/concat')!;
    expect(concat.inputs).toEqual(['b/shortcut', 'b/bn3']);
    // The shortcut's channels come first: output[:, :12] = relu(avgpool(input)).
    const v = forward(p);
    const pooled = v.get('b/shortcut')!;
    const out = v.get('b/relu')!;
    expect(pooled.length).toBe(12 * 16);
    for (let i = 0; i < pooled.length; i++) expect(out[i]).toBeCloseTo(Math.max(pooled[i], 0), 6);
  });

  it('first_group false leaves the first 1x1 dense (stage 2 of the paper)', () => {
    // gconv1 [6, 12, 1, 1] = 72 instead of 24: params 150 - 24 + 72 = 198; MACs 2,784 + 48*64 = 5,856
    const p = plan('shufflenet_unit', { out_channels: 24, groups: 3, stride: 2, first_group: false }, [1, 12, 8, 8]);
    expect(p.totals.params).toBe(198);
    expect(p.totals.macs).toBe(5_856);
    expect(p.nodes[0].attrs).toMatchObject({ groups: 1 });
  });

  it('groups 1 has no shuffle (it would be the identity)', () => {
    const p = plan('shufflenet_unit', { out_channels: 8, groups: 1 }, [1, 8, 4, 4]);
    expect(ids(p)).not.toContain('shuffle');
  });

  it('runs the DESIGN.md example spec', () => {
    const p = buildPlan({
      format: 'convscope/v1',
      name: 'ShuffleNet unit, g=3',
      input: { shape: [1, 240, 28, 28] },
      seed: 7,
      layers: [
        { id: 'u1', block: 'shufflenet_unit', params: { out_channels: 240, groups: 3, stride: 1 } },
        { id: 'se', block: 'se', params: { reduction: 16 } },
        { id: 'j', op: 'add', inputs: ['u1', 'se'] },
        { id: 'p', op: 'max_pool2d', params: { kernel: 3, stride: 2, padding: 1 } },
      ],
    });
    expect(p.outputShape).toEqual([1, 240, 14, 14]);
    expect(p.nodes.map((n) => n.id)).toContain('u1/shuffle');
    expect(p.nodes.map((n) => n.id)).toContain('se/fc1');
  });

  it('refuses bad parameters with the layer and the parameter', () => {
    const shape = [1, 240, 28, 28];
    expect(refused('shufflenet_unit', { out_channels: 250, groups: 3, stride: 1 }, shape, 'u1')).toBe('layer "u1": out_channels 250 is not divisible by groups 3');
    expect(refused('shufflenet_unit', { out_channels: 480, groups: 3, stride: 1 }, shape, 'u1')).toContain(
      'layer "u1": out_channels 480 must equal the 240 input channels at stride 1',
    );
    expect(refused('shufflenet_unit', { out_channels: 240, groups: 3, stride: 2 }, shape, 'u1')).toContain(
      'layer "u1": out_channels 240 must exceed the 240 input channels at stride 2',
    );
    expect(refused('shufflenet_unit', { out_channels: 240, groups: 3, stride: 3 }, shape, 'u1')).toBe('layer "u1": stride must be <= 2, got 3');
    // 24 / 4 = 6 is not divisible by 4
    expect(refused('shufflenet_unit', { out_channels: 24, groups: 4 }, [1, 24, 8, 8], 'u1')).toContain(
      'layer "u1": bottleneck 6 (out_channels / 4) is not divisible by groups 4',
    );
    expect(refused('shufflenet_unit', { out_channels: 18, groups: 3 }, [1, 18, 8, 8], 'u1')).toContain(
      'layer "u1": out_channels 18 is not divisible by 4',
    );
    // 20 input channels, grouped first 1x1 with g = 8
    expect(refused('shufflenet_unit', { out_channels: 64, groups: 8, stride: 2 }, [1, 20, 8, 8], 'u1')).toContain(
      'layer "u1": groups 8 does not divide the 20 input channels',
    );
    // first_group false lifts that rule, but the branch's 64 - 20 = 44 channels still need g | 44
    expect(refused('shufflenet_unit', { out_channels: 64, groups: 8, stride: 2, first_group: false }, [1, 20, 8, 8], 'u1')).toContain(
      'layer "u1": out_channels 64 leaves 44 branch channels',
    );
    expect(refused('shufflenet_unit', { out_channels: 240, stride: 1 }, shape, 'u1')).toContain('layer "u1": groups is required');
  });
});

describe('se', () => {
  it('pool, two 1x1 convs with bias (= FCs with bias), sigmoid, scale', () => {
    // C = 32, r = 4: fc1 32*8 + 8 = 264, fc2 8*32 + 32 = 288 -> 552 = 2*C*C/r + C/r + C; MACs 256 + 256 = 512
    const p = plan('se', { reduction: 4 }, [1, 32, 4, 4]);
    check(p, { ids: ['pool', 'fc1', 'relu', 'fc2', 'sigmoid', 'scale'], params: 552, buffers: 0, macs: 512, output: [1, 32, 4, 4] });
    expect(p.nodes.find((n) => n.id === 'b/scale')!.inputs).toEqual([INPUT, 'b/sigmoid']);
  });

  it('scales each channel of the input by one factor in (0, 1)', () => {
    const p = plan('se', { reduction: 4 }, [1, 32, 4, 4]);
    const v = forward(p);
    const x = v.get(INPUT)!;
    const gate = v.get('b/sigmoid')!;
    const out = v.get('b/scale')!;
    expect(gate.length).toBe(32);
    for (let c = 0; c < 32; c++) {
      expect(gate[c]).toBeGreaterThan(0);
      expect(gate[c]).toBeLessThan(1);
      for (let i = 0; i < 16; i++) expect(out[c * 16 + i]).toBeCloseTo(x[c * 16 + i] * gate[c], 6);
    }
  });

  it('defaults to r = 16 and accepts squeeze_channels', () => {
    // C = 64, r = 16 -> 4: 64*4 + 4 + 4*64 + 64 = 580
    expect(plan('se', {}, [1, 64, 2, 2]).totals.params).toBe(580);
    // C = 32, squeeze 5: 32*5 + 5 + 5*32 + 32 = 357
    expect(plan('se', { squeeze_channels: 5 }, [1, 32, 2, 2]).totals.params).toBe(357);
  });

  it('refuses a reduction that does not divide the channels', () => {
    expect(refused('se', { reduction: 5 }, [1, 32, 4, 4], 's')).toContain('layer "s": reduction 5 does not divide the 32 input channels');
    expect(refused('se', { reduction: 0 }, [1, 32, 4, 4], 's')).toBe('layer "s": reduction must be >= 1, got 0');
  });

  it('refuses reduction and squeeze_channels together (one would be ignored)', () => {
    expect(refused('se', { reduction: 3, squeeze_channels: 5 }, [1, 64, 4, 4], 's')).toBe(
      'layer "s": squeeze_channels and reduction both set the squeeze width; give one of them',
    );
  });
});

describe('resnet_bottleneck / se_resnet_bottleneck', () => {
  // in 16 -> out 32, stride 2, width 8; 8x8 -> 4x4 after the 3x3:
  // conv1 [8, 16, 1, 1] = 128, 128*64 = 8,192 MACs; bn1 16 (+16)
  // conv2 [8, 8, 3, 3] = 576, 576*16 = 9,216; bn2 16 (+16)
  // conv3 [32, 8, 1, 1] = 256, 256*16 = 4,096; bn3 64 (+64)
  // downsample [32, 16, 1, 1] = 512, 512*16 = 8,192; its BN 64 (+64)
  // params 1,632, buffers 160, MACs 29,696
  const ids1 = ['conv1', 'bn1', 'relu1', 'conv2', 'bn2', 'relu2', 'conv3', 'bn3'];

  it('down-sampling bottleneck: stride in the 3x3, 1x1 conv + BN shortcut', () => {
    const p = plan('resnet_bottleneck', { out_channels: 32, stride: 2 }, [1, 16, 8, 8]);
    check(p, { ids: [...ids1, 'downsample', 'downsample_bn', 'add', 'relu'], params: 1632, buffers: 160, macs: 29_696, output: [1, 32, 4, 4] });
    expect(p.nodes.find((n) => n.id === 'b/conv1')!.attrs).toMatchObject({ stride: [1, 1] });
    expect(p.nodes.find((n) => n.id === 'b/conv2')!.attrs).toMatchObject({ stride: [2, 2] });
    expect(p.nodes.find((n) => n.id === 'b/add')!.inputs).toEqual(['b/bn3', 'b/downsample_bn']);
  });

  it('identity shortcut when the shape is kept', () => {
    // in = out = 32, width 8, 4x4: conv1 256, conv2 576, conv3 256, BNs 16+16+64 -> 1,184 params; MACs (256+576+256)*16 = 17,408
    const p = plan('resnet_bottleneck', { out_channels: 32 }, [1, 32, 4, 4]);
    check(p, { ids: [...ids1, 'add', 'relu'], params: 1184, buffers: 96, macs: 17_408, output: [1, 32, 4, 4] });
    expect(p.nodes.find((n) => n.id === 'b/add')!.inputs).toEqual(['b/bn3', INPUT]);
  });

  it('SE sits on the branch before the add', () => {
    // + SE on 32 channels, r = 4: 552 params, 512 MACs
    const p = plan('se_resnet_bottleneck', { out_channels: 32, stride: 2, reduction: 4 }, [1, 16, 8, 8]);
    check(p, {
      ids: [...ids1, 'se/pool', 'se/fc1', 'se/relu', 'se/fc2', 'se/sigmoid', 'se/scale', 'downsample', 'downsample_bn', 'add', 'relu'],
      params: 1632 + 552,
      buffers: 160,
      macs: 29_696 + 512,
      output: [1, 32, 4, 4],
    });
    expect(p.nodes.find((n) => n.id === 'b/se/scale')!.inputs).toEqual(['b/bn3', 'b/se/sigmoid']);
    expect(p.nodes.find((n) => n.id === 'b/add')!.inputs).toEqual(['b/se/scale', 'b/downsample_bn']);
  });

  it('takes an explicit width and downsample true', () => {
    // width 4: conv1 32*4 = 128, conv2 4*4*9 = 144, conv3 4*32 = 128, BNs 8+8+64, shortcut 32*32 = 1024 + 64 -> 1,568
    const p = plan('resnet_bottleneck', { out_channels: 32, width: 4, downsample: true }, [1, 32, 4, 4]);
    expect(p.totals.params).toBe(1568);
  });

  it('refuses bad parameters', () => {
    expect(refused('resnet_bottleneck', { out_channels: 32, stride: 2, downsample: false }, [1, 32, 8, 8], 'r')).toContain(
      'layer "r": downsample cannot be false: stride is 2',
    );
    expect(refused('resnet_bottleneck', { out_channels: 64, downsample: false }, [1, 32, 8, 8], 'r')).toContain(
      'layer "r": downsample cannot be false: the input has 32 channels and out_channels is 64',
    );
    expect(refused('resnet_bottleneck', { out_channels: 30 }, [1, 32, 8, 8], 'r')).toContain('layer "r": out_channels 30 is not divisible by 4');
    expect(refused('se_resnet_bottleneck', { out_channels: 32, reduction: 5 }, [1, 32, 8, 8], 'r')).toContain(
      'layer "r": reduction 5 does not divide out_channels 32',
    );
    expect(refused('resnet_bottleneck', { out_channels: 32, reduction: 4 }, [1, 32, 8, 8], 'r')).toContain(
      'layer "r": reduction is not a parameter of resnet_bottleneck',
    );
  });
});

describe('separable_conv', () => {
  it('depthwise k x k then pointwise 1x1, no bias, size kept', () => {
    // dw [8, 1, 3, 3] = 72, 72*100 = 7,200 MACs; pw [16, 8, 1, 1] = 128, 12,800 MACs
    const p = plan('separable_conv', { out_channels: 16 }, [1, 8, 10, 10]);
    check(p, { ids: ['depthwise', 'pointwise'], params: 200, buffers: 0, macs: 20_000, output: [1, 16, 10, 10] });
    expect(p.nodes[0].attrs).toMatchObject({ groups: 8, pads: [1, 1, 1, 1] });
  });

  it('puts a requested bias on the pointwise conv', () => {
    const p = plan('separable_conv', { out_channels: 16, bias: true }, [1, 8, 10, 10]);
    expect(p.totals.params).toBe(216);
    expect(p.nodes[1].params).toBe(144);
  });

  it('keeps the size with an even kernel too ("same", extra padding bottom/right)', () => {
    const p = plan('separable_conv', { out_channels: 16, kernel: 2 }, [1, 8, 10, 10]);
    expect(p.outputShape).toEqual([1, 16, 10, 10]);
    expect(p.nodes[0].attrs).toMatchObject({ pads: [0, 0, 1, 1] });
  });
});

describe('depthwise_separable', () => {
  it('dw 3x3 (stride), BN, ReLU, pw 1x1, BN, ReLU', () => {
    // dw 72 params, 72*25 = 1,800 MACs (10 -> 5); BN 16 (+16); pw 128, 128*25 = 3,200; BN 32 (+32)
    const p = plan('depthwise_separable', { out_channels: 16, stride: 2 }, [1, 8, 10, 10]);
    check(p, { ids: ['dw', 'dw_bn', 'dw_relu', 'pw', 'pw_bn', 'pw_relu'], params: 248, buffers: 48, macs: 5_000, output: [1, 16, 5, 5] });
  });

  it('takes relu6 as the activation (MobileNet v2 style)', () => {
    const p = plan('depthwise_separable', { out_channels: 16, activation: 'relu6' }, [1, 8, 10, 10]);
    expect(p.nodes.filter((n) => n.op === 'relu6').map((n) => n.id)).toEqual(['b/dw_relu', 'b/pw_relu']);
    expect(refused('depthwise_separable', { out_channels: 16, activation: 'gelu' }, [1, 8, 10, 10])).toContain(
      'layer "b": activation must be one of "relu", "relu6", got "gelu"',
    );
  });
});

describe('xception modules', () => {
  const entryIds = ['sep1/depthwise', 'sep1/pointwise', 'sep1_bn', 'sep2_act', 'sep2/depthwise', 'sep2/pointwise', 'sep2_bn', 'pool', 'shortcut', 'shortcut_bn', 'add'];

  it('xception_entry: two separable convs, max pool and a strided 1x1 shortcut', () => {
    // 8 -> 16 channels at 9x9 (81), pooled to 5x5 (25):
    // sep1 72 + 128 = 200 params, 200*81 = 16,200 MACs; BN 32 (+32)
    // sep2 16*9 + 16*16 = 400, 400*81 = 32,400; BN 32 (+32)
    // shortcut [16, 8, 1, 1] = 128, 128*25 = 3,200; BN 32 (+32)
    const p = plan('xception_entry', { out_channels: 16 }, [1, 8, 9, 9]);
    check(p, { ids: ['sep1_act', ...entryIds], params: 824, buffers: 96, macs: 51_800, output: [1, 16, 5, 5] });
    expect(p.nodes.find((n) => n.id === 'b/pool')!.inputs).toEqual(['b/sep2_bn']);
    expect(p.nodes.find((n) => n.id === 'b/shortcut')!.inputs).toEqual([INPUT]);
  });

  it('xception_entry: relu_first false, and "same" pooling on an even size', () => {
    const p = plan('xception_entry', { out_channels: 16, relu_first: false }, [1, 8, 8, 8]);
    expect(ids(p)).toEqual(entryIds);
    expect(p.outputShape).toEqual([1, 16, 4, 4]);
    expect(p.nodes.find((n) => n.id === 'b/sep1/depthwise')!.inputs).toEqual([INPUT]);
  });

  it('xception_middle: three times ReLU, separable conv, BN, plus the input', () => {
    // each sep 8*9 + 8*8 = 136, BN 16 (+16); x3 = 456 params, 48 buffers; MACs 3*136*25 = 10,200
    const p = plan('xception_middle', {}, [1, 8, 5, 5]);
    const one = (i: number) => [`sep${i}_act`, `sep${i}/depthwise`, `sep${i}/pointwise`, `sep${i}_bn`];
    check(p, { ids: [...one(1), ...one(2), ...one(3), 'add'], params: 456, buffers: 48, macs: 10_200, output: [1, 8, 5, 5] });
    expect(p.nodes.find((n) => n.id === 'b/add')!.inputs).toEqual(['b/sep3_bn', INPUT]);
  });

  it('xception_exit: the module then the separable tail', () => {
    // 8 channels at 6x6 (36), mid 8, out 16, tail [24] at 3x3 (9):
    // sep1 72 + 64 = 136, BN 16; sep2 72 + 128 = 200, BN 32; MACs (136 + 200)*36 = 12,096
    // shortcut 128 (MACs 128*9 = 1,152), BN 32; sep3 16*9 + 16*24 = 528 (MACs 4,752), BN 48
    const p = plan('xception_exit', { out_channels: 16, tail: [24] }, [1, 8, 6, 6]);
    check(p, {
      ids: ['sep1_act', ...entryIds, 'sep3/depthwise', 'sep3/pointwise', 'sep3_bn', 'sep3_act'],
      params: 1120,
      buffers: 128,
      macs: 18_000,
      output: [1, 24, 3, 3],
    });
    expect(plan('xception_exit', { out_channels: 16, tail: [] }, [1, 8, 6, 6]).outputShape).toEqual([1, 16, 3, 3]);
  });

  it('xception_exit refuses a malformed tail', () => {
    expect(refused('xception_exit', { tail: [1536, 0] }, [1, 8, 6, 6], 'x')).toContain('layer "x": tail must be a list of positive integers, got [1536,0]');
  });
});

describe('spatial_separable_conv', () => {
  it('k x 1 then 1 x k, size kept', () => {
    // conv_3x1 [16, 8, 3, 1] = 384, 384*100 = 38,400 MACs; conv_1x3 [16, 16, 1, 3] = 768, 76,800 MACs
    const p = plan('spatial_separable_conv', { out_channels: 16, bias: false }, [1, 8, 10, 10]);
    check(p, { ids: ['conv_3x1', 'conv_1x3'], params: 1152, buffers: 0, macs: 115_200, output: [1, 16, 10, 10] });
  });

  it('takes mid_channels, kernel and stride', () => {
    // 5x1 8->4: 160 + 4 bias; 1x5 4->16: 320 + 16 bias = 500; stride 2 on both axes: 10 -> 5
    const p = plan('spatial_separable_conv', { out_channels: 16, kernel: 5, mid_channels: 4, stride: 2 }, [1, 8, 10, 10]);
    expect(ids(p)).toEqual(['conv_5x1', 'conv_1x5']);
    expect(p.totals.params).toBe(500);
    expect(p.outputShape).toEqual([1, 16, 5, 5]);
    expect(p.nodes[0].outShape).toEqual([1, 4, 5, 10]);
  });

  it('refuses an even kernel without padding, saying that padding would take it', () => {
    const msg = refused('spatial_separable_conv', { out_channels: 16, kernel: 4 }, [1, 8, 10, 10]);
    expect(msg).toContain('layer "b": kernel 4 must be odd');
    expect(msg).toContain('or give padding');
  });

  /** The k x k conv the block factorises: its output shape is the block's. */
  const square = (k: number, stride: number, padding: ParamValue) =>
    buildPlan({ format: 'convscope/v1', name: 'kxk', input: { shape: [1, 8, 10, 10] }, layers: [{ id: 'c', op: 'conv2d', params: { out_channels: 16, kernel: k, stride, padding } }] }).outputShape;

  it('padding 0: both axes shrink by k - 1, as a 3x3 with padding 0', () => {
    // conv_3x1 [16, 8, 3, 1] = 384 params, out 8 x 10: 16*80*24 = 30,720 MACs;
    // conv_1x3 [16, 16, 1, 3] = 768 params, out 8 x 8: 16*64*48 = 49,152 MACs.
    const p = plan('spatial_separable_conv', { out_channels: 16, padding: 0, bias: false }, [1, 8, 10, 10]);
    check(p, { ids: ['conv_3x1', 'conv_1x3'], params: 1152, buffers: 0, macs: 79_872, output: [1, 16, 8, 8] });
    expect(p.nodes[0].outShape).toEqual([1, 16, 8, 10]);
    expect(p.outputShape).toEqual(square(3, 1, 0));
  });

  it('padding [ph, pw]: rows padded by the k x 1 conv, columns by the 1 x k', () => {
    // H: 10 + 2*2 - 3 + 1 = 12; W: 10 + 2*1 - 3 + 1 = 10.
    const p = plan('spatial_separable_conv', { out_channels: 16, padding: [2, 1] }, [1, 8, 10, 10]);
    expect(p.nodes[0].attrs).toMatchObject({ pads: [2, 0, 2, 0] });
    expect(p.nodes[1].attrs).toMatchObject({ pads: [0, 1, 0, 1] });
    expect(p.nodes[0].outShape).toEqual([1, 16, 12, 10]);
    expect(p.outputShape).toEqual([1, 16, 12, 10]);
    expect(p.outputShape).toEqual(square(3, 1, [2, 1]));
    // 384 + 16 bias, 768 + 16 bias; MACs 16*120*24 + 16*120*48.
    expect(p.totals.params).toBe(1184);
    expect(p.totals.macs).toBe(46_080 + 92_160);
  });

  it('padding [top, left, bottom, right]: each side to its axis', () => {
    // H: 10 + 1 + 2 - 3 + 1 = 11; W: 10 + 0 + 1 - 3 + 1 = 9.
    const p = plan('spatial_separable_conv', { out_channels: 16, padding: [1, 0, 2, 1] }, [1, 8, 10, 10]);
    expect(p.nodes[0].attrs).toMatchObject({ pads: [1, 0, 2, 0] });
    expect(p.nodes[1].attrs).toMatchObject({ pads: [0, 0, 0, 1] });
    expect(p.outputShape).toEqual([1, 16, 11, 9]);
    expect(p.outputShape).toEqual(square(3, 1, [1, 0, 2, 1]));
  });

  it('"same" takes an even kernel, the extra row and column at the bottom and right', () => {
    // k = 4: 3 rows of padding, 1 on top and 2 below (likewise left/right); 10 x 10 kept.
    // conv_4x1 [16, 8, 4, 1] = 512, conv_1x4 [16, 16, 1, 4] = 1024 params; 100 positions each.
    const p = plan('spatial_separable_conv', { out_channels: 16, kernel: 4, padding: 'same', bias: false }, [1, 8, 10, 10]);
    check(p, { ids: ['conv_4x1', 'conv_1x4'], params: 1536, buffers: 0, macs: 153_600, output: [1, 16, 10, 10] });
    expect(p.nodes[0].attrs).toMatchObject({ pads: [1, 0, 2, 0] });
    expect(p.nodes[1].attrs).toMatchObject({ pads: [0, 1, 0, 2] });
    expect(p.outputShape).toEqual(square(4, 1, 'same'));
  });

  it('"same" with stride 2 gives ceil(10 / 2) = 5 on both axes, as the k x k conv', () => {
    // Total padding (5 - 1)*2 + 3 - 10 = 1: none on top, 1 below.
    const p = plan('spatial_separable_conv', { out_channels: 16, padding: 'same', stride: 2 }, [1, 8, 10, 10]);
    expect(p.nodes[0].attrs).toMatchObject({ pads: [0, 0, 1, 0] });
    expect(p.nodes[0].outShape).toEqual([1, 16, 5, 10]);
    expect(p.outputShape).toEqual([1, 16, 5, 5]);
    expect(p.outputShape).toEqual(square(3, 2, 'same'));
  });

  it('refuses a malformed padding naming the parameter', () => {
    expect(refused('spatial_separable_conv', { out_channels: 16, padding: -1 }, [1, 8, 10, 10])).toContain('layer "b": padding must not be negative');
    expect(refused('spatial_separable_conv', { out_channels: 16, padding: 'valid' }, [1, 8, 10, 10])).toContain('layer "b": padding must be an integer, [ph, pw]');
  });
});

describe('dilated_conv', () => {
  it('dilation 2 by default, padding keeps the size, params of a plain 3x3', () => {
    // [8, 8, 3, 3] = 576 + 8 bias; MACs 8*100*8*9 = 57,600
    const p = plan('dilated_conv', { out_channels: 8 }, [1, 8, 10, 10]);
    check(p, { ids: ['conv'], params: 584, buffers: 0, macs: 57_600, output: [1, 8, 10, 10] });
    expect(p.nodes[0].attrs).toMatchObject({ dilation: [2, 2], pads: [2, 2, 2, 2] });
  });

  it('keeps the size when the dilated extent is odd', () => {
    const p = plan('dilated_conv', { out_channels: 8, kernel: 2, dilation: 3 }, [1, 8, 10, 10]);
    expect(p.outputShape).toEqual([1, 8, 10, 10]);
  });

  it('refuses bad groups', () => {
    expect(refused('dilated_conv', { out_channels: 9, groups: 2 }, [1, 8, 10, 10], 'd')).toBe('layer "d": out_channels 9 is not divisible by groups 2');
  });
});

describe('deformable_conv', () => {
  // 8 -> 8 channels, 3x3, 6x6 (36 positions), no bias on the main conv:
  // offset conv [18, 8, 3, 3] = 1,296 + 18 bias = 1,314 params, 18*36*72 = 46,656 MACs
  // deform weight [8, 8, 3, 3] = 576, 8*36*72 = 20,736 MACs
  it('v1: offset conv (2*k*k channels) then deform_conv2d', () => {
    const p = plan('deformable_conv', { out_channels: 8, bias: false }, [1, 8, 6, 6]);
    check(p, { ids: ['offset', 'deform'], params: 1890, buffers: 0, macs: 67_392, output: [1, 8, 6, 6] });
    expect(p.nodes[0].outShape).toEqual([1, 18, 6, 6]);
    expect(p.nodes[1].inputs).toEqual([INPUT, 'b/offset']);
  });

  it('v2: adds a sigmoid mask conv (k*k channels)', () => {
    // mask conv [9, 8, 3, 3] = 648 + 9 = 657 params, 9*36*72 = 23,328 MACs
    const p = plan('deformable_conv', { out_channels: 8, bias: false, modulated: true }, [1, 8, 6, 6]);
    check(p, { ids: ['offset', 'mask', 'mask_sigmoid', 'deform'], params: 1890 + 657, buffers: 0, macs: 67_392 + 23_328, output: [1, 8, 6, 6] });
    expect(p.nodes[3].inputs).toEqual([INPUT, 'b/offset', 'b/mask_sigmoid']);
  });

  it('offset_groups multiply the offset channels', () => {
    // 2 offset groups: offset conv 36 channels, mask 18
    const p = plan('deformable_conv', { out_channels: 8, offset_groups: 2, modulated: true, stride: 2 }, [1, 8, 6, 6]);
    expect(p.nodes[0].outShape).toEqual([1, 36, 3, 3]);
    expect(p.nodes[1].outShape).toEqual([1, 18, 3, 3]);
    expect(p.outputShape).toEqual([1, 8, 3, 3]);
  });

  it('refuses offset_groups and groups that do not divide the channels', () => {
    expect(refused('deformable_conv', { out_channels: 8, offset_groups: 3 }, [1, 8, 6, 6], 'd')).toContain(
      'layer "d": offset_groups 3 does not divide the 8 input channels',
    );
    expect(refused('deformable_conv', { out_channels: 8, groups: 3 }, [1, 8, 6, 6], 'd')).toContain('layer "d": out_channels 8 is not divisible by groups 3');
  });
});

describe('every block', () => {
  it('refuses a non-4-D input with the layer named', () => {
    for (const type of BLOCKS.keys()) {
      const spec = {
        format: 'convscope/v1',
        name: 'x',
        input: { shape: [1, 8, 4, 4] },
        layers: [
          { id: 'f', op: 'flatten', params: { start_dim: 1 } },
          { id: 'b', block: type, params: {} },
        ],
      };
      expect(() => buildPlan(spec), type).toThrow(/layer "b": .*4-D NCHW input/);
    }
  });
});

import type { Pads, Pair } from '../../params.ts';
import { shapeText } from '../../tensor.ts';
import { fmt, nchw, windowOutputs } from '../common.ts';
import type { OpDef } from '../types.ts';
import { deformConv2dCpu } from './cpu.ts';
import { deformConv2dWgsl } from './wgsl.ts';

export interface DeformConv2dAttrs {
  n: number;
  cin: number;
  h: number;
  w: number;
  cout: number;
  kernel: Pair;
  stride: Pair;
  pads: Pads;
  dilation: Pair;
  groups: number;
  offsetGroups: number;
  bias: boolean;
  /** DCN v2: a third input scales every sampled value. */
  modulated: boolean;
  ho: number;
  wo: number;
}

/**
 * Deformable convolution, torchvision.ops.deform_conv2d semantics (= ONNX DeformConv, opset 19).
 * Inputs [x, offset] (DCN v1) or [x, offset, mask] (DCN v2). Tap k = i*kw + j of output (oy, ox)
 * samples x bilinearly at (oy*sh - pt + i*dh + dy, ox*sw - pl + j*dw + dx), where (dy, dx) are
 * offset channels (2k, 2k+1) of the channel's offset group; v2 multiplies the sample by mask
 * channel k. Weight [C_out, C_in / groups, kh, kw] as in conv2d.
 */
export const deformConv2d: OpDef<DeformConv2dAttrs> = {
  type: 'deform_conv2d',
  category: 'convolution',
  summary:
    'Deformable convolution (DCN v1; v2 with a modulation mask): conv MACs plus bilinear sampling of every tap at a learned offset.',
  arity: [2, 3],
  resolve(p, inShapes) {
    const [input, offset, mask] = inShapes;
    const [n, cin, h, w] = nchw(p, input);
    const cout = p.int('out_channels', { min: 1 });
    const kernel = p.pair('kernel', { min: 1 });
    const stride = p.pair('stride', { default: [1, 1], min: 1 });
    const dilation = p.pair('dilation', { default: [1, 1], min: 1 });
    const groups = p.int('groups', { default: 1, min: 1 });
    const offsetGroups = p.int('offset_groups', { default: 1, min: 1 });
    const bias = p.bool('bias', true);
    const pads = p.padding('padding', [h, w], kernel, stride, dilation);
    if (cin % groups !== 0) p.fail('groups', `${groups} does not divide the ${cin} input channels; use a divisor of ${cin}`);
    if (cout % groups !== 0) p.fail('out_channels', `${cout} is not divisible by groups ${groups}`);
    if (cin % offsetGroups !== 0) {
      p.fail('offset_groups', `${offsetGroups} does not divide the ${cin} input channels; use a divisor of ${cin}`);
    }
    const [ho, wo] = windowOutputs(p, h, w, kernel, stride, pads, dilation);
    const [kh, kw] = kernel;
    const taps = kh * kw;
    const wantOffset = [n, 2 * offsetGroups * taps, ho, wo];
    if (shapeText(offset) !== shapeText(wantOffset)) {
      const combined =
        offset.length === 4 && offset[1] === 3 * offsetGroups * taps
          ? `; ${offset[1]} channels look like offsets and mask together (3*offset_groups*kh*kw): split them into offset and mask inputs`
          : '';
      p.error(
        `deform_conv2d offset (input 1) must have shape ${shapeText(wantOffset)} ` +
          `(N, 2*offset_groups*kh*kw = 2*${offsetGroups}*${kh}*${kw}, H_out, W_out), got ${shapeText(offset)}${combined}`,
        'inputs',
      );
    }
    const modulated = mask !== undefined;
    if (modulated) {
      const wantMask = [n, offsetGroups * taps, ho, wo];
      if (shapeText(mask) !== shapeText(wantMask)) {
        p.error(
          `deform_conv2d mask (input 2) must have shape ${shapeText(wantMask)} ` +
            `(N, offset_groups*kh*kw = ${offsetGroups}*${kh}*${kw}, H_out, W_out), got ${shapeText(mask)}`,
          'inputs',
        );
      }
    }
    const cinG = cin / groups;
    const macs = n * cout * ho * wo * cinG * kh * kw;
    const biasFlops = bias ? n * cout * ho * wo : 0;
    const samples = n * cin * kh * kw * ho * wo;
    const samplingFlops = 6 * samples + (modulated ? samples : 0);
    return {
      attrs: { n, cin, h, w, cout, kernel, stride, pads, dilation, groups, offsetGroups, bias, modulated, ho, wo },
      output: [n, cout, ho, wo],
      weights: [
        { name: 'weight', shape: [cout, cinG, kh, kw], role: 'param', init: { kind: 'uniform', bound: Math.sqrt(6 / (cinG * kh * kw)) } },
        ...(bias ? [{ name: 'bias', shape: [cout], role: 'param' as const, init: { kind: 'uniform' as const, bound: 1 / Math.sqrt(cinG * kh * kw) } }] : []),
      ],
      counts: {
        macs,
        flops: 2 * macs + biasFlops + samplingFlops,
        formula:
          `MACs = N*C_out*H_out*W_out*(C_in/groups)*kh*kw = ${n}*${cout}*${ho}*${wo}*(${cin}/${groups})*${kh}*${kw} = ${fmt(macs)}; ` +
          `FLOPs = 2*MACs${bias ? ` + ${fmt(biasFlops)} bias adds` : ''} + bilinear sampling: ` +
          `S = N*C_in*kh*kw*H_out*W_out = ${n}*${cin}*${kh}*${kw}*${ho}*${wo} = ${fmt(samples)} sampled values, ` +
          `each 4 reads and 3 lerps of 2 FLOPs = 6*S = ${fmt(6 * samples)}` +
          (modulated ? ` + 1*S = ${fmt(samples)} mask multiplies (v2)` : ''),
      },
    };
  },
  cpu: deformConv2dCpu,
  webgpu: deformConv2dWgsl,
};

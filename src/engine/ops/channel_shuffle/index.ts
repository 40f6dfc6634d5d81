import { fmt, nchw } from '../common.ts';
import type { OpDef } from '../types.ts';
import { channelShuffleWgsl } from './wgsl.ts';

export interface ChannelShuffleAttrs {
  n: number;
  c: number;
  groups: number;
  plane: number;
}

/**
 * ShuffleNet's channel shuffle (torch.nn.ChannelShuffle): view [N, g, C/g, H, W], transpose to
 * [N, C/g, g, H, W], flatten. Output channel j*g + i reads input channel i*(C/g) + j, so it is
 * a permutation of whole planes: one plane copy per unit.
 */
export const channelShuffle: OpDef<ChannelShuffleAttrs> = {
  type: 'channel_shuffle',
  category: 'structure',
  summary: 'Permutes channels across groups so grouped convolutions see every group (ShuffleNet): 0 FLOPs, no params.',
  arity: [1, 1],
  resolve(p, [input]) {
    const [n, c, h, w] = nchw(p, input);
    const groups = p.int('groups', { min: 1 });
    if (c % groups !== 0) p.fail('groups', `${groups} does not divide the ${c} input channels; use a divisor of ${c}`);
    return {
      attrs: { n, c, groups, plane: h * w },
      output: [n, c, h, w],
      weights: [],
      counts: { macs: 0, flops: 0, formula: `FLOPs = 0 (permutes ${fmt(n * c)} planes of ${h}x${w}, groups ${groups})` },
    };
  },
  cpu: {
    units: ({ attrs }) => attrs.n * attrs.c,
    run({ inputs: [x], out, attrs: a }, start, end) {
      const perGroup = a.c / a.groups;
      for (let u = start; u < end; u++) {
        const n = Math.floor(u / a.c);
        const oc = u - n * a.c;
        const ic = (oc % a.groups) * perGroup + Math.floor(oc / a.groups);
        const src = (n * a.c + ic) * a.plane;
        out.set(x.subarray(src, src + a.plane), u * a.plane);
      }
    },
  },
  webgpu: channelShuffleWgsl,
};

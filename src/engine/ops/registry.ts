/**
 * The op table: every primitive op the engine knows, by its spec name. Adding an op means adding
 * its folder under ops/ and one line here.
 */
import { conv2d } from './conv2d/index.ts';
import { relu } from './relu/index.ts';
import { add } from './add/index.ts';
import { mul } from './mul/index.ts';
import { concat } from './concat/index.ts';
import { channelShuffle } from './channel_shuffle/index.ts';
import { linear } from './linear/index.ts';
import { convTranspose2d } from './conv_transpose2d/index.ts';
import { deformConv2d } from './deform_conv2d/index.ts';
import { avgPool2d } from './avg_pool2d/index.ts';
import { batchNorm } from './batch_norm/index.ts';
import { dropout } from './dropout/index.ts';
import { flatten } from './flatten/index.ts';
import { globalAvgPool } from './global_avg_pool/index.ts';
import { globalMaxPool } from './global_max_pool/index.ts';
import { lrn } from './lrn/index.ts';
import { maxPool2d } from './max_pool2d/index.ts';
import { minPool2d } from './min_pool2d/index.ts';
import { relu6 } from './relu6/index.ts';
import { sigmoid } from './sigmoid/index.ts';
import { softmax } from './softmax/index.ts';
import { stochasticPool2d } from './stochastic_pool2d/index.ts';
import { transpose } from './transpose/index.ts';
import { reshape } from './reshape/index.ts';
import { slice } from './slice/index.ts';
import { pad } from './pad/index.ts';
import { resize } from './resize/index.ts';
import { silu } from './silu/index.ts';
import { hardswish } from './hardswish/index.ts';
import { hardsigmoid } from './hardsigmoid/index.ts';
import { clip } from './clip/index.ts';
import { gelu } from './gelu/index.ts';
import { sub } from './sub/index.ts';
import { div } from './div/index.ts';
import { layerNorm } from './layer_norm/index.ts';
import { reduceMean } from './reduce_mean/index.ts';
import { reduceMax } from './reduce_max/index.ts';
import type { OpDef } from './types.ts';

const ALL: OpDef[] = [conv2d, convTranspose2d, deformConv2d, linear, add, mul, concat, channelShuffle, relu, maxPool2d, avgPool2d, minPool2d, stochasticPool2d, globalAvgPool, globalMaxPool, batchNorm, relu6, sigmoid, lrn, softmax, dropout, flatten, transpose, reshape, slice, pad, resize, silu, hardswish, hardsigmoid, clip, gelu, sub, div, layerNorm, reduceMean, reduceMax];

export const OPS: ReadonlyMap<string, OpDef> = new Map(ALL.map((op) => [op.type, op]));

export function getOp(type: string): OpDef | undefined {
  return OPS.get(type);
}

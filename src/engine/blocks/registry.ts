/** The block table: every composite block by its spec name. */
import { deformableConv } from './deformable_conv.ts';
import { depthwiseSeparable } from './depthwise_separable.ts';
import { dilatedConv } from './dilated_conv.ts';
import { groupedConv } from './grouped_conv.ts';
import { resnetBottleneck } from './resnet_bottleneck.ts';
import { se } from './se.ts';
import { seResnetBottleneck } from './se_resnet_bottleneck.ts';
import { separableConv } from './separable_conv.ts';
import { shufflenetUnit } from './shufflenet_unit.ts';
import { spatialSeparableConv } from './spatial_separable_conv.ts';
import type { BlockDef } from './types.ts';
import { xceptionEntry } from './xception_entry.ts';
import { xceptionExit } from './xception_exit.ts';
import { xceptionMiddle } from './xception_middle.ts';

const ALL: BlockDef[] = [
  groupedConv,
  shufflenetUnit,
  se,
  resnetBottleneck,
  seResnetBottleneck,
  separableConv,
  depthwiseSeparable,
  xceptionEntry,
  xceptionMiddle,
  xceptionExit,
  spatialSeparableConv,
  dilatedConv,
  deformableConv,
];

export const BLOCKS: ReadonlyMap<string, BlockDef> = new Map(ALL.map((b) => [b.type, b]));

export function getBlock(type: string): BlockDef | undefined {
  return BLOCKS.get(type);
}

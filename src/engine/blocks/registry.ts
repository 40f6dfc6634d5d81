/** The block table: every composite block by its spec name. */
import type { BlockDef } from './types.ts';

const ALL: BlockDef[] = [];

export const BLOCKS: ReadonlyMap<string, BlockDef> = new Map(ALL.map((b) => [b.type, b]));

export function getBlock(type: string): BlockDef | undefined {
  return BLOCKS.get(type);
}

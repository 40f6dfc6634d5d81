/**
 * The op table: every primitive op the engine knows, by its spec name. Adding an op means adding
 * its folder under ops/ and one line here.
 */
import { conv2d } from './conv2d/index.ts';
import { relu } from './relu/index.ts';
import type { OpDef } from './types.ts';

const ALL: OpDef[] = [conv2d, relu];

export const OPS: ReadonlyMap<string, OpDef> = new Map(ALL.map((op) => [op.type, op]));

export function getOp(type: string): OpDef | undefined {
  return OPS.get(type);
}

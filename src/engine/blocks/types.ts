import type { ParamReader } from '../params.ts';
import type { ParamValue } from '../../shared/spec.ts';
import type { Shape } from '../tensor.ts';

/** A tensor inside a block being built: where it comes from and its shape. */
export interface Handle {
  ref: string;
  shape: Shape;
}

export interface BlockBuilder {
  /** The block's inputs (one for every block of the minimum set). */
  readonly inputs: Handle[];
  /**
   * Adds op `<layer>/<name>`. `inputs` defaults to the previous op of the block (the block's
   * input for the first). Returns its output. Shape errors name `<layer>/<name>`.
   */
  op(name: string, type: string, params?: Record<string, ParamValue>, inputs?: Handle[]): Handle;
  /** Adds the ops of another block under `<layer>/<name>/...` (e.g. SE inside a bottleneck). */
  block(name: string, type: string, params?: Record<string, ParamValue>, inputs?: Handle[]): Handle;
}

/**
 * A composite block: validates its own parameters (messages name the user's layer and parameter)
 * and expands into primitive ops. The last op it adds is the block's output.
 */
export interface BlockDef {
  type: string;
  summary: string;
  arity: [number, number];
  expand(p: ParamReader, b: BlockBuilder): void;
}

/** The model spec (convscope/v1): what a user saves as `*.convscope.json`. See docs/guide.md. */

export const SPEC_FORMAT = 'convscope/v1';

export type ParamValue = number | boolean | string | number[] | null;

export interface LayerSpec {
  id: string;
  /** A primitive op (conv2d, relu, ...) — exactly one of `op` and `block` is set. */
  op?: string;
  /** A composite block (shufflenet_unit, se, ...) that expands into ops `<id>/<name>`. */
  block?: string;
  params?: Record<string, ParamValue>;
  /** Layer ids (or "input") this layer reads; defaults to the previous layer's output. */
  inputs?: string[];
}

export interface ModelSpec {
  format: typeof SPEC_FORMAT;
  name: string;
  input: { shape: number[] };
  seed?: number;
  layers: LayerSpec[];
}

export type Shape = number[];

export const BYTES_PER_ELEMENT = 4; // float32 throughout

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function byteSize(shape: readonly number[]): number {
  return numel(shape) * BYTES_PER_ELEMENT;
}

export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export interface Tensor {
  shape: Shape;
  data: Float32Array;
}

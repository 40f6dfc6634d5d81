/**
 * concat on WebGPU: one dispatch per input, each copying its slice of every output row (the
 * output is `outer` rows, each the inputs' slices back to back). Each dispatch binds only its input
 * and the output, so any number of inputs fits the 4 storage buffers a compatibility-mode stage
 * allows; the dispatches write disjoint parts of the output. vec4 when the input's slice, the row
 * and the slice's place in it are whole vec4s.
 */
import { gridFor, sliceBinding, uniformsWgsl } from '../../kernels/wgsl/common.ts';
import { flatRunsOf, MAIN_PARAMS, runsOf, THREAD, WG, type Run } from '../../kernels/wgsl/chunks.ts';
import type { GpuDispatch, GpuLimits, UniformField, WebGpuKernel } from '../types.ts';
import type { ConcatAttrs } from './index.ts';

export const concatWgsl: WebGpuKernel<ConcatAttrs> = {
  plan({ attrs: a, limits }) {
    const outer = a.total / a.rowLen;
    const dispatches: GpuDispatch[] = [];
    let offset = 0;
    a.sizes.forEach((size, k) => {
      for (const piece of pieces(outer, size, a.rowLen, limits)) dispatches.push(copy(k, size, offset, a.rowLen, piece, limits));
      offset += size;
    });
    return { dispatches };
  },
};

/** A run of rows [row, row + rows) of `len` elements from offset `from` of the input's row. */
interface Piece {
  row: number;
  rows: number;
  from: number;
  len: number;
}

/**
 * Splits the copy so every slice fits one binding: runs of whole rows, or, for a single row too
 * large for a binding (concat along axis 0), runs of elements within it.
 */
function pieces(outer: number, size: number, rowLen: number, limits: GpuLimits): Piece[] {
  if (outer === 1 && rowLen * 4 > limits.maxStorageBufferBindingSize - limits.minStorageBufferOffsetAlignment) {
    return flatRunsOf(size, limits).map((r: Run) => ({ row: 0, rows: 1, from: r.first, len: r.count }));
  }
  return runsOf(outer, rowLen * 4, limits, 'one output row').map((r) => ({ row: r.first, rows: r.count, from: 0, len: size }));
}

function copy(input: number, size: number, offset: number, rowLen: number, p: Piece, limits: GpuLimits): GpuDispatch {
  const x = sliceBinding({ input }, p.row * size + p.from, p.rows === 1 ? p.len : p.rows * size, limits);
  const yFirst = p.row * rowLen + offset + p.from;
  const y = sliceBinding({ output: true }, yFirst, (p.rows - 1) * rowLen + p.len, limits);
  const lanes = p.len % 4 === 0 && (p.rows === 1 || rowLen % 4 === 0) && x.base % 4 === 0 && y.base % 4 === 0 ? 4 : 1;
  const ty = lanes === 4 ? 'vec4<f32>' : 'f32';
  const threads = (p.rows * p.len) / lanes;
  const fields: UniformField[] = [
    ['total', 'i32', threads],
    ['len', 'i32', p.len / lanes],
    // Only read when the piece has several rows, where vec4 needs rowLen whole vec4s.
    ['rowLen', 'i32', p.rows === 1 ? 0 : rowLen / lanes],
    ['xBase', 'i32', x.base / lanes],
    ['yBase', 'i32', y.base / lanes],
  ];
  const code = `
@group(0) @binding(0) var<storage, read> x: array<${ty}>;
@group(0) @binding(1) var<storage, read_write> y: array<${ty}>;
${uniformsWgsl(fields, 2)}
@compute @workgroup_size(${WG})
fn main(${MAIN_PARAMS}) {
  ${THREAD}
  if (t >= u.total) { return; }
  let r = t / u.len;
  y[u.yBase + r * u.rowLen + (t - r * u.len)] = x[u.xBase + t];
}
`;
  return { code, bindings: [x.binding, y.binding], uniforms: fields, workgroups: gridFor(Math.ceil(threads / WG), limits) };
}

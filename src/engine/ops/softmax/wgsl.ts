/**
 * softmax on WebGPU, along any axis: the tensor is `outer` x `len` x `inner` and every (outer,
 * inner) pair is one row of `len` values `inner` apart. Stable as on the CPU: subtract the row's
 * max, exponentiate, divide by the sum.
 * - Long rows (a classifier's 1000 logits) take one workgroup each: the threads stride the row and
 *   combine their maxima, then their sums, in workgroup memory by a tree.
 * - Otherwise one thread per row: over channels of NCHW (inner = H * W) neighbouring threads read
 *   neighbouring addresses.
 */
import { FLAT_WORKGROUP, gridFor, sliceBinding, uniformsWgsl } from '../../kernels/wgsl/common.ts';
import { MAIN_PARAMS, runsOf, THREAD, WG } from '../../kernels/wgsl/chunks.ts';
import type { GpuDispatch, UniformField, WebGpuKernel } from '../types.ts';
import type { SoftmaxAttrs } from './index.ts';

/** Rows at least this long get a workgroup each... */
const LONG_ROW = 64;
/** ...unless there are this many rows and they are strided (inner > 1): then threads read coalesced. */
const MANY_ROWS = 8192;

export const softmaxWgsl: WebGpuKernel<SoftmaxAttrs> = {
  plan({ attrs: a, limits }) {
    const rowsPerOuter = a.inner;
    const perWorkgroup = a.len >= LONG_ROW && (a.inner === 1 || a.outer * a.inner < MANY_ROWS);
    const block = a.len * a.inner;
    const maxOuter = perWorkgroup ? Math.max(1, Math.floor(limits.maxComputeWorkgroupsPerDimension ** 2 / a.inner)) : Infinity;
    const dispatches: GpuDispatch[] = runsOf(a.outer, block * 4, limits, 'one softmax block (the axis and the dims after it)', maxOuter).map(({ first, count }) => {
      const x = sliceBinding({ input: 0 }, first * block, count * block, limits);
      const y = sliceBinding({ output: true }, first * block, count * block, limits);
      const rows = count * rowsPerOuter;
      const fields: UniformField[] = [
        ['rows', 'i32', rows],
        ['len', 'i32', a.len],
        ['inner', 'i32', a.inner],
        ['xBase', 'i32', x.base],
        ['yBase', 'i32', y.base],
      ];
      const code = perWorkgroup ? rowPerWorkgroup(fields) : rowPerThread(fields);
      return { code, bindings: [x.binding, y.binding], uniforms: fields, workgroups: gridFor(perWorkgroup ? rows : Math.ceil(rows / WG), limits) };
    });
    return { dispatches };
  },
};

function declarations(fields: UniformField[]): string {
  return `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
${uniformsWgsl(fields, 2)}`;
}

/** `row` -> the offset of its first element; consecutive elements are u.inner apart. */
const ROW_START = `
fn rowStart(row: i32) -> i32 {
  let o = row / u.inner;
  return o * u.len * u.inner + (row - o * u.inner);
}`;

function rowPerThread(fields: UniformField[]): string {
  return `${declarations(fields)}
${ROW_START}
@compute @workgroup_size(${WG})
fn main(${MAIN_PARAMS}) {
  ${THREAD}
  if (t >= u.rows) { return; }
  let start = rowStart(t);
  let src = u.xBase + start;
  let dst = u.yBase + start;
  var m = x[src];
  for (var i = 1; i < u.len; i++) { m = max(m, x[src + i * u.inner]); }
  var s = 0.0;
  for (var i = 0; i < u.len; i++) {
    let e = exp(x[src + i * u.inner] - m);
    y[dst + i * u.inner] = e;
    s += e;
  }
  for (var i = 0; i < u.len; i++) { y[dst + i * u.inner] = y[dst + i * u.inner] / s; }
}
`;
}

function tree(op: (a: string, b: string) => string): string {
  let code = '';
  for (let s = WG / 2; s >= 1; s /= 2) code += `  if (li < ${s}u) { part[li] = ${op('part[li]', `part[li + ${s}u]`)}; }\n  workgroupBarrier();\n`;
  return code;
}

function rowPerWorkgroup(fields: UniformField[]): string {
  return `${declarations(fields)}
${ROW_START}
var<workgroup> part: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(${MAIN_PARAMS}) {
  let row = ${FLAT_WORKGROUP};
  // Uniform across the workgroup, so the barriers below stay in uniform control flow.
  if (row >= u.rows) { return; }
  let start = rowStart(row);
  let src = u.xBase + start;
  let dst = u.yBase + start;
  let first = i32(li);
  // The row's max; a thread past the row's end contributes its first element again.
  var m = x[src];
  for (var i = first; i < u.len; i += ${WG}) { m = max(m, x[src + i * u.inner]); }
  part[li] = m;
  workgroupBarrier();
${tree((a, b) => `max(${a}, ${b})`)}  m = part[0];
  workgroupBarrier();
  var s = 0.0;
  for (var i = first; i < u.len; i += ${WG}) {
    let e = exp(x[src + i * u.inner] - m);
    y[dst + i * u.inner] = e;
    s += e;
  }
  part[li] = s;
  workgroupBarrier();
${tree((a, b) => `${a} + ${b}`)}  let total = part[0];
  for (var i = first; i < u.len; i += ${WG}) { y[dst + i * u.inner] = y[dst + i * u.inner] / total; }
}
`;
}

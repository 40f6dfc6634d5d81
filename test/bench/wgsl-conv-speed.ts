/**
 * Speed sanity check of conv2d's WGSL kernels against a naive one-output-per-thread kernel, on
 * whatever adapter this machine has (llvmpipe without a GPU: absolute numbers are a CPU
 * rasterizer's, the ratio is what tells). Run: npx tsx test/bench/wgsl-conv-speed.ts
 */
import { FLAT_WORKGROUP, gridFor, uniformsWgsl } from '../../src/engine/kernels/wgsl/common.ts';
import { buildPlan } from '../../src/engine/graph/plan.ts';
import type { Conv2dAttrs } from '../../src/engine/ops/conv2d/index.ts';
import { getOp } from '../../src/engine/ops/registry.ts';
import type { UniformField, WebGpuKernel } from '../../src/engine/ops/types.ts';
import { profilePlan } from '../../src/engine/profiler.ts';
import { percentile } from '../../src/engine/stats.ts';
import { openTestBackend } from '../helpers/webgpu.ts';

const naive: WebGpuKernel<Conv2dAttrs> = {
  plan({ attrs: a, limits }) {
    const total = a.n * a.cout * a.ho * a.wo;
    const f: UniformField[] = [
      ['total', 'i32', total], ['cin', 'i32', a.cin], ['cout', 'i32', a.cout], ['cinG', 'i32', a.cin / a.groups], ['coutG', 'i32', a.cout / a.groups],
      ['h', 'i32', a.h], ['w', 'i32', a.w], ['ho', 'i32', a.ho], ['wo', 'i32', a.wo], ['kh', 'i32', a.kernel[0]], ['kw', 'i32', a.kernel[1]],
      ['sh', 'i32', a.stride[0]], ['sw', 'i32', a.stride[1]], ['dh', 'i32', a.dilation[0]], ['dw', 'i32', a.dilation[1]], ['pt', 'i32', a.pads[0]], ['pl', 'i32', a.pads[1]],
    ];
    const code = `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> wt: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
${uniformsWgsl(f, 4)}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let t = ${FLAT_WORKGROUP} * 64 + i32(li);
  if (t >= u.total) { return; }
  let ox = t % u.wo; let oy = (t / u.wo) % u.ho; let co = (t / (u.wo * u.ho)) % u.cout; let n = t / (u.wo * u.ho * u.cout);
  let g = co / u.coutG;
  var s = bias[co];
  for (var c = 0; c < u.cinG; c++) {
    for (var i = 0; i < u.kh; i++) {
      for (var j = 0; j < u.kw; j++) {
        let iy = oy * u.sh - u.pt + i * u.dh; let ix = ox * u.sw - u.pl + j * u.dw;
        if (iy >= 0 && iy < u.h && ix >= 0 && ix < u.w) {
          s += wt[((co * u.cinG + c) * u.kh + i) * u.kw + j] * x[((n * u.cin + g * u.cinG + c) * u.h + iy) * u.w + ix];
        }
      }
    }
  }
  y[t] = s;
}`;
    return { dispatches: [{ code, bindings: [{ buffer: { input: 0 } }, { buffer: { weight: 0 } }, { buffer: { output: true } }, { buffer: { weight: 1 } }], uniforms: f, workgroups: gridFor(Math.ceil(total / 64), limits) }] };
  },
};

const shapes: [string, number[], Record<string, number>][] = [
  ['3x3 64->64 @56', [1, 64, 56, 56], { out_channels: 64, kernel: 3, padding: 1 }],
  ['1x1 64->256 @56', [1, 64, 56, 56], { out_channels: 256, kernel: 1 }],
  ['dw 3x3 128 @56', [1, 128, 56, 56], { out_channels: 128, kernel: 3, padding: 1, groups: 128 }],
];

const conv = getOp('conv2d')!;
const tiled = conv.webgpu!;
const gpu = await openTestBackend();
process.stdout.write(`adapter: ${gpu.adapter}\n`);
for (const [name, input, params] of shapes) {
  const plan = buildPlan({ format: 'convscope/v1', name, input: { shape: input }, layers: [{ id: 'c', op: 'conv2d', params }] });
  const row: string[] = [];
  let out: Float32Array[] = [];
  for (const [label, kernel] of [['tiled', tiled], ['naive', naive]] as const) {
    conv.webgpu = kernel;
    const r = await profilePlan(plan, gpu, { warmup: 2, repeat: 10 });
    out.push(r.output);
    const ms = percentile(r.nodeTimes[0], 0.5);
    row.push(`${label} ${ms.toFixed(2)} ms (${(plan.totals.flops / ms / 1e6).toFixed(1)} GFLOP/s)`);
  }
  conv.webgpu = tiled;
  let diff = 0;
  for (let i = 0; i < out[0].length; i++) diff = Math.max(diff, Math.abs(out[0][i] - out[1][i]));
  process.stdout.write(`${name}: ${row.join(', ')}; max |tiled - naive| ${diff.toExponential(1)}\n`);
  out = [];
}
await gpu.dispose();

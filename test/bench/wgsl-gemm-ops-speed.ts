/**
 * Speed of the WGSL kernels of linear, conv_transpose2d and deform_conv2d against the CPU backend
 * (all threads, its default kernels), on whatever adapter this machine has (llvmpipe without a
 * GPU: a CPU rasterizer's numbers). deform_conv2d runs both its plans: fused (offsets read in the
 * GEMM's tile loads) and split (the 4-storage-buffer plan compatibility devices get).
 * Run: npx tsx test/bench/wgsl-gemm-ops-speed.ts
 */
import { CpuBackend } from '../../src/engine/backends/cpu/backend.ts';
import type { Backend } from '../../src/engine/backends/types.ts';
import { buildPlan } from '../../src/engine/graph/plan.ts';
import { profilePlan } from '../../src/engine/profiler.ts';
import { percentile } from '../../src/engine/stats.ts';
import type { LayerSpec } from '../../src/shared/spec.ts';
import { openTestBackend } from '../helpers/webgpu.ts';

const cases: [string, number[], LayerSpec[]][] = [
  ['linear 9216->4096 (AlexNet FC6), N=1', [1, 256, 6, 6], [{ id: 'f', op: 'flatten' }, { id: 'op', op: 'linear', params: { out_features: 4096 } }]],
  ['linear 9216->4096 (AlexNet FC6), N=32', [32, 256, 6, 6], [{ id: 'f', op: 'flatten' }, { id: 'op', op: 'linear', params: { out_features: 4096 } }]],
  ['conv_transpose2d 4x4 s2 p1 64->32 @28', [1, 64, 28, 28], [{ id: 'op', op: 'conv_transpose2d', params: { out_channels: 32, kernel: 4, stride: 2, padding: 1 } }]],
  [
    'deform_conv2d 3x3 64->64 @28',
    [1, 64, 28, 28],
    [
      { id: 'offsets', op: 'conv2d', params: { out_channels: 18, kernel: 3, padding: 1 } },
      { id: 'op', op: 'deform_conv2d', params: { out_channels: 64, kernel: 3, padding: 1 }, inputs: ['input', 'offsets'] },
    ],
  ],
  [
    'deform_conv2d v2 3x3 64->64 @28',
    [1, 64, 28, 28],
    [
      { id: 'offsets', op: 'conv2d', params: { out_channels: 18, kernel: 3, padding: 1 } },
      { id: 'mask', op: 'sigmoid', inputs: ['offsets'] },
      { id: 'm9', op: 'conv2d', params: { out_channels: 9, kernel: 1 }, inputs: ['mask'] },
      { id: 'op', op: 'deform_conv2d', params: { out_channels: 64, kernel: 3, padding: 1 }, inputs: ['input', 'offsets', 'm9'] },
    ],
  ],
];

const cpu = await CpuBackend.create();
const gpu = await openTestBackend({ fuse: false });
const split = await openTestBackend({ fuse: false, planLimits: { maxStorageBuffersPerShaderStage: 4 } });
process.stdout.write(`adapter: ${gpu.adapter}\n`);

async function time(plan: ReturnType<typeof buildPlan>, backend: Backend): Promise<[number, Float32Array]> {
  const r = await profilePlan(plan, backend, { warmup: 2, repeat: 10 });
  const i = plan.nodes.findIndex((n) => n.id === 'op');
  return [percentile(r.nodeTimes[i], 0.5), r.output];
}

for (const [name, input, layers] of cases) {
  const plan = buildPlan({ format: 'convscope/v1', name, input: { shape: input }, seed: 1, layers });
  const node = plan.nodes.find((n) => n.id === 'op')!;
  const gflops = (ms: number) => (node.counts.flops / ms / 1e6).toFixed(1);
  const [cpuMs, want] = await time(plan, cpu);
  const backends: [string, Backend][] = [['webgpu', gpu]];
  if (node.op === 'deform_conv2d') backends.push(['webgpu split', split]);
  const row = [`cpu ${cpuMs.toFixed(2)} ms (${gflops(cpuMs)} GFLOP/s)`];
  for (const [label, backend] of backends) {
    const [ms, got] = await time(plan, backend);
    let err = 0;
    for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
    row.push(`${label} ${ms.toFixed(2)} ms (${gflops(ms)} GFLOP/s, max rel err ${err.toExponential(1)})`);
  }
  process.stdout.write(`${name}: ${row.join('; ')}\n`);
}
await split.dispose();
await gpu.dispose();
await cpu.dispose();

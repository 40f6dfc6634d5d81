/**
 * The benchmark cases of `convscope bench`: single ops at the shapes of the architectures they
 * come from, and whole presets end to end. Every case is a Plan, so every runner (the engine's
 * backends, and the peers through the ONNX export or the tfjs translation) computes exactly the
 * same thing from the same seeded weights and input.
 */
import { SpecError } from '../errors.ts';
import { buildPlan, INPUT, planNodeFor, type Plan } from '../graph/plan.ts';
import { getPreset } from '../presets/index.ts';
import { byteSize } from '../tensor.ts';
import type { LayerSpec, ParamValue } from '../../shared/spec.ts';

export type CaseGroup = 'ops' | 'models';

export interface BenchCase {
  id: string;
  title: string;
  group: CaseGroup;
  /**
   * What limits it: `compute` cases are read in GFLOP/s, `memory` cases (little arithmetic per
   * byte) in GB/s. The memory-bound ones carry the tighter goal against onnxruntime-node.
   */
  bound: 'compute' | 'memory';
  plan(): Plan;
}

/** Every case's input and weights come from this seed. */
export const BENCH_SEED = 7;

function specCase(name: string, shape: number[], layers: LayerSpec[]): () => Plan {
  return () => buildPlan({ format: 'convscope/v1', name, input: { shape }, seed: BENCH_SEED, layers });
}

function opCase(name: string, op: string, params: Record<string, ParamValue>, shape: number[]): () => Plan {
  return specCase(name, shape, [{ id: op, op, params }]);
}

/**
 * A plan of one op on an input of any rank. Specs take only NCHW inputs, and a matmul written as
 * [N, C, 1, 1] -> flatten -> linear would time a 4 MiB copy along with the GEMM.
 */
function rawOpCase(name: string, op: string, params: Record<string, ParamValue>, shape: number[]): () => Plan {
  return () => {
    const node = planNodeFor(op, params, [shape]);
    node.inputs = [INPUT];
    const paramBytes = (node.params + node.buffers) * 4;
    return {
      spec: { format: 'convscope/v1', name, input: { shape }, seed: BENCH_SEED, layers: [{ id: op, op, params }] },
      inputShape: shape,
      nodes: [node],
      output: node.id,
      outputShape: node.outShape,
      seed: BENCH_SEED,
      totals: {
        params: node.params,
        buffers: node.buffers,
        macs: node.counts.macs,
        flops: node.counts.flops,
        paramBytes,
        activationBytes: node.outputBytes,
        peakBytes: byteSize(shape) + node.outputBytes,
      },
    };
  };
}

function presetCase(id: string): () => Plan {
  return () => {
    const preset = getPreset(id);
    if (!preset) throw new Error(`bench: preset ${id} is missing`);
    const spec = preset.build();
    return buildPlan({ ...spec, seed: spec.seed ?? BENCH_SEED }, { batch: 1 });
  };
}

export const BENCH_CASES: readonly BenchCase[] = [
  {
    id: 'conv3x3',
    title: 'conv 3x3 64->64 @56',
    group: 'ops',
    bound: 'compute',
    plan: opCase('conv 3x3 64->64 @56', 'conv2d', { out_channels: 64, kernel: 3, padding: 1 }, [1, 64, 56, 56]),
  },
  {
    id: 'grouped3x3',
    title: 'grouped conv 3x3 256->256 g=2 @27',
    group: 'ops',
    bound: 'compute',
    plan: opCase('grouped conv 3x3 256->256 g=2 @27', 'conv2d', { out_channels: 256, kernel: 3, padding: 1, groups: 2 }, [1, 256, 27, 27]),
  },
  {
    id: 'shufflenet_gconv1x1',
    title: 'ShuffleNet 1x1 group conv 240->60 g=3 @28',
    group: 'ops',
    bound: 'compute',
    plan: opCase('ShuffleNet 1x1 group conv', 'conv2d', { out_channels: 60, kernel: 1, groups: 3, bias: false }, [1, 240, 28, 28]),
  },
  {
    id: 'shufflenet_shuffle',
    title: 'ShuffleNet channel shuffle 240 g=3 @28',
    group: 'ops',
    bound: 'memory',
    plan: opCase('ShuffleNet channel shuffle', 'channel_shuffle', { groups: 3 }, [1, 240, 28, 28]),
  },
  {
    id: 'shufflenet_dw3x3',
    title: 'ShuffleNet depthwise 3x3 60 @28',
    group: 'ops',
    bound: 'memory',
    plan: opCase('ShuffleNet depthwise 3x3', 'conv2d', { out_channels: 60, kernel: 3, padding: 1, groups: 60, bias: false }, [1, 60, 28, 28]),
  },
  {
    id: 'xception_dw3x3',
    title: 'Xception depthwise 3x3 728 @19',
    group: 'ops',
    bound: 'memory',
    plan: opCase('Xception depthwise 3x3', 'conv2d', { out_channels: 728, kernel: 3, padding: 1, groups: 728, bias: false }, [1, 728, 19, 19]),
  },
  {
    id: 'xception_pw1x1',
    title: 'Xception pointwise 1x1 728->728 @19',
    group: 'ops',
    bound: 'compute',
    plan: opCase('Xception pointwise 1x1', 'conv2d', { out_channels: 728, kernel: 1, bias: false }, [1, 728, 19, 19]),
  },
  {
    id: 'se',
    title: 'SE block 256x56x56 r=16',
    group: 'ops',
    bound: 'memory',
    plan: specCase('SE block', [1, 256, 56, 56], [{ id: 'se', block: 'se', params: { reduction: 16 } }]),
  },
  {
    id: 'dilated3x3',
    title: 'dilated conv 3x3 d=2 64->64 @56',
    group: 'ops',
    bound: 'compute',
    plan: opCase('dilated conv 3x3 d=2', 'conv2d', { out_channels: 64, kernel: 3, padding: 2, dilation: 2 }, [1, 64, 56, 56]),
  },
  {
    id: 'transposed4x4',
    title: 'transposed conv 4x4 s2 64->32 @28',
    group: 'ops',
    bound: 'compute',
    plan: opCase('transposed conv 4x4 s2', 'conv_transpose2d', { out_channels: 32, kernel: 4, stride: 2, padding: 1 }, [1, 64, 28, 28]),
  },
  {
    id: 'maxpool',
    title: 'max pool 3x3 s2 on 64x112x112',
    group: 'ops',
    bound: 'memory',
    plan: opCase('max pool 3x3 s2', 'max_pool2d', { kernel: 3, stride: 2, padding: 1 }, [1, 64, 112, 112]),
  },
  {
    // Padding excluded from the divisor: the one avg-pool convention every peer implements.
    id: 'avgpool',
    title: 'avg pool 3x3 s2 on 64x112x112',
    group: 'ops',
    bound: 'memory',
    plan: opCase('avg pool 3x3 s2', 'avg_pool2d', { kernel: 3, stride: 2, padding: 1, count_include_pad: false }, [1, 64, 112, 112]),
  },
  {
    id: 'matmul',
    title: 'matmul 1024x1024x1024',
    group: 'ops',
    bound: 'compute',
    plan: rawOpCase('matmul 1024^3', 'linear', { out_features: 1024, bias: false }, [1024, 1024]),
  },
  { id: 'shufflenet_v1_g3', title: 'shufflenet_v1_g3, batch 1', group: 'models', bound: 'compute', plan: presetCase('shufflenet_v1_g3') },
  { id: 'mobilenet_v1', title: 'mobilenet_v1, batch 1', group: 'models', bound: 'compute', plan: presetCase('mobilenet_v1') },
  { id: 'xception', title: 'xception, batch 1', group: 'models', bound: 'compute', plan: presetCase('xception') },
  { id: 'se_resnet50', title: 'se_resnet50, batch 1', group: 'models', bound: 'compute', plan: presetCase('se_resnet50') },
];

/**
 * `--cases`: comma-separated case ids, group names (`ops`, `models`) or prefixes ending in `*`.
 * An entry that matches nothing is refused with the list of ids, so a typo never silently
 * benchmarks nothing.
 */
export function selectCases(filter: string | undefined, all: readonly BenchCase[] = BENCH_CASES): BenchCase[] {
  if (!filter || filter === 'all') return [...all];
  const picked = new Set<string>();
  for (const raw of filter.split(',')) {
    const term = raw.trim();
    if (!term) continue;
    const matches = all.filter((c) =>
      term.endsWith('*') ? c.id.startsWith(term.slice(0, -1)) : c.id === term || c.group === term,
    );
    if (matches.length === 0) {
      throw new SpecError(`--cases: "${term}" matches no case; cases are ${all.map((c) => c.id).join(', ')} (or the groups ops, models)`, undefined, 'cases');
    }
    for (const c of matches) picked.add(c.id);
  }
  return all.filter((c) => picked.has(c.id));
}

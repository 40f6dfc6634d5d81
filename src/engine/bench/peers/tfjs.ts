/**
 * tfjs peers: the case's plan translated op by op to tfjs calls. tfjs works in NHWC with HWIO
 * filters, so the input and the weights are converted once, outside the timed region, and the
 * output is converted back to NCHW for the cross-check. Ops tfjs has no equivalent for (grouped
 * convolutions other than depthwise, LRN with PyTorch's window, deformable and stochastic ops)
 * make the case unsupported instead of being emulated with extra work.
 */
import type { Plan, PlanNode } from '../../graph/plan.ts';
import type { AvgPool2dAttrs } from '../../ops/avg_pool2d/index.ts';
import type { BatchNormAttrs } from '../../ops/batch_norm/index.ts';
import type { ChannelShuffleAttrs } from '../../ops/channel_shuffle/index.ts';
import type { ConcatAttrs } from '../../ops/concat/index.ts';
import type { Conv2dAttrs } from '../../ops/conv2d/index.ts';
import type { ConvTranspose2dAttrs } from '../../ops/conv_transpose2d/index.ts';
import type { Pool2dAttrs } from '../../ops/pool2d.ts';
import type { SoftmaxAttrs } from '../../ops/softmax/index.ts';
import { INPUT } from '../../graph/plan.ts';
import { Unsupported, type CaseData, type PreparedCase, type Runner, type RunnerOptions } from '../runner.ts';
import { importPeer } from './load.ts';

type Tf = typeof import('@tensorflow/tfjs-core');
type T = import('@tensorflow/tfjs-core').Tensor;
type T4 = import('@tensorflow/tfjs-core').Tensor4D;

/** [N, C, H, W] data as [N, H, W, C]. */
export function nchwToNhwc(x: Float32Array, [n, c, h, w]: number[]): Float32Array {
  const out = new Float32Array(x.length);
  const hw = h * w;
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const src = (b * c + ch) * hw;
      for (let p = 0; p < hw; p++) out[(b * hw + p) * c + ch] = x[src + p];
    }
  }
  return out;
}

export function nhwcToNchw(x: Float32Array, [n, c, h, w]: number[]): Float32Array {
  const out = new Float32Array(x.length);
  const hw = h * w;
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const dst = (b * c + ch) * hw;
      for (let p = 0; p < hw; p++) out[dst + p] = x[(b * hw + p) * c + ch];
    }
  }
  return out;
}

/** [d0, d1, d2, d3] -> the permutation `perm` of its axes, as data. */
function permute4(x: Float32Array, dims: number[], perm: number[]): { data: Float32Array; shape: number[] } {
  const shape = perm.map((p) => dims[p]);
  const stride = [dims[1] * dims[2] * dims[3], dims[2] * dims[3], dims[3], 1];
  const s = perm.map((p) => stride[p]);
  const out = new Float32Array(x.length);
  let o = 0;
  for (let a = 0; a < shape[0]; a++)
    for (let b = 0; b < shape[1]; b++)
      for (let c = 0; c < shape[2]; c++)
        for (let d = 0; d < shape[3]; d++) out[o++] = x[a * s[0] + b * s[1] + c * s[2] + d * s[3]];
  return { data: out, shape };
}

type Op = (x: T[]) => T;

/** Builds the tfjs function of one node, with its weights converted to tfjs layouts. */
function translate(tf: Tf, node: PlanNode, ws: Float32Array[]): Op {
  const rank = node.inShapes[0].length;
  const explicit = (pads: number[]): [[number, number], [number, number], [number, number], [number, number]] => [
    [0, 0],
    [pads[0], pads[2]],
    [pads[1], pads[3]],
    [0, 0],
  ];
  switch (node.op) {
    case 'conv2d': {
      const a = node.attrs as Conv2dAttrs;
      const [kh, kw] = a.kernel;
      const bias = a.bias ? tf.tensor1d(ws[1]) : undefined;
      if (a.groups === 1) {
        const filter = tf.tensor4d(permute4(ws[0], [a.cout, a.cin, kh, kw], [2, 3, 1, 0]).data, [kh, kw, a.cin, a.cout]);
        return ([x]) => tf.fused.conv2d({ x: x as T4, filter, strides: a.stride, pad: explicit(a.pads), dilations: a.dilation, bias });
      }
      if (a.groups === a.cin) {
        const mult = a.cout / a.cin;
        // OIHW with O = c * mult + m and I = 1  ->  [kh, kw, c, m].
        const filter = tf.tensor4d(permute4(ws[0], [a.cout, 1, kh, kw], [2, 3, 0, 1]).data, [kh, kw, a.cin, mult]);
        return ([x]) => tf.fused.depthwiseConv2d({ x: x as T4, filter, strides: a.stride, pad: explicit(a.pads) as never, dilations: a.dilation, bias });
      }
      throw new Unsupported(`op "${node.id}": tfjs has no grouped convolution (groups ${a.groups})`);
    }
    case 'conv_transpose2d': {
      const a = node.attrs as ConvTranspose2dAttrs;
      if (a.groups !== 1 || a.dilation[0] !== 1 || a.dilation[1] !== 1) throw new Unsupported(`op "${node.id}": tfjs conv2dTranspose has no groups or dilation`);
      const [kh, kw] = a.kernel;
      // [C_in, C_out, kh, kw] -> tfjs's [kh, kw, C_out, C_in].
      const filter = tf.tensor4d(permute4(ws[0], [a.cin, a.cout, kh, kw], [2, 3, 1, 0]).data, [kh, kw, a.cout, a.cin]);
      const bias = a.bias ? tf.tensor1d(ws[1]) : null;
      const outShape: [number, number, number, number] = [a.n, a.ho, a.wo, a.cout];
      if (a.pads[0] !== a.pads[2] || a.pads[1] !== a.pads[3] || a.pads[0] !== a.pads[1]) throw new Unsupported(`op "${node.id}": tfjs conv2dTranspose takes one padding for all sides`);
      return ([x]) => {
        const y = tf.conv2dTranspose(x as T4, filter, outShape, a.stride, a.pads[0]);
        return bias ? tf.add(y, bias) : y;
      };
    }
    case 'max_pool2d':
    case 'min_pool2d':
    case 'avg_pool2d': {
      const a = node.attrs as Pool2dAttrs;
      if (a.ceilMode) throw new Unsupported(`op "${node.id}": tfjs pools have no ceil_mode`);
      if (a.dilation[0] !== 1 || a.dilation[1] !== 1) throw new Unsupported(`op "${node.id}": tfjs pools have no dilation`);
      if (node.op === 'avg_pool2d' && (a as AvgPool2dAttrs).countIncludePad && a.pads.some((p) => p > 0)) {
        throw new Unsupported(`op "${node.id}": tfjs avgPool excludes padding from the divisor (count_include_pad=false only)`);
      }
      const pad = explicit(a.pads);
      if (node.op === 'avg_pool2d') return ([x]) => tf.avgPool(x as T4, a.kernel, a.stride, pad as never);
      if (node.op === 'max_pool2d') return ([x]) => tf.maxPool(x as T4, a.kernel, a.stride, pad as never);
      return ([x]) => tf.neg(tf.maxPool(tf.neg(x) as T4, a.kernel, a.stride, pad as never));
    }
    case 'global_avg_pool':
      return ([x]) => tf.mean(x, [1, 2], true);
    case 'global_max_pool':
      return ([x]) => tf.max(x, [1, 2], true);
    case 'batch_norm': {
      const a = node.attrs as BatchNormAttrs;
      const [gamma, beta, mean, variance] = ws.map((w) => tf.tensor1d(w));
      return ([x]) => tf.batchNorm(x, mean, variance, beta, gamma, a.eps);
    }
    case 'relu':
      return ([x]) => tf.relu(x);
    case 'relu6':
      return ([x]) => tf.relu6(x);
    case 'sigmoid':
      return ([x]) => tf.sigmoid(x);
    case 'dropout':
      return ([x]) => x;
    case 'add':
      return ([x, y]) => tf.add(x, y);
    case 'mul':
      return ([x, y]) => tf.mul(x, y);
    case 'concat': {
      const a = node.attrs as ConcatAttrs;
      const axis = a.axis < 0 ? a.axis + rank : a.axis;
      const nhwcAxis = rank === 4 ? [0, 3, 1, 2][axis] : axis;
      return (xs) => tf.concat(xs, nhwcAxis);
    }
    case 'channel_shuffle': {
      const a = node.attrs as ChannelShuffleAttrs;
      const [n, c, h, w] = node.inShapes[0];
      return ([x]) => tf.reshape(tf.transpose(tf.reshape(x, [n, h, w, a.groups, c / a.groups]), [0, 1, 2, 4, 3]), [n, h, w, c]);
    }
    case 'flatten': {
      const out = node.outShape;
      if (rank === 4 && node.inShapes[0][2] * node.inShapes[0][3] !== 1) {
        // NCHW flatten order: back to channels-first before the reshape.
        return ([x]) => tf.reshape(tf.transpose(x, [0, 3, 1, 2]), out);
      }
      return ([x]) => tf.reshape(x, out);
    }
    case 'linear': {
      const w = tf.tensor2d(ws[0], [node.outShape[1], node.inShapes[0][1]]);
      const bias = ws[1] ? tf.tensor1d(ws[1]) : undefined;
      // Not tf.fused.matMul with its bias: on tfjs-backend-wasm 4.22 that is wrong for K >= 64
      // (relative error ~1 at 1024 -> 1000), which the bench's cross-check caught.
      return ([x]) => {
        const y = tf.matMul(x as import('@tensorflow/tfjs-core').Tensor2D, w, false, true);
        return bias ? tf.add(y, bias) : y;
      };
    }
    case 'softmax': {
      const a = node.attrs as SoftmaxAttrs;
      const shape = node.inShapes[0];
      let axis = -1;
      for (let d = 0, outer = 1; d < shape.length; outer *= shape[d], d++) if (outer === a.outer && shape[d] === a.len) axis = d;
      const nhwcAxis = rank === 4 ? [0, 3, 1, 2][axis] : axis;
      return ([x]) => tf.softmax(x, nhwcAxis);
    }
    default:
      throw new Unsupported(`op "${node.id}" (${node.op}) has no tfjs equivalent here`);
  }
}

/**
 * `readBack`: the backend queues work on a GPU, so the timed region ends only once the output has
 * been read back (tfjs flushes its command queue for that): the calls alone would time the queueing.
 */
function tfjsRunner(tf: Tf, describe: string, threads: number, readBack = false): Runner {
  return {
    describe: () => describe,
    timing: readBack
      ? 'wall clock around the tfjs op calls of one forward pass and the read-back of its output (input already a tensor in NHWC on the GPU)'
      : 'wall clock around the tfjs op calls of one forward pass (synchronous on this backend; input already a tensor in NHWC)',
    threads,
    async prepare(c: CaseData): Promise<PreparedCase> {
      const plan: Plan = c.plan;
      const ops = plan.nodes.map((node) => translate(tf, node, c.weights.get(node.id) ?? []));
      const inShape = plan.inputShape;
      const x = inShape.length === 4 ? tf.tensor4d(nchwToNhwc(c.input, inShape), [inShape[0], inShape[2], inShape[3], inShape[1]]) : tf.tensor(c.input, inShape);
      const forward = () =>
        tf.tidy(() => {
          const values = new Map<string, T>([[INPUT, x]]);
          plan.nodes.forEach((node, i) => values.set(node.id, ops[i](node.inputs.map((ref) => values.get(ref)!))));
          return values.get(plan.output)!;
        });
      let last: T | null = null;
      let read: Float32Array | null = null;
      return {
        async run() {
          last?.dispose();
          const t0 = performance.now();
          last = forward();
          if (readBack) read = (await last.data()) as Float32Array;
          return performance.now() - t0;
        },
        async output() {
          if (!last) throw new Error('no run yet');
          const data = read ?? ((await last.data()) as Float32Array);
          return plan.outputShape.length === 4 ? nhwcToNchw(data, plan.outputShape) : Float32Array.from(data);
        },
        async dispose() {
          last?.dispose();
          x.dispose();
        },
      };
    },
    async dispose() {},
  };
}

/**
 * tfjs-backend-wasm refuses its multi-threaded build under Node (tfjs issue #3830): it runs one
 * thread here whatever the requested count, and the report says so.
 */
export async function tfjsWasmRunner(_opts: RunnerOptions): Promise<Runner> {
  const tf = await importPeer<Tf>('@tensorflow/tfjs-core', () => import('@tensorflow/tfjs-core'));
  const wasm = await importPeer<typeof import('@tensorflow/tfjs-backend-wasm')>('@tensorflow/tfjs-backend-wasm', () => import('@tensorflow/tfjs-backend-wasm'));
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs could not start its wasm backend');
  await tf.ready();
  const threads = wasm.getThreadsCount();
  return tfjsRunner(tf, `tfjs-backend-wasm ${wasm.version_wasm} (XNNPACK, ${threads} thread${threads === 1 ? '' : 's'}: no threaded build under Node)`, threads);
}

export async function tfjsCpuRunner(_opts: RunnerOptions): Promise<Runner> {
  const tf = await importPeer<Tf>('@tensorflow/tfjs-core', () => import('@tensorflow/tfjs-core'));
  const cpu = await importPeer<typeof import('@tensorflow/tfjs-backend-cpu')>('@tensorflow/tfjs-backend-cpu', () => import('@tensorflow/tfjs-backend-cpu'));
  if (!(await tf.setBackend('cpu'))) throw new Error('tfjs could not start its cpu backend');
  await tf.ready();
  return tfjsRunner(tf, `tfjs-backend-cpu ${cpu.version_cpu} (JavaScript, 1 thread)`, 1);
}

/**
 * tfjs-backend-webgpu on the adapter the engine's WebGPU backend uses (gpu-global.ts). tfjs asks
 * for no optional feature it cannot do without (timestamp-query only when offered), so it starts
 * on a compatibility adapter too.
 */
export async function tfjsWebGpuRunner(_opts: RunnerOptions): Promise<Runner> {
  const { installGpuGlobal } = await import('./gpu-global.ts');
  const gpu = await installGpuGlobal();
  const tf = await importPeer<Tf>('@tensorflow/tfjs-core', () => import('@tensorflow/tfjs-core'));
  await importPeer<typeof import('@tensorflow/tfjs-backend-webgpu')>('@tensorflow/tfjs-backend-webgpu', () => import('@tensorflow/tfjs-backend-webgpu'));
  if (!(await tf.setBackend('webgpu'))) throw new Error(`tfjs could not start its webgpu backend on ${gpu.adapter} (feature level ${gpu.featureLevel})`);
  await tf.ready();
  return tfjsRunner(tf, `tfjs-backend-webgpu (tfjs ${tf.version_core}) on ${gpu.adapter}`, 1, true);
}

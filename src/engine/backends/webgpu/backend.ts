/**
 * The WebGPU backend over one GPUDevice. Adapter choice lives in provider.ts; this class holds the
 * device, its pipeline cache and its guard, and builds prepared models (model.ts) and single ops.
 */
import { EngineError } from '../../errors.ts';
import type { Plan, PlanNode } from '../../graph/plan.ts';
import type { GpuLimits } from '../../ops/types.ts';
import { numel } from '../../tensor.ts';
import type { Backend, PreparedModel, PrepareOptions } from '../types.ts';
import { compileStep, planStep, readBack, stagingBuffer, tensorBuffer, upload, type Destroyable, type GpuContext } from './exec.ts';
import { DeviceGuard, limitsOf, maxLimits } from './gpu.ts';
import { prepareModel } from './model.ts';
import { encodePass, PipelineCache } from './pipelines.ts';
import { checkKernels } from './steps.ts';
import { singleStep } from '../../graph/fuse.ts';

export const TIMING_TIMESTAMPS =
  "GPU timestamp queries: timestampWrites at the start and end of each op's compute pass, the whole forward pass in one submit";
export const TIMING_HOST =
  "host time (performance.now) from each op's submit to queue.onSubmittedWorkDone(), one submit per op: the adapter has no timestamp-query, so submit and completion overhead is included";

export interface WebGpuBackendOptions {
  /** What the report names as the adapter. */
  adapterText: string;
  /** Why other ways of getting an adapter were not used. */
  fallbacks?: string[];
  /** The software renderer behind the adapter (adapters.ts: softwareRenderer), if it is one. */
  software?: string;
  /** Longest wait for any GPU promise before it is an EngineError, ms. */
  timeoutMs?: number;
  /** Fuse activations into the producing conv2d/linear (default true). */
  fuse?: boolean;
  /** Plan kernels within tighter limits than the device's (tests use it to exercise slicing). */
  planLimits?: Partial<GpuLimits>;
  /**
   * The GPU object the adapter came from. Held until dispose: Dawn tears its instance down (and
   * the process with it, if a device is alive) once that object is collected; dropped on dispose
   * because a live one keeps Node from exiting.
   */
  gpu?: GPU;
}

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu';
  readonly adapter: string;
  readonly timing: string;
  readonly limits: Record<string, number>;
  readonly fallbacks: string[];
  readonly software?: string;
  private readonly ctx: GpuContext;

  private constructor(
    device: GPUDevice,
    readonly hasTimestamps: boolean,
    private options: WebGpuBackendOptions,
  ) {
    const limits = { ...limitsOf(device.limits), ...options.planLimits };
    const guard = new DeviceGuard(device, options.timeoutMs ?? 120_000);
    this.ctx = { device, guard, cache: new PipelineCache(device), limits };
    this.adapter = options.adapterText;
    this.timing = hasTimestamps ? TIMING_TIMESTAMPS : TIMING_HOST;
    this.limits = { ...limits };
    this.fallbacks = options.fallbacks ?? [];
    if (options.software) this.software = options.software;
  }

  /** Opens a device with every limit at the adapter's maximum and timestamp queries when offered. */
  static async open(adapter: GPUAdapter, options: WebGpuBackendOptions): Promise<WebGpuBackend> {
    const timestamps = adapter.features.has('timestamp-query');
    const requiredFeatures: GPUFeatureName[] = timestamps ? ['timestamp-query'] : [];
    let device: GPUDevice;
    try {
      device = await adapter.requestDevice({ requiredFeatures, requiredLimits: maxLimits(adapter) });
    } catch {
      // An implementation that refuses one of the limits it reported: ask for the ones kernels use.
      device = await adapter.requestDevice({ requiredFeatures, requiredLimits: { ...limitsOf(adapter.limits) } });
    }
    return new WebGpuBackend(device, timestamps, options);
  }

  /** Pipelines compiled so far (pipelines are shared by every model on this device). */
  get pipelineCount(): number {
    return this.ctx.cache.size;
  }

  prepare(plan: Plan, weights: Map<string, Float32Array[]>, options: PrepareOptions = {}): Promise<PreparedModel> {
    return prepareModel(this.ctx, plan, weights, this.hasTimestamps, options.fuse ?? this.options.fuse ?? true);
  }

  async runOp(node: PlanNode, inputs: Float32Array[], weights: Float32Array[], seed: number): Promise<Float32Array> {
    checkKernels([node]);
    const step = singleStep(node);
    const owned: Destroyable[] = [];
    const ctx = this.ctx;
    try {
      const plan = planStep(ctx, step, seed);
      const bytes = numel(node.outShape) * 4;
      const placed = await ctx.guard.scoped(`placing the tensors of op "${node.id}"`, node.id, () => {
        const own = <T extends { buffer: GPUBuffer }>(p: T) => (owned.push(p.buffer), p);
        return {
          inputs: inputs.map((x, i) => own(upload(ctx, x, `input ${i}`, node.id))),
          weights: weights.map((w, i) => own(upload(ctx, w, `weight ${i}`, node.id))),
          output: own({ buffer: tensorBuffer(ctx, bytes, 'the output', node.id), bytes }),
          scratch: (plan.scratch ?? []).map((b) => own({ buffer: tensorBuffer(ctx, b, 'a scratch buffer', node.id), bytes: b })),
        };
      });
      const dispatches = await compileStep(ctx, step, plan, placed, owned);
      const staging = stagingBuffer(ctx, bytes);
      owned.push(staging);
      ctx.guard.pushScopes();
      const encoder = ctx.device.createCommandEncoder();
      encodePass(encoder, dispatches);
      ctx.device.queue.submit([encoder.finish()]);
      const error = await ctx.guard.popScopes(`running op "${node.id}"`, node.id);
      if (error) throw new EngineError(`GPU ${error} (in op "${node.id}")`, node.id);
      const out = await readBack(ctx, placed.output.buffer, staging, bytes, `running op "${node.id}"`);
      ctx.guard.check(`in op "${node.id}"`, node.id);
      return out;
    } finally {
      owned.forEach((b) => b.destroy());
    }
  }

  async dispose(): Promise<void> {
    this.ctx.guard.markDisposed();
    this.ctx.device.destroy();
    this.options = { ...this.options, gpu: undefined };
  }
}

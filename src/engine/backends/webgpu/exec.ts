/**
 * The pieces both a prepared model and a single `runOp` are built from: planning a step's
 * dispatches, compiling them against placed buffers, uploading tensors and reading them back.
 */
import { EngineError } from '../../errors.ts';
import { getOp } from '../../ops/registry.ts';
import { activationExpression } from '../../kernels/wgsl/elementwise.ts';
import type { GpuBufferRef, GpuLimits, GpuOpPlan } from '../../ops/types.ts';
import { numel } from '../../tensor.ts';
import { nodeSeed } from '../cpu/reference.ts';
import { MAP_READ, USAGE, type DeviceGuard } from './gpu.ts';
import { compileDispatch, type CompiledDispatch, type PipelineCache, type Placed } from './pipelines.ts';
import { stepLabel, type Step } from '../../graph/fuse.ts';

export interface GpuContext {
  device: GPUDevice;
  guard: DeviceGuard;
  cache: PipelineCache;
  limits: GpuLimits;
}

/** Asks the op's kernel for its dispatches (for the head as it runs); a shape or limit it cannot handle names the op. */
export function planStep(ctx: GpuContext, step: Step, modelSeed: number): GpuOpPlan {
  const { head: node, activation: fused } = step;
  const kernel = getOp(node.op)!.webgpu!;
  try {
    const plan = kernel.plan({
      attrs: node.attrs,
      inShapes: node.inShapes,
      outShape: node.outShape,
      weightShapes: node.weights.map((w) => w.shape),
      limits: ctx.limits,
      seed: nodeSeed(modelSeed, node.id),
      activation: fused ? activationExpression(getOp(fused.op)!.webgpu!, fused.attrs) : undefined,
    });
    if (plan.dispatches.length === 0) throw new Error('the kernel planned no dispatch');
    return plan;
  } catch (err) {
    throw new EngineError(`${stepLabel(step)} cannot run on this GPU: ${(err as Error).message}`, node.id);
  }
}

/** GPU objects a model or runOp creates and destroys when done. */
export interface Destroyable {
  destroy(): void;
}

export interface StepBuffers {
  inputs: Placed[];
  weights: Placed[];
  output: Placed;
  scratch: Placed[];
}

/** Pipelines, uniform buffers and bind groups of one step; uniform buffers go to `owned`. */
export async function compileStep(ctx: GpuContext, step: Step, plan: GpuOpPlan, buffers: StepBuffers, owned: Destroyable[]): Promise<CompiledDispatch[]> {
  const node = step.head;
  const resolve = (ref: GpuBufferRef): Placed => {
    const placed = 'input' in ref ? buffers.inputs[ref.input] : 'weight' in ref ? buffers.weights[ref.weight] : 'scratch' in ref ? buffers.scratch[ref.scratch] : buffers.output;
    if (!placed) throw new Error(`a binding refers to a buffer the op does not have (${JSON.stringify(ref)})`);
    return placed;
  };
  return ctx.guard.scoped(`compiling the WebGPU kernel of ${stepLabel(step)}`, node.id, () =>
    Promise.all(plan.dispatches.map((d) => compileDispatch(ctx.device, ctx.cache, ctx.limits, d, resolve, owned))),
  );
}

export function tensorBuffer(ctx: GpuContext, bytes: number, what: string, node?: string): GPUBuffer {
  if (bytes > ctx.limits.maxBufferSize) {
    throw new EngineError(`${what} needs ${bytes} bytes, over this GPU's maxBufferSize of ${ctx.limits.maxBufferSize}`, node);
  }
  return ctx.device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST });
}

export function upload(ctx: GpuContext, data: Float32Array, what: string, node?: string): Placed {
  const buffer = tensorBuffer(ctx, data.byteLength, what, node);
  ctx.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  return { buffer, bytes: data.byteLength };
}

export function outputBytes(step: Step): number {
  return numel(step.nodes[step.nodes.length - 1].outShape) * 4;
}

/** Copies `bytes` of `src` into the mappable `staging` buffer, waits, and returns them. */
export async function readBack(ctx: GpuContext, src: GPUBuffer, staging: GPUBuffer, bytes: number, where: string): Promise<Float32Array> {
  const encoder = ctx.device.createCommandEncoder();
  encoder.copyBufferToBuffer(src, 0, staging, 0, bytes);
  ctx.device.queue.submit([encoder.finish()]);
  await ctx.guard.wait(staging.mapAsync(MAP_READ, 0, bytes), where);
  const out = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
  staging.unmap();
  return out;
}

export function stagingBuffer(ctx: GpuContext, bytes: number): GPUBuffer {
  return ctx.device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage: USAGE.MAP_READ | USAGE.COPY_DST });
}

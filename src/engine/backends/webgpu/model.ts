/**
 * A plan placed on a GPU: activation buffers (reused by liveness), weights uploaded once, every
 * dispatch's pipeline and bind group built once; `forward` only writes the input, encodes, submits
 * and reads the output back.
 *
 * Timing per step (an op, or an op with the batch norm and activation fused into it): with `timestamp-query`, each step's
 * compute pass writes GPU timestamps at its start and end and the whole forward is one submit;
 * without it, each step is submitted alone and timed on the host from submit to
 * `queue.onSubmittedWorkDone()`. Untimed forwards (first run, warm-up) are always one submit.
 */
import { CancelledError, EngineError } from '../../errors.ts';
import { INPUT, type Plan } from '../../graph/plan.ts';
import { numel } from '../../tensor.ts';
import { assignSlots } from '../liveness.ts';
import type { ForwardHooks, PreparedModel } from '../types.ts';
import { compileStep, outputBytes, type Destroyable, planStep, readBack, stagingBuffer, tensorBuffer, upload, type GpuContext } from './exec.ts';
import { headAsRun, planSteps, stepLabel, type Step } from '../../graph/fuse.ts';
import { USAGE, MAP_READ } from './gpu.ts';
import { accessOf, encodePass, type CompiledDispatch, type Placed } from './pipelines.ts';
import type { GpuOpPlan } from '../../ops/types.ts';
import { checkKernels, GPU_FUSION } from './steps.ts';

/** The most queries one set may hold (WebGPU's limit): two per step. */
const MAX_QUERIES = 4096;

export interface GpuPreparedModel extends PreparedModel {
  fusedInto: ReadonlyMap<string, string>;
}

export async function prepareModel(ctx: GpuContext, plan: Plan, weights: Map<string, Float32Array[]>, useTimestamps: boolean, fuse = true): Promise<GpuPreparedModel> {
  checkKernels(plan.nodes);
  const planned = planSteps(plan, fuse ? GPU_FUSION : null);
  const { fusedInto } = planned;
  // Each head as it runs (a folded batch norm gives it a bias); the folded weights themselves are
  // made again, one step at a time, when uploaded, so a model's weights are never held twice.
  const steps: Step[] = planned.steps.map((s) => ({ ...s, head: headAsRun(s, weights).node }));
  const owned: Destroyable[] = [];
  const destroyAll = () => owned.forEach((b) => b.destroy());
  try {
    const plans = steps.map((s) => planStep(ctx, s, plan.seed));
    const inputBytes = numel(plan.inputShape) * 4;
    const { slotOf, slotBytes } = assignSlots(
      { id: INPUT, bytes: inputBytes },
      steps.map((s) => ({ id: s.output, bytes: outputBytes(s), inputs: s.inputs })),
      plan.output,
    );
    const tensors = new Map<string, Placed>();
    await ctx.guard.scoped('allocating GPU buffers for activations and weights', undefined, () => {
      const slots = slotBytes.map((bytes) => tensorBuffer(ctx, bytes, 'an activation buffer'));
      owned.push(...slots);
      tensors.set(INPUT, { buffer: slots[slotOf.get(INPUT)!], bytes: inputBytes });
      for (const s of steps) tensors.set(s.output, { buffer: slots[slotOf.get(s.output)!], bytes: outputBytes(s) });
    });
    // Scratch slot i is shared by every step: steps run one after another.
    const scratchBytes: number[] = [];
    for (const p of plans) (p.scratch ?? []).forEach((b, i) => (scratchBytes[i] = Math.max(scratchBytes[i] ?? 0, b)));
    const scratch = scratchBytes.map((bytes) => {
      const buffer = tensorBuffer(ctx, bytes, 'a scratch buffer');
      owned.push(buffer);
      return { buffer, bytes };
    });

    await warmPipelines(ctx, plans);
    const compiled: CompiledDispatch[][] = [];
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i];
      const node = step.head;
      const stepWeights = headAsRun(planned.steps[i], weights).weights;
      const placedWeights = await ctx.guard.scoped(`uploading the weights of ${stepLabel(step)}`, node.id, () =>
        stepWeights.map((w, j) => {
          const p = upload(ctx, w, `weight ${node.weights[j]?.name ?? j} of op "${node.id}"`, node.id);
          owned.push(p.buffer);
          return p;
        }),
      );
      const buffers = { inputs: step.inputs.map((ref) => tensors.get(ref)!), weights: placedWeights, output: tensors.get(step.output)!, scratch };
      compiled.push(await compileStep(ctx, step, plans[i], buffers, owned));
    }

    const outBytes = numel(plan.outputShape) * 4;
    const staging = stagingBuffer(ctx, outBytes);
    owned.push(staging);
    const timer = useTimestamps && steps.length * 2 <= MAX_QUERIES ? new StepTimer(ctx, steps.length, owned) : null;
    // A model too long for one query set is timed on the host, and its report must say so.
    const timing =
      useTimestamps && !timer
        ? `host time (performance.now) from each op's submit to queue.onSubmittedWorkDone(), one submit per op: this model's ${steps.length} ` +
          `dispatches exceed the ${MAX_QUERIES / 2} one timestamp query set can time, so submit and completion overhead is included`
        : undefined;
    const run = new Runner(ctx, plan, steps, compiled, tensors, staging, timer);
    let disposed = false;
    return {
      fusedInto,
      ...(timing ? { timing } : {}),
      forward: (input, hooks) => {
        if (disposed) throw new EngineError('forward() on a disposed WebGPU model');
        return run.forward(input, hooks ?? {});
      },
      dispose: async () => {
        disposed = true;
        destroyAll();
      },
    };
  } catch (err) {
    destroyAll();
    throw err;
  }
}

/**
 * Compiles every distinct pipeline at once (drivers compile in parallel); steps then find them in
 * the cache. A failure is ignored here: the step's own compile retries it inside error scopes that
 * name the op.
 */
async function warmPipelines(ctx: GpuContext, plans: GpuOpPlan[]): Promise<void> {
  ctx.guard.pushScopes();
  const pending = plans.flatMap((p) => p.dispatches.map((d) => ctx.cache.get(d.code, d.bindings.map(accessOf), !!d.uniforms)));
  await ctx.guard.popScopes('compiling pipelines');
  await Promise.allSettled(pending);
}

/** Timestamp queries: two per step, resolved and read back after the forward. */
class StepTimer {
  readonly querySet: GPUQuerySet;
  private readonly resolved: GPUBuffer;
  private readonly staging: GPUBuffer;

  constructor(
    private readonly ctx: GpuContext,
    private readonly steps: number,
    owned: Destroyable[],
  ) {
    this.querySet = ctx.device.createQuerySet({ type: 'timestamp', count: steps * 2 });
    this.resolved = ctx.device.createBuffer({ size: steps * 16, usage: USAGE.QUERY_RESOLVE | USAGE.COPY_SRC });
    this.staging = ctx.device.createBuffer({ size: steps * 16, usage: USAGE.MAP_READ | USAGE.COPY_DST });
    owned.push(this.querySet, this.resolved, this.staging);
  }

  writes(step: number): GPUComputePassTimestampWrites {
    return { querySet: this.querySet, beginningOfPassWriteIndex: step * 2, endOfPassWriteIndex: step * 2 + 1 };
  }

  encodeResolve(encoder: GPUCommandEncoder): void {
    encoder.resolveQuerySet(this.querySet, 0, this.steps * 2, this.resolved, 0);
    encoder.copyBufferToBuffer(this.resolved, 0, this.staging, 0, this.steps * 16);
  }

  /** Milliseconds of each step's pass. */
  async read(): Promise<number[]> {
    await this.ctx.guard.wait(this.staging.mapAsync(MAP_READ), 'reading GPU timestamps');
    const ticks = new BigInt64Array(this.staging.getMappedRange().slice(0));
    this.staging.unmap();
    const ms: number[] = [];
    // A clock that steps back (some drivers, between passes) reads as 0 rather than negative.
    for (let i = 0; i < this.steps; i++) ms.push(Math.max(0, Number(ticks[2 * i + 1] - ticks[2 * i])) / 1e6);
    return ms;
  }
}

class Runner {
  constructor(
    private readonly ctx: GpuContext,
    private readonly plan: Plan,
    private readonly steps: Step[],
    private readonly compiled: CompiledDispatch[][],
    private readonly tensors: Map<string, Placed>,
    private readonly staging: GPUBuffer,
    private readonly timer: StepTimer | null,
  ) {}

  async forward(input: Float32Array, hooks: ForwardHooks): Promise<Float32Array> {
    const { device, guard } = this.ctx;
    guard.check('before the forward pass');
    if (hooks.signal?.aborted) throw new CancelledError();
    const inBuf = this.tensors.get(INPUT)!;
    if (input.byteLength !== inBuf.bytes) throw new EngineError(`the input has ${input.length} values; the model takes ${inBuf.bytes / 4}`);
    device.queue.writeBuffer(inBuf.buffer, 0, input.buffer, input.byteOffset, input.byteLength);
    if (hooks.onNode && !this.timer) await this.hostTimed(hooks);
    else await this.oneSubmit(hooks.onNode ? this.timer : null, hooks);
    const out = this.tensors.get(this.plan.output)!;
    const result = await readBack(this.ctx, out.buffer, this.staging, out.bytes, 'reading the model output back');
    guard.check('during the forward pass');
    return result;
  }

  private report(hooks: ForwardHooks, step: Step, ms: number): void {
    // A fused activation ran inside its producer's dispatch: its time is in the producer's.
    step.indices.forEach((index, k) => hooks.onNode!(index, step.nodes[k], k === 0 ? ms : 0));
  }

  private async oneSubmit(timer: StepTimer | null, hooks: ForwardHooks): Promise<void> {
    const { device, guard } = this.ctx;
    const buffers: GPUCommandBuffer[] = [];
    const checks: Promise<string | null>[] = [];
    this.steps.forEach((step, i) => {
      guard.pushScopes();
      const encoder = device.createCommandEncoder();
      encodePass(encoder, this.compiled[i], timer?.writes(i));
      if (timer && i === this.steps.length - 1) timer.encodeResolve(encoder);
      buffers.push(encoder.finish());
      checks.push(guard.popScopes(`encoding ${stepLabel(step)}`, step.head.id));
    });
    guard.pushScopes();
    device.queue.submit(buffers);
    checks.push(guard.popScopes('submitting the forward pass'));
    const errors = await Promise.all(checks);
    const bad = errors.findIndex((e) => e !== null);
    if (bad >= 0) {
      const step = this.steps[Math.min(bad, this.steps.length - 1)];
      const where = bad < this.steps.length ? stepLabel(step) : 'the forward pass';
      throw new EngineError(`GPU ${errors[bad]} (in ${where})`, bad < this.steps.length ? step.head.id : undefined);
    }
    if (timer) {
      const ms = await timer.read();
      this.steps.forEach((step, i) => this.report(hooks, step, ms[i]));
    }
  }

  private async hostTimed(hooks: ForwardHooks): Promise<void> {
    const { device, guard } = this.ctx;
    for (let i = 0; i < this.steps.length; i++) {
      if (hooks.signal?.aborted) throw new CancelledError();
      const step = this.steps[i];
      const where = stepLabel(step);
      guard.pushScopes();
      const encoder = device.createCommandEncoder();
      encodePass(encoder, this.compiled[i]);
      const commands = encoder.finish();
      const t0 = performance.now();
      device.queue.submit([commands]);
      await guard.wait(device.queue.onSubmittedWorkDone(), `running ${where}`, step.head.id);
      const ms = performance.now() - t0;
      const error = await guard.popScopes(`running ${where}`, step.head.id);
      if (error) throw new EngineError(`GPU ${error} (in ${where})`, step.head.id);
      this.report(hooks, step, ms);
    }
  }
}

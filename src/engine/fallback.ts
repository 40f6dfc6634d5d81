/**
 * The one place a run that a GPU backend could not finish is repeated on the CPU. The CLI
 * (`profile`, `run`) and the workbench engine (engine-service.ts) both go through it, so the rule
 * and the notice in the report are the same everywhere.
 */
import type { ResolvedBackend } from './backends/resolve.ts';
import type { Backend } from './backends/types.ts';
import { EngineError } from './errors.ts';
import type { Plan } from './graph/plan.ts';
import { forwardOnce, profilePlan, type ProfileOptions, type ProfileResult } from './profiler.ts';

export interface FallbackOptions {
  /**
   * The backend the user asked for. Only `auto` falls back: someone who asked for `webgpu` by
   * name wants to measure the GPU, and a report of CPU times in its place would answer a question
   * they did not ask; they get the error (CLI exit 1) naming the op instead.
   */
  requested: string;
  /** Starts (or hands out) the CPU backend the run is repeated on; the caller disposes it. */
  cpu(): Promise<Backend>;
  /** A run cancelled by this signal is never repeated. */
  signal?: AbortSignal;
}

export interface FallbackOutcome<T> extends ResolvedBackend {
  result: T;
  /** The backend that failed, when the run was repeated: a host caching it should drop it. */
  failed?: Backend;
}

/**
 * Runs `run` on the resolved backend; when that is a GPU backend chosen by `auto` and the run
 * fails with an EngineError (device lost, out of memory, validation, a GPU timeout), runs it
 * again on the CPU and adds a line saying why to the fallbacks. Spec errors and cancellation are
 * the user's and pass through, as does every failure of the CPU backend itself.
 */
export async function runWithFallback<T>(resolved: ResolvedBackend, options: FallbackOptions, run: (backend: Backend) => Promise<T>): Promise<FallbackOutcome<T>> {
  const { backend, fallbacks } = resolved;
  try {
    return { ...resolved, result: await run(backend) };
  } catch (err) {
    if (options.requested !== 'auto' || backend.name === 'cpu' || !(err instanceof EngineError) || options.signal?.aborted) throw err;
    const cpu = await options.cpu();
    const notice = `${backend.name}: ${failureText(err)}; the run was repeated on the CPU`;
    const reason = `auto: ${backend.name} failed during the run (see the backends not used), so it was repeated on the cpu backend`;
    return { backend: cpu, fallbacks: [...fallbacks, notice], reason, result: await run(cpu), failed: backend };
  }
}

/** `device lost during "c1" (the message)`, or `failed during ...` for other GPU errors. */
function failureText(err: EngineError): string {
  const what = /device (was )?lost/i.test(err.message) ? 'device lost' : 'failed';
  const where = err.node !== undefined ? `during "${err.node}"` : 'during the run';
  return `${what} ${where} (${err.message})`;
}

/** profilePlan with the fallback above: what `convscope profile` and the workbench run. */
export function profileWithFallback(plan: Plan, resolved: ResolvedBackend, options: FallbackOptions, profile: ProfileOptions = {}): Promise<FallbackOutcome<ProfileResult>> {
  return runWithFallback(resolved, { ...options, signal: options.signal ?? profile.signal }, (b) => profilePlan(plan, b, profile));
}

/** forwardOnce with the fallback above: what `convscope run` does. */
export function forwardWithFallback(plan: Plan, resolved: ResolvedBackend, options: FallbackOptions, input?: Float32Array): Promise<FallbackOutcome<Float32Array>> {
  return runWithFallback(resolved, options, (b) => forwardOnce(plan, b, input));
}

import type { Plan } from './graph/plan.ts';
import type { ProfileResult } from './profiler.ts';
import { timeStats } from './stats.ts';
import { REPORT_SCHEMA, type BackendInfo, type LayerRow, type Report } from '../shared/report.ts';
import { backendLabel } from '../shared/backend-label.ts';
import type { ResolvedBackend } from './backends/resolve.ts';

/** A report's `backend` for the backend a run settled on (CLI and workbench alike). */
export function backendInfo({ backend: b, fallbacks, reason }: ResolvedBackend): BackendInfo {
  return {
    name: b.name,
    label: backendLabel({ name: b.name, software: b.software }),
    adapter: b.adapter,
    timing: b.timing,
    ...(b.software ? { software: true } : {}),
    ...(reason ? { reason } : {}),
    ...(b.threads !== undefined ? { threads: b.threads } : {}),
    fallbacks,
    ...(b.limits ? { limits: b.limits } : {}),
  };
}

export interface ReportContext {
  environment: Report['environment'];
  backend?: BackendInfo;
  profile?: ProfileResult;
  /** ISO time; defaults to now. */
  created?: string;
}

/** The one report every format renders: counts from the plan, times from a profile if any. */
export function buildReport(plan: Plan, ctx: ReportContext): Report {
  const { profile } = ctx;
  const layers: LayerRow[] = plan.nodes.map((node, i) => {
    const time = profile ? timeStats(profile.nodeTimes[i]) : null;
    return {
      id: node.id,
      layer: node.layer,
      op: node.op,
      block: node.block,
      inputs: [...node.inputs],
      input_shapes: node.inShapes.map((s) => [...s]),
      output_shape: [...node.outShape],
      params: node.params,
      buffers: node.buffers,
      macs: node.counts.macs,
      flops: node.counts.flops,
      formula: node.counts.formula,
      output_bytes: node.outputBytes,
      bytes_moved: node.bytesMoved,
      time_ms: time,
      gflops_per_s: time && time.median > 0 ? node.counts.flops / (time.median * 1e6) : null,
      arithmetic_intensity: node.bytesMoved > 0 ? node.counts.flops / node.bytesMoved : 0,
      ...(profile?.fusedInto?.[node.id] ? { fused_into: profile.fusedInto[node.id] } : {}),
    };
  });
  const t = plan.totals;
  const e2e = profile ? timeStats(profile.e2eTimes) : null;
  const backend: BackendInfo | null = ctx.backend
    ? {
        ...ctx.backend,
        ...(profile ? { warmup: profile.warmup, repeat: profile.repeat, first_run_ms: profile.firstRunMs, e2e_ms: e2e! } : {}),
        ...(profile?.timing ? { timing: profile.timing } : {}),
      }
    : null;
  return {
    schema: REPORT_SCHEMA,
    created: ctx.created ?? new Date().toISOString(),
    model: { name: plan.spec.name, input_shape: [...plan.inputShape], output_shape: [...plan.outputShape], spec: plan.spec },
    backend,
    totals: {
      params: t.params,
      buffers: t.buffers,
      macs: t.macs,
      flops: t.flops,
      param_bytes: t.paramBytes,
      activation_bytes: t.activationBytes,
      peak_bytes: t.peakBytes,
      time_ms: e2e ? e2e.median : null,
    },
    layers,
    environment: ctx.environment,
  };
}

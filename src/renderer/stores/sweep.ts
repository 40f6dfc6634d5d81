/** The Sweep tab: the form, the sweep in progress (per-point progress, cancel) and its result. */
import { defineStore } from 'pinia';
import { computed, reactive, ref, shallowRef } from 'vue';
import type { SweepMetric, SweepResult } from '../../shared/sweep.ts';
import { EngineRequestError, type EngineClient } from '../connection/client.ts';
import { routeOf } from '../connection/route.ts';
import { sweepDefinition, type SweepForm } from '../lib/sweep.ts';
import { useDesign } from './design.ts';
import { useEngine } from './engine.ts';
import { useRuns } from './runs.ts';

export interface SweepProgress {
  requestId: number;
  /** 0-based point in progress, of how many, at which value. */
  point: number;
  points: number;
  value: number;
  phase: 'prepare' | 'warmup' | 'measure';
}

export const useSweep = defineStore('sweep', () => {
  const engine = useEngine();
  const design = useDesign();
  const runs = useRuns();
  const form = reactive<Omit<SweepForm, 'profile'>>({ family: '', familyParams: {}, kind: 'layer', layers: [], param: '', input: 'size', presetParam: '', values: '1,2,4,8' });
  /** Time every point with the Profile panel's backend, warm-up and repeats. */
  const timed = ref(false);
  const metric = ref<SweepMetric>('macs');
  const current = ref<SweepProgress | null>(null);
  const result = shallowRef<SweepResult | null>(null);
  const error = ref<string | null>(null);
  let client: EngineClient | null = null;

  const definition = computed(() =>
    sweepDefinition({ ...form, profile: timed.value ? { backend: routeOf(runs.settings.backend).backend, warmup: runs.settings.warmup, repeat: runs.settings.repeat } : null }, design.spec),
  );

  async function start(): Promise<void> {
    if (current.value) return;
    const d = definition.value;
    if ('error' in d) {
      error.value = d.error;
      return;
    }
    error.value = null;
    client = engine.routed();
    const handle = client.start('sweep', { sweep: d.definition }, (p) => {
      if (p.point && current.value?.requestId === handle.id) current.value = { requestId: handle.id, point: p.point.index, points: p.point.count, value: p.point.value, phase: p.phase };
    });
    current.value = { requestId: handle.id, point: 0, points: 0, value: 0, phase: 'prepare' };
    try {
      result.value = await handle.result;
      if (metric.value === 'time_ms' && !result.value.points.some((p) => p.time_ms !== null)) metric.value = 'macs';
    } catch (err) {
      error.value = err instanceof EngineRequestError && err.kind === 'cancelled' ? 'cancelled' : (err as Error).message;
    } finally {
      current.value = null;
      client = null;
    }
  }

  async function cancel(): Promise<void> {
    const run = current.value;
    if (!run) return;
    await (client ?? engine.routed()).request('cancel', { target: run.requestId }).catch(() => undefined);
  }

  return { form, timed, metric, current, result, error, definition, start, cancel };
});

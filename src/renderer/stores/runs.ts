/** Profiling runs: settings, the run in progress (progress, cancel), finished runs and the pinned ones. */
import { defineStore } from 'pinia';
import { computed, reactive, ref, shallowRef, watch } from 'vue';
import type { Analysis } from '../../shared/protocol.ts';
import { EngineRequestError, type EngineClient } from '../connection/client.ts';
import { routeOf, startingChoice } from '../connection/route.ts';
import { backendLabel } from '../../shared/backend-label.ts';
import { useDesign } from './design.ts';
import { useEngine } from './engine.ts';
import { useUi } from './ui.ts';
import type { Session } from '../lib/session.ts';

export interface RunRecord {
  id: string;
  label: string;
  analysis: Analysis;
  createdAt: string;
  /** Profiles have times; a pinned inspection has counts only. */
  timed: boolean;
}

export interface RunProgress {
  requestId: number;
  phase: 'prepare' | 'warmup' | 'measure';
  done: number;
  total: number;
  /** 0..1 over the whole run (prepare, warm-up, measured repeats). */
  fraction: number;
}

const SETTINGS_KEY = 'convscope.run-settings';

function loadSettings() {
  const dflt = { backend: 'auto', warmup: 1, repeat: 5, batch: null as number | null, fuse: true };
  try {
    return { ...dflt, ...(JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? '{}') as Partial<typeof dflt>) };
  } catch {
    return dflt;
  }
}

export const useRuns = defineStore('runs', () => {
  const engine = useEngine();
  const design = useDesign();
  const settings = reactive(loadSettings());
  /** Why a value typed into a run setting was refused (RunPanel); a run waits until all are null. */
  const inputErrors = reactive<Record<'warmup' | 'repeat' | 'batch', string | null>>({ warmup: null, repeat: null, batch: null });
  const current = ref<RunProgress | null>(null);
  /** Why the picker's choice was made at start-up (one line), or null. */
  const choiceNote = ref<string | null>(null);
  /** The client that runs the current profile: its cancel must go the same way. */
  let runClient: EngineClient | null = null;
  const runs = shallowRef<RunRecord[]>([]);
  const pinnedIds = ref<string[]>([]);
  const shownId = ref<string | null>(null);
  const error = ref<string | null>(null);
  const lastOutcome = ref<'done' | 'cancelled' | 'failed' | null>(null);
  const baselineId = ref<string | null>(null);
  let counter = 0;

  watch(settings, () => localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings)), { deep: true });
  watch(
    () => settings.backend,
    (choice) => {
      engine.via = routeOf(choice).via;
    },
    { immediate: true },
  );
  void engine.checkGpu().then(() => {
    const start = startingChoice(settings.backend, engine.windowAdapter, engine.readbackRefused);
    settings.backend = start.choice;
    choiceNote.value = start.why;
  });

  const shown = computed(() => runs.value.find((r) => r.id === shownId.value) ?? null);
  const pinned = computed(() => pinnedIds.value.map((id) => runs.value.find((r) => r.id === id)).filter((r): r is RunRecord => !!r));
  const baseline = computed(() => pinned.value.find((r) => r.id === baselineId.value) ?? pinned.value[0] ?? null);

  /** Short names for the parameters that tell runs of one design apart (`g=3` rather than `groups=3`). */
  const SHORT: Record<string, string> = { groups: 'g', out_channels: 'c', kernel: 'k', stride: 's', reduction: 'r', dilation: 'd', padding: 'p' };

  /** `ShuffleNet unit g=3 c=240 · cpu`: the design, the selected layer's settings, the backend. */
  function label(backend: string | null): string {
    const sel = design.selected;
    const params = sel?.params
      ? Object.entries(sel.params)
          .slice(0, 3)
          .map(([k, v]) => `${SHORT[k] ?? k}=${Array.isArray(v) ? v.join('x') : v}`)
          .join(' ')
      : '';
    const text = `${design.spec.name}${params ? ` ${params}` : ''} · ${backend ?? 'counts only'}`;
    // Two runs of the same settings keep apart by their number.
    return runs.value.some((r) => r.label === text) ? `${text} #${counter}` : text;
  }

  function add(analysis: Analysis, timed: boolean): RunRecord {
    counter++;
    const record: RunRecord = { id: `run-${counter}`, label: label(analysis.report.backend ? backendLabel(analysis.report.backend) : null), analysis, createdAt: new Date().toISOString(), timed };
    runs.value = [...runs.value, record].slice(-30);
    return record;
  }

  async function start(): Promise<void> {
    if (current.value) return;
    if (design.problem) {
      lastOutcome.value = 'failed';
      error.value = `fix the design first: ${design.problem.message}`;
      return;
    }
    const refused = Object.values(inputErrors).find((e) => e);
    if (refused) {
      lastOutcome.value = 'failed';
      error.value = `fix the run settings first: ${refused}`;
      return;
    }
    error.value = null;
    lastOutcome.value = null;
    const steps = (phase: RunProgress['phase'], done: number) => {
      const total = 1 + settings.warmup + settings.repeat;
      const before = phase === 'prepare' ? 0 : phase === 'warmup' ? 1 : 1 + settings.warmup;
      return Math.min(1, (before + done) / total);
    };
    const client = engine.routed();
    runClient = client;
    const handle = client.start(
      'profile',
      {
        spec: design.spec,
        backend: routeOf(settings.backend).backend,
        warmup: settings.warmup,
        repeat: settings.repeat,
        ...(settings.batch ? { batch: settings.batch } : {}),
        ...(settings.fuse ? {} : { fuse: false }),
      },
      (p) => {
        if (current.value?.requestId === handle.id) current.value = { requestId: handle.id, phase: p.phase, done: p.done, total: p.total, fraction: steps(p.phase, p.done) };
      },
    );
    current.value = { requestId: handle.id, phase: 'prepare', done: 0, total: 1, fraction: 0 };
    try {
      const analysis = await handle.result;
      const record = add(analysis, true);
      shownId.value = record.id;
      lastOutcome.value = 'done';
    } catch (err) {
      if (err instanceof EngineRequestError && err.kind === 'cancelled') {
        lastOutcome.value = 'cancelled';
      } else {
        lastOutcome.value = 'failed';
        error.value = (err as Error).message;
      }
    } finally {
      current.value = null;
      runClient = null;
    }
  }

  /** Run, and on success show the result: the Run button, Ctrl/Cmd+Enter and the menu's Run. */
  async function runAndShow(): Promise<void> {
    await start();
    if (lastOutcome.value === 'done') useUi().tab = 'results';
  }

  async function cancel(): Promise<void> {
    const run = current.value;
    if (!run) return;
    await (runClient ?? engine.routed()).request('cancel', { target: run.requestId }).catch(() => undefined);
  }

  /** Pins a finished run, or the live inspection (counts only) when `id` is null. */
  function pin(id: string | null): void {
    let record = id ? runs.value.find((r) => r.id === id) : undefined;
    if (!record) {
      if (!design.analysis) return;
      record = add(design.analysis, false);
    }
    if (!pinnedIds.value.includes(record.id)) pinnedIds.value = [...pinnedIds.value, record.id];
  }

  function unpin(id: string): void {
    pinnedIds.value = pinnedIds.value.filter((x) => x !== id);
    if (baselineId.value === id) baselineId.value = null;
  }

  function rename(id: string, text: string): void {
    runs.value = runs.value.map((r) => (r.id === id ? { ...r, label: text } : r));
  }

  function show(id: string | null): void {
    shownId.value = id;
  }

  /** What the session keeps (lib/session.ts). */
  function snapshot(): Pick<Session, 'runs' | 'pinnedIds' | 'shownId' | 'baselineId' | 'counter'> {
    return { runs: runs.value, pinnedIds: pinnedIds.value, shownId: shownId.value, baselineId: baselineId.value, counter };
  }

  /** Puts back the runs of an earlier session (a reload, an app restart). */
  function restore(s: Pick<Session, 'runs' | 'pinnedIds' | 'shownId' | 'baselineId' | 'counter'>): void {
    runs.value = s.runs;
    pinnedIds.value = s.pinnedIds;
    shownId.value = s.shownId;
    baselineId.value = s.baselineId;
    counter = Math.max(counter, s.counter);
  }

  return { settings, inputErrors, choiceNote, current, runs, pinned, pinnedIds, shown, shownId, error, lastOutcome, baseline, baselineId, start, runAndShow, cancel, pin, unpin, rename, show, snapshot, restore };
});

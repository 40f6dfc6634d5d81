/**
 * Keeps the session (lib/session.ts: design, runs, pins) in localStorage as it changes and puts
 * it back at start-up, so a reload or an app restart finds the workbench as it was left.
 */
import { defineStore } from 'pinia';
import { ref, watch } from 'vue';
import { loadSession, MAX_RUNS, saveSession } from '../lib/session.ts';
import { useDesign } from './design.ts';
import { useRuns } from './runs.ts';
import { useUi } from './ui.ts';

const SAVE_DEBOUNCE_MS = 300;

export const useSession = defineStore('session', () => {
  const design = useDesign();
  const runs = useRuns();
  const ui = useUi();
  /** The number of runs the last save had to leave out for lack of room (0: none). */
  const dropped = ref(0);
  let started = false;
  let timer: ReturnType<typeof setTimeout> | null = null;

  function save(): void {
    timer = null;
    const snap = runs.snapshot();
    const kept = saveSession(localStorage, { design: { spec: design.spec, path: design.path, dirty: design.dirty }, ...snap });
    // Runs past MAX_RUNS are let go on purpose; only those the storage had no room for are news.
    const lost = Math.min(snap.runs.length, MAX_RUNS) - Math.max(0, kept);
    if (lost > dropped.value) ui.notify(`Browser storage is full: ${lost} older run${lost === 1 ? '' : 's'} will not be kept after a reload.`, 'info', 8000);
    dropped.value = Math.max(0, lost);
  }

  /** Restores the stored session (once) and from then on keeps it up to date. Returns whether one was restored. */
  function start(): boolean {
    if (started) return false;
    started = true;
    const s = loadSession(localStorage);
    if (s) {
      design.load(s.design.spec, { path: s.design.path, clean: !s.design.dirty, history: false });
      runs.restore(s);
      if (s.shownId) ui.tab = 'results';
    }
    watch([() => design.spec, () => design.path, () => design.dirty, () => runs.runs, () => runs.pinnedIds, () => runs.shownId, () => runs.baselineId], () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(save, SAVE_DEBOUNCE_MS);
    });
    // A reload or a closing window must not lose the last edit to the debounce.
    window.addEventListener('pagehide', () => {
      if (timer) {
        clearTimeout(timer);
        save();
      }
    });
    return s !== null;
  }

  return { start, dropped };
});

/**
 * The workbench session kept across a reload and an app restart: the open design (with whether it
 * was saved), the finished runs, the pins, the baseline and the run shown. Both hosts keep it in
 * the renderer's localStorage (Electron's lives in the app's data folder). Runs keep their
 * reports (counts and times, tens to hundreds of KB each), never tensors; at most MAX_RUNS of
 * them, and under MAX_CHARS all told, the oldest unpinned ones dropped first. Anything that does
 * not parse back is dropped, never an error at start-up.
 */
import { z } from 'zod';
import { analysisSchema } from '../../shared/protocol.ts';
import { modelSpecSchema } from '../../shared/report-schema.ts';
import type { Analysis } from '../../shared/protocol.ts';
import type { ModelSpec } from '../../shared/spec.ts';

export const SESSION_KEY = 'convscope.session';
/** Runs kept (pinned ones always among them, while they fit). */
export const MAX_RUNS = 20;
/** localStorage holds about 5 M UTF-16 characters per origin; leave room for the rest of the app. */
export const MAX_CHARS = 3_000_000;

export interface SessionRun {
  id: string;
  label: string;
  analysis: Analysis;
  createdAt: string;
  timed: boolean;
}

export interface Session {
  design: { spec: ModelSpec; path: string | null; dirty: boolean };
  runs: SessionRun[];
  pinnedIds: string[];
  shownId: string | null;
  baselineId: string | null;
  /** The last run number handed out, so new runs do not reuse "#3". */
  counter: number;
}

const runSchema = z.object({ id: z.string(), label: z.string(), analysis: analysisSchema, createdAt: z.string(), timed: z.boolean() });

/** Storage as the session needs it (window.localStorage, or a test's map). */
export interface SessionStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * Writes the session, dropping runs (oldest unpinned first, then oldest pinned) until it is under
 * MAX_CHARS and the storage takes it. Returns how many runs were kept (-1: not even the design fit).
 */
export function saveSession(storage: SessionStorage, session: Session): number {
  let runs = session.runs.slice(-MAX_RUNS);
  const pinnedFirst = () => {
    const i = runs.findIndex((r) => !session.pinnedIds.includes(r.id));
    return i >= 0 ? i : 0;
  };
  for (;;) {
    const kept = new Set(runs.map((r) => r.id));
    const text = JSON.stringify({
      v: 1,
      design: session.design,
      runs,
      pinnedIds: session.pinnedIds.filter((id) => kept.has(id)),
      shownId: session.shownId && kept.has(session.shownId) ? session.shownId : null,
      baselineId: session.baselineId && kept.has(session.baselineId) ? session.baselineId : null,
      counter: session.counter,
    });
    if (text.length <= MAX_CHARS) {
      try {
        storage.setItem(SESSION_KEY, text);
        return runs.length;
      } catch {
        // Quota exceeded: fewer runs, or, with none left, give up on this save.
      }
    }
    if (runs.length === 0) return -1;
    runs = runs.filter((_, i) => i !== pinnedFirst());
  }
}

/** The stored session, or null; runs that do not parse (an older schema, damage) are left out. */
export function loadSession(storage: SessionStorage): Session | null {
  let raw: unknown;
  try {
    const text = storage.getItem(SESSION_KEY);
    if (!text) return null;
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  const v = raw as Partial<Record<keyof Session, unknown>> & { v?: unknown };
  if (v?.v !== 1 || typeof v.design !== 'object' || v.design === null) return null;
  const d = v.design as { spec?: unknown; path?: unknown; dirty?: unknown };
  const spec = modelSpecSchema.safeParse(d.spec);
  if (!spec.success) return null;
  const runs = (Array.isArray(v.runs) ? v.runs : []).flatMap((r) => {
    const parsed = runSchema.safeParse(r);
    return parsed.success ? [parsed.data as SessionRun] : [];
  });
  const ids = new Set(runs.map((r) => r.id));
  const known = (x: unknown) => (typeof x === 'string' && ids.has(x) ? x : null);
  return {
    design: { spec: spec.data, path: typeof d.path === 'string' ? d.path : null, dirty: d.dirty === true },
    runs,
    pinnedIds: (Array.isArray(v.pinnedIds) ? v.pinnedIds : []).filter((x): x is string => typeof x === 'string' && ids.has(x)),
    shownId: known(v.shownId),
    baselineId: known(v.baselineId),
    counter: typeof v.counter === 'number' && Number.isInteger(v.counter) && v.counter >= 0 ? v.counter : runs.length,
  };
}

/**
 * The workbench's session kept across reloads (src/renderer/lib/session.ts) and the question asked
 * before deleting a layer that feeds a join (joinRewiring in src/renderer/lib/design.ts).
 */
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../src/engine/graph/plan.ts';
import { memoryTimeline } from '../src/engine/report/index.ts';
import { buildReport } from '../src/engine/reporting.ts';
import { joinRewiring, removeLayer } from '../src/renderer/lib/design.ts';
import { loadSession, MAX_CHARS, MAX_RUNS, saveSession, SESSION_KEY, type Session, type SessionRun, type SessionStorage } from '../src/renderer/lib/session.ts';
import type { ModelSpec } from '../src/shared/spec.ts';

const spec: ModelSpec = {
  format: 'convscope/v1',
  name: 'residual',
  input: { shape: [1, 16, 8, 8] },
  layers: [
    { id: 'a', op: 'conv2d', params: { out_channels: 16, kernel: 3, padding: 1 } },
    { id: 'b', op: 'relu' },
    { id: 'c', op: 'conv2d', params: { out_channels: 16, kernel: 3, padding: 1 } },
    { id: 'j', op: 'add', inputs: ['c', 'a'] },
    { id: 'k', op: 'concat', inputs: ['j', 'b', 'a'], params: { axis: 1 } },
  ],
};

const env = { app_version: 't', node: 'v20', platform: 'linux', cpu: 'cpu' };

function run(n: number): SessionRun {
  const report = buildReport(buildPlan(spec), { environment: env });
  return { id: `run-${n}`, label: `#${n} residual`, analysis: { report, memory: memoryTimeline(report) }, createdAt: '2026-01-01T00:00:00.000Z', timed: false };
}

/** A Map-backed Storage that refuses values longer than `quota` characters, as a full localStorage does. */
function storage(quota = Infinity): SessionStorage & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => {
      if (v.length > quota) throw new DOMException('quota', 'QuotaExceededError');
      map.set(k, v);
    },
    removeItem: (k) => void map.delete(k),
  };
}

function session(runs: SessionRun[], extra: Partial<Session> = {}): Session {
  return { design: { spec, path: null, dirty: true }, runs, pinnedIds: [], shownId: null, baselineId: null, counter: runs.length, ...extra };
}

describe('the session', () => {
  it('comes back as it was saved: design, dirty flag, runs, pins, baseline, shown run, counter', () => {
    const s = storage();
    const runs = [run(1), run(2), run(3)];
    expect(saveSession(s, session(runs, { pinnedIds: ['run-1', 'run-3'], baselineId: 'run-3', shownId: 'run-2', counter: 7 }))).toBe(3);
    const back = loadSession(s)!;
    expect(back.design).toEqual({ spec, path: null, dirty: true });
    expect(back.runs.map((r) => r.id)).toEqual(['run-1', 'run-2', 'run-3']);
    expect(back.runs[1].analysis.report.totals).toEqual(runs[1].analysis.report.totals);
    expect(back).toMatchObject({ pinnedIds: ['run-1', 'run-3'], baselineId: 'run-3', shownId: 'run-2', counter: 7 });
  });

  it(`keeps at most ${MAX_RUNS} runs, the newest`, () => {
    const s = storage();
    const runs = Array.from({ length: MAX_RUNS + 5 }, (_, i) => run(i + 1));
    expect(saveSession(s, session(runs))).toBe(MAX_RUNS);
    expect(loadSession(s)!.runs[0].id).toBe('run-6');
  });

  it('when storage is short, drops the oldest unpinned runs first and forgets pins and selections of dropped runs', () => {
    const one = JSON.stringify(run(1)).length;
    // Room for the design and about two runs.
    const s = storage(one * 2.5);
    const kept = saveSession(s, session([run(1), run(2), run(3), run(4)], { pinnedIds: ['run-1'], shownId: 'run-2', baselineId: 'run-1' }));
    expect(kept).toBe(2);
    const back = loadSession(s)!;
    expect(back.runs.map((r) => r.id)).toEqual(['run-1', 'run-4']);
    expect(back).toMatchObject({ pinnedIds: ['run-1'], shownId: null, baselineId: 'run-1' });
    // Not even the design fits: nothing written, and saying so.
    expect(saveSession(storage(10), session([run(1)]))).toBe(-1);
    expect(MAX_CHARS).toBeGreaterThan(one * 10);
  });

  it('drops what does not parse back instead of failing the start', () => {
    const s = storage();
    expect(loadSession(s)).toBeNull();
    s.map.set(SESSION_KEY, '{not json');
    expect(loadSession(s)).toBeNull();
    s.map.set(SESSION_KEY, JSON.stringify({ v: 1, design: { spec: { format: 'other' } } }));
    expect(loadSession(s)).toBeNull();
    saveSession(s, session([run(1), run(2)], { pinnedIds: ['run-2'], shownId: 'run-2' }));
    const damaged = JSON.parse(s.map.get(SESSION_KEY)!);
    damaged.runs[1].analysis.report.totals.macs = 'many';
    s.map.set(SESSION_KEY, JSON.stringify(damaged));
    const back = loadSession(s)!;
    expect(back.runs.map((r) => r.id)).toEqual(['run-1']);
    expect(back).toMatchObject({ pinnedIds: [], shownId: null });
  });
});

describe('deleting a layer that feeds a join', () => {
  it('lists each join it feeds with its inputs before and after the rewiring', () => {
    expect(joinRewiring(spec, 'a')).toEqual([
      { join: 'j', before: ['c', 'a'], after: ['c', 'input'] },
      { join: 'k', before: ['j', 'b', 'a'], after: ['j', 'b', 'input'] },
    ]);
    // The after lists are what removeLayer really does.
    const removed = removeLayer(spec, 'a');
    expect(removed.layers.find((l) => l.id === 'j')!.inputs).toEqual(['c', 'input']);
  });

  it('a duplicate input after rewiring shows as the join losing an input', () => {
    // c reads b by default, so deleting c makes the add read b twice: de-duplicated to one input.
    const s: ModelSpec = { ...spec, layers: [spec.layers[0], spec.layers[1], spec.layers[2], { id: 'j', op: 'add', inputs: ['c', 'b'] }] };
    expect(joinRewiring(s, 'c')).toEqual([{ join: 'j', before: ['c', 'b'], after: ['b'] }]);
  });

  it('is empty for a layer that feeds no join (deleted without a question)', () => {
    expect(joinRewiring(spec, 'c')).toEqual([{ join: 'j', before: ['c', 'a'], after: ['b', 'a'] }]);
    expect(joinRewiring(spec, 'k')).toEqual([]);
    expect(joinRewiring({ ...spec, layers: spec.layers.slice(0, 3) }, 'b')).toEqual([]);
  });
});

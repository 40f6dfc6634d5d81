/**
 * Electron main's logic in plain Node (no Electron binary): files, recent files, autosave, title,
 * menu, navigation policy, engine supervision with restart backoff, and the utilityProcess entry.
 */
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EngineSupervisor, defaultBackoff, type EngineProcessEvents } from '../src/host/supervisor.ts';
import { Autosave } from '../src/main/autosave.ts';
import { utilityEngine, type UtilityChild } from '../src/main/engine-process.ts';
import { engineArgs, probeReadback } from '../src/main/gpu-probe.ts';
import { DesignFileError, designFileName, readDesign, readOpenable, withExtension, writeAtomic, writeDesign } from '../src/main/files.ts';
import { menuTemplate, type MenuItem } from '../src/main/menu.ts';
import { RecentFiles } from '../src/main/recent.ts';
import { APP_URL, isAppUrl, isExternalLink, WINDOW_CSP } from '../src/main/security.ts';
import { windowTitle } from '../src/main/title.ts';
import type { MenuCommand } from '../src/shared/ipc.ts';
import { EXPORT_FORMATS, type EngineMessage } from '../src/shared/protocol.ts';
import type { ModelSpec } from '../src/shared/spec.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'convscope-main-'));
const spec: ModelSpec = { format: 'convscope/v1', name: 'unit', input: { shape: [1, 8, 4, 4] }, layers: [{ id: 'r', op: 'relu' }] };

describe('design files', () => {
  it('writes atomically and reads back', () => {
    const path = join(dir(), 'sub', 'a.convscope.json');
    writeDesign(path, spec);
    expect(readDesign(path)).toEqual({ spec, path, name: 'a.convscope.json' });
    expect(readFileSync(path, 'utf8').endsWith('\n')).toBe(true);
    writeAtomic(path, 'x');
    expect(readFileSync(path, 'utf8')).toBe('x');
  });

  it('refuses what is not a design, saying which file and why', () => {
    const d = dir();
    writeFileSync(join(d, 'bad.json'), '{ nope');
    writeFileSync(join(d, 'other.json'), '{"format": "onnx"}');
    expect(() => readDesign(join(d, 'bad.json'))).toThrow(/bad\.json is not JSON/);
    expect(() => readDesign(join(d, 'other.json'))).toThrow(/other\.json is not a convscope\/v1 design: format/);
    expect(() => readDesign(join(d, 'missing.json'))).toThrow(DesignFileError);
  });

  it('opens an .onnx file as its bytes for the engine, and anything else as a design', () => {
    const d = dir();
    const onnx = join(d, 'Model.ONNX');
    writeAtomic(onnx, Uint8Array.from([8, 7, 18, 3]));
    const opened = readOpenable(onnx);
    expect(opened).toMatchObject({ kind: 'onnx', path: onnx, name: 'Model.ONNX' });
    expect(Array.from((opened as { data: Uint8Array }).data)).toEqual([8, 7, 18, 3]);
    const design = join(d, 'a.convscope.json');
    writeDesign(design, spec);
    expect(readOpenable(design)).toEqual({ spec, path: design, name: 'a.convscope.json' });
    expect(() => readOpenable(join(d, 'missing.onnx'))).toThrow(/missing\.onnx cannot be read: ENOENT/);
  });

  it('names files', () => {
    expect(withExtension('/x/my', '.convscope.json')).toBe('/x/my.convscope.json');
    expect(withExtension('/x/my.CONVSCOPE.json', '.convscope.json')).toBe('/x/my.CONVSCOPE.json');
    expect(designFileName('ShuffleNet v1 1x g3')).toBe('ShuffleNet-v1-1x-g3.convscope.json');
    expect(designFileName('  ')).toBe('design.convscope.json');
  });
});

describe('recent files', () => {
  it('keeps the ten most recent existing files, newest first, across restarts', () => {
    const d = dir();
    const store = join(d, 'recent.json');
    const paths = Array.from({ length: 12 }, (_, i) => join(d, `f${i}.json`));
    for (const p of paths) writeFileSync(p, '{}');
    const r = new RecentFiles(store);
    for (const p of paths) r.add(p);
    r.add(paths[5]);
    const again = new RecentFiles(store);
    expect(again.get()[0]).toBe(paths[5]);
    expect(again.get()).toHaveLength(10);
    expect(again.get()).not.toContain(paths[0]);
    writeFileSync(store, 'garbage');
    expect(new RecentFiles(store).get()).toEqual([]);
  });

  it('leaves out files that are gone', () => {
    const d = dir();
    const r = new RecentFiles(join(d, 'recent.json'));
    r.add(join(d, 'never-existed.json'));
    expect(r.get()).toEqual([]);
  });
});

describe('autosave', () => {
  it('keeps unsaved work, forgets it when clean, and offers it back', () => {
    const file = join(dir(), 'autosave.json');
    const a = new Autosave(file, () => new Date('2026-01-02T03:04:05Z'));
    expect(a.recover()).toBeNull();
    a.update({ spec, path: '/x/unit.convscope.json', dirty: true });
    expect(new Autosave(file).recover()).toEqual({ spec, path: '/x/unit.convscope.json', savedAt: '2026-01-02T03:04:05.000Z' });
    a.update({ spec, path: null, dirty: false });
    expect(existsSync(file)).toBe(false);
    a.update({ spec, path: null, dirty: true });
    a.update(null);
    expect(a.recover()).toBeNull();
  });

  it('drops a damaged autosave instead of failing the start', () => {
    const file = join(dir(), 'autosave.json');
    writeFileSync(file, '{"spec": 1}');
    expect(new Autosave(file).recover()).toBeNull();
    expect(existsSync(file)).toBe(false);
  });
});

describe('window title', () => {
  it('shows the file name, or the design name, and marks unsaved changes', () => {
    expect(windowTitle({ name: 'unit', dirty: false, path: null })).toBe('unit — Convscope');
    expect(windowTitle({ name: 'unit', dirty: true, path: '/home/u/designs/se.convscope.json' })).toBe('• se.convscope.json — Convscope');
  });
});

describe('menu', () => {
  const sent: MenuCommand[] = [];
  let cleared = 0;
  const template = menuTemplate({
    isMac: false,
    appName: 'Convscope',
    recent: ['/d/a.convscope.json'],
    send: (c) => sent.push(c),
    clearRecent: () => cleared++,
  });
  const all = (items: MenuItem[]): MenuItem[] => items.flatMap((i) => [i, ...all(i.submenu ?? [])]);
  const byLabel = (label: string) => all(template).find((i) => i.label === label)!;

  it('has the file, edit and run commands with their shortcuts', () => {
    const expected: [string, string, MenuCommand][] = [
      ['New Design', 'CmdOrCtrl+N', { command: 'new' }],
      ['Open…', 'CmdOrCtrl+O', { command: 'open' }],
      ['Save', 'CmdOrCtrl+S', { command: 'save' }],
      ['Save As…', 'CmdOrCtrl+Shift+S', { command: 'save-as' }],
      ['Undo', 'CmdOrCtrl+Z', { command: 'undo' }],
      ['Redo', 'Ctrl+Y', { command: 'redo' }],
      ['Run Profile', 'CmdOrCtrl+Enter', { command: 'run' }],
    ];
    for (const [label, accelerator, command] of expected) {
      const item = byLabel(label);
      expect(item.accelerator).toBe(accelerator);
      item.click!();
      expect(sent.at(-1)).toEqual(command);
    }
  });

  it('exports every report format and the design, and lists recent files', () => {
    const exportMenu = byLabel('Export Report').submenu!.filter((i) => i.click);
    for (const item of exportMenu) item.click!();
    expect(sent.slice(-exportMenu.length)).toEqual([...EXPORT_FORMATS.map((format) => ({ command: 'export', format })), { command: 'export', format: 'design' }, { command: 'export', format: 'onnx' }]);
    byLabel('a.convscope.json').click!();
    expect(sent.at(-1)).toEqual({ command: 'open-recent', path: '/d/a.convscope.json' });
    byLabel('Clear Recent').click!();
    expect(cleared).toBe(1);
  });

  it('uses Cmd+Shift+Z for redo and an app menu on macOS', () => {
    const mac = menuTemplate({ isMac: true, appName: 'Convscope', recent: [], send: () => undefined, clearRecent: () => undefined });
    expect(mac[0].label).toBe('Convscope');
    expect(all(mac).find((i) => i.label === 'Redo')!.accelerator).toBe('Shift+Cmd+Z');
    expect(all(mac).find((i) => i.label === 'Clear Recent')!.enabled).toBe(false);
  });
});

describe('window security', () => {
  it('allows the app and, in development, the dev server; nothing else', () => {
    expect(isAppUrl(APP_URL)).toBe(true);
    expect(isAppUrl('app://workbench/assets/x.js')).toBe(true);
    expect(isAppUrl('app://elsewhere/index.html')).toBe(false);
    expect(isAppUrl('https://example.com/')).toBe(false);
    expect(isAppUrl('file:///etc/passwd')).toBe(false);
    expect(isAppUrl('not a url')).toBe(false);
    expect(isAppUrl('http://localhost:5173/', 'http://localhost:5173')).toBe(true);
    expect(isAppUrl('http://localhost:5174/', 'http://localhost:5173')).toBe(false);
    expect(isExternalLink('https://arxiv.org/abs/1707.01083')).toBe(true);
    expect(isExternalLink('file:///x')).toBe(false);
  });

  it('has a CSP without eval, inline scripts or any network', () => {
    expect(WINDOW_CSP).toContain("default-src 'none'");
    expect(WINDOW_CSP).toContain("script-src 'self';");
    expect(WINDOW_CSP).not.toContain('unsafe-eval');
    expect(WINDOW_CSP).toMatch(/connect-src 'self';/);
  });
});

describe('engine supervision', () => {
  afterEach(() => vi.useRealTimers());

  /** A fake engine process the test can start, answer and crash. */
  function fakes() {
    const procs: { events: EngineProcessEvents; sent: unknown[]; killed: boolean; pid: number }[] = [];
    const spawn = (events: EngineProcessEvents) => {
      const p = { events, sent: [] as unknown[], killed: false, pid: 1000 + procs.length };
      procs.push(p);
      return { pid: p.pid, send: (m: unknown) => p.sent.push(m), kill: () => (p.killed = true) };
    };
    return { procs, spawn };
  }

  it('starts, relays, and restarts after a crash with growing backoff, failing the requests in flight', () => {
    vi.useFakeTimers();
    const { procs, spawn } = fakes();
    const out: EngineMessage[] = [];
    const s = new EngineSupervisor({ spawn, deliver: (m) => out.push(m) });
    s.start();
    expect(out.at(-1)).toMatchObject({ type: 'engine', state: 'starting', restarts: 0 });
    // Before the engine says it is ready, requests are answered at once rather than lost.
    s.send({ id: 1, type: 'hello' });
    expect(out.at(-1)).toMatchObject({ type: 'error', id: 1, error: { kind: 'engine_stopped' } });
    procs[0].events.ready();
    expect(out.at(-1)).toMatchObject({ state: 'ready', pid: 1000 });
    s.send({ id: 2, type: 'inspect' });
    s.send({ id: 3, type: 'profile' });
    procs[0].events.message({ type: 'result', id: 2, result: {} });
    expect(procs[0].sent).toHaveLength(2);

    procs[0].events.exit('killed by SIGKILL');
    const failed = out.filter((m) => m.type === 'error' && m.id === 3);
    expect(failed).toEqual([{ type: 'error', id: 3, error: { kind: 'engine_stopped', message: expect.stringContaining('SIGKILL') } }]);
    expect(out.some((m) => m.type === 'error' && m.id === 2)).toBe(false);
    expect(out.at(-1)).toMatchObject({ type: 'engine', state: 'restarting', restarts: 1, message: expect.stringContaining('250 ms') });
    vi.advanceTimersByTime(249);
    expect(procs).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(procs).toHaveLength(2);
    procs[1].events.ready();
    expect(out.at(-1)).toMatchObject({ state: 'ready', restarts: 1, pid: 1001 });

    // A second quick crash waits longer; late events from the dead process are ignored.
    procs[1].events.exit('exit code 1');
    procs[0].events.message({ type: 'result', id: 99, result: {} });
    expect(out.some((m) => 'id' in m && m.id === 99)).toBe(false);
    expect(out.at(-1)).toMatchObject({ state: 'restarting', restarts: 2, message: expect.stringContaining('500 ms') });
    vi.advanceTimersByTime(500);
    expect(procs).toHaveLength(3);
    s.stop();
    expect(procs[2].killed).toBe(true);
    procs[2].events.exit('killed by SIGTERM');
    vi.advanceTimersByTime(60_000);
    expect(procs).toHaveLength(3);
  });

  it('resets the backoff after the engine has been up a while, and caps it', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(defaultBackoff)).toEqual([250, 500, 1000, 2000, 4000, 8000, 8000]);
    vi.useFakeTimers();
    const { procs, spawn } = fakes();
    const out: EngineMessage[] = [];
    const s = new EngineSupervisor({ spawn, deliver: (m) => out.push(m), stableMs: 1000 });
    s.start();
    procs[0].events.exit('exit code 1');
    vi.advanceTimersByTime(250);
    vi.advanceTimersByTime(5000);
    procs[1].events.exit('exit code 1');
    expect(out.at(-1)).toMatchObject({ state: 'restarting', message: expect.stringContaining('250 ms') });
    s.stop();
  });

  it('survives a spawn that throws, retrying later', () => {
    vi.useFakeTimers();
    let calls = 0;
    const out: EngineMessage[] = [];
    const s = new EngineSupervisor({
      spawn: () => {
        calls++;
        throw new Error('ENOENT');
      },
      deliver: (m) => out.push(m),
    });
    s.start();
    expect(out.at(-1)).toMatchObject({ state: 'restarting', message: expect.stringContaining('could not be started: ENOENT') });
    vi.advanceTimersByTime(250);
    expect(calls).toBe(2);
    s.stop();
  });
});

describe('the GPU readback probe', () => {
  function fakeChild() {
    const listeners: Record<string, ((...a: unknown[]) => void)[]> = {};
    let killed = false;
    const child = {
      pid: 7,
      on: (event: string, l: (...a: unknown[]) => void) => (listeners[event] ??= []).push(l),
      postMessage: () => undefined,
      kill: () => (killed = true),
    } as unknown as UtilityChild;
    return { child, emit: (event: string, ...a: unknown[]) => listeners[event]?.forEach((l) => l(...a)), killed: () => killed };
  }

  it('takes the probe answer, or reads a crash or silence as a refusal', async () => {
    const ok = fakeChild();
    const p1 = probeReadback(() => ok.child, '/probe.mjs');
    ok.emit('message', { readback: 'works', adapter: 'llvmpipe' });
    expect(await p1).toEqual({ readback: 'works', adapter: 'llvmpipe' });
    expect(ok.killed()).toBe(true);
    expect(engineArgs(await p1)).toEqual([]);

    const crash = fakeChild();
    const p2 = probeReadback(() => crash.child, '/probe.mjs');
    crash.emit('exit', 133);
    const refused = await p2;
    expect(refused).toMatchObject({ readback: 'refused', reason: expect.stringContaining('exit code 133') });
    expect(engineArgs(refused)[0]).toMatch(/^--webgpu-refused=WebGPU cannot read GPU buffers back/);

    const silent = fakeChild();
    expect(await probeReadback(() => silent.child, '/probe.mjs', 20)).toMatchObject({ readback: 'refused', reason: expect.stringContaining('did not answer') });
    expect(engineArgs({ readback: 'no-adapter', reason: 'none' })[0]).toContain('no WebGPU adapter');
    expect(await probeReadback(() => { throw new Error('ENOENT'); }, '/x')).toMatchObject({ readback: 'refused', reason: expect.stringContaining('ENOENT') });
  });
});

describe('the engine in a utilityProcess', () => {
  it('hands the engine a port once it is ready, and reports its exit', () => {
    const listeners: Record<string, ((...a: unknown[]) => void)[]> = {};
    const posted: unknown[][] = [];
    const child: UtilityChild = {
      pid: 42,
      on: (event: string, l: (...a: unknown[]) => void) => (listeners[event] ??= []).push(l),
      postMessage: (m: unknown, transfer?: unknown[]) => posted.push([m, transfer]),
      kill: () => true,
    } as UtilityChild;
    const forked: [string, string[]][] = [];
    const engine = utilityEngine(
      (entry, args) => {
        forked.push([entry, args]);
        return child;
      },
      '/app/src/engine/host/utility.mjs',
      () => ({ engine: 'E', window: 'W' }),
      () => ['--webgpu-refused=why'],
    );
    const events = { ready: vi.fn(), message: vi.fn(), exit: vi.fn() };
    const proc = engine.spawn(events);
    expect(forked).toEqual([['/app/src/engine/host/utility.mjs', ['--webgpu-refused=why']]]);
    expect(proc.pid).toBe(42);
    expect(engine.connect()).toBeNull();
    listeners.message[0]({ type: 'ready', pid: 42 });
    expect(events.ready).toHaveBeenCalledOnce();
    expect(engine.connect()).toBe('W');
    expect(posted).toEqual([[{ type: 'connect' }, ['E']]]);
    expect(() => proc.send({})).toThrow(/MessagePort/);
    listeners.exit[0](3);
    expect(events.exit).toHaveBeenCalledWith('exit code 3');
    expect(engine.connect()).toBeNull();
  });

  it('serves the protocol on the port main hands over (utility.ts under a stand-in parentPort)', async () => {
    const child = fork(join(import.meta.dirname, 'helpers/fake-utility-process.mjs'), ['--webgpu-refused=no readback here'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const got: { from: string; message: { type: string; id?: number; result?: unknown; pid?: number } }[] = [];
    const waitFor = async (pred: (m: (typeof got)[number]) => boolean) => {
      for (let i = 0; i < 600 && !got.some(pred); i++) await new Promise((r) => setTimeout(r, 50));
      const m = got.find(pred);
      if (!m) throw new Error(`nothing matched; got ${JSON.stringify(got)}`);
      return m;
    };
    child.on('message', (m) => got.push(m as (typeof got)[number]));
    try {
      const ready = await waitFor((m) => m.from === 'parentPort' && m.message.type === 'ready');
      expect(ready.message.pid).toBe(child.pid);
      child.send({ do: 'bad' });
      await waitFor((m) => m.from === 'parentPort' && m.message.type === 'error');
      child.send({ do: 'connect' });
      await waitFor((m) => m.from === 'parentPort' && m.message.type === 'connected');
      child.send({ do: 'send', message: { id: 1, type: 'hello' } });
      const hello = await waitFor((m) => m.from === 'window' && m.message.id === 1);
      expect(hello.message).toMatchObject({ type: 'result', result: { protocol: 1, pid: child.pid } });
      // A reload hands over a new port; the engine answers on it.
      child.send({ do: 'connect' });
      child.send({ do: 'send', message: { id: 2, type: 'inspect', spec } });
      const inspected = await waitFor((m) => m.from === 'window' && m.message.id === 2);
      expect(inspected.message.type).toBe('result');
      // Started with WebGPU refused (the GPU probe said no): listed as unavailable, with the reason.
      child.send({ do: 'send', message: { id: 3, type: 'backends' } });
      const backends = await waitFor((m) => m.from === 'window' && m.message.id === 3);
      const list = (backends.message.result as { backends: { name: string; available: boolean; detail: string }[] }).backends;
      expect(list.find((b) => b.name === 'webgpu')).toEqual({ name: 'webgpu', available: false, adapter: null, detail: 'no readback here' });
      expect(list.find((b) => b.name === 'cpu')!.available).toBe(true);
    } finally {
      child.kill();
    }
  });
});

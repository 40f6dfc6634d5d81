/**
 * First run: the CPU backend compiles its WebAssembly kernels once (tens of seconds on a busy
 * machine) and says so while it does, on the CLI's stderr and to the workbench as `notice`
 * messages; `convscope serve` prints progress lines while Vite builds the UI.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgress } from '../src/cli/commands/serve.ts';
import { createBackendRegistry } from '../src/engine/backends/resolve.ts';
import { createEngineService } from '../src/engine/engine-service.ts';
import { emitEngineNotice, onEngineNotice } from '../src/engine/notices.ts';
import { engineMessageSchema, type EngineMessage } from '../src/shared/protocol.ts';
import { describeRun, runCli } from './helpers/cli-process.ts';

const ENV = { app_version: 'test', node: process.version, platform: 'test', cpu: 'test' };

describe('compiling the WebAssembly kernels on first use', () => {
  it('the CLI says so on stderr while it compiles, and not again once they are cached', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'convscope-kernel-cache-'));
    const args = ['profile', 'conv_zoo', '--backend', 'cpu', '--warmup', '0', '--repeat', '1', '--quiet', '--json'];
    const first = await runCli(args, { env: { CONVSCOPE_CACHE_DIR: cache }, timeoutMs: 300_000 });
    expect(first.code, describeRun(first)).toBe(0);
    const lines = first.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe("convscope: compiling the CPU backend's WebAssembly kernels: this happens once (the result is cached), and takes up to a minute or so on a busy machine...");
    expect(lines[1]).toMatch(/^convscope: compiled the WebAssembly kernels in \d+\.\d s; later runs start at once$/);
    // The kernels really ran (the report says WebAssembly), and the binary is in the cache asked for.
    expect(JSON.parse(first.stdout).backend.adapter).toMatch(/WebAssembly SIMD/);
    expect(readdirSync(cache).filter((f) => f.endsWith('.wasm'))).toHaveLength(1);

    const second = await runCli(args, { env: { CONVSCOPE_CACHE_DIR: cache }, timeoutMs: 300_000 });
    expect(second.code, describeRun(second)).toBe(0);
    expect(second.stderr).not.toMatch(/compil/);
  }, 400_000);

  it('the workbench engine forwards notices as protocol messages, and stops when disposed', async () => {
    const messages: EngineMessage[] = [];
    const service = createEngineService({ post: (m) => messages.push(m), backends: createBackendRegistry([]), environment: ENV, pid: 0 });
    emitEngineNotice({ kind: 'compile', phase: 'start', text: 'compiling...' });
    emitEngineNotice({ kind: 'compile', phase: 'done', text: 'compiled in 1.0 s' });
    await service.dispose();
    emitEngineNotice({ kind: 'compile', phase: 'start', text: 'after dispose' });
    expect(messages).toEqual([
      { type: 'notice', kind: 'compile', phase: 'start', text: 'compiling...' },
      { type: 'notice', kind: 'compile', phase: 'done', text: 'compiled in 1.0 s' },
    ]);
    for (const m of messages) expect(engineMessageSchema.safeParse(m).success).toBe(true);
  });

  it('a listener that throws does not stop the others', () => {
    const seen: string[] = [];
    const off1 = onEngineNotice(() => {
      throw new Error('closed stream');
    });
    const off2 = onEngineNotice((n) => seen.push(n.text));
    emitEngineNotice({ kind: 'compile', phase: 'start', text: 'x' });
    off1();
    off2();
    expect(seen).toEqual(['x']);
  });
});

describe('`convscope serve` building the UI', () => {
  it('prints progress: a start line, module counts every few seconds, bundling, and the total time', () => {
    const lines: string[] = [];
    let t = 0;
    const p = buildProgress((l) => lines.push(l), 5000, () => t);
    p.buildStart();
    for (let i = 0; i < 300; i++) {
      t += 50;
      p.transform();
    }
    // A nested build (the engine Worker) starting again does not restart the clock.
    p.buildStart();
    p.renderStart();
    t += 2000;
    p.closeBundle();
    expect(lines).toEqual([
      '  compiling Vue, TypeScript and ECharts modules...',
      '  100 modules so far (5.0 s)',
      '  200 modules so far (10.0 s)',
      '  300 modules so far (15.0 s)',
      '  300 modules compiled; bundling and minifying (15.0 s)...',
      'built the workbench UI in 17.0 s',
    ]);
  });
});

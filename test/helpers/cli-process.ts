/**
 * Runs the real `convscope` command as a user would: `node bin/convscope.mjs ...` in a child
 * process from the repository root, stdout and stderr captured separately (pipes, so no TTY).
 * Each start costs about a second (tsx compiles the CLI), so tests start many at once; a small
 * limit keeps a 2-core machine from thrashing.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CliResult {
  /** Exit status (null only if killed by a signal, see `signal`). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  args: string[];
}

const LIMIT = Math.max(2, availableParallelism() + 1);
let running = 0;
const waiting: (() => void)[] = [];

async function slot(): Promise<() => void> {
  if (running >= LIMIT) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  return () => {
    running--;
    waiting.shift()?.();
  };
}

export async function runCli(args: string[], options: { timeoutMs?: number; cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const release = await slot();
  try {
    return await new Promise<CliResult>((resolve, reject) => {
      const child = spawn(process.execPath, ['bin/convscope.mjs', ...args], {
        cwd: options.cwd ?? REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...options.env },
        timeout: options.timeoutMs ?? 60_000,
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', reject);
      child.on('close', (code, signal) => {
        resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), args });
      });
    });
  } finally {
    release();
  }
}

/** What a failed expectation on a CLI run should print: the command and everything it said. */
export function describeRun(r: CliResult): string {
  return `convscope ${r.args.join(' ')} -> exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stdout ---\n${r.stdout.slice(0, 2000)}\n--- stderr ---\n${r.stderr.slice(0, 2000)}`;
}

/** The engine as a Node child process (what `serve` supervises), behind the EngineProcess interface. */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EngineProcess, EngineProcessEvents } from './supervisor.ts';

export const CHILD_ENTRY = fileURLToPath(new URL('../engine/host/child.mjs', import.meta.url));

export function forkEngine(events: EngineProcessEvents): EngineProcess {
  const child = fork(CHILD_ENTRY, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
  let gone = false;
  const exit = (reason: string) => {
    if (gone) return;
    gone = true;
    events.exit(reason);
  };
  child.on('message', (m: unknown) => {
    // The child's own handshake, not a protocol message: its listener is attached from here on.
    if ((m as { type?: unknown })?.type === 'ready' && !('id' in (m as object))) events.ready();
    else events.message(m);
  });
  child.on('error', (err) => exit(`failed: ${err.message}`));
  child.on('exit', (code, signal) => exit(signal ? `killed by ${signal}` : `exit code ${code}`));
  return {
    pid: child.pid,
    send(message) {
      child.send(message as object);
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill();
    },
  };
}

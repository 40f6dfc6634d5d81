/**
 * The engine in a Node child process (`child_process.fork` with an IPC channel), as the `serve`
 * host runs it: protocol messages in and out over the channel, nothing else.
 */
import { createEngineHost } from './index.ts';

if (!process.send) throw new Error('the engine child process must be started with an IPC channel (child_process.fork)');

const host = createEngineHost({
  post(message) {
    if (process.connected) process.send!(message, undefined, {}, () => undefined);
  },
});
process.on('message', (message) => void host.handle(message));
// Messages that arrive before the listener above exist are lost, so the parent waits for this.
process.send({ type: 'ready', pid: process.pid });
// The parent went away (or closed the channel to stop us): release threads and GPU, then leave.
process.on('disconnect', () => {
  void host.dispose().finally(() => process.exit(0));
});

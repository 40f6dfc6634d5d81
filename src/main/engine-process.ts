/**
 * The engine in an Electron utilityProcess, behind the supervisor's EngineProcess interface. The
 * Electron pieces (utilityProcess.fork, MessageChannelMain) are passed in, so this runs in tests
 * with fakes; src/main/index.ts gives it the real ones.
 */
import type { EngineProcess, EngineProcessEvents } from '../host/supervisor.ts';

/** The parts of Electron's UtilityProcess used here. */
export interface UtilityChild {
  readonly pid?: number;
  on(event: 'spawn', listener: () => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  postMessage(message: unknown, transfer?: unknown[]): void;
  kill(): boolean;
}

export type ForkUtility = (modulePath: string, args: string[]) => UtilityChild;

/** A connected pair of MessagePorts (MessageChannelMain): one for the engine, one for the window. */
export interface PortPair<P> {
  engine: P;
  window: P;
}

export interface UtilityEngine<P> {
  spawn(events: EngineProcessEvents): EngineProcess;
  /**
   * Gives the running engine a fresh channel and returns the window's end (null when no engine
   * is up); called on every window load and after every engine (re)start.
   */
  connect(): P | null;
}

export function utilityEngine<P>(fork: ForkUtility, entry: string, channel: () => PortPair<P>, args: () => string[] = () => []): UtilityEngine<P> {
  let current: UtilityChild | null = null;
  let ready = false;
  return {
    spawn(events) {
      const child = fork(entry, args());
      current = child;
      ready = false;
      let gone = false;
      child.on('message', (m) => {
        // The engine's own handshake; protocol traffic never passes here (it has the MessagePort).
        if ((m as { type?: unknown })?.type === 'ready') {
          ready = true;
          events.ready();
        }
      });
      child.on('exit', (code) => {
        if (child === current) {
          current = null;
          ready = false;
        }
        if (!gone) {
          gone = true;
          events.exit(`exit code ${code}`);
        }
      });
      return {
        pid: child.pid,
        send() {
          throw new Error('the workbench talks to the engine over its MessagePort, not through main');
        },
        kill() {
          if (!gone) child.kill();
        },
      };
    },
    connect() {
      if (!current || !ready) return null;
      const { engine, window } = channel();
      current.postMessage({ type: 'connect' }, [engine]);
      return window;
    },
  };
}

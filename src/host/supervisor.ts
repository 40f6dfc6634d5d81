/**
 * Keeps an engine process alive for one workbench session: starts it, relays protocol messages,
 * and when it dies answers the requests it still owed with `engine_stopped`, tells the workbench
 * (`engine` status messages) and starts a new one after a backoff. The workbench keeps the design,
 * so a crash costs the user the run in flight, never their work.
 *
 * Transport-neutral and Electron-free: `serve` gives it Node child processes, Electron main gives
 * it utilityProcesses, tests give it either or a fake.
 */
import type { EngineMessage, EngineStatusMessage } from '../shared/protocol.ts';

/** One started engine process, as the supervisor needs to see it. */
export interface EngineProcess {
  readonly pid?: number;
  /** Delivers one protocol message to the engine. */
  send(message: unknown): void;
  kill(): void;
}

export interface EngineProcessEvents {
  /** The process is up and accepts messages. */
  ready(): void;
  message(message: unknown): void;
  /** The process is gone (crashed, killed, or failed to start). */
  exit(reason: string): void;
}

export interface SupervisorOptions {
  spawn(events: EngineProcessEvents): EngineProcess;
  /** Messages for the workbench: engine messages, answers on the engine's behalf, status. */
  deliver(message: EngineMessage): void;
  /** Delay before restart number `attempt` (1-based) after a crash. Default: 250 ms doubling, at most 8 s. */
  backoffMs?(attempt: number): number;
  /** A process that stayed up this long resets the backoff (default 30 s). */
  stableMs?: number;
}

export const defaultBackoff = (attempt: number): number => Math.min(250 * 2 ** (attempt - 1), 8000);

export class EngineSupervisor {
  private proc: EngineProcess | null = null;
  private generation = 0;
  private ready = false;
  private stopped = false;
  private attempt = 0;
  private startedAt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Requests sent to the current process and not yet answered. */
  private readonly owed = new Set<number>();
  /** Restarts after a crash during this session. */
  restarts = 0;

  constructor(private readonly options: SupervisorOptions) {}

  get pid(): number | undefined {
    return this.ready ? this.proc?.pid : undefined;
  }

  start(): void {
    if (this.stopped || this.proc) return;
    const generation = ++this.generation;
    this.ready = false;
    this.startedAt = Date.now();
    this.status('starting', this.restarts === 0 ? 'starting the engine' : `restarting the engine (restart ${this.restarts})`);
    const current = () => generation === this.generation && !this.stopped;
    try {
      this.proc = this.options.spawn({
        ready: () => {
          if (!current()) return;
          this.ready = true;
          this.status('ready', this.restarts === 0 ? 'engine ready' : `engine restarted (restart ${this.restarts})`);
        },
        message: (message) => {
          if (!current()) return;
          const m = message as { type?: unknown; id?: unknown };
          if ((m?.type === 'result' || m?.type === 'error') && typeof m.id === 'number') this.owed.delete(m.id);
          this.options.deliver(message as EngineMessage);
        },
        exit: (reason) => {
          if (!current()) return;
          this.crashed(reason);
        },
      });
    } catch (err) {
      this.proc = null;
      this.crashed(`it could not be started: ${(err as Error).message}`);
    }
  }

  /**
   * Sends a request to the engine. While there is none (between a crash and the restart) the
   * request is answered at once with `engine_stopped`, so the workbench never waits on a dead process.
   */
  send(message: { id: number; type: string }): void {
    if (!this.proc || !this.ready) {
      this.options.deliver({ type: 'error', id: message.id, error: { kind: 'engine_stopped', message: 'the engine is restarting; try again in a moment' } });
      return;
    }
    if (message.type !== 'cancel') this.owed.add(message.id);
    try {
      this.proc.send(message);
    } catch (err) {
      this.owed.delete(message.id);
      this.options.deliver({ type: 'error', id: message.id, error: { kind: 'engine_stopped', message: `the engine did not take the request: ${(err as Error).message}` } });
    }
  }

  /** Ends the session: kills the process and restarts nothing. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const proc = this.proc;
    this.proc = null;
    this.generation++;
    proc?.kill();
  }

  private crashed(reason: string): void {
    const proc = this.proc;
    this.proc = null;
    this.ready = false;
    this.generation++;
    try {
      proc?.kill();
    } catch {
      // Already gone.
    }
    for (const id of this.owed) {
      this.options.deliver({ type: 'error', id, error: { kind: 'engine_stopped', message: `the engine process stopped (${reason}) before answering` } });
    }
    this.owed.clear();
    if (this.stopped) return;
    if (Date.now() - this.startedAt >= (this.options.stableMs ?? 30_000)) this.attempt = 0;
    this.attempt++;
    this.restarts++;
    const delay = (this.options.backoffMs ?? defaultBackoff)(this.attempt);
    this.status('restarting', `the engine process stopped (${reason}); restarting in ${delay < 1000 ? `${delay} ms` : `${(delay / 1000).toFixed(1)} s`}`);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.start();
    }, delay);
  }

  private status(state: EngineStatusMessage['state'], message: string): void {
    const pid = state === 'ready' ? this.proc?.pid : undefined;
    this.options.deliver({ type: 'engine', state, message, restarts: this.restarts, ...(pid !== undefined ? { pid } : {}) });
  }
}

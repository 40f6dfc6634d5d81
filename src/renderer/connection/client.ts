/**
 * The workbench's side of the engine protocol: numbered requests, promises for their results,
 * progress callbacks, and the engine's status. Every incoming message is validated; nothing here
 * knows which process the engine lives in (see transport.ts).
 */
import {
  engineMessageSchema,
  resultSchemas,
  describeIssues,
  type EngineStatusMessage,
  type ErrorInfo,
  type NoticeMessage,
  type ProgressMessage,
  type Request,
  type RequestParams,
  type RequestType,
  type ResultOf,
} from '../../shared/protocol.ts';
import type { Transport } from './channel.ts';

export class EngineRequestError extends Error {
  readonly kind: ErrorInfo['kind'];
  readonly layer?: string;
  readonly param?: string;
  constructor(info: ErrorInfo) {
    super(info.message);
    this.name = 'EngineRequestError';
    this.kind = info.kind;
    this.layer = info.layer;
    this.param = info.param;
  }
}

interface Pending {
  type: RequestType;
  resolve(value: unknown): void;
  reject(err: Error): void;
  onProgress?(p: ProgressMessage): void;
}

export interface RequestHandle<T> {
  id: number;
  result: Promise<T>;
}

export class EngineClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly statusListeners = new Set<(s: EngineStatusMessage) => void>();
  private readonly problemListeners = new Set<(text: string) => void>();
  private readonly noticeListeners = new Set<(n: NoticeMessage) => void>();

  constructor(private readonly transport: Transport) {
    transport.onMessage((raw) => this.receive(raw));
    transport.onStatus((s) => this.onTransportStatus(s));
  }

  onStatus(listener: (s: EngineStatusMessage) => void): void {
    this.statusListeners.add(listener);
  }

  /** One-off engine events (the WebAssembly kernels compiling on first use). */
  onNotice(listener: (n: NoticeMessage) => void): void {
    this.noticeListeners.add(listener);
  }

  /** Messages that could not be understood (a version mismatch or a bug): shown, never thrown. */
  onProblem(listener: (text: string) => void): void {
    this.problemListeners.add(listener);
  }

  start<T extends RequestType>(type: T, params: RequestParams<T>, onProgress?: (p: ProgressMessage) => void): RequestHandle<ResultOf<T>> {
    const id = this.nextId++;
    const result = new Promise<ResultOf<T>>((resolve, reject) => {
      this.pending.set(id, { type, resolve: resolve as (v: unknown) => void, reject, onProgress });
    });
    try {
      this.transport.send({ id, type, ...params } as unknown as Request);
    } catch (err) {
      this.fail(id, { kind: 'engine_stopped', message: `could not reach the engine: ${(err as Error).message}` });
    }
    return { id, result };
  }

  request<T extends RequestType>(type: T, params: RequestParams<T>, onProgress?: (p: ProgressMessage) => void): Promise<ResultOf<T>> {
    return this.start(type, params, onProgress).result;
  }

  private receive(raw: unknown): void {
    const parsed = engineMessageSchema.safeParse(raw);
    if (!parsed.success) return this.problem(`ignored a malformed engine message: ${describeIssues(parsed.error)}`);
    const m = parsed.data;
    if (m.type === 'engine') return this.onTransportStatus(m);
    if (m.type === 'notice') {
      for (const l of this.noticeListeners) l(m);
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) {
      if (m.type === 'error' && m.id === -1) this.problem(m.error.message);
      return;
    }
    if (m.type === 'progress') return p.onProgress?.(m);
    this.pending.delete(m.id);
    if (m.type === 'error') return p.reject(new EngineRequestError(m.error));
    const result = resultSchemas[p.type].safeParse(m.result);
    if (!result.success) {
      p.reject(new EngineRequestError({ kind: 'protocol', message: `the engine's ${p.type} result is malformed: ${describeIssues(result.error)}` }));
      return;
    }
    p.resolve(result.data);
  }

  private onTransportStatus(s: EngineStatusMessage): void {
    // Whatever was in flight died with the process (the supervisor may say so too; first word wins).
    if (s.state === 'restarting' || s.state === 'failed') {
      for (const id of [...this.pending.keys()]) this.fail(id, { kind: 'engine_stopped', message: `the engine stopped: ${s.message}` });
    }
    for (const l of this.statusListeners) l(s);
  }

  private fail(id: number, info: ErrorInfo): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    p.reject(new EngineRequestError(info));
  }

  private problem(text: string): void {
    for (const l of this.problemListeners) l(text);
  }
}

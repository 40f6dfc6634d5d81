/**
 * The engine behind the workbench protocol in a Node process: the host-neutral service
 * (engine-service.ts, shared with the browser Worker) given Node's backend table, this machine's
 * environment and the process id. Transport-agnostic: give it a `post` function and feed it every
 * incoming message. The Electron utilityProcess (utility.ts), the `serve` child process
 * (child.ts) and the tests all use this one module; none holds engine logic itself.
 */
import { readFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { autoPick, backendNames, resolveBackend } from '../backends/registry.ts';
import type { BackendOptions } from '../backends/types.ts';
import { createEngineService, type EngineService } from '../engine-service.ts';
import type { EngineMessage } from '../../shared/protocol.ts';
import type { Report } from '../../shared/report.ts';

export { errorInfo } from '../engine-service.ts';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

export function engineEnvironment(): Report['environment'] {
  return {
    app_version: pkg.version,
    node: process.version,
    platform: `${platform()}-${arch()}`,
    cpu: `${cpus()[0]?.model?.trim() ?? 'unknown'} x ${cpus().length}`,
  };
}

export interface EngineHostOptions {
  /** Sends one message to the workbench. Must not throw for a closed transport. */
  post(message: EngineMessage): void;
  environment?: Report['environment'];
  backendOptions?: BackendOptions;
}

export type EngineHost = EngineService;

export function createEngineHost(options: EngineHostOptions): EngineHost {
  return createEngineService({
    post: options.post,
    backends: { names: backendNames, resolve: resolveBackend, autoPick },
    environment: options.environment ?? engineEnvironment(),
    pid: process.pid,
    backendOptions: options.backendOptions,
    yieldToEvents: () => new Promise((resolve) => setImmediate(resolve)),
  });
}

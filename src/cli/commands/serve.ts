/** `convscope serve`: the workbench in a browser, with the engine in a child process behind it. */
import { Option, InvalidArgumentError, type Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SpecError } from '../../engine/errors.ts';
import { startServer } from '../../server/index.ts';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const WEB_BUILD = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('--port must be an integer from 0 to 65535 (0 picks a free port)');
  return n;
}

/**
 * Progress lines while Vite builds (a minute or so on a busy machine, with nothing on screen
 * otherwise at logLevel warn): every `everyMs` how many modules are transformed, then the bundling
 * step and the total time. A Vite plugin: hooks only, no dependency on Vite's types at run time.
 */
export function buildProgress(log: (line: string) => void, everyMs = 5000, now: () => number = () => performance.now()) {
  let modules = 0;
  let started = 0;
  let last = 0;
  let running = false;
  const seconds = () => ((now() - started) / 1000).toFixed(1);
  return {
    name: 'convscope-build-progress',
    // The engine Worker is a nested build that runs these hooks too; only the page's build reports.
    apply: 'build' as const,
    buildStart() {
      if (running) return;
      running = true;
      started = last = now();
      log('  compiling Vue, TypeScript and ECharts modules...');
    },
    transform() {
      modules++;
      if (now() - last >= everyMs) {
        last = now();
        log(`  ${modules} modules so far (${seconds()} s)`);
      }
      return null;
    },
    renderStart() {
      log(`  ${modules} modules compiled; bundling and minifying (${seconds()} s)...`);
    },
    closeBundle() {
      log(`built the workbench UI in ${seconds()} s`);
    },
  };
}

/** Builds the renderer with Vite into dist/web (a devDependency: present in any clone after `npm install`). */
export async function buildWorkbench(log: (line: string) => void): Promise<void> {
  log('building the workbench UI (dist/web): once, until the sources change; a minute or so on a busy machine...');
  let build: typeof import('vite').build;
  try {
    ({ build } = await import('vite'));
  } catch {
    throw new SpecError('the workbench UI is not built and Vite is not installed to build it: run `npm install` (with dev dependencies), then `npm run build:web`', undefined, 'build');
  }
  await build({ configFile: join(REPO, 'vite.config.ts'), logLevel: 'warn', plugins: [buildProgress(log)] });
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('the workbench UI in a browser on this machine, with the engine behind it')
    .addOption(new Option('--port <n>', 'port to listen on (0 picks a free one)').default(5177).argParser(portNumber))
    .option('--host <address>', 'address to bind; anything but loopback exposes the engine to the network', '127.0.0.1')
    .option('--ui <dir>', 'serve this built workbench instead of dist/web')
    .option('--build', 'rebuild the workbench UI before serving')
    .action(async (opts: { port: number; host: string; ui?: string; build?: boolean }) => {
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const root = opts.ui ?? WEB_BUILD;
      if (opts.ui && !existsSync(`${opts.ui}/index.html`)) throw new SpecError(`--ui ${opts.ui}: has no index.html`, undefined, 'ui');
      if (!opts.ui && (opts.build || !existsSync(`${WEB_BUILD}/index.html`))) await buildWorkbench(log);
      if (!['127.0.0.1', 'localhost', '::1'].includes(opts.host)) {
        log(`warning: --host ${opts.host} lets other machines reach this workbench and run models on this one`);
      }
      let server;
      try {
        server = await startServer({ root, port: opts.port, host: opts.host, log });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw new SpecError(`--port ${opts.port}: already in use; pick another port, or --port 0 for a free one`, undefined, 'port');
        if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new SpecError(`--host ${opts.host}: not an address of this machine`, undefined, 'host');
        throw err;
      }
      process.stdout.write(`Convscope workbench: ${server.url}\n`);
      log('press Ctrl+C to stop');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
    });
}

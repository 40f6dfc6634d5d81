/**
 * The engine's browser Worker (src/engine/worker/index.ts), built into dist/worker as one ES
 * module, engine-worker.js, plus a lazily loaded chunk holding ECharts for HTML exports. Start it
 * with `new Worker(url, { type: 'module' })`. `npm run build:worker`; the browser tests build it
 * themselves when the sources changed (test/helpers/worker-build.ts).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig, type InlineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export interface WorkerBundle {
  /** The entry module, relative to the repository root. */
  entry: string;
  /** Output folder, relative to the repository root or absolute. */
  outDir: string;
  /** The entry's file name in outDir. */
  fileName: string;
}

export const ENGINE_WORKER: WorkerBundle = { entry: 'src/engine/worker/index.ts', outDir: 'dist/worker', fileName: 'engine-worker.js' };

export function workerBuildConfig(bundle: WorkerBundle): InlineConfig {
  return {
    root,
    configFile: false,
    publicDir: false,
    logLevel: 'warn',
    // Library mode leaves process.env.NODE_ENV alone; a Worker has no `process`.
    define: { 'process.env.NODE_ENV': JSON.stringify('production') },
    build: {
      outDir: bundle.outDir,
      emptyOutDir: true,
      target: 'es2022',
      sourcemap: true,
      // ECharts (for HTML exports only) is a separate chunk of ~1 MB.
      chunkSizeWarningLimit: 1200,
      lib: { entry: bundle.entry, formats: ['es'], fileName: () => bundle.fileName },
      rollupOptions: {
        onwarn(warning, warn) {
          // zod ships /*#__PURE__*/ comments Rollup cannot place; they are dropped harmlessly.
          if (warning.code === 'INVALID_ANNOTATION') return;
          warn(warning);
        },
      },
    },
  };
}

export default defineConfig(workerBuildConfig(ENGINE_WORKER));

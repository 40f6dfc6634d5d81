/**
 * The workbench renderer for the browser host (`convscope serve`), built into dist/web.
 * electron.vite.config.ts builds the same renderer for the Electron window.
 */
import vue from '@vitejs/plugin-vue';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export const rendererRoot = fileURLToPath(new URL('./src/renderer', import.meta.url));

export default defineConfig({
  root: rendererRoot,
  base: './',
  plugins: [vue()],
  // The engine Worker (src/engine/worker, started by connection/transport.ts) splits out ECharts
  // for HTML exports, which needs ES module output.
  worker: { format: 'es' },
  build: {
    outDir: fileURLToPath(new URL('./dist/web', import.meta.url)),
    emptyOutDir: true,
    // The workbench runs offline: no CDN, everything in the bundle; ECharts alone is ~1 MB.
    chunkSizeWarningLimit: 2500,
    target: 'es2022',
    rollupOptions: {
      onwarn(warning, warn) {
        // zod ships /*#__PURE__*/ comments Rollup cannot place; they are dropped harmlessly.
        if (warning.code === 'INVALID_ANNOTATION') return;
        warn(warning);
      },
    },
  },
});

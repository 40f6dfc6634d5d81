/**
 * The Electron app: main (ESM), the sandboxed preload (CommonJS, with its dependencies bundled:
 * a sandboxed preload can require only Electron), and the same renderer as the browser host.
 * The engine itself is not bundled: the utilityProcess loads src/engine/host/utility.mjs through tsx.
 */
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'electron-vite';
import { fileURLToPath } from 'node:url';

const at = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  main: {
    build: {
      outDir: at('./out/main'),
      rollupOptions: { input: { index: at('./src/main/index.ts') } },
    },
  },
  preload: {
    build: {
      outDir: at('./out/preload'),
      externalizeDeps: false,
      rollupOptions: {
        input: { index: at('./src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: at('./src/renderer'),
    plugins: [vue()],
    // The engine Worker (src/engine/worker, started by connection/transport.ts) splits out ECharts
    // for HTML exports, which needs ES module output.
    worker: { format: 'es' },
    build: {
      outDir: at('./out/renderer'),
      minify: 'esbuild',
      chunkSizeWarningLimit: 2500,
      rollupOptions: {
        input: at('./src/renderer/index.html'),
        onwarn(warning, warn) {
          if (warning.code === 'INVALID_ANNOTATION') return;
          warn(warning);
        },
      },
    },
  },
});

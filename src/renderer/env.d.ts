/// <reference types="vite/client" />
import type { DesktopApi } from '../shared/ipc.ts';

declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

declare global {
  interface Window {
    /** Present in the Electron window only (src/preload). */
    convscope?: DesktopApi;
  }
}

/**
 * Where a profile runs: in the engine process (WebSocket or MessagePort), or in this page's own
 * engine Worker on the browser's navigator.gpu. The backend picker holds one string; the in-window
 * WebGPU choice is not an engine backend name, so it cannot clash with one.
 */

/** The picker's value for WebGPU in this window's engine Worker. */
export const IN_WINDOW = 'window:webgpu';

export interface Route {
  /** Which transport carries inspect/profile/cancel/export. */
  via: 'process' | 'window';
  /** The backend name the engine on that side is asked for. */
  backend: string;
}

export function routeOf(choice: string): Route {
  return choice === IN_WINDOW ? { via: 'window', backend: 'webgpu' } : { via: 'process', backend: choice };
}

/** `software`: the adapter is a software renderer (shared/backend-label.ts: softwareRenderer). */
export function inWindowLabel(adapter: string, software = false): string {
  return `WebGPU${software ? ' (software adapter)' : ''} (this window: ${adapter})`;
}

/** The parts of GPUAdapterInfo a page can read (Chrome blanks description unless asked). */
export interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
}

export function adapterName(info: AdapterInfoLike | undefined): string {
  if (info?.description) return info.description;
  const parts = [info?.vendor, info?.architecture, info?.device].filter((p): p is string => !!p);
  return parts.length ? parts.join(' ') : 'unnamed adapter';
}

export interface StartingChoice {
  choice: string;
  /** One line for the picker when the choice was made for the user; null otherwise. */
  why: string | null;
}

/**
 * The picker's choice at start-up. A saved in-window choice needs an adapter in this page. When
 * Electron main reports that Dawn cannot read back in the engine process (`readbackRefused`, its
 * reason), a GPU-minded choice (auto, webgpu) moves to the in-window WebGPU, which has no such limit.
 */
export function startingChoice(saved: string, inWindowAdapter: string | null, readbackRefused: string | null): StartingChoice {
  if (readbackRefused !== null && inWindowAdapter !== null && (saved === 'auto' || saved === 'webgpu' || saved === IN_WINDOW)) {
    return { choice: IN_WINDOW, why: `WebGPU runs in this window: the engine process cannot read GPU buffers back (${readbackRefused}).` };
  }
  if (saved === IN_WINDOW && inWindowAdapter === null) return { choice: 'auto', why: null };
  return { choice: saved, why: null };
}

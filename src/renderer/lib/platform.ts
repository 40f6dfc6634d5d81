/**
 * What differs between the Electron window and the browser host: files (native dialogs vs.
 * downloads and a file picker), autosave (the app's data folder vs. localStorage), the title,
 * and menu commands. The stores use this and never ask which one they run in.
 */
import { modelSpecSchema } from '../../shared/report-schema.ts';
import type { ExportTarget, MenuCommand, Recovery } from '../../shared/ipc.ts';
import { decodeBase64 } from '../../shared/base64.ts';
import type { ModelSpec } from '../../shared/spec.ts';
import { describeIssues } from '../../shared/protocol.ts';

export interface OpenedFile {
  kind?: 'design';
  spec: ModelSpec;
  /** Full path in Electron; null in the browser, which never sees paths. */
  path: string | null;
  name: string;
}

/** An .onnx file, still to be imported by the engine. */
export interface OpenedOnnxFile {
  kind: 'onnx';
  data: Uint8Array;
  path: string | null;
  name: string;
}

export const isOnnxFileName = (name: string): boolean => name.toLowerCase().endsWith('.onnx');

export interface Platform {
  readonly kind: 'web' | 'electron';
  openDesign(): Promise<OpenedFile | OpenedOnnxFile | null>;
  /** Electron's Open Recent; the browser has no paths to reopen. */
  openRecent(path: string): Promise<OpenedFile | OpenedOnnxFile | null>;
  /** Whether the engine transport carries binary messages (a MessagePort) or only JSON text (the serve WebSocket). */
  readonly binaryTransport: boolean;
  /** Saves to `path` (Electron, when known and not `saveAs`) or asks where. Returns where it went. */
  saveDesign(spec: ModelSpec, path: string | null, saveAs: boolean): Promise<{ path: string | null } | null>;
  /** `base64`: `text` is base64 of binary bytes (an ONNX model), written as those bytes. */
  saveExport(text: string, defaultName: string, mime: string, format: ExportTarget, opts?: { base64?: boolean }): Promise<boolean>;
  autosave(state: { spec: ModelSpec; path: string | null; dirty: boolean } | null): void;
  recovery(): Promise<Recovery>;
  setTitle(name: string, dirty: boolean, path: string | null): void;
  onMenu(listener: (command: MenuCommand) => void): void;
}

/** A design file's text -> spec, with the reason when it is not one. */
export function parseDesignFile(text: string, fileName: string): ModelSpec {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${fileName} is not JSON: ${(err as Error).message}`);
  }
  const parsed = modelSpecSchema.safeParse(value);
  if (!parsed.success) throw new Error(`${fileName} is not a convscope/v1 design: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

export function designFileName(name: string): string {
  const base = name.trim().replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'design';
  return `${base}.convscope.json`;
}

export function designText(spec: ModelSpec): string {
  return `${JSON.stringify(spec, null, 2)}\n`;
}

const AUTOSAVE_KEY = 'convscope.autosave';

function download(content: string | Uint8Array, name: string, mime: string): void {
  const url = URL.createObjectURL(new Blob([content as BlobPart], { type: mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The hidden file input the Open command clicks (present so that automation can set files on it). */
function fileInput(): HTMLInputElement {
  let input = document.querySelector<HTMLInputElement>('input[data-testid="open-file-input"]');
  if (!input) {
    input = document.createElement('input');
    input.type = 'file';
    input.accept = '.json,.onnx,application/json';
    input.dataset.testid = 'open-file-input';
    input.style.display = 'none';
    document.body.append(input);
  }
  return input;
}

function webPlatform(): Platform {
  return {
    kind: 'web',
    openDesign() {
      const input = fileInput();
      input.value = '';
      return new Promise((resolve, reject) => {
        input.onchange = async () => {
          const file = input.files?.[0];
          if (!file) return resolve(null);
          try {
            if (isOnnxFileName(file.name)) return resolve({ kind: 'onnx', data: new Uint8Array(await file.arrayBuffer()), path: null, name: file.name });
            resolve({ spec: parseDesignFile(await file.text(), file.name), path: null, name: file.name });
          } catch (err) {
            reject(err);
          }
        };
        input.click();
      });
    },
    async saveDesign(spec) {
      download(designText(spec), designFileName(spec.name), 'application/json');
      return { path: null };
    },
    async saveExport(text, defaultName, mime, _format, opts) {
      download(opts?.base64 ? decodeBase64(text) : text, defaultName, mime);
      return true;
    },
    async openRecent() {
      return null;
    },
    binaryTransport: false,
    autosave(state) {
      try {
        if (state && state.dirty) localStorage.setItem(AUTOSAVE_KEY, JSON.stringify({ spec: state.spec, path: state.path, savedAt: new Date().toISOString() }));
        else localStorage.removeItem(AUTOSAVE_KEY);
      } catch {
        // Storage full or disabled: autosave is a safety net, not a feature to fail on.
      }
    },
    async recovery() {
      const text = localStorage.getItem(AUTOSAVE_KEY);
      if (!text) return null;
      try {
        const v = JSON.parse(text) as { spec: unknown; path: string | null; savedAt: string };
        const spec = modelSpecSchema.parse(v.spec);
        return { spec, path: v.path ?? null, savedAt: String(v.savedAt) };
      } catch {
        localStorage.removeItem(AUTOSAVE_KEY);
        return null;
      }
    },
    setTitle(name, dirty) {
      document.title = `${dirty ? '• ' : ''}${name} — Convscope`;
    },
    onMenu() {
      // The browser has no native menu: the toolbar and keyboard shortcuts do the same.
    },
  };
}

function electronPlatform(api: NonNullable<Window['convscope']>): Platform {
  return {
    kind: 'electron',
    async openDesign() {
      return api.openDesign();
    },
    async openRecent(path) {
      return api.openRecent(path);
    },
    binaryTransport: true,
    async saveDesign(spec, path, saveAs) {
      return api.saveDesign({ spec, path, saveAs });
    },
    async saveExport(text, defaultName, _mime, format, opts) {
      return (await api.saveExport({ text, defaultName, format, ...(opts?.base64 ? { base64: true } : {}) })) !== null;
    },
    autosave(state) {
      api.autosave(state);
    },
    recovery: () => api.recovery(),
    setTitle(name, dirty, path) {
      document.title = `${dirty ? '• ' : ''}${name} — Convscope`;
      api.setTitle({ name, dirty, path });
    },
    onMenu: (listener) => api.onMenu(listener),
  };
}

export const platform: Platform = typeof window !== 'undefined' && window.convscope ? electronPlatform(window.convscope) : webPlatform();

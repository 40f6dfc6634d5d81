/**
 * The Electron IPC contract between main and the workbench window (through the preload script):
 * file dialogs, saving, autosave, menu commands and engine status. Engine traffic itself does not
 * pass here; it has its own MessagePort (see protocol.ts). Both sides validate with these schemas.
 */
import { z } from 'zod';
import { EXPORT_FORMATS, type EngineStatusMessage, type ExportFormat } from './protocol.ts';
import { modelSpecSchema } from './report-schema.ts';
import type { ModelSpec } from './spec.ts';

export const IPC = {
  openDesign: 'convscope:open-design',
  openRecent: 'convscope:open-recent',
  saveDesign: 'convscope:save-design',
  saveExport: 'convscope:save-export',
  setTitle: 'convscope:set-title',
  autosave: 'convscope:autosave',
  recovery: 'convscope:recovery',
  recentFiles: 'convscope:recent-files',
  menu: 'convscope:menu',
  engineStatus: 'convscope:engine-status',
  enginePort: 'convscope:engine-port',
  gpuReadback: 'convscope:gpu-readback',
} as const;

/** Main's start-up answer: can Dawn read GPU buffers back in the engine process (src/main/gpu-probe.ts)? */
export const gpuReadbackSchema = z.object({ readback: z.enum(['works', 'refused', 'no-adapter']), reason: z.string() });
export type GpuReadback = z.infer<typeof gpuReadbackSchema>;

export const openedDesignSchema = z.object({ spec: modelSpecSchema, path: z.string(), name: z.string() });
export type OpenedDesign = z.infer<typeof openedDesignSchema>;

/** An .onnx file main read for the window: its bytes go on to the engine (`import_onnx`), which makes the design. */
export const openedOnnxSchema = z.object({ kind: z.literal('onnx'), path: z.string(), name: z.string(), data: z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'expected bytes (a Uint8Array)') });
export type OpenedOnnx = z.infer<typeof openedOnnxSchema>;

/** What File > Open (and Open Recent) gives the window: a design, or an ONNX model still to import. */
export const openedFileSchema = z.union([openedOnnxSchema, openedDesignSchema]);
export type OpenedAny = z.infer<typeof openedFileSchema>;

/** What Export writes besides the report formats: the design as JSON, or as ONNX (binary, base64 over IPC). */
export const DESIGN_EXPORTS = ['design', 'onnx'] as const;
export type ExportTarget = ExportFormat | (typeof DESIGN_EXPORTS)[number];
const exportTarget = z.union([z.enum(EXPORT_FORMATS), z.enum(DESIGN_EXPORTS)]);

export const saveDesignRequestSchema = z.object({ spec: modelSpecSchema, path: z.string().nullable(), saveAs: z.boolean() });
export type SaveDesignRequest = z.infer<typeof saveDesignRequestSchema>;

export const saveExportRequestSchema = z.object({
  text: z.string(),
  /** `text` is base64 of binary bytes (an ONNX model). */
  base64: z.boolean().optional(),
  defaultName: z.string().min(1).max(255),
  format: exportTarget,
});
export type SaveExportRequest = z.infer<typeof saveExportRequestSchema>;

export const savedSchema = z.object({ path: z.string() }).nullable();

export const titleSchema = z.object({ name: z.string(), dirty: z.boolean(), path: z.string().nullable() });
export type TitleState = z.infer<typeof titleSchema>;

export const autosaveSchema = z.object({ spec: modelSpecSchema, path: z.string().nullable(), dirty: z.boolean() }).nullable();
export type AutosaveState = z.infer<typeof autosaveSchema>;

export const recoverySchema = z.object({ spec: modelSpecSchema, path: z.string().nullable(), savedAt: z.string() }).nullable();
export type Recovery = z.infer<typeof recoverySchema>;

export const recentFilesSchema = z.array(z.string());

export const MENU_COMMANDS = ['new', 'open', 'save', 'save-as', 'undo', 'redo', 'presets', 'run', 'toggle-theme'] as const;
export const menuCommandSchema = z.discriminatedUnion('command', [
  z.object({ command: z.enum(MENU_COMMANDS) }),
  z.object({ command: z.literal('export'), format: exportTarget }),
  z.object({ command: z.literal('open-recent'), path: z.string() }),
]);
export type MenuCommand = z.infer<typeof menuCommandSchema>;

/** What the preload script exposes to the workbench as `window.convscope`. */
export interface DesktopApi {
  readonly platform: 'electron';
  openDesign(): Promise<OpenedAny | null>;
  openRecent(path: string): Promise<OpenedAny | null>;
  saveDesign(request: SaveDesignRequest): Promise<{ path: string } | null>;
  saveExport(request: SaveExportRequest): Promise<{ path: string } | null>;
  setTitle(state: TitleState): void;
  autosave(state: AutosaveState): void;
  recovery(): Promise<Recovery>;
  recentFiles(): Promise<string[]>;
  onMenu(listener: (command: MenuCommand) => void): void;
  /** Called with the latest status at once, then on every change. */
  onEngineStatus(listener: (status: EngineStatusMessage) => void): void;
  /**
   * Asks for the engine's MessagePort: the preload posts it (and every later one, after an engine
   * restart) to the window as `window.postMessage('convscope:engine-port', '*', [port])`.
   */
  connectEngine(): void;
  /**
   * Whether the engine process can read WebGPU buffers back (Electron's V8 memory cage may refuse
   * dawn.node's); resolves once main's start-up probe has answered.
   */
  gpuReadback(): Promise<GpuReadback>;
}

export type { ModelSpec };

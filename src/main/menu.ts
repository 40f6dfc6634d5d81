/**
 * The application menu as data: the same shape as Electron's MenuItemConstructorOptions, built
 * without Electron so tests can check every command and shortcut. Commands go to the focused
 * window (src/shared/ipc.ts MenuCommand); Electron's roles handle the standard edit and window items.
 */
import { basename } from 'node:path';
import type { MenuCommand } from '../shared/ipc.ts';
import { EXPORT_FORMATS, type ExportFormat } from '../shared/protocol.ts';

export interface MenuItem {
  label?: string;
  accelerator?: string;
  role?: string;
  type?: 'separator' | 'submenu' | 'normal';
  enabled?: boolean;
  submenu?: MenuItem[];
  click?: () => void;
}

export interface MenuContext {
  isMac: boolean;
  appName: string;
  recent: string[];
  send(command: MenuCommand): void;
  clearRecent(): void;
}

const EXPORT_LABELS: Record<ExportFormat, string> = {
  html: 'HTML Report…',
  json: 'JSON Report…',
  csv: 'CSV Table…',
  md: 'Markdown Table…',
  trace: 'Chrome Trace…',
};

export function menuTemplate(ctx: MenuContext): MenuItem[] {
  const cmd = (command: MenuCommand) => () => ctx.send(command);
  const sep: MenuItem = { type: 'separator' };
  const file: MenuItem = {
    label: 'File',
    submenu: [
      { label: 'New Design', accelerator: 'CmdOrCtrl+N', click: cmd({ command: 'new' }) },
      { label: 'Open…', accelerator: 'CmdOrCtrl+O', click: cmd({ command: 'open' }) },
      {
        label: 'Open Recent',
        submenu: [
          ...ctx.recent.map((path): MenuItem => ({ label: basename(path), click: cmd({ command: 'open-recent', path }) })),
          ...(ctx.recent.length ? [sep] : []),
          { label: 'Clear Recent', enabled: ctx.recent.length > 0, click: () => ctx.clearRecent() },
        ],
      },
      { label: 'Presets…', accelerator: 'CmdOrCtrl+Shift+P', click: cmd({ command: 'presets' }) },
      sep,
      { label: 'Save', accelerator: 'CmdOrCtrl+S', click: cmd({ command: 'save' }) },
      { label: 'Save As…', accelerator: 'CmdOrCtrl+Shift+S', click: cmd({ command: 'save-as' }) },
      {
        label: 'Export Report',
        submenu: [
          ...EXPORT_FORMATS.map((format): MenuItem => ({
            label: EXPORT_LABELS[format],
            accelerator: format === 'html' ? 'CmdOrCtrl+E' : undefined,
            click: cmd({ command: 'export', format }),
          })),
          sep,
          { label: 'Design (.convscope.json)…', click: cmd({ command: 'export', format: 'design' }) },
          { label: 'Design as ONNX (.onnx)…', click: cmd({ command: 'export', format: 'onnx' }) },
        ],
      },
      sep,
      ctx.isMac ? { role: 'close' } : { role: 'quit' },
    ],
  };
  const edit: MenuItem = {
    label: 'Edit',
    submenu: [
      // Undo/redo act on the design (every field edit is a design edit), not on one text field.
      { label: 'Undo', accelerator: 'CmdOrCtrl+Z', click: cmd({ command: 'undo' }) },
      { label: 'Redo', accelerator: ctx.isMac ? 'Shift+Cmd+Z' : 'Ctrl+Y', click: cmd({ command: 'redo' }) },
      sep,
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      { role: 'selectAll' },
    ],
  };
  const run: MenuItem = {
    label: 'Run',
    submenu: [{ label: 'Run Profile', accelerator: 'CmdOrCtrl+Enter', click: cmd({ command: 'run' }) }],
  };
  const view: MenuItem = {
    label: 'View',
    submenu: [
      { label: 'Toggle Dark Theme', accelerator: 'CmdOrCtrl+Shift+L', click: cmd({ command: 'toggle-theme' }) },
      sep,
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      sep,
      { role: 'togglefullscreen' },
      { role: 'toggleDevTools' },
    ],
  };
  const windowMenu: MenuItem = { role: 'windowMenu' };
  const appMenu: MenuItem[] = ctx.isMac
    ? [{ label: ctx.appName, submenu: [{ role: 'about' }, sep, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, sep, { role: 'quit' }] }]
    : [];
  return [...appMenu, file, edit, run, view, windowMenu];
}

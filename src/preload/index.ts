/**
 * The preload script: the one typed API the workbench sees (`window.convscope`, DesktopApi in
 * src/shared/ipc.ts). Everything that arrives from main is validated before the page sees it.
 * The engine's MessagePort is posted into the page (contextBridge cannot carry ports), only
 * once the page asks for it, so it is never lost before the page listens.
 */
import { contextBridge, ipcRenderer } from 'electron';
import {
  gpuReadbackSchema,
  IPC,
  menuCommandSchema,
  openedFileSchema,
  recentFilesSchema,
  recoverySchema,
  savedSchema,
  type AutosaveState,
  type DesktopApi,
  type MenuCommand,
} from '../shared/ipc.ts';
import { engineMessageSchema, type EngineStatusMessage } from '../shared/protocol.ts';

let latestStatus: EngineStatusMessage | null = null;
const statusListeners = new Set<(s: EngineStatusMessage) => void>();
const menuListeners = new Set<(c: MenuCommand) => void>();
let pendingPort: MessagePort | null = null;
let pageWantsPort = false;

function forwardPort(): void {
  if (!pageWantsPort || !pendingPort) return;
  window.postMessage('convscope:engine-port', '*', [pendingPort]);
  pendingPort = null;
}

ipcRenderer.on(IPC.engineStatus, (_e, raw: unknown) => {
  const parsed = engineMessageSchema.safeParse(raw);
  if (!parsed.success || parsed.data.type !== 'engine') return;
  latestStatus = parsed.data;
  for (const l of statusListeners) l(parsed.data);
});

ipcRenderer.on(IPC.enginePort, (e) => {
  if (!e.ports[0]) return;
  pendingPort = e.ports[0];
  forwardPort();
});

ipcRenderer.on(IPC.menu, (_e, raw: unknown) => {
  const parsed = menuCommandSchema.safeParse(raw);
  if (!parsed.success) return;
  for (const l of menuListeners) l(parsed.data);
});

const api: DesktopApi = {
  platform: 'electron',
  async openDesign() {
    return openedFileSchema.nullable().parse(await ipcRenderer.invoke(IPC.openDesign));
  },
  async openRecent(path) {
    return openedFileSchema.nullable().parse(await ipcRenderer.invoke(IPC.openRecent, path));
  },
  async saveDesign(request) {
    return savedSchema.parse(await ipcRenderer.invoke(IPC.saveDesign, request));
  },
  async saveExport(request) {
    return savedSchema.parse(await ipcRenderer.invoke(IPC.saveExport, request));
  },
  setTitle(state) {
    ipcRenderer.send(IPC.setTitle, state);
  },
  autosave(state: AutosaveState) {
    ipcRenderer.send(IPC.autosave, state);
  },
  async recovery() {
    return recoverySchema.parse(await ipcRenderer.invoke(IPC.recovery));
  },
  async recentFiles() {
    return recentFilesSchema.parse(await ipcRenderer.invoke(IPC.recentFiles));
  },
  onMenu(listener) {
    menuListeners.add(listener);
  },
  onEngineStatus(listener) {
    statusListeners.add(listener);
    if (latestStatus) listener(latestStatus);
  },
  connectEngine() {
    pageWantsPort = true;
    forwardPort();
  },
  async gpuReadback() {
    return gpuReadbackSchema.parse(await ipcRenderer.invoke(IPC.gpuReadback));
  },
};

contextBridge.exposeInMainWorld('convscope', api);

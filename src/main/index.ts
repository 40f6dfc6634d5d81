/**
 * Electron main: windows, menus, dialogs, and the engine's utilityProcess. Thin on purpose: the
 * logic lives in plain modules beside this file (files, autosave, recent, menu, title, security,
 * engine-process) and in src/host/supervisor.ts, which tests run without Electron.
 */
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  MessageChannelMain,
  protocol,
  session,
  shell,
  utilityProcess,
  type IpcMainEvent,
  type IpcMainInvokeEvent,
  type MenuItemConstructorOptions,
  type MessagePortMain,
  type OpenDialogOptions,
  type SaveDialogOptions,
} from 'electron';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mimeOf, resolveStatic } from '../host/static.ts';
import { EngineSupervisor } from '../host/supervisor.ts';
import {
  autosaveSchema,
  IPC,
  saveDesignRequestSchema,
  saveExportRequestSchema,
  titleSchema,
  type GpuReadback,
  type MenuCommand,
  type TitleState,
} from '../shared/ipc.ts';
import type { EngineStatusMessage } from '../shared/protocol.ts';
import { Autosave } from './autosave.ts';
import { utilityEngine } from './engine-process.ts';
import { engineArgs, probeReadback, readbackForWindow } from './gpu-probe.ts';
import { DESIGN_EXTENSION, designFileName, readOpenable, withExtension, writeAtomic, writeDesign } from './files.ts';
import { menuTemplate } from './menu.ts';
import { RecentFiles } from './recent.ts';
import { APP_SCHEME, APP_URL, isAppUrl, isExternalLink, WINDOW_CSP } from './security.ts';
import { windowTitle } from './title.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = app.getAppPath();
const RENDERER = join(HERE, '../renderer');
const PRELOAD = join(HERE, '../preload/index.cjs');
const ENGINE_ENTRY = join(ROOT, 'src/engine/host/utility.mjs');
const PROBE_ENTRY = join(ROOT, 'src/engine/backends/webgpu/readback-probe-process.mjs');
const DEV_SERVER = process.env.ELECTRON_RENDERER_URL;

if (process.env.CONVSCOPE_USER_DATA) app.setPath('userData', process.env.CONVSCOPE_USER_DATA);

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

let win: BrowserWindow | null = null;
let title: TitleState = { name: 'Untitled', dirty: false, path: null };
let closeAfterSave = false;
let status: EngineStatusMessage = { type: 'engine', state: 'starting', message: 'starting the engine', restarts: 0 };

let engineArguments: string[] = [];
let answerReadback: (r: GpuReadback) => void = () => undefined;
/** The start-up probe's answer for the window (it asks as soon as it loads, maybe before the answer). */
const gpuReadback = new Promise<GpuReadback>((resolve) => (answerReadback = resolve));
const engine = utilityEngine<MessagePortMain>(
  (entry, args) => utilityProcess.fork(entry, args, { serviceName: 'Convscope engine', stdio: 'inherit' }),
  ENGINE_ENTRY,
  () => {
    const { port1, port2 } = new MessageChannelMain();
    return { engine: port1, window: port2 };
  },
  () => engineArguments,
);

const supervisor = new EngineSupervisor({
  spawn: (events) => engine.spawn(events),
  deliver(message) {
    if (message.type !== 'engine') return;
    status = message;
    win?.webContents.send(IPC.engineStatus, message);
    if (message.state === 'ready') handPort();
  },
});

/** Gives the window a fresh MessagePort straight to the engine (results never pass through main). */
function handPort(): void {
  if (!win || win.webContents.isLoading()) return;
  const port = engine.connect();
  if (port) win.webContents.postMessage(IPC.enginePort, null, [port]);
}

function send(command: MenuCommand): void {
  (BrowserWindow.getFocusedWindow() ?? win)?.webContents.send(IPC.menu, command);
}

let recent: RecentFiles;
let autosave: Autosave;

function buildMenu(): void {
  const template = menuTemplate({
    isMac: process.platform === 'darwin',
    appName: app.name,
    recent: recent.get(),
    send,
    clearRecent: () => {
      recent.clear();
      buildMenu();
    },
  });
  // menu.ts builds the same shape without importing Electron; only `role` is typed more loosely there.
  Menu.setApplicationMenu(Menu.buildFromTemplate(template as unknown as MenuItemConstructorOptions[]));
  app.clearRecentDocuments?.();
  for (const p of recent.get()) app.addRecentDocument?.(p);
}

function remember(path: string): void {
  recent.add(path);
  buildMenu();
}

function createWindow(): void {
  win = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 1024,
    minHeight: 640,
    title: 'Convscope',
    show: false,
    backgroundColor: '#111318',
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  const w = win;
  w.once('ready-to-show', () => w.show());
  w.webContents.on('did-finish-load', () => {
    w.webContents.send(IPC.engineStatus, status);
    handPort();
  });
  // A crashed renderer reloads; the autosave offers the design back.
  w.webContents.on('render-process-gone', (_e, details) => {
    if (details.reason !== 'clean-exit') setTimeout(() => !w.isDestroyed() && w.reload(), 500);
  });
  w.on('close', (e) => {
    if (!title.dirty || closeAfterSave) return;
    const choice = dialog.showMessageBoxSync(w, {
      type: 'warning',
      buttons: ['Save', "Don't Save", 'Cancel'],
      defaultId: 0,
      cancelId: 2,
      message: `Save the changes to ${title.path ?? title.name}?`,
      detail: 'Your changes will be lost if you do not save them.',
    });
    if (choice === 1) {
      autosave.clear();
      return;
    }
    e.preventDefault();
    if (choice === 0) {
      closeAfterSave = true;
      send({ command: 'save' });
    }
  });
  w.on('closed', () => {
    win = null;
  });
  void w.loadURL(DEV_SERVER ?? APP_URL);
}

/** IPC is answered only for the app's own pages (not for anything a bug might have navigated to). */
function fromApp(e: IpcMainInvokeEvent | IpcMainEvent): BrowserWindow | null {
  const url = e.senderFrame?.url ?? '';
  if (!isAppUrl(url, DEV_SERVER)) return null;
  return BrowserWindow.fromWebContents(e.sender);
}

function openDialog(w: BrowserWindow | null, options: OpenDialogOptions) {
  return w ? dialog.showOpenDialog(w, options) : dialog.showOpenDialog(options);
}

function saveDialog(w: BrowserWindow | null, options: SaveDialogOptions) {
  return w ? dialog.showSaveDialog(w, options) : dialog.showSaveDialog(options);
}

function registerIpc(): void {
  const refuse = () => {
    throw new Error('refused: not the workbench');
  };
  ipcMain.handle(IPC.gpuReadback, (e) => {
    if (!fromApp(e)) refuse();
    return gpuReadback;
  });
  ipcMain.handle(IPC.openDesign, async (e) => {
    const w = fromApp(e) ?? refuse();
    const r = await openDialog(w, {
      title: 'Open design or ONNX model',
      properties: ['openFile'],
      filters: [
        { name: 'Convscope design or ONNX model', extensions: ['json', 'onnx'] },
        { name: 'Convscope design', extensions: ['json'] },
        { name: 'ONNX model', extensions: ['onnx'] },
      ],
    });
    if (r.canceled || !r.filePaths[0]) return null;
    const opened = readOpenable(r.filePaths[0]);
    remember(opened.path);
    return opened;
  });
  ipcMain.handle(IPC.openRecent, (e, path: unknown) => {
    if (!fromApp(e)) refuse();
    if (typeof path !== 'string' || !recent.get().includes(path)) return null;
    try {
      return readOpenable(path);
    } catch (err) {
      recent.remove(path);
      buildMenu();
      throw err;
    }
  });
  ipcMain.handle(IPC.saveDesign, async (e, raw: unknown) => {
    const w = fromApp(e) ?? refuse();
    const req = saveDesignRequestSchema.parse(raw);
    let path = req.saveAs ? null : req.path;
    if (!path) {
      const r = await saveDialog(w, { title: 'Save design', defaultPath: req.path ?? designFileName(req.spec.name), filters: [{ name: 'Convscope design', extensions: ['json'] }] });
      if (r.canceled || !r.filePath) return null;
      path = withExtension(r.filePath, DESIGN_EXTENSION);
    }
    writeDesign(path, req.spec);
    remember(path);
    autosave.clear();
    return { path };
  });
  ipcMain.handle(IPC.saveExport, async (e, raw: unknown) => {
    const w = fromApp(e) ?? refuse();
    const req = saveExportRequestSchema.parse(raw);
    const ext = req.defaultName.split('.').pop()!;
    const r = await saveDialog(w, { title: 'Export', defaultPath: req.defaultName, filters: [{ name: ext.toUpperCase(), extensions: [ext] }] });
    if (r.canceled || !r.filePath) return null;
    writeAtomic(r.filePath, req.base64 ? Buffer.from(req.text, 'base64') : req.text);
    return { path: r.filePath };
  });
  ipcMain.on(IPC.setTitle, (e, raw: unknown) => {
    const w = fromApp(e);
    const parsed = titleSchema.safeParse(raw);
    if (!w || !parsed.success) return;
    title = parsed.data;
    w.setTitle(windowTitle(title));
    w.setDocumentEdited?.(title.dirty);
    if (title.path) w.setRepresentedFilename?.(title.path);
    if (closeAfterSave && !title.dirty) w.close();
  });
  ipcMain.on(IPC.autosave, (e, raw: unknown) => {
    const parsed = autosaveSchema.safeParse(raw);
    if (fromApp(e) && parsed.success) autosave.update(parsed.data);
  });
  ipcMain.handle(IPC.recovery, (e) => (fromApp(e) ? autosave.recover() : null));
  ipcMain.handle(IPC.recentFiles, (e) => (fromApp(e) ? recent.get() : []));
}

function harden(): void {
  // Content comes from the app only: app://workbench/ serves the built renderer with its CSP.
  protocol.handle(APP_SCHEME, (request) => {
    const url = new URL(request.url);
    const file = url.host === 'workbench' ? resolveStatic(RENDERER, url.pathname) : null;
    if (!file) return new Response('not found', { status: 404 });
    return new Response(readFileSync(file), {
      headers: { 'Content-Type': mimeOf(file), 'Content-Security-Policy': WINDOW_CSP, 'X-Content-Type-Options': 'nosniff' },
    });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  if (DEV_SERVER) {
    session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [WINDOW_CSP.replace("connect-src 'self'", `connect-src 'self' ${DEV_SERVER.replace(/^http/, 'ws')}`)] } });
    });
  }
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-navigate', (e, url) => {
      if (!isAppUrl(url, DEV_SERVER)) e.preventDefault();
    });
    contents.on('will-redirect', (e, url) => {
      if (!isAppUrl(url, DEV_SERVER)) e.preventDefault();
    });
    contents.on('will-attach-webview', (e) => e.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      if (isExternalLink(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (win?.isMinimized()) win.restore();
    win?.focus();
  });
  void app.whenReady().then(() => {
    recent = new RecentFiles(join(app.getPath('userData'), 'recent.json'));
    autosave = new Autosave(join(app.getPath('userData'), 'autosave.convscope.json'));
    harden();
    registerIpc();
    buildMenu();
    createWindow();
    // The window comes up at once (engine "starting"); the engine waits for the GPU answer.
    void probeReadback((entry) => utilityProcess.fork(entry, [], { serviceName: 'Convscope GPU probe', stdio: 'ignore' }), PROBE_ENTRY).then((answer) => {
      engineArguments = engineArgs(answer);
      answerReadback(readbackForWindow(answer));
      supervisor.start();
    });
    app.on('activate', () => {
      if (!win) createWindow();
    });
  });
  app.on('window-all-closed', () => {
    supervisor.stop();
    app.quit();
  });
}

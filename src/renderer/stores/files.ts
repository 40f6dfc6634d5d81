/** File commands shared by the toolbar, the keyboard and Electron's menu. */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ExportTarget, Recovery } from '../../shared/ipc.ts';
import { MAX_ONNX_TEXT_BYTES, type ExportFormat } from '../../shared/protocol.ts';
import { encodeBase64 } from '../../shared/base64.ts';
import type { Report } from '../../shared/report.ts';
import { emptyDesign } from '../lib/design.ts';
import { designFileName, designText, platform, type OpenedFile, type OpenedOnnxFile } from '../lib/platform.ts';
import { useDesign } from './design.ts';
import { useEngine } from './engine.ts';
import { useRuns } from './runs.ts';
import { useUi } from './ui.ts';

export const FORMAT_LABELS: Record<ExportFormat, string> = {
  html: 'HTML report',
  json: 'JSON report',
  csv: 'CSV table',
  md: 'Markdown table',
  trace: 'Chrome trace',
};

export const useFiles = defineStore('files', () => {
  const design = useDesign();
  const runs = useRuns();
  const ui = useUi();
  const engine = useEngine();
  const recovery = ref<Recovery>(null);

  const fail = (what: string) => (err: unknown) => ui.notify(`${what}: ${(err as Error).message}`, 'error', 9000);

  /**
   * Runs `proceed`, which replaces the design, at once when the design is saved; otherwise asks
   * first (Discard / Save first / Cancel), since the changes are in no file. `what` names the act.
   */
  function unlessUnsaved(what: string, proceed: () => void | Promise<void>): void | Promise<void> {
    if (!design.dirty) return proceed();
    ui.ask({
      title: `Discard the unsaved changes to "${design.spec.name}"?`,
      lines: [`${what} replaces the design in the editor, and its changes since it was last saved are in no file.`, 'Undo (Ctrl+Z) brings it back while this window stays open.'],
      confirmLabel: 'Discard changes',
      alternative: {
        label: 'Save first',
        run: async () => {
          await save(false);
          if (!design.dirty) await proceed();
        },
      },
      run: proceed,
    });
  }

  function newDesign(): void | Promise<void> {
    return unlessUnsaved('A new design', () => {
      design.load(emptyDesign());
      ui.tab = 'layers';
    });
  }

  function open(): void | Promise<void> {
    return unlessUnsaved('Opening a design', openNow);
  }

  /**
   * An ONNX file becomes a design of primitive layers, imported by the engine. The file's weights
   * stay behind: runs use seeded weights of the same shapes, since no count and no timing depends
   * on the values. The open design is replaced only once the import has succeeded.
   */
  async function openOnnx(file: OpenedOnnxFile): Promise<void> {
    if (!platform.binaryTransport && file.data.length > MAX_ONNX_TEXT_BYTES) {
      throw new Error(
        `${file.name} is ${Math.round(file.data.length / 2 ** 20)} MiB; the browser workbench sends ONNX files up to ${MAX_ONNX_TEXT_BYTES / 2 ** 20} MiB to its engine. ` +
          `Open it in the desktop app, or inspect it with \`convscope inspect ${file.name}\`.`,
      );
    }
    const data = platform.binaryTransport ? file.data : encodeBase64(file.data);
    const { spec, layers } = await engine.api().request('import_onnx', { name: file.name, data });
    // Not the .onnx path: saving must write a .convscope.json, never over the model file.
    design.load(spec);
    ui.tab = 'layers';
    ui.notify(`imported ${file.name}: ${layers} layers. The file's weights are not kept; runs use seeded weights of the same shapes.`, 'info', 9000);
  }

  async function openFile(file: OpenedFile | OpenedOnnxFile): Promise<void> {
    if (file.kind === 'onnx') return openOnnx(file);
    design.load(file.spec, { path: file.path });
    ui.notify(`opened ${file.name}`);
  }

  /** Open failures get a dialog: the reason (not JSON, truncated, an unsupported op) must be read, and the design is untouched. */
  const openFailed = (err: unknown) =>
    ui.showAlert({ title: 'Could not open the file', message: (err as Error).message, note: 'The open design was not changed.' });

  async function openNow(): Promise<void> {
    try {
      const file = await platform.openDesign();
      if (file) await openFile(file);
    } catch (err) {
      openFailed(err);
    }
  }

  async function openRecent(path: string): Promise<void> {
    try {
      const file = await platform.openRecent(path);
      if (file) await openFile(file);
    } catch (err) {
      openFailed(err);
    }
  }

  async function save(saveAs = false): Promise<void> {
    try {
      const where = await platform.saveDesign(design.spec, design.path, saveAs);
      if (!where) return;
      design.markSaved(where.path);
      ui.notify(where.path ? `saved ${where.path}` : `saved ${designFileName(design.spec.name)}`);
    } catch (err) {
      fail('could not save the design')(err);
    }
  }

  /** The report an export renders: the run shown in Results, else the live inspection. */
  function exportReport(): Report | null {
    return runs.shown?.analysis.report ?? design.analysis?.report ?? null;
  }

  async function exportAs(format: ExportTarget): Promise<void> {
    try {
      if (format === 'design') {
        await platform.saveExport(designText(design.spec), designFileName(design.spec.name), 'application/json', 'design');
        return;
      }
      if (format === 'onnx') {
        const r = await engine.api().request('export_onnx', { spec: design.spec });
        const name = designFileName(design.spec.name).replace(/\.convscope\.json$/, r.extension);
        if (await platform.saveExport(r.base64, name, r.mime, 'onnx', { base64: true })) ui.notify(`exported the design as ONNX (${Math.round(r.bytes / 1024)} KiB, seeded weights)`);
        return;
      }
      const report = exportReport();
      if (!report) throw new Error('there is no report yet: fix the design or run a profile');
      const r = await engine.routed().request('export', { report, format });
      const base = designFileName(report.model.name).replace(/\.convscope\.json$/, '');
      if (await platform.saveExport(r.text, `${base}${r.extension}`, r.mime, format)) ui.notify(`exported the ${FORMAT_LABELS[format]}`);
    } catch (err) {
      fail(`could not export the ${format === 'design' ? 'design' : format === 'onnx' ? 'design as ONNX' : FORMAT_LABELS[format]}`)(err);
    }
  }

  function openPreset(id: string): void | Promise<void> {
    return unlessUnsaved('Opening a preset', () => openPresetNow(id));
  }

  async function openPresetNow(id: string): Promise<void> {
    try {
      const { spec } = await engine.api().request('preset', { preset: id });
      design.load(spec);
      ui.presetsOpen = false;
      ui.tab = 'layers';
      ui.notify(`opened preset ${spec.name} (Undo brings back the previous design)`);
    } catch (err) {
      fail(`could not open preset ${id}`)(err);
    }
  }

  /**
   * The autosave offered back after a crash. The session (stores/session.ts) has usually put the
   * same design back already; only a different one (the session could not be written) is offered.
   */
  async function checkRecovery(): Promise<void> {
    const found = await platform.recovery().catch(() => null);
    recovery.value = found && JSON.stringify(found.spec) !== JSON.stringify(design.spec) ? found : null;
  }

  function restoreRecovery(): void {
    if (!recovery.value) return;
    design.load(recovery.value.spec, { path: recovery.value.path, clean: false });
    recovery.value = null;
  }

  function discardRecovery(): void {
    recovery.value = null;
    platform.autosave(null);
  }

  return { recovery, unlessUnsaved, newDesign, open, openRecent, save, exportAs, exportReport, openPreset, checkRecovery, restoreRecovery, discardRecovery };
});

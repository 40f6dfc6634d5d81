/**
 * The engine connection: status, the catalog (palette, presets) and the backends it offers. Two
 * transports: the engine process (always; catalog, presets, suggestions) and, once WebGPU in this
 * window is chosen, the page's own engine Worker, which then takes inspect/profile/cancel/export.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { BackendsResult, Catalog, CatalogEntry, EngineStatusMessage } from '../../shared/protocol.ts';
import { softwareRenderer, type AdapterLike } from '../../shared/backend-label.ts';
import { EngineClient } from '../connection/client.ts';
import { adapterName, type AdapterInfoLike } from '../connection/route.ts';
import { messagePortTransport, startEngineWorker, webSocketTransport, type Transport } from '../connection/transport.ts';
import { workerTransport } from '../connection/worker-transport.ts';
import { useUi } from './ui.ts';

function transport(): Transport {
  if (window.convscope) return messagePortTransport();
  const url = new URL('engine', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return webSocketTransport(url.href);
}

export const useEngine = defineStore('engine', () => {
  const status = ref<EngineStatusMessage>({ type: 'engine', state: 'starting', message: 'connecting to the engine', restarts: 0 });
  const catalog = shallowRef<Catalog | null>(null);
  const backends = shallowRef<BackendsResult | null>(null);
  const problems = ref<string[]>([]);
  const ready = computed(() => status.value.state === 'ready');
  /** The adapter navigator.gpu gives this page (null: none, or not asked yet). */
  const windowAdapter = ref<string | null>(null);
  /** The software renderer behind that adapter ("SwiftShader"), null for a hardware GPU. */
  const windowSoftware = ref<string | null>(null);
  /** In Electron: why the engine process cannot read GPU buffers back (null: it can, or not Electron). */
  const readbackRefused = ref<string | null>(null);
  /** Which transport inspect/profile/cancel/export use (the backend picker sets it). */
  const via = ref<'process' | 'window'>('process');
  /** What the engine is busy with on first use (compiling its kernels), null when nothing. */
  const notice = ref<string | null>(null);
  let client: EngineClient | null = null;
  let windowClient: EngineClient | null = null;
  let gpuChecked: Promise<void> | null = null;
  let readyWaiters: (() => void)[] = [];

  const entries = computed(() => new Map<string, CatalogEntry>([...(catalog.value?.ops ?? []), ...(catalog.value?.blocks ?? [])].map((e) => [`${e.kind}:${e.name}`, e])));

  function entry(layer: { op?: string; block?: string }): CatalogEntry | undefined {
    return layer.op !== undefined ? entries.value.get(`op:${layer.op}`) : layer.block !== undefined ? entries.value.get(`block:${layer.block}`) : undefined;
  }

  async function loadBasics(): Promise<void> {
    const c = api();
    try {
      catalog.value = await c.request('catalog', {});
    } catch (err) {
      problems.value.push(`could not load the catalog: ${(err as Error).message}`);
    }
    try {
      backends.value = await c.request('backends', {});
    } catch (err) {
      problems.value.push(`could not list the backends: ${(err as Error).message}`);
    }
  }

  function connect(): void {
    if (client) return;
    client = new EngineClient(transport());
    client.onProblem((text) => problems.value.push(text));
    client.onNotice((n) => {
      if (n.phase === 'start') notice.value = n.text;
      else {
        notice.value = null;
        useUi().notify(n.text, 'info', 6000);
      }
    });
    let incident: string | null = null;
    client.onStatus((s) => {
      const wasReady = status.value.state === 'ready';
      status.value = s;
      if (s.state === 'restarting' || s.state === 'failed') incident = s.message;
      if (s.state === 'ready') {
        for (const w of readyWaiters.splice(0)) w();
        if (!wasReady) void loadBasics();
        if (incident) useUi().notify(`The engine was restarted: ${incident.replace(/; restarting in .*$/, '')}. Your design was kept.`, 'info', 9000);
        incident = null;
      }
    });
  }

  function api(): EngineClient {
    if (!client) connect();
    return client!;
  }

  /** The engine Worker's client, started on first use. */
  function windowApi(): EngineClient {
    if (!windowClient) {
      windowClient = new EngineClient(workerTransport(startEngineWorker()));
      windowClient.onProblem((text) => problems.value.push(`engine Worker: ${text}`));
    }
    return windowClient;
  }

  /** The client for requests that follow the picker (inspect, profile, cancel, export). */
  function routed(): EngineClient {
    return via.value === 'window' ? windowApi() : api();
  }

  /** Asks, once, for an adapter in this page and (in Electron) whether main's engine reads back. */
  function checkGpu(): Promise<void> {
    gpuChecked ??= (async () => {
      const gpu = (navigator as { gpu?: { requestAdapter(): Promise<{ info?: AdapterInfoLike } | null> } }).gpu;
      const [adapter, readback] = await Promise.all([
        gpu?.requestAdapter().catch(() => null) ?? Promise.resolve(null),
        window.convscope?.gpuReadback().catch(() => null) ?? Promise.resolve(null),
      ]);
      windowAdapter.value = adapter ? adapterName(adapter.info) : null;
      windowSoftware.value = adapter ? softwareRenderer(adapter as AdapterLike) : null;
      readbackRefused.value = readback?.readback === 'refused' ? readback.reason : null;
    })();
    return gpuChecked;
  }

  /** Resolves when the engine is up (at once if it is). */
  function whenReady(): Promise<void> {
    if (ready.value) return Promise.resolve();
    return new Promise((resolve) => readyWaiters.push(resolve));
  }

  function reset(): void {
    readyWaiters = [];
  }

  return { status, catalog, backends, problems, ready, windowAdapter, windowSoftware, readbackRefused, via, notice, entry, connect, api, windowApi, routed, checkGpu, whenReady, reset };
});

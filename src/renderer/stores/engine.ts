/** The engine connection: status, the catalog (palette, presets) and the backends it offers. */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { BackendsResult, Catalog, CatalogEntry, EngineStatusMessage } from '../../shared/protocol.ts';
import { EngineClient } from '../connection/client.ts';
import { messagePortTransport, webSocketTransport, type Transport } from '../connection/transport.ts';
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
  let client: EngineClient | null = null;
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

  /** Resolves when the engine is up (at once if it is). */
  function whenReady(): Promise<void> {
    if (ready.value) return Promise.resolve();
    return new Promise((resolve) => readyWaiters.push(resolve));
  }

  function reset(): void {
    readyWaiters = [];
  }

  return { status, catalog, backends, problems, ready, entry, connect, api, whenReady, reset };
});

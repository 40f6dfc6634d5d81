/**
 * A test Worker for test/webgpu.browser.test.ts: runs single op cases on the WebGPU backend that
 * the engine Worker uses (worker/backends.ts, navigator.gpu), planning each op here with the
 * engine's own code. Bundled by the test (helpers/worker-build.ts), never shipped.
 *
 * In:  { type: 'kernels' } | { type: 'run', id, op, params, inShapes, inputs, weights, seed }
 *      (`weights` by declared name; one not given is the seeded one, as in ops.data.test.ts)
 * Out: { type: 'kernels', ops, adapter, timing } | { type: 'ran', id, shape, output } | { type: 'failed', id, message }
 */
import type { Backend } from '../../src/engine/backends/types.ts';
import { planNodeFor } from '../../src/engine/graph/plan.ts';
import { OPS } from '../../src/engine/ops/registry.ts';
import { makeWeight } from '../../src/engine/weights.ts';
import { browserBackends } from '../../src/engine/worker/backends.ts';
import type { ParamValue } from '../../src/shared/spec.ts';

interface RunMessage {
  type: 'run';
  id: number;
  op: string;
  params: Record<string, ParamValue>;
  inShapes: number[][];
  inputs: Float32Array[];
  weights: Record<string, Float32Array>;
  seed: number;
}

interface WorkerScope {
  postMessage(message: unknown, transfer?: ArrayBuffer[]): void;
  addEventListener(type: 'message', listener: (event: { data: { type: string } }) => void): void;
}
const scope = globalThis as unknown as WorkerScope;

let gpu: Promise<Backend> | null = null;
const backend = () => (gpu ??= browserBackends().resolve('webgpu').then((r) => r.backend));

async function run(m: RunMessage): Promise<void> {
  try {
    const node = planNodeFor(m.op, m.params, m.inShapes);
    const weights = node.weights.map((w) => m.weights[w.name] ?? makeWeight(m.seed, node.id, w));
    const output = await (await backend()).runOp(node, m.inputs, weights, m.seed);
    scope.postMessage({ type: 'ran', id: m.id, shape: node.outShape, output }, [output.buffer as ArrayBuffer]);
  } catch (err) {
    scope.postMessage({ type: 'failed', id: m.id, message: (err as Error).message });
  }
}

scope.addEventListener('message', (event) => {
  const m = event.data;
  if (m.type === 'run') void run(m as RunMessage);
  else if (m.type === 'kernels') {
    backend().then(
      (b) => scope.postMessage({ type: 'kernels', ops: [...OPS.values()].filter((op) => op.webgpu).map((op) => op.type).sort(), adapter: b.adapter, timing: b.timing }),
      (err: Error) => scope.postMessage({ type: 'kernels', ops: [], adapter: null, timing: null, error: err.message }),
    );
  }
});

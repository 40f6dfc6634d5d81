import { parentPort } from 'node:worker_threads';
import { getOp } from '../../ops/registry.ts';
import type { WorkItem } from './pool.ts';

parentPort!.on('message', ({ id, item }: { id: number; item: WorkItem }) => {
  try {
    const op = getOp(item.op);
    if (!op) throw new Error(`unknown op ${item.op}`);
    op.cpu.run(
      { inputs: item.inputs, inShapes: item.inShapes, weights: item.weights, out: item.out, outShape: item.outShape, attrs: item.attrs, seed: item.seed },
      item.start,
      item.end,
    );
    parentPort!.postMessage({ id });
  } catch (err) {
    parentPort!.postMessage({ id, error: `op "${item.node}" (${item.op}) failed on the CPU: ${(err as Error).message}` });
  }
});

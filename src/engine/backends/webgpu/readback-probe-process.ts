/**
 * Runs probeGpuReadback once and answers with its result: to an Electron utilityProcess's
 * parent (process.parentPort), to a child_process.fork parent (process.send), else as one JSON
 * line on stdout. Then it leaves; a probe that crashes never answers, which callers read as
 * `refused` (see readback-probe.ts).
 */
import { probeGpuReadback } from './readback-probe.ts';

interface ParentPort {
  postMessage(message: unknown): void;
}

const result = await probeGpuReadback();
const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (parentPort) {
  parentPort.postMessage(result);
  // Give the message time to leave before the process does.
  setTimeout(() => process.exit(0), 200);
} else if (process.send) {
  process.send(result, undefined, {}, () => process.disconnect());
} else {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

import type { ProgressEvent } from '../engine/profiler.ts';

const LABEL: Record<ProgressEvent['phase'], string> = { prepare: 'first run', warmup: 'warm-up', measure: 'measuring' };

/** A progress bar on stderr when it is a terminal; one line per phase change otherwise. */
export function progressReporter(stream: NodeJS.WriteStream = process.stderr, quiet = false) {
  let lastPhase = '';
  return {
    update(e: ProgressEvent) {
      if (quiet) return;
      if (stream.isTTY) {
        const width = 30;
        const filled = Math.round((e.done / Math.max(1, e.total)) * width);
        stream.write(`\r${LABEL[e.phase].padEnd(10)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${e.done}/${e.total}  `);
      } else if (e.phase !== lastPhase) {
        stream.write(`${LABEL[e.phase]}...\n`);
      }
      lastPhase = e.phase;
    },
    done() {
      if (!quiet && stream.isTTY) stream.write('\r\x1b[K');
    },
  };
}

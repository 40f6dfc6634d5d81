export { expandValues, parseSweep } from './definition.ts';
export { medianMs, runSweep, type SweepHost, type SweepProgressEvent, type SweepTiming } from './run.ts';
export { renderSweep, sweepFormatFromPath, SWEEP_OUTPUT_FORMATS, type SweepOutputFormat } from './render.ts';

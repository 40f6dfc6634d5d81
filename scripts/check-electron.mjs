#!/usr/bin/env node
// Run by `npm start` and `npm run dev` before electron-vite builds anything: without the Electron
// binary the build takes a minute and then dies with a stack trace; this says why in one line.
import { register } from 'tsx/esm/api';

register();
const { startProblem } = await import('../src/main/electron-binary.ts');
const problem = startProblem();
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
// electron-vite prints its own steps; this says what the first quiet stretch is.
process.stderr.write('convscope: building the app (electron-vite: main, preload, renderer; a minute or so the first time), then opening it...\n');

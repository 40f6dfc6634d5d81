/** The Electron binary check, shared with `npm start` (src/main/electron-binary.ts). */
export { ELECTRON_MISSING, electronBinary } from '../src/main/electron-binary.ts';

// The readback probe's own process (plain Node or an Electron utilityProcess); loads the
// TypeScript through tsx, as the engine's other entries do.
import { register } from 'tsx/esm/api';

register();
await import('./readback-probe-process.ts');

// Electron starts the utility process in its own Node; load the TypeScript engine through tsx.
import { register } from 'tsx/esm/api';

register();
await import('./utility.ts');

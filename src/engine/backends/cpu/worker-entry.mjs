// Worker threads start in plain Node; load the TypeScript worker through tsx, as the CLI does.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');

// Child processes start in plain Node; load the TypeScript engine through tsx, as the CLI does.
import { register } from 'tsx/esm/api';

register();
await import('./child.ts');

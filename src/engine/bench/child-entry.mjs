// A bench runner's process: plain Node, so the TypeScript loads through tsx, as the CLI's does.
import { register } from 'tsx/esm/api';

register();
const { runChild } = await import('./child.ts');
process.once('message', (req) => {
  runChild(req).then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`bench child: ${err?.stack ?? err}\n`);
      process.exit(1);
    },
  );
});
// The request is sent only once this listener exists: a message with no listener is dropped.
process.send({ type: 'hello' });

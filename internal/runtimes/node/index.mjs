// updraft's runtime interface client for nodejs* functions, started as
// `node /var/runtime/node/index.mjs` in /var/task (or ahead of need, as a
// runtime template: template.mjs). Written for updraft with
// Node's standard library only; it behaves like Lambda's Node.js runtime:
// the handler is loaded once per environment (init), then the loop in
// runtime.mjs serves one invocation at a time over the Runtime API.

import { toFormatted, UnhandledPromiseRejection } from './errors.mjs';
import { loadHandler } from './loader.mjs';
import { patchConsole } from './logging.mjs';
import { RapidClient } from './rapid.mjs';
import { Runtime, beforeExit } from './runtime.mjs';
import { installGlobal } from './stream.mjs';

if (process.env.UPDRAFT_TEMPLATE_FD) {
  // A runtime template: wait, started, for the function (template.mjs).
  (await import('./template.mjs')).serve();
}

const client = new RapidClient(process.env.AWS_LAMBDA_RUNTIME_API || '127.0.0.1:9001');
let runtime = null;

// Until the handler is loaded, an uncaught error is an init error; after
// that it fails the current invocation. Either way the process then exits.
function uncaught(err, code) {
  if (runtime) {
    runtime.uncaught(err, code);
    return;
  }
  const exit = () => process.exit(code);
  client.postInitError(err).then(exit, exit);
}

patchConsole();
process.on('uncaughtException', (err) => {
  console.error('Uncaught Exception', toFormatted(err));
  uncaught(err, 129);
});
process.on('unhandledRejection', (reason) => {
  const err = new UnhandledPromiseRejection(reason?.toString());
  err.reason = reason;
  console.error('Unhandled Promise Rejection', toFormatted(err));
  uncaught(err, 128);
});
process.on('beforeExit', () => beforeExit.invoke());
installGlobal();

let loaded = null;
try {
  const handler = await loadHandler(process.env.LAMBDA_TASK_ROOT || process.cwd(), process.env._HANDLER || '');
  loaded = new Runtime(client, handler);
} catch (err) {
  console.error('Uncaught Exception', toFormatted(err));
  uncaught(err, 129);
}
if (loaded) {
  runtime = loaded;
  runtime.scheduleIteration();
}

// Runtime template mode ("stem") of updraft's Node.js runtime.
//
// updraft keeps this process started inside a pre-started sandbox before
// any function is assigned to it: Node's start-up, this runtime client
// and the built-in modules most handlers load first are paid ahead, not
// in a cold start. It writes to an output pipe of the sandbox's own from
// the start (Node cannot move its descriptors), which becomes the
// function's log once it is assigned. When a function is assigned, the
// sandbox init has mounted its code (/var/task), layers (/opt) and /tmp
// and moved this process into the function's cgroup and CPU set, and
// sends one packet on the descriptor UPDRAFT_TEMPLATE_FD:
// {"env": [...]}, the function's complete environment. serve() makes
// process.env exactly that and the working directory /var/task, and
// returns; index.mjs then continues as in a fresh start (console set-up,
// the init phase with its errors, the invoke loop).
//
// updraft hands a function to a template only when the variables Node
// reads at start-up (NODE_*, TZ, LANG, LC_*, UV_THREADPOOL_SIZE, ...) are
// the template's, and the heap limits (from the memory size) are fixed
// per template. What differs from a fresh start, as Lambda documents for
// SnapStart: the process started earlier (process.uptime(), its CPU
// time), /proc/self/environ shows the template's start-up environment,
// and the built-in modules below are loaded. Nothing is shared with
// another environment: each template is its own process, used once.

import fs from 'node:fs';
// Built-in modules handlers (and the AWS SDK) load first; built-ins
// cannot be shadowed by a function's own files.
import 'node:crypto';
import 'node:https';
import 'node:zlib';
import 'node:url';

const STARTUP_NAMES = new Set(['LANG', 'LANGUAGE', 'TZ', 'HOME', 'GLIBC_TUNABLES', 'UV_THREADPOOL_SIZE']);
const STARTUP_PREFIXES = ['NODE_', 'LC_', 'LD_', 'MALLOC_', 'OPENSSL_', 'PYTHON'];

function startupVariable(name) {
  return STARTUP_NAMES.has(name) || STARTUP_PREFIXES.some((p) => name.startsWith(p));
}

function readPacket(fd, buf) {
  for (;;) {
    try {
      return fs.readSync(fd, buf, 0, buf.length, null);
    } catch (err) {
      if (err.code !== 'EAGAIN' && err.code !== 'EINTR') throw err;
    }
  }
}

export function serve() {
  const fd = Number(process.env.UPDRAFT_TEMPLATE_FD);
  fs.writeSync(fd, 'ready');
  const buf = Buffer.alloc(1 << 20);
  const n = readPacket(fd, buf);
  fs.closeSync(fd);
  if (n === 0) process.exit(0); // the sandbox was discarded before use
  const env = new Map();
  for (const kv of JSON.parse(buf.toString('utf8', 0, n)).env) {
    const i = kv.indexOf('=');
    env.set(i < 0 ? kv : kv.slice(0, i), i < 0 ? '' : kv.slice(i + 1));
  }
  for (const name of new Set([...Object.keys(process.env), ...env.keys()])) {
    if (startupVariable(name) && process.env[name] !== env.get(name)) {
      // updraft never sends one; a fresh start is the only safe answer.
      process.stderr.write(`updraft runtime template: start-up variable ${name} differs, cannot run this function\n`);
      process.exit(1);
    }
  }
  for (const name of Object.keys(process.env)) delete process.env[name];
  for (const [name, value] of env) process.env[name] = value;
  process.chdir(env.get('LAMBDA_TASK_ROOT') || '/var/task');
}

// The Node.js probe of TestRuntimeTemplates: what a function can see of
// its process, to compare a runtime started from a template with one
// started anew.
import fs from 'node:fs';

let count = 0;
const leakedAtInit = globalThis.UPDRAFT_LEAK ?? null;

const STATUS_FIELDS = new Set(['Uid', 'Gid', 'Groups', 'NoNewPrivs', 'Seccomp', 'CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']);

function status() {
  const out = {};
  for (const line of fs.readFileSync('/proc/self/status', 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (STATUS_FIELDS.has(line.slice(0, i))) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

export const handler = async (event, context) => {
  count += 1;
  if (event.action === 'leak') {
    globalThis.UPDRAFT_LEAK = event.value;
    process.env.UPDRAFT_LEAK = event.value;
    fs.writeFileSync('/tmp/updraft-leak', event.value);
    return 'ok';
  }
  if (event.action === 'peek') {
    const read = (p) => { try { return fs.readFileSync(p, 'utf8'); } catch { return null; } };
    return { global: globalThis.UPDRAFT_LEAK ?? null, atInit: leakedAtInit, environ: process.env.UPDRAFT_LEAK ?? null, tmp: read('/tmp/updraft-leak') };
  }
  console.log('probe log line');
  fs.writeSync(1, 'probe fd 1 line\n');
  return {
    count,
    pid: process.pid,
    ppid: process.ppid,
    cwd: process.cwd(),
    env: { ...process.env },
    argv: process.argv,
    execArgv: process.execArgv,
    status: status(),
    tmp: fs.readdirSync('/tmp').sort(),
    fds: fs.readdirSync('/proc/self/fd').length,
    functionName: context.functionName,
    memory: context.memoryLimitInMB,
    tz: Intl.DateTimeFormat().resolvedOptions().timeZone,
  };
};

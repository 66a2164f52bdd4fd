// Console output tagged as Lambda's Node.js runtime tags it: one record per
// call, "<ISO time>\t<request id>\t<LEVEL>\t<message>", newlines inside a
// message turned into \r so the record stays one line, AWS_LAMBDA_LOG_LEVEL
// filtering, and AWS_LAMBDA_LOG_FORMAT=JSON for structured records.

import util from 'node:util';
import { intoError, toFormatted } from './errors.mjs';

const levels = {
  TRACE: { name: 'TRACE', priority: 1 },
  DEBUG: { name: 'DEBUG', priority: 2 },
  INFO: { name: 'INFO', priority: 3 },
  WARN: { name: 'WARN', priority: 4 },
  ERROR: { name: 'ERROR', priority: 5 },
  FATAL: { name: 'FATAL', priority: 6 },
};

// The request id lives on a global symbol, as in Lambda, so that libraries
// which read it (Powertools) find it. Before the first invocation it is
// undefined and lines say "undefined", as Lambda's do.
const REQUEST_ID = Symbol.for('aws.lambda.runtime.requestId');

export function setRequestId(id) {
  globalThis[REQUEST_ID] = id;
}

const NL = /\n/g;

function writeLine(line) {
  // stdout is a pipe, which Node writes synchronously on Linux: the record
  // is in the pipe before the runtime posts its answer.
  process.stdout.write(line.replace(NL, '\r') + '\n');
}

function textRecord(level, args) {
  return `${new Date().toISOString()}\t${globalThis[REQUEST_ID]}\t${level.name}\t${util.format(...args)}`;
}

function errorFields(err) {
  return {
    errorType: err?.constructor?.name ?? 'UnknownError',
    errorMessage: err.message,
    stackTrace: typeof err.stack === 'string' ? err.stack.split('\n') : [],
  };
}

function jsonReplacer(_k, v) {
  return v instanceof Error ? Object.assign(errorFields(v), v) : v;
}

function jsonRecord(level, args) {
  const rec = { timestamp: new Date().toISOString(), level: level.name, requestId: globalThis[REQUEST_ID] };
  if (args.length === 1) {
    rec.message = args[0];
    try {
      return JSON.stringify(rec, jsonReplacer);
    } catch {
      rec.message = util.format(args[0]);
      return JSON.stringify(rec);
    }
  }
  rec.message = util.format(...args);
  const err = args.find((a) => a instanceof Error);
  if (err) Object.assign(rec, errorFields(err));
  return JSON.stringify(rec);
}

// logError writes the runtime's own error records ("Invoke Error",
// "Uncaught Exception"); set by patchConsole.
export let logError = (msg, err) => console.error(msg, toFormatted(err));

// patchConsole replaces the console methods (Lambda does the same).
export function patchConsole() {
  const json = (process.env.AWS_LAMBDA_LOG_FORMAT || '').toUpperCase() === 'JSON';
  const format = json ? jsonRecord : textRecord;
  const min = levels[(process.env.AWS_LAMBDA_LOG_LEVEL || '').toUpperCase()] ?? levels.TRACE;
  const nop = () => {};
  const at = (level) => (level.priority >= min.priority ? (...args) => writeLine(format(level, args)) : nop);
  console.trace = at(levels.TRACE);
  console.debug = at(levels.DEBUG);
  console.info = at(levels.INFO);
  console.log = console.info;
  console.warn = at(levels.WARN);
  console.error = at(levels.ERROR);
  console.fatal = (...args) => writeLine(format(levels.FATAL, args));
  logError = json
    ? (_msg, err) => console.error(intoError(err))
    : (msg, err) => console.error(msg, toFormatted(err));
}

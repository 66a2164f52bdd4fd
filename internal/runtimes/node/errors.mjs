// Error types of the runtime and the shapes Lambda's Node.js runtime gives
// errors: the document posted to the Runtime API ({errorType, errorMessage,
// trace}) and the JSON appended to "Invoke Error" log lines.

import util from 'node:util';

// runtimeError makes an Error class whose instances are named
// Runtime.<short>, as Lambda's own errors are (Runtime.ImportModuleError, ...).
function runtimeError(short, wrap = false) {
  const cls = class extends Error {
    constructor(reason) {
      // Wrapping errors keep the cause's "Type: message" as their message,
      // which is why Lambda reports "Error: Cannot find module 'x'".
      super(wrap ? String(reason) : reason);
    }
  };
  Object.defineProperty(cls, 'name', { value: short });
  Object.defineProperty(cls.prototype, 'name', { value: 'Runtime.' + short, writable: true, configurable: true });
  return cls;
}

export const ImportModuleError = runtimeError('ImportModuleError', true);
export const UserCodeSyntaxError = runtimeError('UserCodeSyntaxError', true);
export const HandlerNotFound = runtimeError('HandlerNotFound');
export const MalformedHandlerName = runtimeError('MalformedHandlerName');
export const MalformedStreamingHandler = runtimeError('MalformedStreamingHandler');
export const InvalidStreamingOperation = runtimeError('InvalidStreamingOperation');
export const NodeJsExit = runtimeError('NodeJsExit');
export const UnhandledPromiseRejection = runtimeError('UnhandledPromiseRejection');

// looksLikeError accepts error-shaped objects from other realms or libraries.
function looksLikeError(v) {
  return Boolean(v && typeof v.name === 'string' && v.name && typeof v.message === 'string' &&
    v.message && typeof v.stack === 'string' && v.stack);
}

// toRapidResponse is the error document for /error and /init/error. A
// thrown non-Error becomes {errorType: typeof value, errorMessage: String(value)}.
export function toRapidResponse(err) {
  try {
    if (util.types.isNativeError(err) || looksLikeError(err)) {
      return {
        errorType: String(err.name),
        errorMessage: String(err.message),
        trace: typeof err.stack === 'string' ? err.stack.split('\n') : [],
      };
    }
    return { errorType: typeof err, errorMessage: err.toString(), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage: 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

// withEnumerableProperties makes name, message, code and stack (which are
// not enumerable) visible to JSON.stringify, next to the error's own fields.
function withEnumerableProperties(v) {
  if (!(v instanceof Error)) return v;
  const out = Object.assign({ errorType: v.name, errorMessage: v.message, code: v.code }, v);
  if (typeof v.stack === 'string') out.stack = v.stack.split('\n');
  return out;
}

// toFormatted is the tab-prefixed JSON Lambda appends to "Invoke Error",
// "Uncaught Exception" and "Unhandled Promise Rejection" log lines.
export function toFormatted(err) {
  try {
    return '\t' + JSON.stringify(err, (_k, v) => withEnumerableProperties(v));
  } catch {
    return '\t' + JSON.stringify(toRapidResponse(err));
  }
}

// intoError wraps a thrown non-Error for the JSON log format.
export function intoError(err) {
  return err instanceof Error ? err : new Error(err);
}

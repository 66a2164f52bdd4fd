// The invoke loop: take an event from /next, call the handler with Lambda's
// context, post the answer, repeat. Lambda's programming model for Node.js:
//
//   - An async handler (or one returning a promise) answers when its promise
//     settles.
//   - A callback handler answers when it calls callback(err, result) (or
//     context.done/succeed/fail). While context.callbackWaitsForEmptyEventLoop
//     is true (the default) a successful answer is held until the event loop
//     is empty ('beforeExit'); an error is posted at once.
//   - A handler that neither returns a promise nor calls back answers null
//     once the event loop is empty; an async one whose promise can never
//     settle fails with Runtime.NodeJsExit.
//   - A streaming handler (awslambda.streamifyResponse) gets a writable
//     stream and answers by ending it.

import { NodeJsExit } from './errors.mjs';
import { logError, setRequestId } from './logging.mjs';
import { HANDLER_HIGHWATERMARK, ResponseStream, isStreaming } from './stream.mjs';

// beforeExit holds the one action to run when the event loop empties.
let onEmpty = null;
export const beforeExit = {
  set(fn) { onEmpty = fn; },
  reset() { onEmpty = null; },
  invoke() { const fn = onEmpty; if (fn) fn(); },
};

function isPromise(v) {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof v.then === 'function';
}

function parseJSONHeader(v) {
  if (v === undefined) return undefined;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}

// serialize is the answer's JSON; undefined answers null, as in Lambda.
function serialize(result) {
  return JSON.stringify(result === undefined ? null : result) ?? 'null';
}

const env = process.env;

export class Runtime {
  constructor(client, handler) {
    this.client = client;
    this.handler = handler;
    this.streaming = isStreaming(handler);
    this.highWaterMark = handler[HANDLER_HIGHWATERMARK];
    this.isAsync = handler.constructor?.name === 'AsyncFunction';
    // current is the invocation an uncaught exception is reported against.
    this.current = null;
  }

  scheduleIteration() {
    setImmediate(() => {
      this.handleOnce().catch((err) => this.fatal(err));
    });
  }

  // fatal reports an error the loop itself hit (the Runtime API refused
  // /next, say) and exits, as Lambda's runtime does.
  fatal(err) {
    console.log(`Unexpected Top Level Error: ${err}`);
    this.uncaught(err, 129);
  }

  // uncaught reports an exception or rejection nobody handled against the
  // current invocation and exits; the next invoke starts a new environment.
  uncaught(err, code) {
    const inv = this.current;
    if (!inv || inv.reported) process.exit(code);
    inv.reported = true;
    const exit = () => process.exit(code);
    if (inv.stream) {
      // The stream holds the one connection: the error goes in its trailers.
      inv.stream.fail(err).then(exit, exit);
    } else {
      this.client.postError(inv.id, err).then(exit, exit);
    }
  }

  context(headers, inv) {
    const deadline = Number(headers['lambda-runtime-deadline-ms']);
    const trace = headers['lambda-runtime-trace-id'];
    if (trace) env._X_AMZN_TRACE_ID = trace;
    else delete env._X_AMZN_TRACE_ID;
    const ctx = {
      get callbackWaitsForEmptyEventLoop() { return inv.waitForEmptyLoop; },
      set callbackWaitsForEmptyEventLoop(v) { inv.waitForEmptyLoop = v; },
      functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
      functionName: env.AWS_LAMBDA_FUNCTION_NAME,
      memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
      clientContext: parseJSONHeader(headers['lambda-runtime-client-context']),
      identity: parseJSONHeader(headers['lambda-runtime-cognito-identity']),
      invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
      awsRequestId: inv.id,
      getRemainingTimeInMillis: () => deadline - Date.now(),
    };
    if (headers['lambda-runtime-aws-tenant-id'] !== undefined) ctx.tenantId = headers['lambda-runtime-aws-tenant-id'];
    return ctx;
  }

  async handleOnce() {
    const { body, headers } = await this.client.next();
    const id = headers['lambda-runtime-aws-request-id'];
    setRequestId(id);
    const inv = { id, done: false, reported: false, waitForEmptyLoop: true, stream: null };
    this.current = inv;
    if (this.streaming) return this.invokeStreaming(inv, body, headers);
    return this.invokeBuffered(inv, body, headers);
  }

  // answer posts the result (or the error) once and schedules the next
  // iteration when the Runtime API has acknowledged it.
  answer(inv, err, result) {
    if (inv.done) {
      console.error('Invocation has already been reported as done. Cannot call complete more than once per invocation.');
      return;
    }
    inv.done = true;
    beforeExit.reset();
    let post;
    if (err !== undefined && err !== null) {
      logError('Invoke Error', err);
      post = this.client.postError(inv.id, err);
    } else {
      let json;
      try {
        json = serialize(result);
      } catch {
        const e = new Error('Unable to stringify response body');
        logError('Invoke Error', e);
        post = this.client.postError(inv.id, e);
      }
      if (!post) post = this.client.postResponse(inv.id, json);
    }
    inv.reported = true;
    post.then(() => this.scheduleIteration(), (e) => this.fatal(e));
  }

  invokeBuffered(inv, body, headers) {
    const ctx = this.context(headers, inv);
    const done = (err, result) => this.answer(inv, err, result);
    const callback = (err, result) => {
      if ((err !== undefined && err !== null) || !inv.waitForEmptyLoop) {
        done(err, result);
        return;
      }
      // Hold the answer until everything the handler started has finished.
      beforeExit.set(() => setImmediate(() => done(null, result)));
    };
    ctx.done = done;
    ctx.succeed = (result) => done(null, result);
    ctx.fail = (err) => done(err === undefined || err === null ? 'handled' : err);
    // With nothing left to run and no answer: a sync handler that never
    // called back answers null; an async one can no longer settle.
    beforeExit.set(() => {
      if (this.isAsync) {
        const e = new NodeJsExit('Error: Runtime exited without providing a reason');
        done(e);
      } else {
        done(null, null);
      }
    });
    try {
      const result = this.handler(JSON.parse(body), ctx, callback);
      if (isPromise(result)) {
        result.then((v) => done(null, v), (e) => done(e === undefined || e === null ? 'handled' : e));
      }
    } catch (err) {
      done(err === undefined || err === null ? 'handled' : err);
    }
  }

  async invokeStreaming(inv, body, headers) {
    const stream = new ResponseStream(this.client, inv.id, this.highWaterMark);
    inv.stream = stream;
    const ctx = this.context(headers, inv);
    beforeExit.set(() => this.scheduleIteration());
    const next = () => {
      inv.done = inv.reported = true;
      beforeExit.reset();
      if (inv.waitForEmptyLoop) beforeExit.set(() => setImmediate(() => this.scheduleIteration()));
      else this.scheduleIteration();
    };
    const fail = async (err) => {
      logError('Invoke Error', err);
      try {
        await stream.fail(err);
      } catch (e) {
        return this.fatal(e);
      }
      next();
    };
    try {
      const result = this.handler(JSON.parse(body), stream, ctx);
      if (!isPromise(result)) return fail('Streaming does not support non-async handlers.');
      if ((await result) !== undefined) console.warn('Streaming handlers ignore return values.');
      // The answer is complete when the handler has ended the stream and
      // the Runtime API has acknowledged it.
      await stream.done;
      if (!stream.writableEnded) return fail('Response stream is not finished.');
      next();
    } catch (err) {
      return fail(err ?? 'handled');
    }
  }
}

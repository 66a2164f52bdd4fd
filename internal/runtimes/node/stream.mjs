// Response streaming: the awslambda global (streamifyResponse and
// HttpResponseStream) and the writable stream a streaming handler gets.
// Each write goes out at once as a chunk of a chunked POST /response
// ("Lambda-Runtime-Function-Response-Mode: streaming"); an error after the
// stream started is sent in the trailers Lambda-Runtime-Function-Error-Type
// and Lambda-Runtime-Function-Error-Body (base64 of the error document).

import { Writable } from 'node:stream';
import { InvalidStreamingOperation, MalformedStreamingHandler, toRapidResponse } from './errors.mjs';
import { headerSafe } from './rapid.mjs';

export const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
export const HANDLER_HIGHWATERMARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const STREAM_RESPONSE = 'response';
const HTTP_INTEGRATION = 'application/vnd.awslambda.http-integration-response';

// isStreaming reports whether handler was wrapped by streamifyResponse.
export function isStreaming(handler) {
  const mode = handler[HANDLER_STREAMING];
  if (mode === undefined || mode === null || mode === false) return false;
  if (mode === STREAM_RESPONSE) return true;
  throw new MalformedStreamingHandler('Only response streaming is supported.');
}

// ResponseStream is the stream handed to a streaming handler.
export class ResponseStream extends Writable {
  constructor(client, id, highWaterMark) {
    super(highWaterMark ? { highWaterMark } : {});
    const { req, done } = client.responseRequest(id, 'application/octet-stream');
    this._req = req;
    // done resolves with the server's answer once the request has ended.
    this.done = done;
    done.catch(() => {}); // awaited by the runtime; never an unhandled rejection
    this._started = false;
    this._failed = false;
    // Set by HttpResponseStream.from: writes the prelude before the body.
    this._onBeforeFirstWrite = undefined;
  }

  setContentType(contentType) {
    if (this._started) throw new InvalidStreamingOperation('Cannot set content-type, too late.');
    this._req.setHeader('Content-Type', headerSafe(contentType));
  }

  _start() {
    if (this._started) return;
    this._started = true;
    if (typeof this._onBeforeFirstWrite === 'function') {
      this._onBeforeFirstWrite((chunk) => this._req.write(chunk));
    }
  }

  write(chunk, encoding, cb) {
    // Lambda's stream takes any value and writes non-binary ones as JSON.
    if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) chunk = JSON.stringify(chunk);
    return super.write(chunk, encoding, cb);
  }

  _write(chunk, _encoding, cb) {
    this._start();
    this._req.write(chunk, (err) => cb(err || undefined));
  }

  _final(cb) {
    this._start();
    this._req.end(() => cb());
  }

  _destroy(err, cb) {
    if (err && !this._failed) this._req.destroy(err);
    cb(err);
  }

  // fail ends the stream with err in the trailers, whatever was written.
  fail(err) {
    if (this._failed) return this.done;
    this._failed = true;
    const doc = toRapidResponse(err);
    const req = this._req;
    if (!req.writableEnded && !req.destroyed) {
      try {
        req.addTrailers({
          'Lambda-Runtime-Function-Error-Type': headerSafe(doc.errorType) || 'Unhandled',
          'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(doc)).toString('base64'),
        });
      } catch {
        // A header the server refuses is worse than no trailers.
      }
      req.end();
    }
    if (!this.destroyed) this.destroy();
    return this.done;
  }
}

// HttpResponseStream.from turns a response stream into an HTTP-shaped one
// (function URLs): the JSON prelude and 8 NUL bytes precede the body.
export class HttpResponseStream {
  static from(stream, prelude) {
    stream.setContentType(HTTP_INTEGRATION);
    const json = JSON.stringify(prelude);
    stream._onBeforeFirstWrite = (write) => {
      write(json);
      write(new Uint8Array(8));
    };
    return stream;
  }
}

// installGlobal defines globalThis.awslambda, unless
// AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA asks Lambda not to.
export function installGlobal() {
  const off = process.env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA;
  if (off === '1' || off === 'true') return;
  globalThis.awslambda = {
    streamifyResponse(handler, options) {
      handler[HANDLER_STREAMING] = STREAM_RESPONSE;
      if (typeof options?.highWaterMark === 'number') {
        handler[HANDLER_HIGHWATERMARK] = parseInt(options.highWaterMark, 10);
      }
      return handler;
    },
    HttpResponseStream,
  };
}

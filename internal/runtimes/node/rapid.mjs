// The Runtime API client: /next, /response, /error and /init/error over
// one keep-alive connection ("AWS Lambda runtime API", runtimes-api.html).

import http from 'node:http';
import { toRapidResponse } from './errors.mjs';

const PREFIX = '/2018-06-01/runtime';
const ERROR_TYPE = 'Lambda-Runtime-Function-Error-Type';

// headerSafe keeps a header value within what node:http accepts.
export function headerSafe(v) {
  return String(v).replace(/[^\t\x20-\x7e]/g, '');
}

export class RapidClient {
  constructor(hostPort) {
    const i = hostPort.lastIndexOf(':');
    this.hostname = hostPort.slice(0, i).replace(/^\[|\]$/g, '');
    this.port = Number(hostPort.slice(i + 1));
    // One socket, kept alive: every call reuses the connection, and an idle
    // socket is unref'd by the agent, so it never keeps the event loop
    // alive (callbackWaitsForEmptyEventLoop relies on that). No timeout:
    // the environment is frozen while /next waits.
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  // request sends one request and resolves with {status, headers, body}.
  // A request that fails on a reused keep-alive socket before any answer
  // (the server closed it while idle) is retried once on a new one.
  request(method, path, headers, body, retried = false) {
    return new Promise((resolve, reject) => {
      const req = http.request({
        agent: this.agent, hostname: this.hostname, port: this.port, method, path, headers,
      }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', (err) => {
        if (req.reusedSocket && !retried && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
          this.request(method, path, headers, body, true).then(resolve, reject);
        } else {
          reject(err);
        }
      });
      req.end(body);
    });
  }

  // next waits for the next invocation: {body: string, headers}.
  async next() {
    const res = await this.request('GET', PREFIX + '/invocation/next', {});
    if (res.status !== 200) {
      throw new Error(`Runtime API /next answered ${res.status}: ${res.body.toString()}`);
    }
    return { body: res.body.toString('utf8'), headers: res.headers };
  }

  // postResponse posts an already serialized JSON result.
  postResponse(id, json) {
    const body = Buffer.from(json, 'utf8');
    return this.request('POST', `${PREFIX}/invocation/${encodeURIComponent(id)}/response`, {
      'Content-Type': 'application/json',
      'Content-Length': body.length,
    }, body);
  }

  // postError reports a function error. The header is "Unhandled" (which
  // the server does not take as a type) so the document's errorType, such
  // as OrderError, becomes the invocation's error type.
  postError(id, err) {
    return this.postErrorDocument(`${PREFIX}/invocation/${encodeURIComponent(id)}/error`, toRapidResponse(err), 'Unhandled');
  }

  // postInitError reports a failed init; Runtime.* types go in the header.
  postInitError(err) {
    const doc = toRapidResponse(err);
    const type = /^Runtime\.[A-Z][A-Za-z]+$/.test(doc.errorType) ? doc.errorType : 'Unhandled';
    return this.postErrorDocument(`${PREFIX}/init/error`, doc, type);
  }

  postErrorDocument(path, doc, type) {
    const body = Buffer.from(JSON.stringify(doc), 'utf8');
    return this.request('POST', path, {
      'Content-Type': 'application/json',
      'Content-Length': body.length,
      [ERROR_TYPE]: type,
    }, body);
  }

  // responseRequest opens a streamed /response: chunked body, errors in
  // trailers. The caller writes to and ends the returned request; done
  // resolves with the server's answer.
  responseRequest(id, contentType) {
    let settle;
    const done = new Promise((resolve, reject) => { settle = { resolve, reject }; });
    const req = http.request({
      agent: this.agent, hostname: this.hostname, port: this.port, method: 'POST',
      path: `${PREFIX}/invocation/${encodeURIComponent(id)}/response`,
      headers: {
        'Lambda-Runtime-Function-Response-Mode': 'streaming',
        'Transfer-Encoding': 'chunked',
        'Trailer': 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body',
        'Content-Type': contentType,
      },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => settle.resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
      res.on('error', settle.reject);
    });
    req.on('error', settle.reject);
    return { req, done };
  }
}

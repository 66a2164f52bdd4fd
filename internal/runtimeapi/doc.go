// Package runtimeapi serves Lambda's Runtime API to the runtime process of one
// execution environment and turns it into a plain Go call: [Server.Invoke]
// hands an event to the runtime and returns what the runtime posted back.
//
// # Who calls it
//
// The pool builds one [Server] per execution environment with [New], puts
// [Server.Addr] into the runtime's AWS_LAMBDA_RUNTIME_API, starts the
// process (package sandbox), waits for [Server.WaitInit], and from then on
// calls [Server.Invoke] once per invocation. After Invoke returns it may wait
// for [Server.Parked] (or [Server.WaitParked]) before freezing the
// environment, and it calls [Server.Close] when the environment dies. The package knows nothing about
// processes, freezing, logs or the Lambda REST API; it only speaks the
// protocol documented in "AWS Lambda runtime API" (runtimes-api.html), paths
// under /2018-06-01/runtime/.
//
// # The protocol story
//
// The runtime drives everything with four calls, usually on one keep-alive
// HTTP connection:
//
//  1. GET /runtime/invocation/next long-polls for an event. The first call
//     ends the init phase ([Server.WaitInit] returns nil). The response is
//     200 with the payload as body (bytes passed through untouched) and the
//     Lambda-Runtime-* headers: request id, deadline in Unix milliseconds,
//     invoked function ARN, X-Ray trace header, and client context and
//     Cognito identity when present. There is no server-side timeout: the
//     environment is usually frozen while the runtime sits here.
//  2. POST /runtime/invocation/{id}/response posts the result: 202
//     {"status":"OK"}. A body over [Config.MaxResponseBytes] gets 413
//     RequestEntityTooLarge and the invocation completes as the function
//     error Function.ResponseSizeTooLarge, as in Lambda. A runtime that
//     declares the trailers Lambda-Runtime-Function-Error-Type/-Body (the Go
//     runtime client always does) and fills them in has reported a
//     mid-stream error; the invocation then completes as that error.
//  3. POST /runtime/invocation/{id}/error reports a function error: 202, and
//     the invocation completes with [Response.FunctionError] set.
//  4. POST /runtime/init/error reports a failed init before the first /next:
//     202, [Server.WaitInit] returns an [*InitError], and every later call
//     gets 403 (the runtime is expected to exit).
//
// The same listener serves the Extensions API under /2020-01-01/extension/
// (register, event/next, init/error, exit/error; see extensions.go). With
// extensions, init ends only once the runtime and every extension have
// called next ([Config.ExternalExtensions] must also have registered),
// extensions get an INVOKE event with every invocation, and [Server.Parked]
// waits for the runtime and every busy extension to be back in next, so
// extension work after the response delays freezing and reuse but not the
// caller's answer. [Server.Shutdown] sends SHUTDOWN before the environment
// is killed. Without extensions all of this costs one nil check per
// invocation, and extension requests never take the fast path.
//
// Anything else under the prefix is 404; a known path with the wrong method
// is 405 with an Allow header. Error bodies are always
// {"errorMessage":"…","errorType":"…"} with the types and messages of the
// AWS Runtime Interface Emulator (RIE): InvalidStateTransition (403, e.g. a
// second answer), InvalidRequestID (400, answer for an id that is not the
// outstanding invocation), InvalidFunctionResponseMode (400),
// RequestEntityTooLarge (413), TruncatedHTTPRequest (400).
//
// # States of one environment
//
// The server tracks at most one invocation at a time (Lambda's "one
// invocation at a time per execution environment"):
//
//	Started --/next--> Ready (parked) --Invoke--> Running --/response|/error--> ResponseSent --/next--> Ready …
//	Started --/init/error--> InitError (terminal)
//
// Invoke may also be called before the runtime's first /next (the event
// waits and is delivered by that /next) or while the runtime has not yet
// come back to /next (delivered by the next /next). A second concurrent
// Invoke fails with [ErrBusy].
//
// Choices where Lambda leaves room, written down so nobody re-derives them:
//
//   - /next while an invocation is outstanding re-delivers that same
//     invocation. This is what the RIE does (its RuntimeRunningState.Ready is
//     a no-op and the current InvokeRenderer renders the event again), and it
//     is also what makes a lost delivery harmless: if the runtime's
//     connection broke after the event was written into the socket, the
//     runtime reconnects, calls /next and gets the event again. While an
//     answer is being read, /next gets 403 InvalidStateTransition.
//   - A /next whose connection closes while parked takes nothing with it:
//     invocations are handed only to the one registered waiter, under the
//     lock, and a waiter that finds its request context done puts an event it
//     was handed back in the queue. An event whose write or flush fails is
//     put back too; one written into a connection that then breaks stays
//     delivered, and the runtime's next /next gets it again. When a new
//     /next arrives while an older one is still parked (the old connection
//     is dead but not yet noticed), the newer one wins and the older one
//     gets 403.
//   - An answer for an id other than the outstanding one is 400
//     InvalidRequestID and leaves the invocation outstanding (the RIE moves
//     its state machine first and then fails, which wedges the invocation).
//     An answer when nothing is outstanding is 403 InvalidStateTransition,
//     checked before the id, as in the RIE.
//   - Lambda-Runtime-Function-Error-Type is kept only when the whole value
//     matches (Runtime|Function)\.[A-Z][a-zA-Z]+ (the RIE matches a
//     substring; anchoring keeps odd header values out of logs and
//     reports). Otherwise the error document's errorType is used, and failing
//     that Function.Unknown (header started with "Function.") or
//     Runtime.Unknown. An empty or non-JSON error body is replaced by a
//     synthesized {"errorMessage","errorType"} document.
//   - Streaming (Lambda-Runtime-Function-Response-Mode: streaming, a
//     chunked body, a mid-stream error in the trailers) goes, for an
//     [Invocation] with a Stream (InvokeWithResponseStream), to that
//     writer as it arrives, piece by piece, from whichever goroutine reads
//     the answer (on the fast path Invoke's own); past
//     [Config.MaxStreamedResponseBytes] (Lambda's 200 MB) the stream is cut
//     and the invocation fails as Function.ResponseSizeTooLarge. Without a
//     Stream it is buffered under [Config.MaxResponseBytes], which is what
//     Lambda does for a RequestResponse Invoke of a streaming function.
//     Any other mode is 400 InvalidFunctionResponseMode and the invocation
//     fails with Runtime.InvalidResponseModeHeader. Invoke closes the
//     stream before it returns, so a handler still reading an abandoned
//     invocation's body never writes to the caller's writer afterwards; a
//     Write that fails (the client went away) makes the rest of the body be
//     read and dropped, and the runtime still gets its 202.
//
// # Connections and the fast path
//
// A warm invoke must cost about two loopback round trips (client to
// updraft, updraft to runtime and back). On small machines the expensive
// part is not parsing but waking threads, so the invocation's own
// goroutine does the runtime's I/O: the server runs its own accept loop
// and reads each runtime connection itself (a bufio.Reader over the
// socket, heads parsed with http.ReadRequest), and a connection whose
// runtime waits in /next is parked in the server with no goroutine at all.
// [Server.Invoke] takes the parked connection, writes the /next response
// (head built by newCall, payload behind it, one write), reads the
// runtime's next request on the same connection, and if it is the answer,
// reads it, completes the invocation, and returns; a new goroutine then
// writes the 202 and waits for the runtime's next /next, off Invoke's
// time. A connection is in exactly one of these states, and only its owner
// does I/O on it:
//
//	accepted ──► reading
//	reading ──GET /next, nothing to deliver──► parked
//	reading ──GET /next with an event, or an answer──► reading (reply written)
//	parked ──Invoke──► invoking
//	parked ──a newer /next on another connection──► reading (after a 403)
//	invoking ──its answer──► reading (Invoke returns; a new goroutine writes the 202)
//	invoking ──another request──► reading (served by a new goroutine)
//	invoking ──interrupted before the head's first byte──► reading
//	invoking ──interrupted within the head──► net/http (replayed)
//	reading|invoking ──a request the fast path does not take──► net/http (for good)
//	any ──EOF, error, or interrupted within an answer's body──► closed
//
// reading is a goroutine of the server's; parked is owned by the server
// (Server.parkedConn); invoking by the Invoke (call.reader). Invoke is
// interrupted when its ctx ends, the server closes, or its invocation is
// answered on another connection. Close closes every connection; a parked
// one first gets the 500 a parked net/http /next gets.
//
// The fast path takes only plain HTTP/1.1 keep-alive GET /next and
// POST …/{id}/response|error requests: origin-form path without escapes or
// query, valid Host, no Expect, no Connection: close, no body on /next, a
// declared length within the limit and a valid response mode on answers,
// and an answer only when it claims the outstanding invocation. Anything
// else (HTTP/1.0, Expect: 100-continue, unknown routes, refused answers,
// malformed or oversized heads) is replayed, from its first byte, to the
// fallback http.Server running serveHTTP, which then owns that connection:
// while a head is parsed every byte read from the socket is recorded, and
// the connection handed to net/http reads the recording first.
//
// The replies the fast path writes itself are the bytes net/http writes for
// the same handler output (sorted headers, Date except on /next, values
// cleaned, Connection: close and the 256 KiB drain and 500 ms linger after
// a body over the limit), and its head timeout is net/http's (one minute
// from the head's first byte, or from accept for a connection's first
// request). Before the answer's first byte, ctx ending or the invocation
// being answered on another connection (a runtime using several
// connections) set the connection's deadline into the past; nothing was
// read, so the connection goes back to reading and the state is exactly as
// if a net/http handler had written the event. Within the head, the
// recording lets net/http take the request over. The one deliberate
// difference: when ctx ends while Invoke reads an answer's body, the
// connection is closed (the stream is mid-request) instead of the answer
// being read on and acknowledged; the caller kills such an environment
// anyway. Close closes the connections, which ends any I/O.
//
// On the critical path the package starts one goroutine (as Invoke
// returns, to write the 202 and read the next request: written by Invoke,
// the 202 wakes the runtime onto Invoke's CPU), logs nothing above Debug,
// never parses or re-encodes payloads, and relies on the runtime's
// keep-alive connection. BenchmarkInvoke and BenchmarkInvokeLambdaGoProcess
// (aws-lambda-go in a child process) measure it against
// BenchmarkLoopbackRoundTrip and BenchmarkLoopbackRoundTripProcess.
//
// # Concurrency
//
// One mutex, Server.mu, guards the server state, the mutable fields of the
// current call and each connection's interrupted flag; it is never held
// across blocking I/O (only deadlines are set under it), and no other lock
// is taken while it is held. Goroutines: the accept loop, one goroutine per
// connection in the reading state (a parked connection has none), the
// fallback http.Server's Serve loop and net/http's per-connection
// goroutines, and context.AfterFunc callbacks that only set deadlines.
// [Server.Close] stops the listener, closes connections and waits for the
// accept loop, the Serve loop, every connection goroutine and every
// handler to return.
package runtimeapi

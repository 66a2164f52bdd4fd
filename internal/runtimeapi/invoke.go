package runtimeapi

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// maxFunctionTimeout is Lambda's largest function timeout; it stands in for
// an invocation that has neither a Deadline nor a context deadline, because
// runtimes refuse an event without Lambda-Runtime-Deadline-Ms.
const maxFunctionTimeout = 15 * time.Minute

// Invocation is one event handed to the runtime by [Server.Invoke]. The
// server reads it but never modifies it; Payload is written to the runtime
// as is and must not change until Invoke returns.
type Invocation struct {
	// RequestID becomes Lambda-Runtime-Aws-Request-Id and is the id the
	// runtime must answer with. Empty means a random UUID is used.
	RequestID string
	// Payload is the event, passed through untouched.
	Payload []byte
	// Deadline becomes Lambda-Runtime-Deadline-Ms (Unix milliseconds). Zero
	// means the deadline of Invoke's context, or 15 minutes from now.
	Deadline time.Time
	// InvokedFunctionARN becomes Lambda-Runtime-Invoked-Function-Arn,
	// including the qualifier the caller used, if any.
	InvokedFunctionARN string
	// TraceID becomes Lambda-Runtime-Trace-Id. Empty means a fresh, unsampled
	// X-Ray header "Root=1-<8 hex time>-<24 hex>;Parent=<16 hex>;Sampled=0".
	TraceID string
	// ClientContext is the decoded (JSON, not base64) client context; it
	// becomes Lambda-Runtime-Client-Context and is omitted when empty.
	ClientContext string
	// CognitoIdentity is the Cognito identity JSON; it becomes
	// Lambda-Runtime-Cognito-Identity and is omitted when empty.
	CognitoIdentity string
	// Stream, when not nil, receives a response the runtime posts in
	// streaming mode as it arrives, up to
	// [Config.MaxStreamedResponseBytes], instead of it being buffered
	// into [Response.Payload]; see stream.go. It is written from whichever
	// goroutine reads the answer, never after Invoke returns. A response
	// posted in one piece still lands in Payload. Nil buffers streamed
	// responses too, under [Config.MaxResponseBytes], as Lambda does for
	// a RequestResponse Invoke of a streaming function.
	Stream io.Writer
}

// Response is what the runtime posted for an invocation. A function error is
// a successful invocation from the platform's point of view: Invoke returns
// it with a nil error.
type Response struct {
	// Payload is the function result, or the error document when
	// FunctionError is set. It belongs to the caller.
	Payload []byte
	// FunctionError is true when the runtime posted /error, reported an
	// error in the response trailers, or the response was refused (too
	// large, truncated, bad response mode).
	FunctionError bool
	// ErrorType is the function error's type ("Runtime.ExitError",
	// "Function.ResponseSizeTooLarge", the document's errorType, …); empty
	// unless FunctionError is set. See the package doc for how it is chosen.
	ErrorType string
	// ContentType is the Content-Type the runtime sent with its answer;
	// empty if it sent none.
	ContentType string
	// Streamed is true when the response body went to [Invocation.Stream]
	// (Payload is then empty unless FunctionError is set).
	Streamed bool
}

// callState is where an invocation is between Invoke and its answer.
type callState uint8

const (
	callQueued    callState = iota // waiting for a /next
	callDelivered                  // handed to a /next (being written, or written)
	callAnswering                  // a /response or /error handler owns it
	callDone                       // resp or err set, done closed
	callAbandoned                  // Invoke gave up (context or Close)
)

// Indexes into call.hdr, the precomputed /next header values.
const (
	hdrIdxRequestID = iota
	hdrIdxDeadline
	hdrIdxARN
	hdrIdxTrace
	hdrIdxClientContext
	hdrIdxCognito
	hdrIdxContentLength
	hdrIdxContentType
	hdrIdxCount
)

// call is one invocation in flight. The server hands *call pointers around;
// a call is never copied.
type call struct {
	inv *Invocation
	id  string
	// hdr holds every /next header value, computed once before the hand-off
	// so the /next handler only assigns one-element slices of it.
	hdr [hdrIdxCount]string
	// head is the fast path's /next response head built from hdr: the
	// payload follows it in the same write.
	head []byte
	done chan struct{} // closed when the call reaches callDone

	// Guarded by Server.mu.
	state callState
	// written is set when a /next handler commits to writing the event.
	// From then on the runtime may know the id, so an answer is accepted
	// even if a failed write put the call back in the queue meanwhile.
	written bool
	kind    answerKind // valid in callAnswering
	resp    *Response
	err     error
	// sink passes a streamed response to inv.Stream; nil when inv.Stream
	// is nil. Set by newCall, read-only after.
	sink *streamSink

	// reader is the connection Invoke does c's I/O on in its fast path,
	// until the answer is read or Invoke gives the connection up; nil
	// otherwise. Server.interruptLocked unblocks that I/O.
	reader *rconn
}

// answerableLocked reports whether the runtime may answer c now.
func (c *call) answerableLocked() bool {
	return c.written && (c.state == callDelivered || c.state == callQueued)
}

// Invoke hands inv to the runtime and waits for its answer. It returns the
// runtime's [Response] (function errors included, with a nil error). It
// returns an error wrapping [ErrBusy] if another invocation is in flight,
// one wrapping the [*InitError] if the runtime failed init, [ErrClosed]
// after [Server.Close], and context.Cause(ctx) if ctx ends first; in that
// last case the runtime may still be running the event and the caller is
// expected to kill the environment.
//
// Invoke may be called before the runtime's first /next; the event is then
// delivered by that /next.
func (s *Server) Invoke(ctx context.Context, inv *Invocation) (*Response, error) {
	if inv == nil {
		return nil, errors.New("runtimeapi: invoke: nil invocation")
	}
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	c := newCall(ctx, inv)
	if c.sink == nil {
		return s.invoke(ctx, c)
	}
	resp, err := s.invoke(ctx, c)
	c.sink.close() // a handler may still be streaming an abandoned call
	return resp, err
}

// invoke delivers c and waits for its answer.
func (s *Server) invoke(ctx context.Context, c *call) (*Response, error) {
	pc, err := s.enqueue(c)
	if err != nil {
		return nil, err
	}
	if pc != nil {
		if resp := s.invokeOn(ctx, c, pc); resp != nil {
			return resp, nil
		}
	}
	return s.wait(ctx, c)
}

// newCall prepares everything the /next handler will write.
func newCall(ctx context.Context, inv *Invocation) *call {
	c := &call{inv: inv, id: inv.RequestID, done: make(chan struct{})}
	if inv.Stream != nil {
		c.sink = &streamSink{w: inv.Stream}
	}
	if c.id == "" {
		c.id = uuid.NewString()
	}
	deadline := inv.Deadline
	if deadline.IsZero() {
		var ok bool
		if deadline, ok = ctx.Deadline(); !ok {
			deadline = time.Now().Add(maxFunctionTimeout)
		}
	}
	c.hdr[hdrIdxRequestID] = c.id
	c.hdr[hdrIdxDeadline] = strconv.FormatInt(deadline.UnixMilli(), 10)
	c.hdr[hdrIdxARN] = inv.InvokedFunctionARN
	c.hdr[hdrIdxTrace] = inv.TraceID
	if c.hdr[hdrIdxTrace] == "" {
		c.hdr[hdrIdxTrace] = newTraceID(time.Now())
	}
	c.hdr[hdrIdxClientContext] = inv.ClientContext
	c.hdr[hdrIdxCognito] = inv.CognitoIdentity
	c.hdr[hdrIdxContentLength] = strconv.Itoa(len(inv.Payload))
	c.hdr[hdrIdxContentType] = contentTypeJSON
	c.head = appendNextHead(make([]byte, 0, 256+len(inv.ClientContext)+len(inv.CognitoIdentity)), c)
	return c
}

// enqueue makes c the current invocation and hands it straight to a parked
// /next if there is one. A parked fast-path connection is returned, with c
// delivered to it and the caller owning it: Invoke writes the event itself.
func (s *Server) enqueue(c *call) (*rconn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return nil, ErrClosed
	case s.initErr != nil:
		return nil, fmt.Errorf("runtimeapi: invoke %s: %w", c.id, s.initErr)
	case s.current != nil:
		return nil, fmt.Errorf("runtimeapi: invoke %s while %s is in flight: %w", c.id, s.current.id, ErrBusy)
	}
	s.current = c
	c.state = callQueued
	if s.ext != nil {
		s.dispatchInvokeLocked(c)
	}
	if pc := s.parkedConn; pc != nil {
		s.parkedConn = nil
		c.state = callDelivered
		c.written = true // committed to writing it, as a /next handler is
		c.reader = pc
		s.unparkLocked()
		return pc, nil
	}
	if w := s.waiter; w != nil {
		s.waiter = nil
		c.state = callDelivered
		s.unparkLocked()
		w <- c // buffered 1 and only ever sent to once per registration
	}
	return nil, nil
}

// wait blocks until c is answered, ctx ends or the server closes.
func (s *Server) wait(ctx context.Context, c *call) (*Response, error) {
	select {
	case <-c.done:
		return c.resp, c.err
	case <-ctx.Done():
	case <-s.done:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.state == callDone { // answered while we were waking up
		return c.resp, c.err
	}
	s.abandonLocked(c)
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	return nil, ErrClosed
}

// abandonLocked forgets c: a later answer for it gets 403, and a /next that
// was handed it puts nothing back.
func (s *Server) abandonLocked(c *call) {
	if s.current == c {
		s.current = nil
	}
	c.state = callAbandoned
}

// completeLocked finishes c with resp or err and wakes Invoke. It is a no-op
// for a call that is already done or abandoned.
func (s *Server) completeLocked(c *call, resp *Response, err error) {
	if c.state == callDone || c.state == callAbandoned {
		return
	}
	if s.current == c {
		s.current = nil
	}
	c.state = callDone
	c.resp, c.err = resp, err
	close(c.done)
	s.interruptLocked(c) // answered elsewhere while Invoke waits on a connection
}

// newTraceID returns a fresh, unsampled X-Ray trace header:
// Root=1-<8 hex epoch seconds>-<24 hex random>;Parent=<16 hex random>;Sampled=0.
// X-Ray ids need to be unique, not unpredictable, so math/rand is enough.
func newTraceID(now time.Time) string {
	const (
		rootPrefix   = "Root=1-"
		parentPrefix = ";Parent="
		sampled      = ";Sampled=0"
	)
	var raw [4 + 12 + 8]byte
	secs := uint32(now.Unix())
	raw[0], raw[1], raw[2], raw[3] = byte(secs>>24), byte(secs>>16), byte(secs>>8), byte(secs)
	putUint64(raw[4:12], rand.Uint64())
	putUint64(raw[12:16], rand.Uint64())
	putUint64(raw[16:24], rand.Uint64())

	var b [len(rootPrefix) + 8 + 1 + 24 + len(parentPrefix) + 16 + len(sampled)]byte
	n := copy(b[:], rootPrefix)
	n += hex.Encode(b[n:], raw[0:4])
	b[n] = '-'
	n++
	n += hex.Encode(b[n:], raw[4:16])
	n += copy(b[n:], parentPrefix)
	n += hex.Encode(b[n:], raw[16:24])
	copy(b[n:], sampled)
	return string(b[:])
}

// putUint64 writes the low len(b) bytes of v into b, big-endian.
func putUint64(b []byte, v uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
}

package runtimeapi

import (
	"io"
	"net/http"
	"strconv"
	"sync"
)

// This file is response streaming ("Lambda-Runtime-Function-Response-Mode:
// streaming"): the runtime posts /response with a chunked body and reports
// a mid-stream error in the trailers, and the body is passed on to
// [Invocation.Stream] as it arrives instead of being buffered.

// DefaultMaxStreamedResponseBytes is Lambda's limit for a streamed
// response: 200 MiB ("Lambda quotas": 200 MB for response streaming). The
// stream is cut there and the invocation ends as
// Function.ResponseSizeTooLarge.
const DefaultMaxStreamedResponseBytes int64 = 200 << 20

// streamBufSize is the largest piece of a streamed body passed to
// Invocation.Stream in one Write. A read returns what has arrived, so the
// pieces follow the runtime's chunks as long as they are smaller.
const streamBufSize = 32 << 10

// streamBufs recycles the copy buffers of readStream.
var streamBufs = sync.Pool{New: func() any { b := make([]byte, streamBufSize); return &b }}

// streamSink passes a streamed response on to an invocation's
// [Invocation.Stream]. Writes come from whichever goroutine reads the
// answer (Invoke itself on the fast path, a connection goroutine or a
// net/http handler otherwise); close, called by Invoke before it returns,
// waits for a write in progress and stops later ones, so the caller's
// writer is never used after Invoke returned (an abandoned invocation's
// handler may still be reading the body). mu is never held together with
// Server.mu.
type streamSink struct {
	mu sync.Mutex
	// Guarded by mu.
	w      io.Writer // nil once closed
	failed bool      // a write to w failed (the caller went away): drop the rest
}

// write passes p on. A failed write is not the runtime's problem: the rest
// of the body is read and dropped, and the invocation completes as usual
// (on Lambda a stream runs to its end even if the client disconnects).
func (k *streamSink) write(p []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.w == nil || k.failed {
		return
	}
	if _, err := k.w.Write(p); err != nil {
		k.failed = true
	}
}

// close stops every later write; it returns once no write is in progress.
func (k *streamSink) close() {
	k.mu.Lock()
	k.w = nil
	k.mu.Unlock()
}

// maxStreamBytes is the streamed response limit with the default applied.
func (s *Server) maxStreamBytes() int64 {
	if n := s.cfg.MaxStreamedResponseBytes; n > 0 {
		return n
	}
	return DefaultMaxStreamedResponseBytes
}

// readStream copies a streamed /response body to sink as it arrives and
// returns the invocation's Response: Streamed, with the trailers' error if
// the runtime reported one. Past the limit the stream is cut (the bytes up
// to the limit were passed on) and the invocation fails as
// Function.ResponseSizeTooLarge with a 413 to the runtime; a body that
// breaks off is Runtime.TruncatedResponse.
func (s *Server) readStream(r *http.Request, sink *streamSink) (*Response, outcome) {
	contentType := firstValue(r.Header["Content-Type"])
	limit := s.maxStreamBytes()
	bp := streamBufs.Get().(*[]byte)
	defer streamBufs.Put(bp)
	buf := *bp
	var total int64
	for {
		n, err := r.Body.Read(buf)
		if n > 0 {
			if total+int64(n) > limit {
				sink.write(buf[:limit-total])
				resp := functionError(errTypeResponseSizeTooLarge, errorBody(errTypeResponseSizeTooLarge,
					"Response payload size exceeded maximum allowed payload size ("+strconv.FormatInt(limit, 10)+" bytes)."))
				resp.Streamed = true
				return resp, outcomeTooLarge
			}
			total += int64(n)
			sink.write(buf[:n])
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			resp := functionError(errTypeTruncatedResponse, errorBody(errTypeTruncatedResponse, msgTruncatedResponse))
			resp.Streamed = true
			return resp, outcomeTruncated
		}
	}
	if resp := trailerError(r, contentType); resp != nil {
		resp.Streamed = true
		return resp, outcomeAccepted
	}
	return &Response{ContentType: contentType, Streamed: true}, outcomeAccepted
}

package runtimeapi

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
)

// Request header and trailer names the runtime sends with its answers
// (canonical form).
const (
	hdrErrorType    = "Lambda-Runtime-Function-Error-Type"
	hdrErrorBody    = "Lambda-Runtime-Function-Error-Body" // trailer only, base64
	hdrResponseMode = "Lambda-Runtime-Function-Response-Mode"
)

// answerKind says which endpoint an answer came to.
type answerKind uint8

const (
	answerResponse answerKind = iota + 1 // POST …/{id}/response
	answerError                          // POST …/{id}/error
)

// stateName is the RIE's name for the state an answer of this kind moves
// the runtime to.
func (k answerKind) stateName() string {
	if k == answerError {
		return stateErrorResponse
	}
	return stateResponse
}

// responseMode is the value of Lambda-Runtime-Function-Response-Mode.
type responseMode uint8

const (
	modeBuffered  responseMode = iota // header absent: one body
	modeStreaming                     // "streaming": chunked body, errors in trailers
)

// parseResponseMode accepts an absent (or empty) header and "streaming",
// exactly as the RIE does.
func parseResponseMode(v []string) (responseMode, bool) {
	switch {
	case len(v) == 0 || v[0] == "":
		return modeBuffered, true
	case v[0] == "streaming":
		return modeStreaming, true
	}
	return 0, false
}

// handleAnswer serves POST /runtime/invocation/{id}/response and /error.
// It claims the outstanding invocation under the lock (so a concurrent or
// second answer gets 403), reads the body without the lock, completes the
// invocation, and only then writes the status, so Invoke returns as early
// as possible.
func (s *Server) handleAnswer(w http.ResponseWriter, r *http.Request, id string, kind answerKind) {
	s.mu.Lock()
	c := s.current
	if c == nil || !c.answerableLocked() {
		from := s.stateNameLocked()
		s.mu.Unlock()
		s.log.Debug("answer without an outstanding invocation", "request_id", id, "state", from)
		writeStateTransition(w, from, kind.stateName())
		return
	}
	if c.id != id {
		s.mu.Unlock()
		s.log.Debug("answer for the wrong invocation", "request_id", id, "outstanding", c.id)
		writeError(w, http.StatusBadRequest, typeInvalidRequestID, msgInvalidRequestID)
		return
	}
	c.state = callAnswering
	c.kind = kind
	s.mu.Unlock()

	resp, out := s.readAnswer(r, kind, c.sink)

	s.mu.Lock()
	s.completeLocked(c, resp, nil)
	s.mu.Unlock()

	switch out {
	case outcomeAccepted:
		s.writeAccepted(w)
	case outcomeTooLarge:
		s.log.Debug("response too large", "request_id", id)
		h := w.Header()
		h["Content-Type"] = s.hdrJSON
		h["Content-Length"] = s.hdrTooLargeBodyLen
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		_, _ = w.Write(s.tooLargeBody) // the runtime hung up; nothing to do
	case outcomeTruncated:
		s.log.Debug("truncated answer", "request_id", id)
		writeError(w, http.StatusBadRequest, typeTruncatedHTTPRequest, msgTruncatedHTTPRequest)
	case outcomeBadMode:
		s.log.Debug("invalid response mode", "request_id", id, "mode", r.Header.Get(hdrResponseMode))
		writeError(w, http.StatusBadRequest, typeInvalidFunctionResponseMode, msgInvalidFunctionResponseMode)
	}
}

// outcome is what the runtime is told about its answer.
type outcome uint8

const (
	outcomeAccepted  outcome = iota // 202 {"status":"OK"}
	outcomeTooLarge                 // 413 RequestEntityTooLarge
	outcomeTruncated                // 400 TruncatedHTTPRequest
	outcomeBadMode                  // 400 InvalidFunctionResponseMode
)

// readAnswer turns an answer into the invocation's Response and the
// outcome to report to the runtime. Every outcome completes the invocation:
// a refused answer becomes a function error, as in Lambda.
//
// A response in streaming mode goes to sink, the invocation's stream, when
// it has one (readStream); without one it is buffered here under the same
// limit as any other.
func (s *Server) readAnswer(r *http.Request, kind answerKind, sink *streamSink) (*Response, outcome) {
	if kind == answerResponse {
		mode, ok := parseResponseMode(r.Header[hdrResponseMode])
		if !ok {
			return functionError(errTypeInvalidResponseModeHeader,
				errorBody(errTypeInvalidResponseModeHeader, msgInvalidFunctionResponseMode)), outcomeBadMode
		}
		if mode == modeStreaming && sink != nil {
			return s.readStream(r, sink)
		}
	}
	body, res := readBody(r, s.cfg.MaxResponseBytes)
	switch res {
	case readTooLarge:
		return functionError(errTypeResponseSizeTooLarge, append([]byte(nil), s.tooLargeDoc...)),
			outcomeTooLarge
	case readTruncated:
		return functionError(errTypeTruncatedResponse,
			errorBody(errTypeTruncatedResponse, msgTruncatedResponse)), outcomeTruncated
	}
	contentType := ""
	if v := r.Header["Content-Type"]; len(v) > 0 {
		contentType = v[0]
	}
	if kind == answerError {
		errType, doc := errorDocument(firstValue(r.Header[hdrErrorType]), body)
		return &Response{Payload: doc, FunctionError: true, ErrorType: errType, ContentType: contentType}, outcomeAccepted
	}
	// A runtime that fails mid-body reports it in trailers (the Go runtime
	// client declares them on every response; they are empty on success).
	if resp := trailerError(r, contentType); resp != nil {
		return resp, outcomeAccepted
	}
	return &Response{Payload: body, ContentType: contentType}, outcomeAccepted
}

// trailerError returns the function error a runtime reported in the
// trailers of a fully read body, or nil if it reported none. The error
// body trailer is base64 of the error document; a value that is not
// base64 is taken as the document itself.
func trailerError(r *http.Request, contentType string) *Response {
	errType := firstValue(r.Trailer[hdrErrorType])
	if errType == "" {
		return nil
	}
	raw := firstValue(r.Trailer[hdrErrorBody])
	errBody, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		errBody = []byte(raw)
	}
	errType, doc := errorDocument(errType, errBody)
	return &Response{Payload: doc, FunctionError: true, ErrorType: errType, ContentType: contentType}
}

func functionError(errType string, doc []byte) *Response {
	return &Response{Payload: doc, FunctionError: true, ErrorType: errType, ContentType: contentTypeJSON}
}

func firstValue(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// readResult classifies a body read.
type readResult uint8

const (
	readOK        readResult = iota
	readTooLarge             // more than the limit; not read past limit+1 bytes
	readTruncated            // the body ended early or the connection failed
)

// readBody reads r's body, never buffering more than limit+1 bytes. A
// declared Content-Length over the limit is refused without reading; a
// known length is read into one exact allocation.
func readBody(r *http.Request, limit int) ([]byte, readResult) {
	if r.ContentLength > int64(limit) {
		return nil, readTooLarge
	}
	if r.ContentLength >= 0 {
		b := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(r.Body, b); err != nil {
			return nil, readTruncated
		}
		return b, readOK
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	switch {
	case err != nil:
		return nil, readTruncated
	case len(b) > limit:
		return nil, readTooLarge
	}
	return b, readOK
}

// handleInitError serves POST /runtime/init/error: allowed once, and only
// before the runtime's first /next.
func (s *Server) handleInitError(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.initErr != nil || s.initDone {
		from := s.stateNameLocked()
		s.mu.Unlock()
		writeStateTransition(w, from, stateInitError)
		return
	}
	s.mu.Unlock()

	body, res := readBody(r, s.cfg.MaxResponseBytes)
	if res != readOK {
		body = nil // a document we could not read whole is replaced
	}
	errType, doc := errorDocument(firstValue(r.Header[hdrErrorType]), body)
	initErr := &InitError{ErrorType: errType, Payload: doc}

	s.mu.Lock()
	if s.initErr != nil || s.initDone { // lost a race with /next or another init/error
		from := s.stateNameLocked()
		s.mu.Unlock()
		writeStateTransition(w, from, stateInitError)
		return
	}
	s.initErr = initErr
	close(s.initCh)
	if c := s.current; c != nil {
		s.completeLocked(c, nil, fmt.Errorf("runtimeapi: invoke %s: %w", c.id, initErr))
	}
	s.mu.Unlock()
	s.log.Debug("runtime init failed", "error_type", errType)
	s.writeAccepted(w)
}

package api

import (
	"encoding/json"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/updraft/updraft/internal/invoke"
	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
)

// Wire names of InvokeWithResponseStream's response: an AWS event stream
// (application/vnd.amazon.eventstream) of PayloadChunk events, whose
// payload is the response bytes as the function wrote them, and exactly
// one InvokeComplete event at the end.
const (
	contentTypeEventStream = "application/vnd.amazon.eventstream"
	eventPayloadChunk      = "PayloadChunk"
	eventInvokeComplete    = "InvokeComplete"
)

// invokeComplete is the InvokeComplete event's JSON payload; every field
// is empty on success.
type invokeComplete struct {
	// ErrorCode is the function error's type (Function.ResponseSizeTooLarge,
	// Sandbox.Timedout, Runtime.ExitError, the runtime's errorType, …).
	ErrorCode string `json:",omitempty"`
	// ErrorDetails is the error document, as a buffered Invoke returns it.
	ErrorDetails string `json:",omitempty"`
	// LogResult is the base64 4 KB log tail, with X-Amz-Log-Type: Tail.
	LogResult string `json:",omitempty"`
}

// invokeStream serves InvokeWithResponseStream. Errors before the
// function runs (not found, throttled, bad request) are ordinary Lambda
// errors. Once it runs, the answer is 200 with an event stream: what a
// streaming function writes goes out as PayloadChunk events as it arrives
// (flushed one by one); a function that answers in one piece gets one
// PayloadChunk, as on Lambda; the function's errors, its timeout, a crash
// or a response over the limit (200 MB streamed, 6 MB buffered) end the
// stream with InvokeComplete's ErrorCode and ErrorDetails.
func (s *Server) invokeStream(w http.ResponseWriter, r *http.Request) error {
	body, err := readInvokePayload(r, "InvokeWithResponseStream")
	if err != nil {
		return err
	}
	h := r.Header
	typ := h.Get(lambdaapi.HeaderInvocationType)
	switch typ {
	case "", lambdaapi.InvocationRequestResponse, lambdaapi.InvocationDryRun:
	default:
		return lambdaerr.InvalidParameterValue("1 validation error detected: Value '%s' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [RequestResponse, DryRun]", typ)
	}
	es := &eventStream{w: w, rc: http.NewResponseController(w), enc: eventstream.NewEncoder(), requestID: newRequestID()}
	resp, err := s.deps.Invoker.Invoke(r.Context(), &invoke.Request{
		FunctionName:   r.PathValue("name"),
		Qualifier:      r.URL.Query().Get("Qualifier"),
		InvocationType: typ,
		LogType:        h.Get(lambdaapi.HeaderLogType),
		ClientContext:  h.Get(lambdaapi.HeaderClientContext),
		Payload:        body,
		TraceID:        h.Get(lambdaapi.HeaderTraceID),
		RequestID:      es.requestID,
		Stream:         es,
	})
	if err != nil {
		if !es.started {
			return err
		}
		// Not expected: the platform fails before a function runs. The
		// status is sent already, so the error goes in the stream.
		le, ok := lambdaerr.As(err)
		if !ok {
			s.logger.Error("streamed invoke failed", "request_id", es.requestID, "err", err)
			le = lambdaerr.Service("An internal error occurred.")
		}
		es.complete(invokeComplete{ErrorCode: le.Type, ErrorDetails: le.Message})
		return nil
	}
	if resp.StatusCode == http.StatusNoContent { // DryRun
		w.Header().Set(lambdaapi.HeaderRequestID, resp.RequestID)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	done := invokeComplete{LogResult: resp.LogResult}
	switch {
	case resp.FunctionError != "":
		done.ErrorCode = resp.ErrorType
		if done.ErrorCode == "" {
			done.ErrorCode = resp.FunctionError
		}
		done.ErrorDetails = string(resp.Payload)
	case len(resp.Payload) > 0: // answered in one piece
		_, _ = es.Write(resp.Payload)
	}
	es.complete(done)
	return nil
}

// eventStream is the [invoke.Stream] of one InvokeWithResponseStream
// call: it sends the 200 and its headers with the first event and each
// Write as a PayloadChunk event, flushed. Writes come from the goroutine
// reading the runtime's answer while the handler waits in Invoke; the
// handler uses it again only after Invoke returned, which orders the two.
type eventStream struct {
	w         http.ResponseWriter
	rc        *http.ResponseController
	enc       *eventstream.Encoder
	requestID string
	version   string // X-Amz-Executed-Version, from Resolved
	started   bool   // the status and headers were written
	err       error  // the first failed write: the client is gone
}

// Resolved implements [invoke.Stream].
func (e *eventStream) Resolved(executedVersion string) { e.version = executedVersion }

// Write sends p as one PayloadChunk event. After a failed write (the
// client went away) it fails at once; the function runs on regardless.
func (e *eventStream) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if err := e.send(eventPayloadChunk, "application/octet-stream", p); err != nil {
		e.err = err
		return 0, err
	}
	return len(p), nil
}

// complete sends the InvokeComplete event that ends the stream.
func (e *eventStream) complete(c invokeComplete) {
	if e.err != nil {
		return
	}
	b, _ := json.Marshal(c) // three strings: cannot fail
	e.err = e.send(eventInvokeComplete, "application/json", b)
}

// send writes one event and flushes it, starting the response first.
func (e *eventStream) send(eventType, contentType string, payload []byte) error {
	if !e.started {
		e.started = true
		h := e.w.Header()
		h.Set("Content-Type", contentTypeEventStream)
		h.Set(lambdaapi.HeaderRequestID, e.requestID)
		if e.version != "" {
			h.Set(lambdaapi.HeaderExecutedVersion, e.version)
		}
		e.w.WriteHeader(http.StatusOK)
	}
	msg := eventstream.Message{
		Headers: eventstream.Headers{
			{Name: ":message-type", Value: eventstream.StringValue("event")},
			{Name: ":event-type", Value: eventstream.StringValue(eventType)},
			{Name: ":content-type", Value: eventstream.StringValue(contentType)},
		},
		Payload: payload,
	}
	if err := e.enc.Encode(e.w, msg); err != nil {
		return err
	}
	return e.rc.Flush()
}

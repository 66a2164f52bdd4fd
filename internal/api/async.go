package api

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/updraft/updraft/internal/async"
	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
)

// maxRecordWait bounds the ?wait= of an invocation record read.
const maxRecordWait = 60 * time.Second

// asyncRoutes registers updraft's asynchronous endpoints: invocation
// records and the async batch endpoint.
func (s *Server) asyncRoutes(h route) {
	h("GET /updraft/v1/invocations/{id}", s.getInvocation)
	h("POST /updraft/v1/async/{function}", s.submitBatch)
	h("GET /updraft/v1/async/{function}", s.pollBatch)
}

// engine returns the async engine, or the error that says it is off.
func (s *Server) engine() (*async.Engine, error) {
	if s.deps.Async == nil {
		return nil, lambdaerr.InvalidParameterValue("Asynchronous invocation is not enabled on this server.")
	}
	return s.deps.Async, nil
}

// invokeEvent serves Invoke with X-Amz-Invocation-Type: Event: 202 once
// the event is durably queued.
func (s *Server) invokeEvent(w http.ResponseWriter, r *http.Request, body []byte) error {
	eng, err := s.engine()
	if err != nil {
		return err
	}
	id, err := eng.Accept(r.Context(), &async.Request{
		FunctionName:  r.PathValue("name"),
		Qualifier:     r.URL.Query().Get("Qualifier"),
		ClientContext: r.Header.Get(lambdaapi.HeaderClientContext),
		TraceID:       r.Header.Get(lambdaapi.HeaderTraceID),
		Payload:       body,
	})
	if err != nil {
		return err
	}
	w.Header().Set(lambdaapi.HeaderRequestID, id)
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// invokeAsync serves the legacy InvokeAsync operation: an Event invoke
// whose 202 carries {"Status": 202}.
func (s *Server) invokeAsync(w http.ResponseWriter, r *http.Request) error {
	eng, err := s.engine()
	if err != nil {
		return err
	}
	body, err := readLimited(r, eng.MaxPayloadBytes(), "InvokeFunction")
	if err != nil {
		return err
	}
	id, err := eng.Accept(r.Context(), &async.Request{FunctionName: r.PathValue("name"), Payload: body})
	if err != nil {
		return err
	}
	w.Header().Set(lambdaapi.HeaderRequestID, id)
	writeJSON(w, http.StatusAccepted, map[string]int{"Status": http.StatusAccepted})
	return nil
}

// readLimited reads a body of at most limit bytes, reading one byte past
// it so an oversized body is refused (413, naming operation) without being
// buffered whole.
func readLimited(r *http.Request, limit int, operation string) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return nil, lambdaerr.InvalidRequestContent("Could not read request body.")
	}
	if len(body) > limit {
		return nil, lambdaerr.RequestTooLarge("Request must be smaller than %d bytes for the %s operation", limit, operation)
	}
	return body, nil
}

// recordView is the JSON of GET /updraft/v1/invocations/{id}: the record
// as stored, less the raw error document (error says what failed).
type recordView struct {
	*async.Record
	// ErrorPayload shadows the stored field, so it is left out.
	ErrorPayload json.RawMessage `json:"errorPayload,omitempty"`
}

func viewOf(rec *async.Record) *recordView { return &recordView{Record: rec} }

// getInvocation serves GET /updraft/v1/invocations/{id}[?wait=SECONDS].
func (s *Server) getInvocation(w http.ResponseWriter, r *http.Request) error {
	eng, err := s.engine()
	if err != nil {
		return err
	}
	var wait time.Duration
	if v := r.URL.Query().Get("wait"); v != "" {
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || secs < 0 || secs > maxRecordWait.Seconds() {
			return lambdaerr.InvalidParameterValue("wait must be a number of seconds from 0 to %d.", int(maxRecordWait.Seconds()))
		}
		wait = time.Duration(secs * float64(time.Second))
	}
	rec, err := eng.Record(r.Context(), r.PathValue("id"), wait)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewOf(rec))
	return nil
}

// batchID reads the batch id header.
func batchID(r *http.Request) string {
	if v := r.Header.Get(async.HeaderBatchID); v != "" {
		return v
	}
	return r.Header.Get(async.HeaderUpdraftBatchID)
}

// submitBatch serves POST /updraft/v1/async/{function}: 202 once the
// batch is queued (or was already).
func (s *Server) submitBatch(w http.ResponseWriter, r *http.Request) error {
	eng, err := s.engine()
	if err != nil {
		return err
	}
	body, err := readLimited(r, eng.MaxPayloadBytes(), "InvokeFunction")
	if err != nil {
		return err
	}
	if err := eng.SubmitBatch(r.Context(), r.PathValue("function"), batchID(r), body); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// pollBatch serves GET /updraft/v1/async/{function}: 202 while the batch
// runs, 200 with the function's output when it succeeded (the result is
// then removed), an error in Lambda's shape when it failed.
func (s *Server) pollBatch(w http.ResponseWriter, r *http.Request) error {
	eng, err := s.engine()
	if err != nil {
		return err
	}
	rec, err := eng.PollBatch(r.Context(), r.PathValue("function"), batchID(r))
	if err != nil {
		return err
	}
	switch rec.Status {
	case async.StatusSucceeded:
		sum := md5.Sum(rec.Result)
		w.Header().Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set(lambdaapi.HeaderRequestID, rec.RequestID)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(rec.Result)
		return nil
	case async.StatusFailed:
		return batchError(rec)
	default:
		w.Header().Set(lambdaapi.HeaderRequestID, rec.RequestID)
		w.WriteHeader(http.StatusAccepted)
		return nil
	}
}

// batchError is the error a failed batch answers: the function's own
// error type with 500 when it failed, 504 when it aged out before
// running, or the platform error that stopped it.
func batchError(rec *async.Record) error {
	e := rec.Error
	if e == nil {
		e = &async.ErrorInfo{ErrorType: "Unhandled", ErrorMessage: "The batch failed."}
	}
	status := http.StatusInternalServerError
	switch {
	case rec.Condition == async.ConditionEventAgeExceeded:
		status = http.StatusGatewayTimeout
	case rec.FunctionError == "" && e.ErrorType == lambdaerr.TypeResourceNotFound:
		status = http.StatusNotFound
	case rec.FunctionError == "" && e.ErrorType == lambdaerr.TypeTooManyRequests:
		status = http.StatusTooManyRequests
	}
	return &lambdaerr.Error{Type: e.ErrorType, Status: status, Message: e.ErrorMessage}
}

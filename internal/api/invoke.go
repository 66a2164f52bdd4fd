package api

import (
	"mime"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/updraft/updraft/internal/invoke"
	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
)

func newRequestID() string { return uuid.NewString() }

// invoke serves Invoke: the warm-invoke hot path. It reads at most the
// sync limit plus one byte, so an oversized body is refused without being
// buffered whole.
func (s *Server) invoke(w http.ResponseWriter, r *http.Request) error {
	body, err := readInvokePayload(r, "InvokeFunction")
	if err != nil {
		return err
	}
	h := r.Header
	if h.Get(lambdaapi.HeaderInvocationType) == lambdaapi.InvocationEvent {
		return s.invokeEvent(w, r, body)
	}
	resp, err := s.deps.Invoker.Invoke(r.Context(), &invoke.Request{
		FunctionName:   r.PathValue("name"),
		Qualifier:      r.URL.Query().Get("Qualifier"),
		InvocationType: h.Get(lambdaapi.HeaderInvocationType),
		LogType:        h.Get(lambdaapi.HeaderLogType),
		ClientContext:  h.Get(lambdaapi.HeaderClientContext),
		Payload:        body,
		TraceID:        h.Get(lambdaapi.HeaderTraceID),
	})
	if err != nil {
		return err
	}
	out := w.Header()
	out.Set(lambdaapi.HeaderRequestID, resp.RequestID)
	if resp.ExecutedVersion != "" && resp.StatusCode == http.StatusOK {
		out.Set(lambdaapi.HeaderExecutedVersion, resp.ExecutedVersion)
	}
	if resp.FunctionError != "" {
		out.Set(lambdaapi.HeaderFunctionError, resp.FunctionError)
	}
	if resp.LogResult != "" {
		out.Set(lambdaapi.HeaderLogResult, resp.LogResult)
	}
	if resp.StatusCode == http.StatusOK {
		out.Set("Content-Type", "application/json")
	}
	w.WriteHeader(resp.StatusCode)
	if len(resp.Payload) > 0 && resp.StatusCode == http.StatusOK {
		_, _ = w.Write(resp.Payload)
	}
	return nil
}

// readInvokePayload reads an invoke request's payload: a JSON-ish content
// type, at most the sync limit.
func readInvokePayload(r *http.Request, operation string) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !acceptableContentType(ct) {
		return nil, lambdaerr.UnsupportedMediaType("The content type %q is not supported: send a JSON payload.", ct)
	}
	return readLimited(r, invoke.MaxSyncRequestBytes, operation)
}

// acceptableContentType allows what the CLI and SDKs send for JSON
// payloads: nothing, JSON, or the octet-stream the blob shape implies.
func acceptableContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch {
	case mt == "application/json", mt == "application/octet-stream", mt == "binary/octet-stream",
		mt == "text/plain", strings.HasSuffix(mt, "+json"), mt == "application/x-amz-json-1.1",
		mt == "application/x-www-form-urlencoded":
		return true
	}
	return false
}

package runtimeapi

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
)

// This file is the catalogue of what the Runtime API itself answers to the
// runtime. These are not lambdaerr errors: their audience is the runtime
// inside the environment, not a Lambda API client, and their shape is the
// Runtime API's {"errorMessage","errorType"}, with the types and messages of
// the RIE (rapi/rendering/render_error.go).

// Error types of Runtime API responses.
const (
	typeInvalidStateTransition      = "InvalidStateTransition"
	typeInvalidRequestID            = "InvalidRequestID"
	typeRequestEntityTooLarge       = "RequestEntityTooLarge"
	typeTruncatedHTTPRequest        = "TruncatedHTTPRequest"
	typeInvalidFunctionResponseMode = "InvalidFunctionResponseMode"
	typeInternalServerError         = "InternalServerError"
	// The RIE answers unknown routes with chi's plain-text defaults; these
	// two keep every body in one shape.
	typeNotFound         = "NotFound"
	typeMethodNotAllowed = "MethodNotAllowed"
)

// Messages of Runtime API responses.
const (
	msgInvalidRequestID            = "Invalid request ID"
	msgTruncatedHTTPRequest        = "HTTP request detected as truncated"
	msgInvalidFunctionResponseMode = "Invalid function response mode"
	msgInternalServerError         = "Internal Server Error"
	msgNotFound                    = "Not Found"
	msgMethodNotAllowed            = "Method Not Allowed"
	msgSuperseded                  = "A newer /runtime/invocation/next request replaced this one"
)

// acceptedBody is the 202 body of every successful POST.
const acceptedBody = `{"status":"OK"}`

const contentTypeJSON = "application/json"

// errorDoc is the {"errorMessage","errorType"} document, used both for
// Runtime API error bodies and for error documents the server synthesizes on
// the runtime's behalf.
type errorDoc struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

// errorBody renders an error document. Marshalling two strings cannot fail.
func errorBody(errorType, message string) []byte {
	b, _ := json.Marshal(errorDoc{ErrorMessage: message, ErrorType: errorType})
	return b
}

// writeError writes a Runtime API error response.
func writeError(w http.ResponseWriter, status int, errorType, message string) {
	writeJSON(w, status, errorBody(errorType, message))
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = []string{contentTypeJSON}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body) // the runtime hung up; nothing to do
}

// writeStateTransition writes the RIE's 403 for a call the runtime's state
// does not allow.
func writeStateTransition(w http.ResponseWriter, from, to string) {
	writeJSON(w, http.StatusForbidden, errorBody(typeInvalidStateTransition, stateTransitionMessage(from, to)))
}

// stateTransitionMessage is the RIE's InvalidStateTransition message.
func stateTransitionMessage(from, to string) string {
	return "State transition from " + from + " to " + to + " failed for runtime. Error: State transition is not allowed"
}

// stateTransitionBody is writeStateTransition's body, for the fast path.
func stateTransitionBody(from, to string) string {
	return string(errorBody(typeInvalidStateTransition, stateTransitionMessage(from, to)))
}

// Fixed error bodies the fast path writes.
var (
	supersededBody    = string(errorBody(typeInvalidStateTransition, msgSuperseded))
	internalErrorBody = string(errorBody(typeInternalServerError, msgInternalServerError))
)

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header()["Allow"] = []string{allow}
	writeError(w, http.StatusMethodNotAllowed, typeMethodNotAllowed, msgMethodNotAllowed)
}

// writeAccepted writes 202 {"status":"OK"} with precomputed header values.
func (s *Server) writeAccepted(w http.ResponseWriter) {
	h := w.Header()
	h["Content-Type"] = s.hdrJSON
	h["Content-Length"] = s.hdrAcceptedLen
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, acceptedBody) // the runtime hung up; nothing to do
}

package runtimeapi

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Function error types the server assigns itself (the RIE's fatalerror
// names).
const (
	errTypeRuntimeUnknown            = "Runtime.Unknown"
	errTypeFunctionUnknown           = "Function.Unknown"
	errTypeResponseSizeTooLarge      = "Function.ResponseSizeTooLarge"
	errTypeTruncatedResponse         = "Runtime.TruncatedResponse"
	errTypeInvalidResponseModeHeader = "Runtime.InvalidResponseModeHeader"
)

// Messages of error documents the server synthesizes.
const (
	msgTruncatedResponse = "The runtime's response was truncated."
	msgNoErrorDocument   = "The runtime reported an error without an error document."
)

// maxBodyErrorTypeLen bounds an errorType taken from an error document.
const maxBodyErrorTypeLen = 256

// InitError is returned by [Server.WaitInit] (and wrapped by
// [Server.Invoke]) when the runtime posted /runtime/init/error.
type InitError struct {
	// ErrorType is the init error's type, chosen like [Response.ErrorType].
	ErrorType string
	// Payload is the error document: the runtime's, or a synthesized
	// {"errorMessage","errorType"} when it sent none or not JSON.
	Payload []byte
}

// Error implements error.
func (e *InitError) Error() string {
	return "runtimeapi: runtime init failed: " + e.ErrorType
}

// validErrorType reports whether v, in full, matches the RIE's
// (Runtime|Function)\.[A-Z][a-zA-Z]+.
func validErrorType(v string) bool {
	rest, ok := strings.CutPrefix(v, "Runtime.")
	if !ok {
		if rest, ok = strings.CutPrefix(v, "Function."); !ok {
			return false
		}
	}
	if len(rest) < 2 || rest[0] < 'A' || rest[0] > 'Z' {
		return false
	}
	for i := 1; i < len(rest); i++ {
		if c := rest[i]; (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

// validBodyErrorType reports whether an errorType taken from an error
// document is fit to become [Response.ErrorType]: 1 to 256 visible ASCII
// characters, which admits "ZeroDivisionError", "errorString" and
// "java.lang.RuntimeException" but keeps spaces, control characters and
// megabyte strings out of logs and REPORT lines.
func validBodyErrorType(v string) bool {
	if v == "" || len(v) > maxBodyErrorTypeLen {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '!' || v[i] > '~' {
			return false
		}
	}
	return true
}

// resolveErrorType picks an error's type: the header value if valid, else
// the document's errorType if usable, else Function.Unknown when the header
// named the Function category, else Runtime.Unknown.
func resolveErrorType(header, bodyType string) string {
	switch {
	case validErrorType(header):
		return header
	case validBodyErrorType(bodyType):
		return bodyType
	case strings.HasPrefix(header, "Function."):
		return errTypeFunctionUnknown
	default:
		return errTypeRuntimeUnknown
	}
}

// errorDocument resolves the type of an error the runtime reported (with
// Lambda-Runtime-Function-Error-Type value header and body) and the
// document to return to the caller: the body itself if it is a JSON object,
// otherwise a synthesized {"errorMessage","errorType"} whose message is the
// body's text (or a fixed message when the body is empty).
func errorDocument(header string, body []byte) (errorType string, doc []byte) {
	bodyType, isDoc := parseErrorDocument(body)
	errorType = resolveErrorType(header, bodyType)
	if isDoc {
		return errorType, body
	}
	msg := msgNoErrorDocument
	if len(body) > 0 {
		msg = string(body) // invalid UTF-8 becomes U+FFFD when marshalled
	}
	return errorType, errorBody(errorType, msg)
}

// parseErrorDocument reports whether body is a JSON object and returns its
// errorType if that is a string.
func parseErrorDocument(body []byte) (errorType string, ok bool) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return "", false
	}
	var doc struct {
		ErrorType json.RawMessage `json:"errorType"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", false
	}
	if len(doc.ErrorType) > 0 && doc.ErrorType[0] == '"' {
		if err := json.Unmarshal(doc.ErrorType, &errorType); err != nil {
			return "", true
		}
	}
	return errorType, true
}

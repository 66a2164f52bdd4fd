// Package lambdaerr is the catalogue of errors that updraft shows its
// clients. Each entry carries Lambda's exception name (sent as
// X-Amzn-ErrorType), the HTTP status and a message written for people.
// The API layer is the only place that renders them; everything else
// returns them, wrapped or not, and errors.As finds them.
//
// Anything that is not an *Error reaches the client as a ServiceException
// with a generated id, and its internal cause is logged beside that id, so
// internal detail never leaks into a response.
package lambdaerr

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// Error is a client-visible failure in Lambda's wire shape.
type Error struct {
	// Type is the exception name, such as "ResourceNotFoundException".
	Type string
	// Status is the HTTP status code.
	Status int
	// Message is the text shown to the client.
	Message string
	// Reason is set for TooManyRequestsException (Lambda's throttle reason).
	Reason string
	// RetryAfterSeconds, when positive, is sent as the Retry-After header.
	RetryAfterSeconds int
	cause             error
}

// Error returns the type and message.
func (e *Error) Error() string {
	if e.cause != nil {
		return e.Type + ": " + e.Message + ": " + e.cause.Error()
	}
	return e.Type + ": " + e.Message
}

// Unwrap returns the internal cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// WithCause returns a copy of e that wraps cause for logs; the cause is
// never shown to the client.
func (e *Error) WithCause(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
}

// Body returns the JSON document Lambda sends for this error: "Type" is
// "User" for 4xx and "Service" for 5xx. Throttles spell the message field
// in lower case and add Reason, as Lambda does.
func (e *Error) Body() map[string]string {
	kind := "User"
	if e.Status >= 500 {
		kind = "Service"
	}
	if e.Type == TypeTooManyRequests {
		return map[string]string{"Type": kind, "message": e.Message, "Reason": e.Reason}
	}
	return map[string]string{"Type": kind, "Message": e.Message}
}

// Header returns the extra headers of the error (Retry-After on throttles).
func (e *Error) Header() http.Header {
	h := http.Header{}
	if e.RetryAfterSeconds > 0 {
		h.Set("Retry-After", strconv.Itoa(e.RetryAfterSeconds))
	}
	return h
}

// As returns the *Error in err's chain, if there is one.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// IsType reports whether err's chain holds an *Error of the given type.
func IsType(err error, typ string) bool {
	e, ok := As(err)
	return ok && e.Type == typ
}

// Exception names used on the wire.
const (
	TypeInvalidParameterValue  = "InvalidParameterValueException"
	TypeInvalidRequestContent  = "InvalidRequestContentException"
	TypeResourceNotFound       = "ResourceNotFoundException"
	TypeResourceConflict       = "ResourceConflictException"
	TypePreconditionFailed     = "PreconditionFailedException"
	TypeRequestTooLarge        = "RequestTooLargeException"
	TypeUnsupportedMediaType   = "UnsupportedMediaTypeException"
	TypeTooManyRequests        = "TooManyRequestsException"
	TypeService                = "ServiceException"
	TypeResourceNotReady       = "ResourceNotReadyException"
	TypeInvalidZipFile         = "InvalidZipFileException"
	TypeInvalidRuntime         = "InvalidRuntimeException"
	TypeCodeStorageExceeded    = "CodeStorageExceededException"
	TypeUnknownOperation       = "UnknownOperationException"
	TypeMethodNotAllowed       = "MethodNotAllowedException"
	TypeServiceUnavailable     = "ServiceUnavailableException"
	TypeMissingAuthToken       = "MissingAuthenticationTokenException"
	TypeUnrecognizedClient     = "UnrecognizedClientException"
	TypeInvalidSignature       = "InvalidSignatureException"
	TypeRecursiveInvocation    = "RecursiveInvocationException"
	TypeSerializedRequestLarge = "SerializedRequestEntityTooLargeException"
	TypeValidation             = "ValidationException"
	TypeAccessDenied           = "AccessDeniedException"
	TypePolicyLengthExceeded   = "PolicyLengthExceededException"
)

// Throttle reasons sent with TooManyRequestsException.
const (
	ReasonConcurrentInvocationLimitExceeded                 = "ConcurrentInvocationLimitExceeded"
	ReasonReservedFunctionConcurrentInvocationLimitExceeded = "ReservedFunctionConcurrentInvocationLimitExceeded"
)

func newf(typ string, status int, format string, args ...any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Type: typ, Status: status, Message: msg}
}

// InvalidParameterValue is a request field that breaks a rule (400).
func InvalidParameterValue(format string, args ...any) *Error {
	return newf(TypeInvalidParameterValue, http.StatusBadRequest, format, args...)
}

// InvalidRequestContent is a body that cannot be parsed (400).
func InvalidRequestContent(format string, args ...any) *Error {
	return newf(TypeInvalidRequestContent, http.StatusBadRequest, format, args...)
}

// ResourceNotFound is a function, version, alias or other resource that
// does not exist (404).
func ResourceNotFound(format string, args ...any) *Error {
	return newf(TypeResourceNotFound, http.StatusNotFound, format, args...)
}

// AccessDenied is a request the caller's policies do not allow (403).
func AccessDenied(format string, args ...any) *Error {
	return newf(TypeAccessDenied, http.StatusForbidden, format, args...)
}

// ResourceConflict is a resource that already exists or is busy (409).
func ResourceConflict(format string, args ...any) *Error {
	return newf(TypeResourceConflict, http.StatusConflict, format, args...)
}

// PreconditionFailed is a stale RevisionId (412).
func PreconditionFailed(format string, args ...any) *Error {
	return newf(TypePreconditionFailed, http.StatusPreconditionFailed, format, args...)
}

// RequestTooLarge is an invoke body over the limit (413).
func RequestTooLarge(format string, args ...any) *Error {
	return newf(TypeRequestTooLarge, http.StatusRequestEntityTooLarge, format, args...)
}

// UnsupportedMediaType is an invoke body whose content type is refused (415).
func UnsupportedMediaType(format string, args ...any) *Error {
	return newf(TypeUnsupportedMediaType, http.StatusUnsupportedMediaType, format, args...)
}

// TooManyRequests is a throttle (429) with Lambda's reason.
func TooManyRequests(reason, format string, args ...any) *Error {
	e := newf(TypeTooManyRequests, http.StatusTooManyRequests, format, args...)
	e.Reason = reason
	e.RetryAfterSeconds = 1
	return e
}

// Service is an internal failure (500).
func Service(format string, args ...any) *Error {
	return newf(TypeService, http.StatusInternalServerError, format, args...)
}

// ServiceUnavailable is a server that is shutting down or not ready (503).
func ServiceUnavailable(format string, args ...any) *Error {
	return newf(TypeServiceUnavailable, http.StatusServiceUnavailable, format, args...)
}

// ResourceNotReady is a function that cannot run yet (502).
func ResourceNotReady(format string, args ...any) *Error {
	return newf(TypeResourceNotReady, http.StatusBadGateway, format, args...)
}

// InvalidZipFile is a deployment package that cannot be unpacked (400 on
// the control plane, as Lambda's CreateFunction answers).
func InvalidZipFile(format string, args ...any) *Error {
	return newf(TypeInvalidParameterValue, http.StatusBadRequest, format, args...)
}

// InvalidRuntime is a runtime the platform cannot start (502 on invoke).
func InvalidRuntime(format string, args ...any) *Error {
	return newf(TypeInvalidRuntime, http.StatusBadGateway, format, args...)
}

// CodeStorageExceeded is a package over the size limits (400).
func CodeStorageExceeded(format string, args ...any) *Error {
	return newf(TypeCodeStorageExceeded, http.StatusBadRequest, format, args...)
}

// UnknownOperation is a path or method that no API operation serves (404).
func UnknownOperation(format string, args ...any) *Error {
	return newf(TypeUnknownOperation, http.StatusNotFound, format, args...)
}

// PolicyLengthExceeded is a function's resource-based policy grown past
// Lambda's 20 KB quota by AddPermission (400).
func PolicyLengthExceeded(format string, args ...any) *Error {
	return newf(TypePolicyLengthExceeded, http.StatusBadRequest, format, args...)
}

// Validation is a request member that breaks a constraint of Lambda's API
// model (400), in Lambda's words: "1 validation error detected: Value '1000'
// at 'timeout' failed to satisfy constraint: ...".
func Validation(format string, args ...any) *Error {
	return newf(TypeValidation, http.StatusBadRequest, format, args...)
}

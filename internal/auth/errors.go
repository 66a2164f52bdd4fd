package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Lambda error types returned by this package. They are the values of
// [Error.Type] and of the X-Amzn-ErrorType response header.
const (
	// TypeMissingAuthenticationToken is returned when a request carries
	// neither an Authorization header nor presigned query parameters.
	TypeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	// TypeUnrecognizedClient is returned when the access key ID is not one
	// of the configured credentials.
	TypeUnrecognizedClient = "UnrecognizedClientException"
	// TypeInvalidSignature is returned when the signature does not match,
	// or the signing time is outside the allowed window.
	TypeInvalidSignature = "InvalidSignatureException"
	// TypeIncompleteSignature is returned when the Authorization header or
	// presigned query is malformed (a component is missing or unparsable).
	TypeIncompleteSignature = "IncompleteSignatureException"
	// TypeRequestTooLarge is returned when the body is larger than the
	// verifier may buffer to hash it (see [WithMaxBodyBytes]).
	TypeRequestTooLarge = "RequestEntityTooLargeException"
	// TypeSlowDown is returned when the bodies of requests under
	// verification already hold the spool budget (see [WithSpoolBudget]).
	TypeSlowDown = "SlowDown"
	// TypeService is what [WriteError] renders for an error that is not an
	// [*Error]; its cause is never shown to the client.
	TypeService = "ServiceException"
)

// Client-visible messages, worded as AWS words them.
const (
	msgMissingToken      = "Missing Authentication Token"
	msgUnrecognized      = "The security token included in the request is invalid."
	msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgService = "An internal error occurred."
	// msgWrongRegion is the text of Lambda and the JSON services; the
	// query services (SQS, IAM, STS) add ", not 'REGION'" before the dot.
	msgWrongRegion = "Credential should be scoped to a valid region. "
)

// Error is an authentication failure in the shape of a Lambda REST error:
// an HTTP status, an error type for the X-Amzn-ErrorType header and the
// "Type"/"Message" JSON body. The API layer maps it into the platform's error
// catalogue, or renders it with [WriteError].
//
// Message is written for the client. The internal cause (for example the
// canonical request the server computed) is kept apart, reachable only
// through [errors.Unwrap], so that it is logged but never sent.
type Error struct {
	// Type is the Lambda exception name, one of the Type* constants.
	Type string
	// Message is the client-visible message.
	Message string
	// Status is the HTTP status code: 403 for every authentication
	// failure, 413 for a body over the limit, 503 when the spool budget is
	// spent.
	Status int

	cause error
}

// Error implements error. It includes the internal cause, so it is meant for
// logs; clients get only Type and Message.
func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("auth: %s: %s: %v", e.Type, e.Message, e.cause)
	}
	return fmt.Sprintf("auth: %s: %s", e.Type, e.Message)
}

// Unwrap returns the internal cause, or nil.
func (e *Error) Unwrap() error { return e.cause }

// Is reports whether target is an [*Error] of the same Type, so that
// errors.Is(err, &auth.Error{Type: auth.TypeInvalidSignature}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Type == e.Type
}

// Kind returns "User" for 4xx errors and "Service" for 5xx, the value of the
// "Type" field in Lambda's error body.
func (e *Error) Kind() string {
	if e.Status >= 500 {
		return "Service"
	}
	return "User"
}

func newError(typ string, status int, msg string, cause error) *Error {
	return &Error{Type: typ, Message: msg, Status: status, cause: cause}
}

func errMissingToken() *Error {
	return newError(TypeMissingAuthenticationToken, http.StatusForbidden, msgMissingToken, nil)
}

func errUnrecognized(akid string) *Error {
	return newError(TypeUnrecognizedClient, http.StatusForbidden, msgUnrecognized,
		fmt.Errorf("unknown access key ID %q", akid))
}

func errSignature(cause error) *Error {
	return newError(TypeInvalidSignature, http.StatusForbidden, msgSignatureMismatch, cause)
}

func errInvalid(msg string) *Error {
	return newError(TypeInvalidSignature, http.StatusForbidden, msg, nil)
}

func errIncomplete(msg string) *Error {
	return newError(TypeIncompleteSignature, http.StatusForbidden, msg, nil)
}

func errTooLarge(limit int64) *Error {
	return newError(TypeRequestTooLarge, http.StatusRequestEntityTooLarge,
		fmt.Sprintf("Request must be smaller than %d bytes.", limit), nil)
}

// errorBody is Lambda's REST error body.
type errorBody struct {
	Type    string `json:"Type"`
	Message string `json:"Message"`
}

// WriteError renders err the way Lambda renders errors: the status, an
// X-Amzn-ErrorType header and a {"Type","Message"} JSON body. An err that is
// not an [*Error] becomes a 500 ServiceException with a generic message; its
// text is not sent. It is the default error handler of [Verifier.Middleware].
func WriteError(w http.ResponseWriter, err error) {
	var ae *Error
	if !errors.As(err, &ae) {
		ae = newError(TypeService, http.StatusInternalServerError, msgService, err)
	}
	body, mErr := json.Marshal(errorBody{Type: ae.Kind(), Message: ae.Message})
	if mErr != nil {
		// Two strings always marshal; keep a valid body regardless.
		body = []byte(`{"Type":"Service","Message":"` + msgService + `"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-ErrorType", ae.Type)
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(ae.Status)
	_, _ = w.Write(body) // the client may be gone; nothing useful to do
}

// Package awsquery speaks the AWS query protocol that IAM and STS use: a
// form-encoded request (POST / with Action, Version and the operation's
// parameters, lists flattened as Name.member.N) and an XML answer,
//
//	<ActionResponse xmlns="..."><ActionResult>…</ActionResult>
//	<ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></ActionResponse>
//
// or an error document
//
//	<ErrorResponse xmlns="..."><Error><Type>Sender</Type><Code>…</Code>
//	<Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>.
//
// It knows no service: internal/iam and internal/sts build on it, each
// with its own actions, shapes and error catalogue. [Error] is the one
// client-visible error type; [Handler] is the one place a service's
// errors become the error document.
package awsquery

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// MaxBodyBytes bounds a request body. The largest IAM request is a policy
// document (131,072 characters), which URL-encoding can triple.
const MaxBodyBytes = 1 << 20

// Request is one decoded query-protocol request.
type Request struct {
	// Action and Version name the operation ("CreateUser", "2010-05-08").
	Action, Version string
	// Params holds every parameter, Action and Version included.
	Params url.Values
}

// Parse reads the form from r's body (and its query string, which the
// protocol also allows) without consuming r.Form machinery, so that the
// body limit is the protocol's. A body that is not a valid form, or
// larger than MaxBodyBytes, is a client error.
func Parse(r *http.Request) (*Request, error) {
	var body []byte
	if r.Body != nil {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
		if err != nil {
			return nil, Errorf(http.StatusBadRequest, "MalformedQueryString", "Could not read the request body.")
		}
	}
	if len(body) > MaxBodyBytes {
		return nil, Errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "Request body must be smaller than %d bytes.", MaxBodyBytes)
	}
	return ParseForm(r.URL.RawQuery, body)
}

// ParseForm decodes a query string and a form body into a Request; the
// body's values follow the query's.
func ParseForm(rawQuery string, body []byte) (*Request, error) {
	params, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, Errorf(http.StatusBadRequest, "MalformedQueryString", "The query string is not valid.")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, Errorf(http.StatusBadRequest, "MalformedQueryString", "The request body is not a valid form.")
	}
	for k, v := range form {
		params[k] = append(params[k], v...)
	}
	return &Request{Action: params.Get("Action"), Version: params.Get("Version"), Params: params}, nil
}

// VersionOf returns the Version parameter of a query-protocol request
// body (or query string) without keeping the rest; "" when there is none.
// The router uses it to pick a service.
func VersionOf(rawQuery string, body []byte) string {
	if v := versionIn(rawQuery); v != "" {
		return v
	}
	return versionIn(string(body))
}

func versionIn(form string) string {
	for form != "" {
		var kv string
		kv, form, _ = strings.Cut(form, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k == "Version" {
			v, err := url.QueryUnescape(v)
			if err != nil {
				return ""
			}
			return v
		}
	}
	return ""
}

// Get returns the first value of name, or "".
func (r *Request) Get(name string) string { return r.Params.Get(name) }

// Has reports whether name was sent (possibly empty).
func (r *Request) Has(name string) bool { return r.Params.Has(name) }

// Int returns name as an integer: def when absent, a ValidationError when
// it is not a number.
func (r *Request) Int(name string, def int) (int, error) {
	s := r.Params.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, Validation("Value '%s' at '%s' failed to satisfy constraint: Member must be a number", s, lowerFirst(name))
	}
	return n, nil
}

// Bool returns name as a boolean (def when absent).
func (r *Request) Bool(name string, def bool) (bool, error) {
	s := r.Params.Get(name)
	if s == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, Validation("Value '%s' at '%s' failed to satisfy constraint: Member must be a boolean", s, lowerFirst(name))
	}
	return b, nil
}

// Required returns name's value or the protocol's error for a missing
// or empty parameter: every required string of IAM and STS has a minimum
// length of at least 1 in their service models, and AWS checks it before
// the operation runs.
func (r *Request) Required(name string) (string, error) {
	if !r.Params.Has(name) {
		return "", Validation("Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(name))
	}
	v := r.Params.Get(name)
	if v == "" {
		return "", Validation("Value '' at '%s' failed to satisfy constraint: Member must have length greater than or equal to 1", lowerFirst(name))
	}
	return v, nil
}

// maxMembers bounds the members of one list parameter, so a request
// cannot make the decoder loop past what any operation takes.
const maxMembers = 1000

// List returns the members of the list parameter name (name.member.1,
// name.member.2, …) in order, stopping at the first missing index.
func (r *Request) List(name string) []string {
	var out []string
	for i := 1; i <= maxMembers; i++ {
		k := name + ".member." + strconv.Itoa(i)
		if !r.Params.Has(k) {
			break
		}
		out = append(out, r.Params.Get(k))
	}
	return out
}

// Tag is one Key/Value pair of a Tags list.
type Tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// Tags returns the Tags-style list name (name.member.N.Key and .Value).
// A member without a key is a ValidationError.
func (r *Request) Tags(name string) ([]Tag, error) {
	var out []Tag
	for i := 1; i <= maxMembers; i++ {
		p := name + ".member." + strconv.Itoa(i) + "."
		if !r.Params.Has(p+"Key") && !r.Params.Has(p+"Value") {
			break
		}
		if !r.Params.Has(p + "Key") {
			return nil, Validation("Value null at '%s.%d.member.key' failed to satisfy constraint: Member must not be null", lowerFirst(name), i)
		}
		out = append(out, Tag{Key: r.Params.Get(p + "Key"), Value: r.Params.Get(p + "Value")})
	}
	return out, nil
}

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}

// Error is a client-visible error of a query-protocol service: its Code
// (NoSuchEntity, ValidationError, …), HTTP status and message. Type is
// "Sender" for client errors and "Receiver" for the service's own.
type Error struct {
	Status  int
	Code    string
	Message string
	// cause is an internal error kept for logs, never sent.
	cause error
}

// Error implements error.
func (e *Error) Error() string {
	if e.cause != nil {
		return e.Code + ": " + e.Message + ": " + e.cause.Error()
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the internal cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// Type is "Sender" for 4xx errors and "Receiver" otherwise.
func (e *Error) Type() string {
	if e.Status < 500 {
		return "Sender"
	}
	return "Receiver"
}

// Errorf returns an Error with a formatted message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Validation is the protocol's ValidationError (400) with AWS's
// "1 validation error detected: " prefix.
func Validation(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "ValidationError", Message: "1 validation error detected: " + fmt.Sprintf(format, args...)}
}

// As returns err as an *Error if it is one.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

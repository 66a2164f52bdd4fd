package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/smithy-go"

	"github.com/updraft/updraft/internal/lambdaapi"
)

// maxErrorBody bounds how much of an error response Do reads.
const maxErrorBody = 64 << 10

// Do sends a SigV4-signed request (the service of [signingService], the
// client's region and credentials) to path on the server, for updraft's own endpoints such
// as GET /updraft/v1/functions/{name}/logs. path is absolute and may carry
// a query string; its segments must already be escaped (url.PathEscape).
// body may be nil; when it is not, it is read fully first because SigV4
// signs the payload's hash, and sent as application/json.
//
// A response with status 400 or above is closed and returned as an error
// that satisfies smithy.APIError (see [APIError]), decoded from Lambda's
// error shape: the X-Amzn-ErrorType header and a {"Type","Message"} body.
// Otherwise the caller owns the response and must close its Body; the body
// is not buffered, so a streaming response (follow=true) is read as it
// arrives, until ctx is cancelled or the server ends it.
func (c *Client) Do(ctx context.Context, method, path string, body io.Reader) (*http.Response, error) {
	ref, err := url.Parse(path)
	if err != nil || !strings.HasPrefix(ref.Path, "/") || ref.Host != "" || ref.Scheme != "" {
		return nil, fmt.Errorf("client: %s %q: want an absolute path such as /updraft/v1/...", method, path)
	}
	u := *c.endpoint
	u.Path = strings.TrimRight(c.endpoint.Path, "/") + ref.Path
	u.RawPath = ""
	if ref.RawPath != "" {
		u.RawPath = strings.TrimRight(c.endpoint.EscapedPath(), "/") + ref.RawPath
	}
	u.RawQuery = ref.RawQuery

	var payload []byte
	if body != nil {
		if payload, err = io.ReadAll(body); err != nil {
			return nil, fmt.Errorf("client: %s %s: read body: %w", method, ref.Path, err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", method, ref.Path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Body = http.NoBody
		req.ContentLength = 0
	}
	sum := sha256.Sum256(payload)
	if err := c.signer.SignHTTP(ctx, c.creds, req, hex.EncodeToString(sum[:]), signingService(ref.Path), c.region, time.Now().UTC()); err != nil {
		return nil, fmt.Errorf("client: sign %s %s: %w", method, ref.Path, err)
	}
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", method, ref.Path, err)
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		apiErr := decodeError(resp)
		return nil, fmt.Errorf("client: %s %s: %w", method, ref.Path, apiErr)
	}
	return resp, nil
}

// APIError is an error response from one of updraft's own endpoints. It
// satisfies smithy.APIError like the SDK's errors do, so callers render
// both the same way.
type APIError struct {
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// Code is the error type, such as ResourceNotFoundException.
	Code string
	// Message is the server's explanation, meant for people.
	Message string
	// Fault is smithy.FaultClient for "User" errors and
	// smithy.FaultServer for "Service" errors.
	Fault smithy.ErrorFault
}

// Error implements error.
func (e *APIError) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// ErrorCode implements smithy.APIError.
func (e *APIError) ErrorCode() string { return e.Code }

// ErrorMessage implements smithy.APIError.
func (e *APIError) ErrorMessage() string { return e.Message }

// ErrorFault implements smithy.APIError.
func (e *APIError) ErrorFault() smithy.ErrorFault { return e.Fault }

var _ smithy.APIError = (*APIError)(nil)

// decodeError reads Lambda's error shape. The type comes from the
// X-Amzn-ErrorType header (Lambda may append ":<url>" to it), else from a
// "__type" or "code" body member, else from the HTTP status; the body's
// "Type" member is the fault ("User" or "Service"), not the error type.
func decodeError(resp *http.Response) *APIError {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body struct {
		Type        string `json:"Type"`
		Message     string `json:"Message"`
		LowerMsg    string `json:"message"`
		AltType     string `json:"__type"`
		LowerCode   string `json:"code"`
		ErrorString string `json:"errorMessage"`
	}
	_ = json.Unmarshal(data, &body) // a non-JSON body still yields a status-based error
	e := &APIError{StatusCode: resp.StatusCode}
	e.Code = resp.Header.Get(lambdaapi.HeaderErrorType)
	if e.Code == "" {
		e.Code = body.AltType
		if i := strings.LastIndexByte(e.Code, '#'); i >= 0 {
			e.Code = e.Code[i+1:]
		}
	}
	if e.Code == "" {
		e.Code = body.LowerCode
	}
	if i := strings.IndexByte(e.Code, ':'); i >= 0 {
		e.Code = e.Code[:i]
	}
	if e.Code == "" {
		e.Code = strings.ReplaceAll(http.StatusText(resp.StatusCode), " ", "")
		if e.Code == "" {
			e.Code = fmt.Sprintf("HTTP%d", resp.StatusCode)
		}
	}
	e.Message = firstNonEmpty(body.Message, body.LowerMsg, body.ErrorString)
	if e.Message == "" && len(data) > 0 && !json.Valid(data) {
		e.Message = strings.TrimSpace(string(data))
	}
	switch {
	case body.Type == "User":
		e.Fault = smithy.FaultClient
	case body.Type == "Service":
		e.Fault = smithy.FaultServer
	case resp.StatusCode >= 500:
		e.Fault = smithy.FaultServer
	default:
		e.Fault = smithy.FaultClient
	}
	return e
}

// signingService is the service the server expects path signed for:
// "execute-api" for the HTTP proxy and the async batch endpoints, which
// stand in for API Gateway, [SigningService] for every other path.
func signingService(path string) string {
	if strings.HasPrefix(path, "/updraft/v1/http/") || strings.HasPrefix(path, "/updraft/v1/async/") {
		return "execute-api"
	}
	return SigningService
}

// Package invoke is the entry point of every invocation: it validates the
// request, resolves the function name and qualifier to the version that
// runs (weighted aliases pick by weight), handles DryRun, and hands
// RequestResponse calls to the pool. It records Lambda's metrics for the
// invoke path. Event invocations are handed to an async engine when one is
// configured; without one they are refused with a clear error.
package invoke

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
	"github.com/updraft/updraft/internal/metrics"
	"github.com/updraft/updraft/internal/pool"
	"github.com/updraft/updraft/internal/registry"
)

// Limits of the invoke path (Lambda's).
const (
	// MaxSyncRequestBytes is the RequestResponse payload limit: 6 MiB.
	MaxSyncRequestBytes = 6 * 1024 * 1024
	// MaxClientContextBytes is the limit of the base64 client context.
	MaxClientContextBytes = 3583
)

// Resolver finds the version an invocation runs.
type Resolver interface {
	// ResolveInvoke finds the target; a function that does not exist is
	// not found under the qualifier given, $LATEST if none.
	ResolveInvoke(name, qualifier string) (*registry.Target, error)
	// ResolveSettled resolves again once a Pending or Updating version
	// has settled (waiting a bounded time); a version still Pending is
	// Lambda's 409.
	ResolveSettled(ctx context.Context, name, qualifier string) (*registry.Target, error)
}

// Runner runs an invocation in an execution environment.
type Runner interface {
	Invoke(ctx context.Context, req *pool.Request) (*pool.Result, error)
}

// Service runs invocations.
type Service struct {
	resolver Resolver
	runner   Runner
	metrics  *metrics.Invoke
	logger   *slog.Logger
}

// New builds the service.
func New(resolver Resolver, runner Runner, m *metrics.Invoke, logger *slog.Logger) *Service {
	return &Service{resolver: resolver, runner: runner, metrics: m, logger: logger.With("component", "invoke")}
}

// Request is an invocation as the API received it.
type Request struct {
	FunctionName   string
	Qualifier      string
	InvocationType string // RequestResponse (default), Event or DryRun
	LogType        string // None (default) or Tail
	ClientContext  string // base64 JSON, as sent in X-Amz-Client-Context
	Payload        []byte
	TraceID        string
	// RequestID, when set, is used instead of a new one.
	RequestID string
	// FreezeDelay: see pool.Request.
	FreezeDelay time.Duration
	// Stream, when not nil, receives the response as the function streams
	// it (InvokeWithResponseStream); Response.Payload then holds only what
	// was not streamed (a buffered answer, or the error document).
	Stream Stream
}

// Stream is where InvokeWithResponseStream's response goes.
type Stream interface {
	// Write receives the response bytes as the function writes them. It
	// may be called from another goroutine than Invoke's, but never after
	// Invoke returned.
	io.Writer
	// Resolved is called once the qualifier is resolved, before the
	// function runs and before any Write, with the version that runs.
	Resolved(executedVersion string)
}

// Response is what the API sends back.
type Response struct {
	StatusCode      int
	RequestID       string
	Payload         []byte
	FunctionError   string
	ErrorType       string // the function error's type, when FunctionError is set
	LogResult       string // base64 tail, when LogType is Tail
	ExecutedVersion string
}

// Invoke validates, resolves and runs req. Errors are platform failures
// (*lambdaerr.Error); a function that failed is a Response with
// FunctionError set.
func (s *Service) Invoke(ctx context.Context, req *Request) (*Response, error) {
	switch req.InvocationType {
	case "", lambdaapi.InvocationRequestResponse, lambdaapi.InvocationDryRun:
	case lambdaapi.InvocationEvent:
		return nil, lambdaerr.InvalidParameterValue("InvocationType Event is not available on this server yet: asynchronous invocation is not enabled.")
	default:
		return nil, lambdaerr.InvalidParameterValue("1 validation error detected: Value '%s' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]", req.InvocationType)
	}
	switch req.LogType {
	case "", "None", "Tail":
	default:
		return nil, lambdaerr.InvalidParameterValue("1 validation error detected: Value '%s' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [None, Tail]", req.LogType)
	}
	target, err := s.resolver.ResolveInvoke(req.FunctionName, req.Qualifier)
	if err == nil && (target.Version.Pending || target.Version.Updating) {
		target, err = s.resolver.ResolveSettled(ctx, req.FunctionName, req.Qualifier)
	}
	if err != nil {
		return nil, err
	}
	clientContext, err := DecodeClientContext(req.ClientContext)
	if err != nil {
		return nil, err
	}
	if len(req.Payload) > MaxSyncRequestBytes {
		return nil, lambdaerr.RequestTooLarge("Request must be smaller than %d bytes for the InvokeFunction operation", MaxSyncRequestBytes)
	}
	payload := req.Payload
	if len(payload) == 0 {
		payload = []byte("{}")
	} else if !json.Valid(payload) {
		return nil, errPayloadNotJSON(payload)
	}
	requestID := req.RequestID
	if requestID == "" {
		requestID = uuid.NewString()
	}
	v := target.Version
	if req.InvocationType == lambdaapi.InvocationDryRun {
		return &Response{StatusCode: 204, RequestID: requestID, ExecutedVersion: v.Version}, nil
	}
	var stream io.Writer
	if req.Stream != nil {
		req.Stream.Resolved(v.Version)
		stream = req.Stream
	}
	res, err := s.runner.Invoke(ctx, &pool.Request{
		Version:             v,
		ReservedConcurrency: target.ReservedConcurrency,
		RequestID:           requestID,
		Payload:             payload,
		InvokedARN:          target.InvokedARN,
		ClientContext:       clientContext,
		TraceID:             req.TraceID,
		FreezeDelay:         req.FreezeDelay,
		Stream:              stream,
	})
	if err != nil {
		if lambdaerr.IsType(err, lambdaerr.TypeTooManyRequests) {
			s.metrics.Throttles.WithLabelValues(v.FunctionName, v.Version).Inc()
		}
		return nil, err
	}
	s.metrics.Invocations.WithLabelValues(v.FunctionName, v.Version).Inc()
	s.metrics.Duration.WithLabelValues(v.FunctionName, v.Version).Observe(res.Duration.Seconds())
	if res.FunctionError != "" {
		s.metrics.Errors.WithLabelValues(v.FunctionName, v.Version).Inc()
	}
	out := &Response{
		StatusCode:      200,
		RequestID:       requestID,
		Payload:         res.Payload,
		FunctionError:   res.FunctionError,
		ErrorType:       res.ErrorType,
		ExecutedVersion: res.ExecutedVersion,
	}
	if req.LogType == "Tail" {
		out.LogResult = base64.StdEncoding.EncodeToString(res.LogTail)
	}
	return out, nil
}

// DecodeClientContext turns the X-Amz-Client-Context header into the JSON
// the runtime receives.
func DecodeClientContext(h string) (string, error) {
	if h == "" {
		return "", nil
	}
	if len(h) > MaxClientContextBytes {
		return "", lambdaerr.InvalidParameterValue("Client context must be smaller than %d bytes.", MaxClientContextBytes)
	}
	b, err := base64.StdEncoding.DecodeString(h)
	if err != nil || !json.Valid(b) {
		return "", lambdaerr.InvalidRequestContent("Client context must be a valid Base64-encoded JSON object.")
	}
	return string(b), nil
}

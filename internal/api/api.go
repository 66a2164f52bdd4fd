// Package api is updraft's HTTP surface: Lambda's REST paths and JSON
// shapes for the control plane and the invoke path, updraft's own
// endpoints under /updraft/v1 and /healthz. It authenticates
// requests (SigV4), decodes them, calls the registry and the invoke
// service, and is the only place that turns errors into Lambda's wire
// shape: X-Amzn-ErrorType plus {"Type","Message"} with the right status.
// Errors that are not *lambdaerr.Error become ServiceException with an
// error id that is logged beside the internal cause.
package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"github.com/updraft/updraft/internal/dynamodb"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/updraft/updraft/internal/async"
	"github.com/updraft/updraft/internal/authz"
	"github.com/updraft/updraft/internal/esm"
	"github.com/updraft/updraft/internal/iam"
	"github.com/updraft/updraft/internal/invoke"
	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
	"github.com/updraft/updraft/internal/registry"
	"github.com/updraft/updraft/internal/sfn"
	"github.com/updraft/updraft/internal/store"
)

// MaxControlBodyBytes bounds control-plane bodies: a 50 MB zip grows by a
// third in base64, plus the JSON around it.
const MaxControlBodyBytes = 70 << 20

// Authenticator verifies a request; nil means every request is accepted.
type Authenticator interface {
	Middleware(next http.Handler) http.Handler
}

// LogReader serves function logs for `updraft logs`.
type LogReader interface {
	// WriteLogs writes NDJSON records of function to w; with follow it
	// keeps writing new ones until ctx ends.
	WriteLogs(ctx context.Context, w io.Writer, function string, q LogQuery) error
}

// LogQuery selects log records.
type LogQuery struct {
	Limit  int
	Since  string // RFC 3339 or a Go duration such as 10m
	Follow bool
}

// Deps are what the API serves.
type Deps struct {
	Logger   *slog.Logger
	Registry *registry.Registry
	Invoker  *invoke.Service
	Auth     Authenticator
	Logs     LogReader
	// Health returns the health document and whether the server is healthy.
	Health func(ctx context.Context) (any, bool)
	// Metrics, when set, serves /metrics without authentication. The
	// daemon leaves it nil: metrics name every function, so they are
	// served on a listener of their own (--metrics-listen).
	Metrics http.Handler
	// Async runs Event invocations, records and batches; nil refuses them.
	Async *async.Engine
	// Queues serves the built-in queues; nil refuses queue operations.
	Queues QueueService
	// Streams serves the built-in streams with Kinesis's API; nil
	// refuses their operations.
	Streams StreamService
	// StepFunctions serves workflows (the Step Functions API); nil
	// refuses their operations.
	StepFunctions *sfn.Service
	// Tables serves DynamoDB's API (X-Amz-Target DynamoDB_20120810.*);
	// nil refuses it.
	Tables *dynamodb.Service
	// ESM serves event source mappings; nil refuses their operations.
	ESM *esm.Service
	// Policies serves the resource-based policies of functions
	// (AddPermission, RemovePermission, GetPolicy); nil refuses them.
	Policies PolicyService
	// IAM and STS serve AWS's IAM and STS query APIs on POST / (nil
	// refuses them); Root is the principal of a request that carries
	// none (see withCaller).
	IAM, STS http.Handler
	Root     iam.Principal
	// AccountID is the 12-digit account shown in the HTTP proxy's events
	// (requestContext.accountId) and in the ARNs requests are authorised
	// against; Region is the region of those ARNs.
	AccountID string
	Region    string
	// Authorizer decides every authenticated request against the caller's
	// policies; nil authorises everything (--auth none).
	Authorizer Authorizer
	// Roles says which execution roles exist; nil accepts any.
	Roles Roles
}

// route registers one operation; routes.go and the per-feature files use it.
type route func(pattern string, fn handlerFunc)

// Server is the HTTP handler.
type Server struct {
	deps    Deps
	logger  *slog.Logger
	handler http.Handler
	// sfn serves Step Functions requests; nil without StepFunctions.
	sfn http.Handler
	// largeBodies are the slots of large JSON bodies (takeLargeBodySlot).
	largeBodies chan struct{}
}

// New builds the handler tree.
func New(deps Deps) *Server {
	s := &Server{deps: deps, logger: deps.Logger.With("component", "api"), largeBodies: make(chan struct{}, maxLargeBodies)}
	if deps.StepFunctions != nil {
		s.sfn = deps.StepFunctions.Handler(func(r *http.Request, action, resource string) error {
			return s.authorize(r, action, resource, nil)
		})
	}
	mux := http.NewServeMux()
	s.routes(mux)
	var authed http.Handler = mux
	if deps.Auth != nil {
		authed = deps.Auth.Middleware(withPrincipal(mux))
	}
	open := http.NewServeMux()
	open.HandleFunc("GET /healthz", s.healthz)
	if deps.Metrics != nil {
		open.Handle("GET /metrics", deps.Metrics)
	}
	open.Handle("/", authed)
	s.handler = open
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// handlerFunc is a handler that returns its error for one place to render.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) wrap(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.authorizeRoute(r); err != nil {
			var d *authz.Denied
			if errors.As(err, &d) && strings.HasPrefix(routeActions[r.Pattern].action, "execute-api:") {
				writeGatewayDenied(w, d)
				return
			}
			if errors.As(err, &d) {
				err = deniedError(d)
			}
			s.writeError(w, r, err)
			return
		}
		if r.ContentLength > largeBodyBytes {
			r = r.WithContext(context.WithValue(r.Context(), largeBodySlotsKey{}, s.largeBodies))
		}
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}

// writeError renders err in Lambda's shape.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	le, ok := lambdaerr.As(err)
	switch {
	case errors.Is(err, store.ErrUnavailable):
		// Whatever the service made of it, a write the store refused is
		// the service's own failure: ServiceException (500), at once.
		// The store logged why when it stopped taking writes.
		le = errStoreUnavailable(err)
		s.logger.Debug("store not accepting writes", "method", r.Method, "path", r.URL.Path, "err", err)
	case !ok:
		var b [6]byte
		_, _ = rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		s.logger.Error("internal error", "error_id", id, "method", r.Method, "path", r.URL.Path, "err", err)
		le = lambdaerr.Service("An internal error occurred (error id %s).", id)
	case le.Status >= 500:
		s.logger.Warn("service error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	h := w.Header()
	for k, v := range le.Header() {
		h[k] = v
	}
	h.Set(lambdaapi.HeaderErrorType, le.Type)
	if h.Get(lambdaapi.HeaderRequestID) == "" {
		h.Set(lambdaapi.HeaderRequestID, uuid.NewString())
	}
	writeJSON(w, le.Status, le.Body())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"Type":"Service","Message":"response encoding failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	if w.Header().Get(lambdaapi.HeaderRequestID) == "" {
		w.Header().Set(lambdaapi.HeaderRequestID, uuid.NewString())
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// decodeJSON reads a control-plane body into v.
func decodeJSON(r *http.Request, v any) error {
	if err := takeLargeBodySlot(r); err != nil {
		return err
	}
	// Read into a buffer of the stated size at once: growing one from
	// 512 bytes to a 70 MB code upload would allocate twice that.
	hint := r.ContentLength
	if hint < 0 || hint > MaxControlBodyBytes {
		hint = 0
	}
	buf := bytes.NewBuffer(make([]byte, 0, hint+bytes.MinRead))
	_, err := buf.ReadFrom(io.LimitReader(r.Body, MaxControlBodyBytes+1))
	body := buf.Bytes()
	if err != nil {
		return lambdaerr.InvalidRequestContent("Could not read request body.")
	}
	if len(body) > MaxControlBodyBytes {
		return lambdaerr.RequestTooLarge("Request must be smaller than %d bytes.", MaxControlBodyBytes)
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return lambdaerr.InvalidParameterValue("Could not parse request body: field %s has the wrong type.", te.Field)
		}
		return lambdaerr.InvalidRequestContent("Could not parse request body into json: %s", sanitize(err.Error()))
	}
	return nil
}

// largeBodyBytes is the size past which a JSON body (a code upload) is
// decoded only in one of maxLargeBodies slots at a time.
const largeBodyBytes = 1 << 20

// maxLargeBodies bounds the large JSON bodies decoded at once. Each code
// upload holds its body, the decoded zip and the chunks on their way to
// the store, several times the upload's size; ten uploads of 10 MB at
// once took the server's memory up by hundreds of MB, two cost at most
// a wait of the time one takes to store.
const maxLargeBodies = 2

// largeBodySlotsKey carries the server's slots in the context of a
// request with a large body (see Server.wrap).
type largeBodySlotsKey struct{}

// takeLargeBodySlot waits for a slot when r's body is large, and gives it
// back when the request is done.
func takeLargeBodySlot(r *http.Request) error {
	slots, ok := r.Context().Value(largeBodySlotsKey{}).(chan struct{})
	if !ok {
		return nil
	}
	select {
	case slots <- struct{}{}:
		context.AfterFunc(r.Context(), func() { <-slots })
		return nil
	case <-r.Context().Done():
		return lambdaerr.InvalidRequestContent("Could not read request body.")
	}
}

// sanitize keeps parser messages short.
func sanitize(s string) string {
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if s.deps.Health == nil {
		writeJSON(w, 200, map[string]string{"status": "ok"})
		return
	}
	doc, ok := s.deps.Health(r.Context())
	status := http.StatusOK
	if !ok {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, doc)
}

package invoke

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/updraft/updraft/internal/lambdaerr"
	"github.com/updraft/updraft/internal/metrics"
	"github.com/updraft/updraft/internal/pool"
	"github.com/updraft/updraft/internal/registry"
)

// The real collaborators satisfy the interfaces the service is built on.
var (
	_ Resolver      = (*registry.Registry)(nil)
	_ Runner        = (*pool.Pool)(nil)
	_ pool.Observer = (*metrics.Invoke)(nil)
)

const testARN = "arn:aws:lambda:us-east-1:000000000000:function:fn"

// fakeResolver resolves every name to one target, or fails with err.
type fakeResolver struct {
	target *registry.Target
	err    error

	mu    sync.Mutex
	calls int
}

func (r *fakeResolver) ResolveInvoke(name, qualifier string) (*registry.Target, error) {
	r.mu.Lock()
	r.calls++
	r.mu.Unlock()
	if r.err != nil {
		return nil, r.err
	}
	return r.target, nil
}

func (r *fakeResolver) ResolveSettled(ctx context.Context, name, qualifier string) (*registry.Target, error) {
	return r.ResolveInvoke(name, qualifier)
}

// fakeRunner records requests and answers with result or err.
type fakeRunner struct {
	result *pool.Result
	err    error

	mu   sync.Mutex
	reqs []*pool.Request
}

func (r *fakeRunner) Invoke(ctx context.Context, req *pool.Request) (*pool.Result, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	if r.err != nil {
		return nil, r.err
	}
	res := *r.result
	return &res, nil
}

func (r *fakeRunner) requests() []*pool.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*pool.Request(nil), r.reqs...)
}

type fixture struct {
	svc      *Service
	resolver *fakeResolver
	runner   *fakeRunner
	metrics  *metrics.Invoke
}

func intPtr(n int) *int { return &n }

// newFixture builds a Service whose resolver finds fn:$LATEST (reserved
// concurrency 7) and whose runner succeeds with {"ok":true}.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		resolver: &fakeResolver{target: &registry.Target{
			Version: &registry.Version{
				FunctionName: "fn",
				FunctionARN:  testARN,
				Version:      "$LATEST",
				Runtime:      "provided.al2023",
				Handler:      "bootstrap",
				Timeout:      3 * time.Second,
				MemoryMB:     128,
				RevisionID:   "rev-1",
			},
			InvokedARN:          testARN + ":$LATEST",
			ReservedConcurrency: intPtr(7),
		}},
		runner: &fakeRunner{result: &pool.Result{
			Payload:         []byte(`{"ok":true}`),
			LogTail:         []byte("START RequestId: x\nhello\n"),
			ExecutedVersion: "$LATEST",
			Duration:        12 * time.Millisecond,
		}},
		metrics: metrics.NewInvoke(prometheus.NewRegistry()),
	}
	f.svc = New(f.resolver, f.runner, f.metrics, slog.New(slog.DiscardHandler))
	return f
}

// wantLambdaErr fails unless err is a *lambdaerr.Error of the given type,
// status and message.
func wantLambdaErr(t *testing.T, err error, typ string, status int, msg string) {
	t.Helper()
	le, ok := lambdaerr.As(err)
	if !ok {
		t.Fatalf("error = %v, want %s", err, typ)
	}
	if le.Type != typ || le.Status != status || le.Message != msg {
		t.Fatalf("error = %s %d %q,\n want %s %d %q", le.Type, le.Status, le.Message, typ, status, msg)
	}
}

// counter reads a counter's value, or a histogram's sample count.
func counter(t *testing.T, c any) float64 {
	t.Helper()
	m, ok := c.(prometheus.Metric)
	if !ok {
		t.Fatalf("%T is not a single metric", c)
	}
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		t.Fatal(err)
	}
	if d.Counter != nil {
		return d.GetCounter().GetValue()
	}
	return float64(d.GetHistogram().GetSampleCount())
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

const (
	clientContextMsg = "Client context must be a valid Base64-encoded JSON object."
	tooLongMsg       = "Client context must be smaller than 3583 bytes."
)

func TestDecodeClientContext(t *testing.T) {
	// The longest base64 that fits the limit: 3580 characters (a multiple
	// of 4) encode 2685 bytes.
	longJSON := `{"custom":{"k":"` + strings.Repeat("a", 2685-len(`{"custom":{"k":""}}`)) + `"}}`
	tests := []struct {
		name     string
		header   string
		want     string
		wantType string
		wantMsg  string
	}{
		{name: "no header means no client context", header: "", want: ""},
		{
			name:   "a base64 JSON object is decoded",
			header: b64(`{"client":{"installation_id":"i-1"},"custom":{"k":"v"},"env":{"locale":"en"}}`),
			want:   `{"client":{"installation_id":"i-1"},"custom":{"k":"v"},"env":{"locale":"en"}}`,
		},
		{name: "an empty JSON object is decoded", header: b64(`{}`), want: `{}`},
		{name: "JSON with surrounding whitespace is passed on as sent", header: b64(" {\"a\":1}\n"), want: " {\"a\":1}\n"},
		{
			name:     "text that is not base64 is refused",
			header:   "not base64!",
			wantType: lambdaerr.TypeInvalidRequestContent,
			wantMsg:  clientContextMsg,
		},
		{
			name:     "base64 of text that is not JSON is refused",
			header:   b64("hello"),
			wantType: lambdaerr.TypeInvalidRequestContent,
			wantMsg:  clientContextMsg,
		},
		{
			name:     "base64 of truncated JSON is refused",
			header:   b64(`{"custom":`),
			wantType: lambdaerr.TypeInvalidRequestContent,
			wantMsg:  clientContextMsg,
		},
		{
			name:     "base64 of nothing is refused",
			header:   "====",
			wantType: lambdaerr.TypeInvalidRequestContent,
			wantMsg:  clientContextMsg,
		},
		{
			name:     "URL-safe base64 is refused",
			header:   base64.URLEncoding.EncodeToString([]byte(`{"k":"???>>>"}`)),
			wantType: lambdaerr.TypeInvalidRequestContent,
			wantMsg:  clientContextMsg,
		},
		{name: "3580 characters of base64 are accepted", header: b64(longJSON), want: longJSON},
		{
			name:     "3584 characters are refused before decoding",
			header:   b64(longJSON + "   "),
			wantType: lambdaerr.TypeInvalidParameterValue,
			wantMsg:  tooLongMsg,
		},
		{
			name:     "3584 characters of garbage are refused as too long",
			header:   strings.Repeat("!", MaxClientContextBytes+1),
			wantType: lambdaerr.TypeInvalidParameterValue,
			wantMsg:  tooLongMsg,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeClientContext(tc.header)
			if tc.wantType != "" {
				if got != "" {
					t.Errorf("decoded %q alongside an error", got)
				}
				wantLambdaErr(t, err, tc.wantType, http.StatusBadRequest, tc.wantMsg)
				return
			}
			if err != nil {
				t.Fatalf("DecodeClientContext: %v", err)
			}
			if got != tc.want {
				t.Errorf("DecodeClientContext = %q, want %q", got, tc.want)
			}
		})
	}
	// The length cases above must straddle the limit exactly.
	if n := len(b64(longJSON)); n != 3580 {
		t.Fatalf("long case is %d characters, want 3580", n)
	}
	if n := len(b64(longJSON + "   ")); n != 3584 {
		t.Fatalf("too-long case is %d characters, want 3584", n)
	}
}

func FuzzDecodeClientContext(f *testing.F) {
	for _, seed := range []string{
		"",
		b64(`{}`),
		b64(`{"custom":{"a":"b"}}`),
		b64(`[1,2]`),
		b64("not json"),
		"not base64",
		"====",
		"eyJ9",
		strings.Repeat("A", MaxClientContextBytes+1),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, h string) {
		got, err := DecodeClientContext(h)
		if err != nil {
			le, ok := lambdaerr.As(err)
			if !ok || le.Status != http.StatusBadRequest {
				t.Fatalf("DecodeClientContext(%q) error %v is not a 400 lambdaerr", h, err)
			}
			if le.Type != lambdaerr.TypeInvalidRequestContent && le.Type != lambdaerr.TypeInvalidParameterValue {
				t.Fatalf("DecodeClientContext(%q) error type %s", h, le.Type)
			}
			if (le.Type == lambdaerr.TypeInvalidParameterValue) != (len(h) > MaxClientContextBytes) {
				t.Fatalf("DecodeClientContext(%q) (%d bytes) error type %s", h, len(h), le.Type)
			}
			if got != "" {
				t.Fatalf("DecodeClientContext(%q) returned %q with an error", h, got)
			}
			return
		}
		if h == "" {
			if got != "" {
				t.Fatalf("empty header decoded to %q", got)
			}
			return
		}
		if len(h) > MaxClientContextBytes {
			t.Fatalf("accepted %d bytes, over the %d limit", len(h), MaxClientContextBytes)
		}
		want, derr := base64.StdEncoding.DecodeString(h)
		if derr != nil {
			t.Fatalf("accepted %q, which is not standard base64: %v", h, derr)
		}
		if got != string(want) {
			t.Fatalf("DecodeClientContext(%q) = %q, want %q", h, got, want)
		}
		// What was accepted round-trips: the runtime gets the same
		// document when it is encoded again.
		again, err := DecodeClientContext(base64.StdEncoding.EncodeToString([]byte(got)))
		if err != nil || again != got {
			t.Fatalf("round trip of %q: %q, %v", got, again, err)
		}
	})
}

// jsonString returns a JSON string document of exactly n bytes.
func jsonString(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a'
	}
	b[0], b[n-1] = '"', '"'
	return b
}

func TestInvokePayloadRules(t *testing.T) {
	const invalidJSONMsg = "Could not parse request body into json: Could not parse payload into json: Unexpected character: was expecting a JSON value"
	tooLarge := "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
	tests := []struct {
		name        string
		payload     []byte
		wantPayload []byte // what the runner receives
		wantType    string
		wantStatus  int
		wantMsg     string
	}{
		{name: "an empty payload becomes {}", payload: []byte{}, wantPayload: []byte("{}")},
		{name: "no payload becomes {}", payload: nil, wantPayload: []byte("{}")},
		{name: "an object is passed on unchanged", payload: []byte(` {"a": [1, 2]} `), wantPayload: []byte(` {"a": [1, 2]} `)},
		{name: "a JSON string is a valid payload", payload: []byte(`"hi"`), wantPayload: []byte(`"hi"`)},
		{name: "a JSON number is a valid payload", payload: []byte(`42`), wantPayload: []byte(`42`)},
		{name: "JSON null is a valid payload", payload: []byte(`null`), wantPayload: []byte(`null`)},
		{
			name: "text that is not JSON is refused with Jackson's words, as Lambda's", payload: []byte("hello"),
			wantType: lambdaerr.TypeInvalidRequestContent, wantStatus: 400,
			wantMsg: "Could not parse request body into json: Could not parse payload into json: Unrecognized token 'hello': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 6]",
		},
		{
			name: "truncated JSON is refused", payload: []byte(`{"a":`),
			wantType: lambdaerr.TypeInvalidRequestContent, wantStatus: 400, wantMsg: invalidJSONMsg,
		},
		{
			name: "two JSON documents are refused", payload: []byte(`{} {}`),
			wantType: lambdaerr.TypeInvalidRequestContent, wantStatus: 400, wantMsg: invalidJSONMsg,
		},
		{
			name: "whitespace alone is refused", payload: []byte("  \n"),
			wantType: lambdaerr.TypeInvalidRequestContent, wantStatus: 400, wantMsg: invalidJSONMsg,
		},
		{name: "exactly 6291456 bytes are accepted", payload: jsonString(6291456), wantPayload: jsonString(6291456)},
		{
			name: "6291457 bytes are refused", payload: jsonString(6291457),
			wantType: lambdaerr.TypeRequestTooLarge, wantStatus: 413, wantMsg: tooLarge,
		},
		{
			name: "an oversized payload is refused for its size before its syntax", payload: make([]byte, 6291457),
			wantType: lambdaerr.TypeRequestTooLarge, wantStatus: 413, wantMsg: tooLarge,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			resp, err := f.svc.Invoke(t.Context(), &Request{FunctionName: "fn", Payload: tc.payload})
			reqs := f.runner.requests()
			if tc.wantType != "" {
				wantLambdaErr(t, err, tc.wantType, tc.wantStatus, tc.wantMsg)
				if resp != nil {
					t.Errorf("got a response alongside the error: %+v", resp)
				}
				if len(reqs) != 0 {
					t.Errorf("runner was called %d times for a refused payload", len(reqs))
				}
				return
			}
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			if len(reqs) != 1 {
				t.Fatalf("runner called %d times, want 1", len(reqs))
			}
			if got := reqs[0].Payload; string(got) != string(tc.wantPayload) {
				t.Errorf("runner payload (%d bytes) = %.40q, want (%d bytes) %.40q", len(got), got, len(tc.wantPayload), tc.wantPayload)
			}
		})
	}
}

func TestInvokeValidatesTypes(t *testing.T) {
	invTypeMsg := func(v string) string {
		return "1 validation error detected: Value '" + v + "' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
	}
	logTypeMsg := func(v string) string {
		return "1 validation error detected: Value '" + v + "' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [None, Tail]"
	}
	tests := []struct {
		name           string
		invocationType string
		logType        string
		wantStatus     int    // of the response, when accepted
		wantMsg        string // of the InvalidParameterValueException, when refused
	}{
		{name: "no invocation type runs the function", wantStatus: 200},
		{name: "RequestResponse runs the function", invocationType: "RequestResponse", wantStatus: 200},
		{name: "DryRun answers 204 without running", invocationType: "DryRun", wantStatus: 204},
		{
			name: "Event is refused while async invocation is not enabled", invocationType: "Event",
			wantMsg: "InvocationType Event is not available on this server yet: asynchronous invocation is not enabled.",
		},
		{name: "invocation types are case-sensitive", invocationType: "requestresponse", wantMsg: invTypeMsg("requestresponse")},
		{name: "an unknown invocation type is refused", invocationType: "Async", wantMsg: invTypeMsg("Async")},
		{name: "LogType None is accepted", logType: "None", wantStatus: 200},
		{name: "LogType Tail is accepted", logType: "Tail", wantStatus: 200},
		{name: "log types are case-sensitive", logType: "tail", wantMsg: logTypeMsg("tail")},
		{name: "an unknown log type is refused", logType: "Full", wantMsg: logTypeMsg("Full")},
		{
			name: "the invocation type is checked before the log type", invocationType: "Nope", logType: "Nope",
			wantMsg: invTypeMsg("Nope"),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			resp, err := f.svc.Invoke(t.Context(), &Request{
				FunctionName: "fn", InvocationType: tc.invocationType, LogType: tc.logType, Payload: []byte(`{}`),
			})
			if tc.wantMsg != "" {
				wantLambdaErr(t, err, lambdaerr.TypeInvalidParameterValue, 400, tc.wantMsg)
				if f.resolver.calls != 0 || len(f.runner.requests()) != 0 {
					t.Errorf("a refused request reached the resolver (%d) or runner (%d)", f.resolver.calls, len(f.runner.requests()))
				}
				return
			}
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			wantRuns := 1
			if tc.wantStatus == 204 {
				wantRuns = 0
			}
			if got := len(f.runner.requests()); got != wantRuns {
				t.Errorf("runner called %d times, want %d", got, wantRuns)
			}
		})
	}
}

func TestInvokeDryRun(t *testing.T) {
	t.Run("answers 204 with the resolved version and no payload", func(t *testing.T) {
		f := newFixture(t)
		resp, err := f.svc.Invoke(t.Context(), &Request{FunctionName: "fn", InvocationType: "DryRun", LogType: "Tail", Payload: []byte(`{"a":1}`)})
		if err != nil {
			t.Fatalf("Invoke: %v", err)
		}
		if resp.StatusCode != 204 || resp.ExecutedVersion != "$LATEST" || resp.Payload != nil || resp.LogResult != "" || resp.FunctionError != "" {
			t.Errorf("DryRun response = %+v, want 204, version $LATEST, nothing else", resp)
		}
		if _, err := uuid.Parse(resp.RequestID); err != nil {
			t.Errorf("request id %q is not a UUID", resp.RequestID)
		}
		if got := counter(t, f.metrics.Invocations.WithLabelValues("fn", "$LATEST")); got != 0 {
			t.Errorf("a DryRun counted %v invocations", got)
		}
	})
	t.Run("still validates the payload", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.svc.Invoke(t.Context(), &Request{FunctionName: "fn", InvocationType: "DryRun", Payload: []byte("{nope")})
		wantLambdaErr(t, err, lambdaerr.TypeInvalidRequestContent, 400,
			"Could not parse request body into json: Could not parse payload into json: Unexpected character: was expecting a JSON value")
	})
	t.Run("still validates the client context", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.svc.Invoke(t.Context(), &Request{FunctionName: "fn", InvocationType: "DryRun", ClientContext: "nope"})
		wantLambdaErr(t, err, lambdaerr.TypeInvalidRequestContent, 400, clientContextMsg)
	})
	t.Run("reports a missing function", func(t *testing.T) {
		f := newFixture(t)
		f.resolver.err = lambdaerr.ResourceNotFound("Function not found: %s", testARN)
		_, err := f.svc.Invoke(t.Context(), &Request{FunctionName: "fn", InvocationType: "DryRun"})
		wantLambdaErr(t, err, lambdaerr.TypeResourceNotFound, 404, "Function not found: "+testARN)
	})
}

func TestInvokeLogResult(t *testing.T) {
	tests := []struct {
		name    string
		logType string
		tail    []byte
		want    string
	}{
		{name: "Tail returns the base64 of the runner's tail", logType: "Tail", tail: []byte("START RequestId: x\nhello\n"), want: "U1RBUlQgUmVxdWVzdElkOiB4CmhlbGxvCg=="},
		{name: "Tail of binary output is base64 too", logType: "Tail", tail: []byte{0xff, 0x00, 0xfe}, want: "/wD+"},
		{name: "Tail of an empty log is empty", logType: "Tail", tail: nil, want: ""},
		{name: "None returns no log", logType: "None", tail: []byte("hello\n"), want: ""},
		{name: "no log type returns no log", logType: "", tail: []byte("hello\n"), want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.runner.result.LogTail = tc.tail
			resp, err := f.svc.Invoke(t.Context(), &Request{FunctionName: "fn", LogType: tc.logType})
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			if resp.LogResult != tc.want {
				t.Errorf("LogResult = %q, want %q", resp.LogResult, tc.want)
			}
		})
	}
}

func TestInvokeHandsTheRunnerTheResolvedRequest(t *testing.T) {
	f := newFixture(t)
	f.runner.result.ExecutedVersion = "2" // as when an alias picked version 2
	resp, err := f.svc.Invoke(t.Context(), &Request{
		FunctionName:  "fn",
		Qualifier:     "live",
		ClientContext: b64(`{"custom":{"a":"b"}}`),
		Payload:       []byte(`{"x":1}`),
		TraceID:       "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
		RequestID:     "11111111-2222-3333-4444-555555555555",
	})
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	reqs := f.runner.requests()
	if len(reqs) != 1 {
		t.Fatalf("runner called %d times, want 1", len(reqs))
	}
	got := reqs[0]
	if got.Version != f.resolver.target.Version {
		t.Errorf("runner got version %+v, want the resolved one", got.Version)
	}
	if got.ReservedConcurrency == nil || *got.ReservedConcurrency != 7 {
		t.Errorf("reserved concurrency = %v, want 7", got.ReservedConcurrency)
	}
	checks := []struct{ field, got, want string }{
		{"RequestID", got.RequestID, "11111111-2222-3333-4444-555555555555"},
		{"InvokedARN", got.InvokedARN, testARN + ":$LATEST"},
		{"ClientContext", got.ClientContext, `{"custom":{"a":"b"}}`},
		{"TraceID", got.TraceID, "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"},
		{"Payload", string(got.Payload), `{"x":1}`},
		{"response RequestID", resp.RequestID, "11111111-2222-3333-4444-555555555555"},
		{"response ExecutedVersion", resp.ExecutedVersion, "2"},
		{"response Payload", string(resp.Payload), `{"ok":true}`},
		{"response FunctionError", resp.FunctionError, ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if resp.StatusCode != 200 {
		t.Errorf("status = %d, want 200", resp.StatusCode)
	}
}

func TestInvokeGeneratesARequestIDWhenNoneIsGiven(t *testing.T) {
	f := newFixture(t)
	seen := map[string]bool{}
	for range 3 {
		resp, err := f.svc.Invoke(t.Context(), &Request{FunctionName: "fn"})
		if err != nil {
			t.Fatalf("Invoke: %v", err)
		}
		if _, err := uuid.Parse(resp.RequestID); err != nil || len(resp.RequestID) != 36 {
			t.Errorf("request id %q is not a UUID", resp.RequestID)
		}
		if seen[resp.RequestID] {
			t.Errorf("request id %q reused", resp.RequestID)
		}
		seen[resp.RequestID] = true
	}
	for i, req := range f.runner.requests() {
		if !seen[req.RequestID] {
			t.Errorf("runner request %d has id %q, not the one returned", i, req.RequestID)
		}
	}
}

func TestInvokeResolverErrorsPassThrough(t *testing.T) {
	f := newFixture(t)
	f.resolver.err = lambdaerr.ResourceNotFound("Function not found: %s", testARN)
	_, err := f.svc.Invoke(t.Context(), &Request{FunctionName: "fn"})
	wantLambdaErr(t, err, lambdaerr.TypeResourceNotFound, 404, "Function not found: "+testARN)
	if len(f.runner.requests()) != 0 {
		t.Error("runner called for a function that does not exist")
	}
}

func TestInvokeMetrics(t *testing.T) {
	throttle := lambdaerr.TooManyRequests(lambdaerr.ReasonReservedFunctionConcurrentInvocationLimitExceeded, "Rate Exceeded.")
	tests := []struct {
		name                                      string
		result                                    *pool.Result
		err                                       error
		wantInvocations, wantErrors, wantThrottle float64
		wantDurations                             float64
	}{
		{
			name:            "a successful invocation counts once with its duration",
			result:          &pool.Result{Payload: []byte(`1`), ExecutedVersion: "$LATEST", Duration: time.Millisecond},
			wantInvocations: 1, wantDurations: 1,
		},
		{
			name:            "a function error counts as an invocation and an error",
			result:          &pool.Result{Payload: []byte(`{"errorType":"E"}`), FunctionError: "Unhandled", ExecutedVersion: "$LATEST"},
			wantInvocations: 1, wantErrors: 1, wantDurations: 1,
		},
		{
			name:         "a throttle counts only as a throttle",
			err:          throttle,
			wantThrottle: 1,
		},
		{
			name:         "a wrapped throttle counts as a throttle",
			err:          fmt.Errorf("pool: %w", throttle),
			wantThrottle: 1,
		},
		{
			name: "a platform failure counts as nothing",
			err:  errors.New("sandbox: start failed"),
		},
		{
			name: "a shutdown counts as nothing",
			err:  lambdaerr.ServiceUnavailable("The server is shutting down."),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.runner.result, f.runner.err = tc.result, tc.err
			resp, err := f.svc.Invoke(t.Context(), &Request{FunctionName: "fn"})
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Invoke error = %v, want the runner's %v", err, tc.err)
				}
			} else {
				if err != nil {
					t.Fatalf("Invoke: %v", err)
				}
				if resp.FunctionError != tc.result.FunctionError || resp.StatusCode != 200 {
					t.Errorf("response = %+v, want status 200 and FunctionError %q", resp, tc.result.FunctionError)
				}
			}
			m := f.metrics
			checks := []struct {
				name string
				got  float64
				want float64
			}{
				{"invocations", counter(t, m.Invocations.WithLabelValues("fn", "$LATEST")), tc.wantInvocations},
				{"errors", counter(t, m.Errors.WithLabelValues("fn", "$LATEST")), tc.wantErrors},
				{"throttles", counter(t, m.Throttles.WithLabelValues("fn", "$LATEST")), tc.wantThrottle},
				{"duration samples", counter(t, m.Duration.WithLabelValues("fn", "$LATEST")), tc.wantDurations},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
				}
			}
		})
	}
}

func TestInvokeRunsToTheRunnerWithTheCallersContext(t *testing.T) {
	f := newFixture(t)
	type key struct{}
	var seen any
	f.svc = New(f.resolver, runnerFunc(func(ctx context.Context, req *pool.Request) (*pool.Result, error) {
		seen = ctx.Value(key{})
		return &pool.Result{Payload: []byte(`{}`), ExecutedVersion: "$LATEST"}, nil
	}), f.metrics, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.WithValue(t.Context(), key{}, "caller")
	if _, err := f.svc.Invoke(ctx, &Request{FunctionName: "fn"}); err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if seen != "caller" {
		t.Errorf("runner context value = %v, want the caller's", seen)
	}
}

type runnerFunc func(ctx context.Context, req *pool.Request) (*pool.Result, error)

func (f runnerFunc) Invoke(ctx context.Context, req *pool.Request) (*pool.Result, error) {
	return f(ctx, req)
}

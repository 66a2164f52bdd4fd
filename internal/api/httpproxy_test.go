package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/updraft/updraft/internal/api"
	"github.com/updraft/updraft/internal/invoke"
	"github.com/updraft/updraft/internal/lambdaerr"
	"github.com/updraft/updraft/internal/pool"
)

// echoProxy answers each proxy event with a 200 whose body is the event.
func echoProxy(req *pool.Request) (*pool.Result, error) {
	b, err := json.Marshal(events.APIGatewayProxyResponse{
		StatusCode: 200,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(req.Payload),
	})
	return &pool.Result{Payload: b, ExecutedVersion: req.Version.Version}, err
}

func TestHTTPProxyInvokesWithTheEvent(t *testing.T) {
	f := newFixture(t, func(d *api.Deps) { d.AccountID = "123456789012" })
	f.mustCreate(t, "fn")
	wantStatus(t, f.do(t, "POST", "/2015-03-31/functions/fn/versions", strings.NewReader("{}")), http.StatusCreated)
	f.runner.setAnswer(echoProxy)

	tests := []struct {
		name, method, target, path, version string
	}{
		{"a nested path", "POST", "/updraft/v1/http/fn/a/b?x=1", "/a/b", "$LATEST"},
		{"the root without a slash", "GET", "/updraft/v1/http/fn", "/", "$LATEST"},
		{"the root with a slash", "GET", "/updraft/v1/http/fn/", "/", "$LATEST"},
		{"a qualified name", "PATCH", "/updraft/v1/http/fn:1/p", "/p", "1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(f.runner.requests())
			rec := f.do(t, tc.method, tc.target, strings.NewReader("hi"), "Content-Type", "text/plain")
			wantStatus(t, rec, http.StatusOK)
			reqs := f.runner.requests()
			if len(reqs) != before+1 {
				t.Fatalf("%d invocations, want 1", len(reqs)-before)
			}
			req := reqs[len(reqs)-1]
			if req.Version.Version != tc.version {
				t.Errorf("version %s, want %s", req.Version.Version, tc.version)
			}
			var ev events.APIGatewayProxyRequest
			if err := json.Unmarshal(rec.Body.Bytes(), &ev); err != nil {
				t.Fatalf("body is not the event: %v: %s", err, rec.Body)
			}
			if ev.Path != tc.path || ev.HTTPMethod != tc.method || ev.Body != "hi" || ev.RequestContext.AccountID != "123456789012" {
				t.Errorf("event path %q method %q body %q account %q", ev.Path, ev.HTTPMethod, ev.Body, ev.RequestContext.AccountID)
			}
			if ev.RequestContext.RequestID != req.RequestID || rec.Header().Get("X-Amzn-Requestid") != req.RequestID {
				t.Errorf("request ids: event %q, header %q, invocation %q", ev.RequestContext.RequestID, rec.Header().Get("X-Amzn-Requestid"), req.RequestID)
			}
		})
	}
}

func TestHTTPProxyErrors(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, "fn")
	tests := []struct {
		name      string
		target    string
		body      []byte
		answer    func(*pool.Request) (*pool.Result, error)
		status    int
		errorType string
		wantBody  string
	}{
		{
			name: "a function error is 502", target: "/updraft/v1/http/fn/x",
			answer: func(req *pool.Request) (*pool.Result, error) {
				return &pool.Result{Payload: []byte(`{"errorMessage":"boom","errorType":"Error"}`), FunctionError: "Unhandled", ErrorType: "Error"}, nil
			},
			status: 502, errorType: "InternalServerErrorException", wantBody: `{"message": "Internal server error"}`,
		},
		{
			name: "a result without statusCode is 502", target: "/updraft/v1/http/fn/x",
			answer: func(req *pool.Request) (*pool.Result, error) {
				return &pool.Result{Payload: []byte(`{"body":"hi"}`)}, nil
			},
			status: 502, errorType: "InternalServerErrorException", wantBody: `{"message": "Internal server error"}`,
		},
		{
			name: "a throttle is 500, as API Gateway reports it", target: "/updraft/v1/http/fn/x",
			answer: func(req *pool.Request) (*pool.Result, error) {
				return nil, lambdaerr.TooManyRequests(lambdaerr.ReasonReservedFunctionConcurrentInvocationLimitExceeded, "Rate Exceeded.")
			},
			status: 500, errorType: "InternalServerErrorException", wantBody: `{"message": "Internal server error"}`,
		},
		{
			name: "an unknown function is 404", target: "/updraft/v1/http/nope/x",
			status: 404, errorType: "NotFoundException", wantBody: `{"message":"Not Found"}`,
		},
		{
			name: "an unknown alias is 404", target: "/updraft/v1/http/fn:nope/x",
			status: 404, errorType: "NotFoundException", wantBody: `{"message":"Not Found"}`,
		},
		{
			name: "a body over Lambda's limit is 413", target: "/updraft/v1/http/fn/x",
			body:   bytes.Repeat([]byte("a"), invoke.MaxSyncRequestBytes+1),
			status: 413, errorType: "RequestTooLargeException", wantBody: `{"message":"Request Too Long"}`,
		},
		{
			name: "a body that fits but whose event does not is 413", target: "/updraft/v1/http/fn/x",
			body:   bytes.Repeat([]byte{0xff}, invoke.MaxSyncRequestBytes-1000),
			status: 413, errorType: "RequestTooLargeException", wantBody: `{"message":"Request Too Long"}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.runner.setAnswer(tc.answer)
			before := len(f.runner.requests())
			rec := f.do(t, "POST", tc.target, bytes.NewReader(tc.body))
			wantStatus(t, rec, tc.status)
			if got := rec.Header().Get("X-Amzn-Errortype"); got != tc.errorType {
				t.Errorf("x-amzn-ErrorType = %q, want %q", got, tc.errorType)
			}
			if rec.Body.String() != tc.wantBody {
				t.Errorf("body = %s, want %s", rec.Body, tc.wantBody)
			}
			if tc.status == 413 && len(f.runner.requests()) != before {
				t.Error("an oversized request reached the function")
			}
		})
	}
}

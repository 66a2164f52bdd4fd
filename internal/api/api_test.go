package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/api"
	"github.com/updraft/updraft/internal/invoke"
	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
	"github.com/updraft/updraft/internal/pool"
)

// TestErrorWireShape checks Lambda's restJson1 error shape byte for byte
// against testdata/*.golden: status, X-Amzn-ErrorType, Content-Type,
// Retry-After on throttles, and the {"Type","Message"} body ("message"
// and "Reason" for TooManyRequestsException).
func TestErrorWireShape(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, "fn")
	answer := func(err error) func(*pool.Request) (*pool.Result, error) {
		return func(*pool.Request) (*pool.Result, error) { return nil, err }
	}
	tests := []struct {
		golden string
		method string
		target string
		body   string
		header []string
		runner func(*pool.Request) (*pool.Result, error)
		status int
		typ    string
	}{
		{
			golden: "invoke_function_not_found", method: "POST", target: "/2015-03-31/functions/nope/invocations", body: "{}",
			status: 404, typ: "ResourceNotFoundException",
		},
		{
			golden: "invoke_version_not_found", method: "POST", target: "/2015-03-31/functions/fn/invocations?Qualifier=9", body: "{}",
			status: 404, typ: "ResourceNotFoundException",
		},
		{
			golden: "get_function_not_found", method: "GET", target: "/2015-03-31/functions/nope",
			status: 404, typ: "ResourceNotFoundException",
		},
		{
			golden: "unknown_operation", method: "GET", target: "/2021-10-31/functions/fn/url",
			status: 404, typ: "UnknownOperationException",
		},
		{
			golden: "unknown_method", method: "PATCH", target: "/2015-03-31/functions/fn",
			status: 404, typ: "UnknownOperationException",
		},
		{
			golden: "throttle_reserved", method: "POST", target: "/2015-03-31/functions/fn/invocations", body: "{}",
			runner: answer(lambdaerr.TooManyRequests(lambdaerr.ReasonReservedFunctionConcurrentInvocationLimitExceeded, "Rate Exceeded.")),
			status: 429, typ: "TooManyRequestsException",
		},
		{
			golden: "throttle_account", method: "POST", target: "/2015-03-31/functions/fn/invocations", body: "{}",
			runner: answer(fmt.Errorf("pool: %w", lambdaerr.TooManyRequests(lambdaerr.ReasonConcurrentInvocationLimitExceeded, "Rate Exceeded."))),
			status: 429, typ: "TooManyRequestsException",
		},
		{
			golden: "service_unavailable", method: "POST", target: "/2015-03-31/functions/fn/invocations", body: "{}",
			runner: answer(lambdaerr.ServiceUnavailable("The server is shutting down.")),
			status: 503, typ: "ServiceUnavailableException",
		},
		{
			golden: "service_exception", method: "POST", target: "/2015-03-31/functions/fn/invocations", body: "{}",
			runner: answer(errors.New("pool: unpack code of fn: open /var/lib/updraft/code/x: permission denied")),
			status: 500, typ: "ServiceException",
		},
		{
			golden: "request_too_large", method: "POST", target: "/2015-03-31/functions/fn/invocations",
			body:   `"` + strings.Repeat("a", invoke.MaxSyncRequestBytes-1) + `"`,
			status: 413, typ: "RequestTooLargeException",
		},
		{
			golden: "unsupported_media_type", method: "POST", target: "/2015-03-31/functions/fn/invocations", body: "{}",
			header: []string{"Content-Type", "image/png"},
			status: 415, typ: "UnsupportedMediaTypeException",
		},
		{
			golden: "invalid_json_payload", method: "POST", target: "/2015-03-31/functions/fn/invocations", body: "not json",
			status: 400, typ: "InvalidRequestContentException",
		},
		{
			golden: "invalid_client_context", method: "POST", target: "/2015-03-31/functions/fn/invocations", body: "{}",
			header: []string{"X-Amz-Client-Context", "!!!"},
			status: 400, typ: "InvalidRequestContentException",
		},
		{
			golden: "invalid_log_type", method: "POST", target: "/2015-03-31/functions/fn/invocations", body: "{}",
			header: []string{"X-Amz-Log-Type", "tail"},
			status: 400, typ: "InvalidParameterValueException",
		},
		{
			golden: "invoke_event_refused", method: "POST", target: "/2015-03-31/functions/fn/invocations", body: "{}",
			header: []string{"X-Amz-Invocation-Type", "Event"},
			status: 400, typ: "InvalidParameterValueException",
		},
		{
			golden: "invoke_async_refused", method: "POST", target: "/2014-11-13/functions/fn/invoke-async/", body: "{}",
			status: 400, typ: "InvalidParameterValueException",
		},
		{
			golden: "max_items_out_of_range", method: "GET", target: "/2015-03-31/functions/?MaxItems=0",
			status: 400, typ: "InvalidParameterValueException",
		},
		{
			golden: "function_version_invalid", method: "GET", target: "/2015-03-31/functions/?FunctionVersion=all",
			status: 400, typ: "ValidationException",
		},
		{
			golden: "create_field_wrong_type", method: "POST", target: "/2015-03-31/functions", body: `{"FunctionName":5}`,
			status: 400, typ: "InvalidParameterValueException",
		},
		{
			golden: "create_body_not_json", method: "POST", target: "/2015-03-31/functions", body: `{"FunctionName":`,
			status: 400, typ: "InvalidRequestContentException",
		},
		{
			golden: "put_concurrency_missing", method: "PUT", target: "/2017-10-31/functions/fn/concurrency", body: `{}`,
			status: 400, typ: "InvalidParameterValueException",
		},
		{
			golden: "logs_unavailable", method: "GET", target: "/updraft/v1/functions/fn/logs",
			status: 503, typ: "ServiceUnavailableException",
		},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			f.runner.setAnswer(tc.runner)
			rec := f.do(t, tc.method, tc.target, strings.NewReader(tc.body), tc.header...)
			if rec.Code != tc.status || rec.Header().Get("X-Amzn-ErrorType") != tc.typ {
				t.Errorf("got %d %s, want %d %s; body %s", rec.Code, rec.Header().Get("X-Amzn-ErrorType"), tc.status, tc.typ, rec.Body)
			}
			checkGolden(t, tc.golden, goldenResponse(t, rec))
		})
	}
}

func TestServiceExceptionHidesTheCauseAndLogsItWithAnID(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, "fn")
	const cause = "open /var/lib/updraft/code/3f2a: permission denied"
	f.runner.setAnswer(func(*pool.Request) (*pool.Result, error) {
		return nil, fmt.Errorf("pool: unpack code of fn: %w", errors.New(cause))
	})
	rec := f.do(t, "POST", "/2015-03-31/functions/fn/invocations", strings.NewReader("{}"))

	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	m := regexp.MustCompile(`^An internal error occurred \(error id ([0-9a-f]{12})\)\.$`).FindStringSubmatch(body["Message"])
	if m == nil {
		t.Fatalf("Message = %q, want an internal error with a 12-hex-digit id", body["Message"])
	}
	wantError(t, rec, 500, "ServiceException", m[0])
	if strings.Contains(rec.Body.String(), "permission denied") || strings.Contains(rec.Body.String(), "/var/lib") {
		t.Errorf("the internal cause leaked into the response: %s", rec.Body)
	}
	logs := f.logs.String()
	var line string
	for l := range strings.SplitSeq(logs, "\n") {
		if strings.Contains(l, "error_id="+m[1]) {
			line = l
		}
	}
	if line == "" {
		t.Fatalf("no log line carries error_id=%s:\n%s", m[1], logs)
	}
	for _, want := range []string{cause, "method=POST", "path=/2015-03-31/functions/fn/invocations", "level=ERROR"} {
		if !strings.Contains(line, want) {
			t.Errorf("log line %q lacks %q", line, want)
		}
	}

	// Every ServiceException gets its own id.
	rec2 := f.do(t, "POST", "/2015-03-31/functions/fn/invocations", strings.NewReader("{}"))
	if rec2.Body.String() == rec.Body.String() {
		t.Errorf("two internal errors share an error id: %s", rec.Body)
	}
}

func TestUnknownRoutes(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, "fn")
	tests := []struct{ method, path string }{
		{"GET", "/"},
		{"GET", "/2015-03-31"},
		{"GET", "/2015-03-31/function"},
		{"GET", "/2016-08-19/account-settings/"},
		{"POST", "/2015-03-31/functions/fn/url"},
		{"PATCH", "/2015-03-31/functions/fn"},
		{"PUT", "/2015-03-31/functions/fn"},
		{"GET", "/2015-03-31/functions/fn/invocations"},
		{"POST", "/2015-03-31/functions/fn/configuration"},
		{"GET", "/2014-11-13/functions/fn/invoke-async/"},
		{"GET", "/2018-06-01/runtime/invocation/next"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rec := f.do(t, tc.method, tc.path, nil)
			wantError(t, rec, 404, "UnknownOperationException", "No operation matches "+tc.method+" "+tc.path+".")
		})
	}
}

func TestListAndCreateAcceptTheTrailingSlash(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct{ path, name string }{
		{"/2015-03-31/functions", "no-slash"},
		{"/2015-03-31/functions/", "with-slash"},
	} {
		rec := f.doJSON(t, "POST", c.path, createRequest(t, c.name))
		wantStatus(t, rec, http.StatusCreated)
		var fc lambdaapi.FunctionConfiguration
		if err := json.Unmarshal(rec.Body.Bytes(), &fc); err != nil {
			t.Fatal(err)
		}
		if fc.FunctionName != c.name || fc.FunctionArn != fnARN+c.name || fc.Version != "$LATEST" {
			t.Errorf("POST %s created %s (%s, %s), want %s", c.path, fc.FunctionName, fc.FunctionArn, fc.Version, c.name)
		}
	}
	for _, path := range []string{"/2015-03-31/functions", "/2015-03-31/functions/"} {
		rec := f.do(t, "GET", path, nil)
		wantStatus(t, rec, http.StatusOK)
		var out lambdaapi.ListFunctionsResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, fc := range out.Functions {
			names = append(names, fc.FunctionName)
		}
		if strings.Join(names, ",") != "no-slash,with-slash" {
			t.Errorf("GET %s listed %q, want [no-slash with-slash]", path, names)
		}
	}
}

func TestConcurrencyRoutesUseTheirOwnDates(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, "fn")

	rec := f.do(t, "GET", "/2019-09-30/functions/fn/concurrency", nil)
	wantStatus(t, rec, http.StatusOK)
	if got := rec.Body.String(); got != "{}" {
		t.Errorf("GetFunctionConcurrency without a reservation = %s, want {}", got)
	}

	rec = f.do(t, "PUT", "/2017-10-31/functions/fn/concurrency", strings.NewReader(`{"ReservedConcurrentExecutions":5}`))
	wantStatus(t, rec, http.StatusOK)
	if got := rec.Body.String(); got != `{"ReservedConcurrentExecutions":5}` {
		t.Errorf("PutFunctionConcurrency = %s", got)
	}
	rec = f.do(t, "GET", "/2019-09-30/functions/fn/concurrency", nil)
	wantStatus(t, rec, http.StatusOK)
	if got := rec.Body.String(); got != `{"ReservedConcurrentExecutions":5}` {
		t.Errorf("GetFunctionConcurrency = %s, want 5", got)
	}

	// The invoke path sees the reservation.
	wantStatus(t, f.do(t, "POST", "/2015-03-31/functions/fn/invocations", strings.NewReader("{}")), http.StatusOK)
	reqs := f.runner.requests()
	if len(reqs) != 1 || reqs[0].ReservedConcurrency == nil || *reqs[0].ReservedConcurrency != 5 {
		t.Errorf("runner did not get reserved concurrency 5: %+v", reqs)
	}

	// Each operation answers only on its own date.
	for _, c := range []struct{ method, path string }{
		{"GET", "/2017-10-31/functions/fn/concurrency"},
		{"PUT", "/2019-09-30/functions/fn/concurrency"},
		{"DELETE", "/2019-09-30/functions/fn/concurrency"},
		{"PUT", "/2015-03-31/functions/fn/concurrency"},
	} {
		rec := f.do(t, c.method, c.path, strings.NewReader(`{"ReservedConcurrentExecutions":1}`))
		wantError(t, rec, 404, "UnknownOperationException", "No operation matches "+c.method+" "+c.path+".")
	}

	rec = f.do(t, "DELETE", "/2017-10-31/functions/fn/concurrency", nil)
	wantStatus(t, rec, http.StatusNoContent)
	if rec.Body.Len() != 0 {
		t.Errorf("DeleteFunctionConcurrency body = %q, want empty", rec.Body)
	}
	rec = f.do(t, "GET", "/2019-09-30/functions/fn/concurrency", nil)
	if got := rec.Body.String(); got != "{}" {
		t.Errorf("GetFunctionConcurrency after delete = %s, want {}", got)
	}
}

func TestInvokeResponseHeaders(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, "fn")
	tail := "START RequestId: x Version: $LATEST\nhello\n"
	tests := []struct {
		name       string
		header     []string
		result     pool.Result
		wantBody   string
		wantHeader map[string]string // "" means absent
	}{
		{
			name:     "a successful call carries the executed version and no error or log",
			result:   pool.Result{Payload: []byte(`{"ok":true}`), LogTail: []byte(tail)},
			wantBody: `{"ok":true}`,
			wantHeader: map[string]string{
				"X-Amz-Executed-Version": "$LATEST",
				"X-Amz-Function-Error":   "",
				"X-Amz-Log-Result":       "",
				"Content-Type":           "application/json",
			},
		},
		{
			name:     "LogType Tail adds the base64 log tail",
			header:   []string{"X-Amz-Log-Type", "Tail"},
			result:   pool.Result{Payload: []byte(`{"ok":true}`), LogTail: []byte(tail)},
			wantBody: `{"ok":true}`,
			wantHeader: map[string]string{
				"X-Amz-Executed-Version": "$LATEST",
				"X-Amz-Log-Result":       base64.StdEncoding.EncodeToString([]byte(tail)),
			},
		},
		{
			name:     "LogType None sends no log",
			header:   []string{"X-Amz-Log-Type", "None"},
			result:   pool.Result{Payload: []byte(`{"ok":true}`), LogTail: []byte(tail)},
			wantBody: `{"ok":true}`,
			wantHeader: map[string]string{
				"X-Amz-Log-Result": "",
			},
		},
		{
			name:     "a function error is a 200 with X-Amz-Function-Error",
			header:   []string{"X-Amz-Invocation-Type", "RequestResponse"},
			result:   pool.Result{Payload: []byte(`{"errorType":"Boom","errorMessage":"no"}`), FunctionError: "Unhandled"},
			wantBody: `{"errorType":"Boom","errorMessage":"no"}`,
			wantHeader: map[string]string{
				"X-Amz-Function-Error":   "Unhandled",
				"X-Amz-Executed-Version": "$LATEST",
				"Content-Type":           "application/json",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.runner.setAnswer(func(req *pool.Request) (*pool.Result, error) {
				res := tc.result
				res.ExecutedVersion = req.Version.Version
				return &res, nil
			})
			n := len(f.runner.requests())
			rec := f.do(t, "POST", "/2015-03-31/functions/fn/invocations", strings.NewReader(`{"in":1}`), tc.header...)
			wantStatus(t, rec, http.StatusOK)
			if got := rec.Body.String(); got != tc.wantBody {
				t.Errorf("body = %s, want %s", got, tc.wantBody)
			}
			for k, want := range tc.wantHeader {
				if got := rec.Header().Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			reqs := f.runner.requests()
			if len(reqs) != n+1 {
				t.Fatalf("runner called %d times, want 1", len(reqs)-n)
			}
			if got, want := rec.Header().Get("X-Amzn-Requestid"), reqs[n].RequestID; got != want || len(got) != 36 {
				t.Errorf("X-Amzn-Requestid = %q, want the invocation's id %q", got, want)
			}
		})
	}
}

func TestInvokeReportsTheVersionAnAliasRan(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, "fn")
	wantStatus(t, f.do(t, "POST", "/2015-03-31/functions/fn/versions", strings.NewReader("{}")), http.StatusCreated)
	wantStatus(t, f.do(t, "POST", "/2015-03-31/functions/fn/aliases", strings.NewReader(`{"Name":"live","FunctionVersion":"1"}`)), http.StatusCreated)

	tests := []struct{ target, version, invokedARN string }{
		{"/2015-03-31/functions/fn/invocations", "$LATEST", fnARN + "fn"},
		{"/2015-03-31/functions/fn/invocations?Qualifier=%24LATEST", "$LATEST", fnARN + "fn:$LATEST"},
		{"/2015-03-31/functions/fn/invocations?Qualifier=1", "1", fnARN + "fn:1"},
		{"/2015-03-31/functions/fn/invocations?Qualifier=live", "1", fnARN + "fn:live"},
		{"/2015-03-31/functions/fn:live/invocations", "1", fnARN + "fn:live"},
		{"/2015-03-31/functions/fn%3Alive/invocations", "1", fnARN + "fn:live"},
		{"/2015-03-31/functions/" + fnARN + "fn/invocations", "$LATEST", fnARN + "fn"},
		{"/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Afn%3Alive/invocations", "1", fnARN + "fn:live"},
		{"/2015-03-31/functions/000000000000:function:fn/invocations?Qualifier=1", "1", fnARN + "fn:1"},
	}
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			n := len(f.runner.requests())
			rec := f.do(t, "POST", tc.target, strings.NewReader(`{}`))
			wantStatus(t, rec, http.StatusOK)
			if got := rec.Header().Get("X-Amz-Executed-Version"); got != tc.version {
				t.Errorf("X-Amz-Executed-Version = %q, want %q", got, tc.version)
			}
			if got := f.runner.requests()[n].InvokedARN; got != tc.invokedARN {
				t.Errorf("invoked ARN = %q, want %q", got, tc.invokedARN)
			}
		})
	}
}

func TestInvokePassesClientContextAndTrace(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, "fn")
	cc := `{"custom":{"user":"ada"}}`
	rec := f.do(t, "POST", "/2015-03-31/functions/fn/invocations", strings.NewReader(`{}`),
		"X-Amz-Client-Context", base64.StdEncoding.EncodeToString([]byte(cc)),
		"X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")
	wantStatus(t, rec, http.StatusOK)
	req := f.runner.requests()[0]
	if req.ClientContext != cc {
		t.Errorf("client context = %q, want %q", req.ClientContext, cc)
	}
	if req.TraceID != "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1" {
		t.Errorf("trace id = %q", req.TraceID)
	}
}

func TestInvokeDryRun(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, "fn")
	rec := f.do(t, "POST", "/2015-03-31/functions/fn/invocations", strings.NewReader(`{"a":1}`),
		"X-Amz-Invocation-Type", "DryRun", "X-Amz-Log-Type", "Tail")
	wantStatus(t, rec, http.StatusNoContent)
	if rec.Body.Len() != 0 {
		t.Errorf("DryRun body = %q, want empty", rec.Body)
	}
	for _, h := range []string{"X-Amz-Function-Error", "X-Amz-Log-Result", "X-Amz-Executed-Version", "X-Amzn-Errortype"} {
		if v := rec.Header().Get(h); v != "" {
			t.Errorf("DryRun sent %s: %q", h, v)
		}
	}
	if len(rec.Header().Get("X-Amzn-Requestid")) != 36 {
		t.Errorf("X-Amzn-Requestid = %q, want a UUID", rec.Header().Get("X-Amzn-Requestid"))
	}
	if n := len(f.runner.requests()); n != 0 {
		t.Errorf("DryRun ran the function %d times", n)
	}

	rec = f.do(t, "POST", "/2015-03-31/functions/nope/invocations", nil, "X-Amz-Invocation-Type", "DryRun")
	wantError(t, rec, 404, "ResourceNotFoundException", "Function not found: "+fnARN+"nope:$LATEST")
}

// countingReader is an endless body that counts what was read from it.
type countingReader struct{ n int64 }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	r.n += int64(len(p))
	return len(p), nil
}

func TestOversizedBodiesAreRefusedWithoutBufferingThemWhole(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, "fn")
	tests := []struct {
		name, method, target string
		limit                int64
		msg                  string
	}{
		{
			name: "invoke", method: "POST", target: "/2015-03-31/functions/fn/invocations",
			limit: invoke.MaxSyncRequestBytes,
			msg:   "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
		},
		{
			name: "control plane", method: "PUT", target: "/2015-03-31/functions/fn/code",
			limit: api.MaxControlBodyBytes,
			msg:   "Request must be smaller than 73400320 bytes.",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := &countingReader{}
			rec := f.do(t, tc.method, tc.target, body)
			wantError(t, rec, 413, "RequestTooLargeException", tc.msg)
			if body.n > tc.limit+1 {
				t.Errorf("read %d bytes of an endless body, want at most the limit plus one (%d)", body.n, tc.limit+1)
			}
		})
	}
	if n := len(f.runner.requests()); n != 0 {
		t.Errorf("an oversized invoke reached the runner %d times", n)
	}
}

func TestInvokeAcceptsExactlyTheSyncLimit(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, "fn")
	body := `"` + strings.Repeat("a", invoke.MaxSyncRequestBytes-2) + `"`
	rec := f.do(t, "POST", "/2015-03-31/functions/fn/invocations", strings.NewReader(body))
	wantStatus(t, rec, http.StatusOK)
	if got := len(f.runner.requests()[0].Payload); got != invoke.MaxSyncRequestBytes {
		t.Errorf("runner payload = %d bytes, want %d", got, invoke.MaxSyncRequestBytes)
	}
}

func TestInvokeContentTypes(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, "fn")
	tests := []struct {
		contentType string
		ok          bool
	}{
		{"", true},
		{"application/json", true},
		{"application/json; charset=utf-8", true},
		{"Application/JSON", true},
		{"application/octet-stream", true},
		{"binary/octet-stream", true},
		{"text/plain", true},
		{"application/x-amz-json-1.1", true},
		{"application/vnd.api+json", true},
		{"application/x-www-form-urlencoded", true},
		{"image/png", false},
		{"multipart/form-data; boundary=x", false},
		{"text/html", false},
		{"not a media type", false},
	}
	for _, tc := range tests {
		t.Run(tc.contentType, func(t *testing.T) {
			var h []string
			if tc.contentType != "" {
				h = []string{"Content-Type", tc.contentType}
			}
			rec := f.do(t, "POST", "/2015-03-31/functions/fn/invocations", strings.NewReader(`{}`), h...)
			if tc.ok {
				wantStatus(t, rec, http.StatusOK)
				return
			}
			wantError(t, rec, 415, "UnsupportedMediaTypeException",
				fmt.Sprintf("The content type %q is not supported: send a JSON payload.", tc.contentType))
		})
	}
}

// TestEventInvocationsAreRefusedWithoutAnEngine: a server built without
// an async engine refuses Event invocations instead of faking a 202.
func TestEventInvocationsAreRefusedWithoutAnEngine(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, "fn")
	const eventMsg = "Asynchronous invocation is not enabled on this server."
	const asyncMsg = eventMsg
	tests := []struct {
		name, target string
		header       []string
		msg          string
	}{
		{"Invoke with InvocationType Event", "/2015-03-31/functions/fn/invocations", []string{"X-Amz-Invocation-Type", "Event"}, eventMsg},
		{"InvokeAsync with the trailing slash", "/2014-11-13/functions/fn/invoke-async/", nil, asyncMsg},
		{"InvokeAsync without the trailing slash", "/2014-11-13/functions/fn/invoke-async", nil, asyncMsg},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.do(t, "POST", tc.target, strings.NewReader(`{"a":1}`), tc.header...)
			wantError(t, rec, 400, "InvalidParameterValueException", tc.msg)
		})
	}
	if n := len(f.runner.requests()); n != 0 {
		t.Errorf("a refused async invocation ran %d times", n)
	}
}

func TestMaxItems(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, "fn")
	msg := func(v string) string {
		return "1 validation error detected: Value '" + v + "' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000"
	}
	lists := []string{
		"/2015-03-31/functions/",
		"/2015-03-31/functions/fn/versions",
		"/2015-03-31/functions/fn/aliases",
	}
	tests := []struct {
		value string
		ok    bool
	}{
		{"1", true},
		{"50", true},
		{"10000", true},
		{"0", false},
		{"-1", false},
		{"10001", false},
		{"ten", false},
		{"1.5", false},
		{"99999999999999999999", false},
	}
	for _, list := range lists {
		for _, tc := range tests {
			t.Run(list+"?MaxItems="+tc.value, func(t *testing.T) {
				rec := f.do(t, "GET", list+"?MaxItems="+tc.value, nil)
				if tc.ok {
					wantStatus(t, rec, http.StatusOK)
					return
				}
				wantError(t, rec, 400, "InvalidParameterValueException", msg(tc.value))
			})
		}
	}
	t.Run("MaxItems bounds the page and NextMarker continues it", func(t *testing.T) {
		f.mustCreate(t, "fn2")
		rec := f.do(t, "GET", "/2015-03-31/functions/?MaxItems=1", nil)
		wantStatus(t, rec, http.StatusOK)
		var page lambdaapi.ListFunctionsResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Functions) != 1 || page.Functions[0].FunctionName != "fn" || page.NextMarker == "" {
			t.Fatalf("first page = %s, want fn and a NextMarker", rec.Body)
		}
		rec = f.do(t, "GET", "/2015-03-31/functions/?MaxItems=1&Marker="+page.NextMarker, nil)
		var page2 lambdaapi.ListFunctionsResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &page2); err != nil {
			t.Fatal(err)
		}
		if len(page2.Functions) != 1 || page2.Functions[0].FunctionName != "fn2" || page2.NextMarker != "" {
			t.Errorf("second page = %s, want fn2 and no NextMarker", rec.Body)
		}
	})
}

// denyAll is an Authenticator that refuses every request.
type denyAll struct{}

func (denyAll) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amzn-ErrorType", "MissingAuthenticationTokenException")
		w.WriteHeader(http.StatusForbidden)
	})
}

func TestHealthAndMetricsBypassAuthentication(t *testing.T) {
	metricsHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "metrics\n") })
	f := newFixture(t, func(d *api.Deps) {
		d.Auth = denyAll{}
		d.Metrics = metricsHandler
	})
	rec := f.do(t, "GET", "/healthz", nil)
	wantStatus(t, rec, http.StatusOK)
	if got := rec.Body.String(); got != `{"status":"ok"}` {
		t.Errorf("/healthz = %s", got)
	}
	rec = f.do(t, "GET", "/metrics", nil)
	wantStatus(t, rec, http.StatusOK)
	if got := rec.Body.String(); got != "metrics\n" {
		t.Errorf("/metrics = %q", got)
	}
	for _, path := range []string{"/2015-03-31/functions/", "/2015-03-31/functions/fn/invocations", "/nowhere"} {
		rec = f.do(t, "POST", path, bytes.NewReader([]byte("{}")))
		if rec.Code != http.StatusForbidden {
			t.Errorf("POST %s without credentials = %d, want the authenticator's 403", path, rec.Code)
		}
	}
}

func TestHealthReportsUnhealthy(t *testing.T) {
	f := newFixture(t, func(d *api.Deps) {
		d.Health = func(context.Context) (any, bool) {
			return map[string]string{"status": "degraded", "store": "unreachable"}, false
		}
	})
	rec := f.do(t, "GET", "/healthz", nil)
	wantStatus(t, rec, http.StatusServiceUnavailable)
	if got := rec.Body.String(); got != `{"status":"degraded","store":"unreachable"}` {
		t.Errorf("/healthz = %s", got)
	}
}

func TestServeOverHTTP(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, "fn")
	ts := httptest.NewServer(f.srv)
	t.Cleanup(ts.Close)
	resp, err := http.Post(ts.URL+"/2015-03-31/functions/fn/invocations", "application/json", strings.NewReader(`{"over":"http"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != `{"over":"http"}` {
		t.Errorf("invoke over HTTP = %d %s", resp.StatusCode, b)
	}
	if resp.Header.Get("X-Amz-Executed-Version") != "$LATEST" {
		t.Errorf("X-Amz-Executed-Version = %q", resp.Header.Get("X-Amz-Executed-Version"))
	}
}

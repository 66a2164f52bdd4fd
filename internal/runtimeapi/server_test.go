package runtimeapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/testutil"
)

func TestNewRejectsNegativeLimit(t *testing.T) {
	if _, err := New(Config{MaxResponseBytes: -1}, testLogger(t)); err == nil {
		t.Fatal("New accepted a negative MaxResponseBytes")
	}
}

func TestNextCarriesTheInvocation(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := newFakeRuntime(t, s)
	deadline := time.UnixMilli(1_900_000_000_123).Add(456 * time.Microsecond)
	inv := &Invocation{
		RequestID:          "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
		Payload:            []byte(`{"key":"value"}`),
		Deadline:           deadline,
		InvokedFunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:f:1",
		ClientContext:      `{"custom":{"a":"b"}}`,
		CognitoIdentity:    `{"cognitoIdentityId":"i","cognitoIdentityPoolId":"p"}`,
		TraceID:            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
	}
	res := invokeAsync(t.Context(), s, inv)

	next := rt.next()
	if next.status != http.StatusOK {
		t.Fatalf("next status = %d, body %s", next.status, next.body)
	}
	want := map[string]string{
		"Lambda-Runtime-Aws-Request-Id":       inv.RequestID,
		"Lambda-Runtime-Deadline-Ms":          "1900000000123",
		"Lambda-Runtime-Invoked-Function-Arn": inv.InvokedFunctionARN,
		"Lambda-Runtime-Trace-Id":             inv.TraceID,
		"Lambda-Runtime-Client-Context":       inv.ClientContext,
		"Lambda-Runtime-Cognito-Identity":     inv.CognitoIdentity,
		"Content-Type":                        "application/json",
		"Content-Length":                      strconv.Itoa(len(inv.Payload)),
	}
	for k, v := range want {
		if got := next.header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if !bytes.Equal(next.body, inv.Payload) {
		t.Errorf("body = %s, want %s", next.body, inv.Payload)
	}

	ack := rt.post("invocation/"+inv.RequestID+"/response", http.Header{"Content-Type": {"text/plain"}}, []byte("result bytes"))
	if ack.status != http.StatusAccepted || string(ack.body) != `{"status":"OK"}` {
		t.Fatalf("response ack = %d %s", ack.status, ack.body)
	}
	r := receive(t, res)
	if r.err != nil {
		t.Fatalf("Invoke: %v", r.err)
	}
	if string(r.resp.Payload) != "result bytes" || r.resp.FunctionError || r.resp.ErrorType != "" || r.resp.ContentType != "text/plain" {
		t.Fatalf("Invoke = %+v (payload %q)", r.resp, r.resp.Payload)
	}
}

func TestNextOmitsOptionalHeadersAndFillsDefaults(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := newFakeRuntime(t, s)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	ctxDeadline, _ := ctx.Deadline()
	res := invokeAsync(ctx, s, &Invocation{Payload: []byte(`{}`)})

	next := rt.next()
	for _, h := range []string{"Lambda-Runtime-Client-Context", "Lambda-Runtime-Cognito-Identity", "Lambda-Runtime-Invoked-Function-Arn", "Date"} {
		if v, ok := next.header[h]; ok {
			t.Errorf("header %s present: %q", h, v)
		}
	}
	id := next.header.Get("Lambda-Runtime-Aws-Request-Id")
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(id) {
		t.Errorf("generated request id %q is not a UUID", id)
	}
	if got, want := next.header.Get("Lambda-Runtime-Deadline-Ms"), strconv.FormatInt(ctxDeadline.UnixMilli(), 10); got != want {
		t.Errorf("deadline = %s, want the context deadline %s", got, want)
	}
	if trace := next.header.Get("Lambda-Runtime-Trace-Id"); !regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$`).MatchString(trace) {
		t.Errorf("generated trace id %q is not an X-Ray header", trace)
	}
	rt.post("invocation/"+id+"/response", nil, []byte(`1`))
	if r := receive(t, res); r.err != nil || string(r.resp.Payload) != "1" {
		t.Fatalf("Invoke = %+v, %v", r.resp, r.err)
	}
}

func TestWaitInit(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := newFakeRuntime(t, s)

	short, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := s.WaitInit(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitInit before /next = %v, want deadline exceeded", err)
	}
	select {
	case <-s.Parked():
		t.Fatal("Parked closed before the runtime called /next")
	default:
	}

	parked := rt.nextAsync(t.Context())
	if err := s.WaitInit(t.Context()); err != nil {
		t.Fatalf("WaitInit after /next = %v", err)
	}
	receive(t, s.Parked())

	// Close releases the parked /next.
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	receive(t, parked)
}

func TestInitError(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := newFakeRuntime(t, s)
	pending := invokeAsync(t.Context(), s, &Invocation{RequestID: "early", Payload: []byte(`{}`)})

	body := `{"errorMessage":"No module named 'app'","errorType":"Runtime.ImportModuleError"}`
	ack := rt.post("init/error", http.Header{"Lambda-Runtime-Function-Error-Type": {"Runtime.ImportModuleError"}}, []byte(body))
	if ack.status != http.StatusAccepted || string(ack.body) != `{"status":"OK"}` {
		t.Fatalf("init/error ack = %d %s", ack.status, ack.body)
	}

	var initErr *InitError
	if err := s.WaitInit(t.Context()); !errors.As(err, &initErr) {
		t.Fatalf("WaitInit = %v, want *InitError", err)
	}
	if initErr.ErrorType != "Runtime.ImportModuleError" || string(initErr.Payload) != body {
		t.Errorf("InitError = %q %s", initErr.ErrorType, initErr.Payload)
	}
	if r := receive(t, pending); !errors.As(r.err, &initErr) {
		t.Errorf("pending Invoke = %v, want the init error", r.err)
	}
	if _, err := s.Invoke(t.Context(), &Invocation{Payload: []byte(`{}`)}); !errors.As(err, &initErr) {
		t.Errorf("Invoke after init error = %v, want the init error", err)
	}

	wantForbidden := func(r reply, to string) {
		t.Helper()
		want := `{"errorMessage":"State transition from InitError to ` + to +
			` failed for runtime. Error: State transition is not allowed","errorType":"InvalidStateTransition"}`
		if r.status != http.StatusForbidden || string(r.body) != want {
			t.Errorf("got %d %s, want 403 %s", r.status, r.body, want)
		}
	}
	wantForbidden(rt.next(), "Ready")
	wantForbidden(rt.post("init/error", nil, nil), "InitError")
	wantForbidden(rt.post("invocation/early/response", nil, []byte(`{}`)), "InvocationResponse")
}

func TestInitErrorAfterNextIsRefused(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := newFakeRuntime(t, s)
	rt.nextAsync(t.Context())
	if err := s.WaitInit(t.Context()); err != nil {
		t.Fatalf("WaitInit: %v", err)
	}
	r := rt.post("init/error", nil, []byte(`{}`))
	if r.status != http.StatusForbidden || !strings.Contains(string(r.body), "from Ready to InitError") {
		t.Fatalf("init/error after /next = %d %s", r.status, r.body)
	}
}

func TestErrorEndpoint(t *testing.T) {
	tests := []struct {
		name     string
		header   http.Header
		body     string
		wantType string
		wantDoc  string
	}{
		{
			name:     "a valid header and a document",
			header:   http.Header{"Lambda-Runtime-Function-Error-Type": {"Runtime.HandlerFailed"}},
			body:     `{"errorMessage":"bad","errorType":"ValueError","stackTrace":[]}`,
			wantType: "Runtime.HandlerFailed",
			wantDoc:  `{"errorMessage":"bad","errorType":"ValueError","stackTrace":[]}`,
		},
		{
			name:     "Unhandled falls back to the document's type",
			header:   http.Header{"Lambda-Runtime-Function-Error-Type": {"Unhandled"}},
			body:     `{"errorMessage":"bad","errorType":"ValueError"}`,
			wantType: "ValueError",
			wantDoc:  `{"errorMessage":"bad","errorType":"ValueError"}`,
		},
		{
			name:     "an empty body is synthesized",
			wantType: "Runtime.Unknown",
			wantDoc:  `{"errorMessage":"The runtime reported an error without an error document.","errorType":"Runtime.Unknown"}`,
		},
		{
			name:     "a text body becomes the message",
			header:   http.Header{"Lambda-Runtime-Function-Error-Type": {"Function.bad type"}},
			body:     "segfault",
			wantType: "Function.Unknown",
			wantDoc:  `{"errorMessage":"segfault","errorType":"Function.Unknown"}`,
		},
	}
	s := newTestServer(t, Config{})
	rt := newFakeRuntime(t, s)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("err-%d", i)
			res := invokeAsync(t.Context(), s, &Invocation{RequestID: id, Payload: []byte(`{}`)})
			if next := rt.next(); next.header.Get("Lambda-Runtime-Aws-Request-Id") != id {
				t.Fatalf("next delivered %q", next.header.Get("Lambda-Runtime-Aws-Request-Id"))
			}
			ack := rt.post("invocation/"+id+"/error", tc.header, []byte(tc.body))
			if ack.status != http.StatusAccepted || string(ack.body) != `{"status":"OK"}` {
				t.Fatalf("error ack = %d %s", ack.status, ack.body)
			}
			r := receive(t, res)
			if r.err != nil {
				t.Fatalf("Invoke: %v", r.err)
			}
			if !r.resp.FunctionError || r.resp.ErrorType != tc.wantType || string(r.resp.Payload) != tc.wantDoc {
				t.Errorf("Invoke = error %v type %q payload %s; want %q %s", r.resp.FunctionError, r.resp.ErrorType, r.resp.Payload, tc.wantType, tc.wantDoc)
			}
		})
	}
}

// deliver starts an invocation with id and has the runtime take it.
func deliver(t *testing.T, s *Server, rt *fakeRuntime, ctx context.Context, id string) <-chan invokeResult {
	t.Helper()
	res := invokeAsync(ctx, s, &Invocation{RequestID: id, Payload: []byte(`{}`)})
	if next := rt.next(); next.status != http.StatusOK || next.header.Get("Lambda-Runtime-Aws-Request-Id") != id {
		t.Fatalf("next = %d %q", next.status, next.header.Get("Lambda-Runtime-Aws-Request-Id"))
	}
	return res
}

func TestOversizedResponse(t *testing.T) {
	const (
		want413 = `{"errorMessage":"Exceeded maximum allowed payload size (6291556 bytes).","errorType":"RequestEntityTooLarge"}`
		wantDoc = `{"errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes).","errorType":"Function.ResponseSizeTooLarge"}`
	)
	tests := []struct {
		name    string
		body    io.Reader // a *bytes.Reader sends Content-Length; a plain io.Reader is chunked
		wantErr bool
	}{
		{"a declared length over the limit", bytes.NewReader(make([]byte, DefaultMaxResponseBytes+1)), true},
		{"a chunked body over the limit", io.MultiReader(bytes.NewReader(make([]byte, DefaultMaxResponseBytes+1))), true},
		{"a body exactly at the limit", bytes.NewReader(make([]byte, DefaultMaxResponseBytes)), false},
		{"a chunked body exactly at the limit", io.MultiReader(bytes.NewReader(make([]byte, DefaultMaxResponseBytes))), false},
	}
	s := newTestServer(t, Config{})
	rt := newFakeRuntime(t, s)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("big-%d", i)
			res := deliver(t, s, rt, t.Context(), id)
			req, _ := http.NewRequest(http.MethodPost, rt.base+"invocation/"+id+"/response", tc.body)
			resp, err := rt.client.Do(req)
			if err != nil {
				t.Fatalf("POST: %v", err)
			}
			ack, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			r := receive(t, res)
			if r.err != nil {
				t.Fatalf("Invoke: %v", r.err)
			}
			if !tc.wantErr {
				if resp.StatusCode != http.StatusAccepted || r.resp.FunctionError || len(r.resp.Payload) != DefaultMaxResponseBytes {
					t.Fatalf("got %d %s, function error %v, %d bytes", resp.StatusCode, ack, r.resp.FunctionError, len(r.resp.Payload))
				}
				return
			}
			if resp.StatusCode != http.StatusRequestEntityTooLarge || string(ack) != want413 {
				t.Errorf("ack = %d %s, want 413 %s", resp.StatusCode, ack, want413)
			}
			if !r.resp.FunctionError || r.resp.ErrorType != "Function.ResponseSizeTooLarge" || string(r.resp.Payload) != wantDoc {
				t.Errorf("Invoke = %v %q %s", r.resp.FunctionError, r.resp.ErrorType, r.resp.Payload)
			}
		})
	}
}

func TestSmallLimitAppliesToErrors(t *testing.T) {
	s := newTestServer(t, Config{MaxResponseBytes: 8})
	rt := newFakeRuntime(t, s)
	res := deliver(t, s, rt, t.Context(), "e")
	ack := rt.post("invocation/e/error", nil, []byte(`{"errorMessage":"long"}`))
	if want := `{"errorMessage":"Exceeded maximum allowed payload size (8 bytes).","errorType":"RequestEntityTooLarge"}`; ack.status != 413 || string(ack.body) != want {
		t.Errorf("ack = %d %s", ack.status, ack.body)
	}
	if r := receive(t, res); r.err != nil || r.resp.ErrorType != "Function.ResponseSizeTooLarge" {
		t.Errorf("Invoke = %+v, %v", r.resp, r.err)
	}
}

func TestSecondAnswerIsForbidden(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := newFakeRuntime(t, s)
	res := deliver(t, s, rt, t.Context(), "once")
	if ack := rt.post("invocation/once/response", nil, []byte(`"first"`)); ack.status != http.StatusAccepted {
		t.Fatalf("first answer = %d %s", ack.status, ack.body)
	}
	if r := receive(t, res); r.err != nil || string(r.resp.Payload) != `"first"` {
		t.Fatalf("Invoke = %+v, %v", r.resp, r.err)
	}
	for _, path := range []string{"invocation/once/response", "invocation/once/error"} {
		to := "InvocationResponse"
		if strings.HasSuffix(path, "error") {
			to = "InvocationErrorResponse"
		}
		want := `{"errorMessage":"State transition from RuntimeResponseSentState to ` + to +
			` failed for runtime. Error: State transition is not allowed","errorType":"InvalidStateTransition"}`
		if ack := rt.post(path, nil, []byte(`"second"`)); ack.status != http.StatusForbidden || string(ack.body) != want {
			t.Errorf("POST %s = %d %s, want 403 %s", path, ack.status, ack.body, want)
		}
	}
}

func TestWrongRequestID(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := newFakeRuntime(t, s)
	res := deliver(t, s, rt, t.Context(), "right")
	for _, path := range []string{"invocation/wrong/response", "invocation/wrong/error"} {
		ack := rt.post(path, nil, []byte(`{}`))
		if want := `{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}`; ack.status != http.StatusBadRequest || string(ack.body) != want {
			t.Errorf("POST %s = %d %s, want 400 %s", path, ack.status, ack.body, want)
		}
	}
	// The invocation is still outstanding and can be answered.
	if ack := rt.post("invocation/right/response", nil, []byte(`"ok"`)); ack.status != http.StatusAccepted {
		t.Fatalf("right answer = %d %s", ack.status, ack.body)
	}
	if r := receive(t, res); r.err != nil || string(r.resp.Payload) != `"ok"` {
		t.Fatalf("Invoke = %+v, %v", r.resp, r.err)
	}
}

func TestAnswerWithoutInvocationIsForbidden(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := newFakeRuntime(t, s)
	r := rt.post("invocation/nobody/response", nil, []byte(`{}`))
	if want := `{"errorMessage":"State transition from Started to InvocationResponse failed for runtime. Error: State transition is not allowed","errorType":"InvalidStateTransition"}`; r.status != http.StatusForbidden || string(r.body) != want {
		t.Fatalf("got %d %s", r.status, r.body)
	}
}

func TestInvokeContextEnds(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := newFakeRuntime(t, s)
	timedOut := errors.New("Task timed out after 0.05 seconds")
	ctx, cancel := context.WithTimeoutCause(t.Context(), 50*time.Millisecond, timedOut)
	defer cancel()
	res := deliver(t, s, rt, ctx, "slow")
	r := receive(t, res)
	if r.resp != nil || !errors.Is(r.err, timedOut) {
		t.Fatalf("Invoke = %+v, %v; want the context's cause", r.resp, r.err)
	}
	// The late answer finds nothing outstanding.
	if ack := rt.post("invocation/slow/response", nil, []byte(`{}`)); ack.status != http.StatusForbidden {
		t.Errorf("late answer = %d %s, want 403", ack.status, ack.body)
	}
	// An already-ended context never reaches the runtime.
	if _, err := s.Invoke(ctx, &Invocation{Payload: []byte(`{}`)}); !errors.Is(err, timedOut) {
		t.Errorf("Invoke with an ended context = %v", err)
	}
}

func TestInvokeIsOneAtATime(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := newFakeRuntime(t, s)
	res := deliver(t, s, rt, t.Context(), "first")
	if _, err := s.Invoke(t.Context(), &Invocation{Payload: []byte(`{}`)}); !errors.Is(err, ErrBusy) {
		t.Fatalf("concurrent Invoke = %v, want ErrBusy", err)
	}
	rt.post("invocation/first/response", nil, []byte(`{}`))
	receive(t, res)
}

func TestNextWhileOutstandingRedelivers(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := newFakeRuntime(t, s)
	res := deliver(t, s, rt, t.Context(), "again")
	second := rt.next()
	if second.status != http.StatusOK || second.header.Get("Lambda-Runtime-Aws-Request-Id") != "again" || string(second.body) != `{}` {
		t.Fatalf("second next = %d %q %s", second.status, second.header.Get("Lambda-Runtime-Aws-Request-Id"), second.body)
	}
	select {
	case <-s.Parked():
		t.Fatal("a re-delivery counted as parked")
	default:
	}
	rt.post("invocation/again/response", nil, []byte(`{}`))
	if r := receive(t, res); r.err != nil {
		t.Fatalf("Invoke: %v", r.err)
	}
}

func TestParkedFollowsTheRuntime(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := newFakeRuntime(t, s)
	res := deliver(t, s, rt, t.Context(), "p")
	parked := s.Parked()
	select {
	case <-parked:
		t.Fatal("Parked closed while the runtime holds an invocation")
	default:
	}
	rt.post("invocation/p/response", nil, []byte(`{}`))
	receive(t, res)
	select {
	case <-s.Parked():
		t.Fatal("Parked closed before the runtime came back to /next")
	default:
	}
	short, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := s.WaitParked(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitParked before /next = %v, want deadline exceeded", err)
	}
	rt.nextAsync(t.Context())
	receive(t, parked)
	receive(t, s.Parked())
	if err := s.WaitParked(t.Context()); err != nil {
		t.Fatalf("WaitParked after /next = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitParked(t.Context()); !errors.Is(err, ErrClosed) {
		t.Fatalf("WaitParked after Close = %v, want ErrClosed", err)
	}
}

// parkedWaiter identifies the /next currently parked: a net/http handler's
// channel or a fast-path connection; nil when none.
func parkedWaiter(s *Server) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.waiter != nil {
		return s.waiter
	}
	if s.parkedConn != nil {
		return s.parkedConn
	}
	return nil
}

func waitParkedWaiter(t *testing.T, s *Server, not any) any {
	t.Helper()
	var w any
	testutil.WaitFor(t, 5*time.Second, func() error {
		if w = parkedWaiter(s); w == nil || w == not {
			return errors.New("no new /next parked")
		}
		return nil
	})
	return w
}

func TestDroppedNextDoesNotLoseTheInvocation(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := newFakeRuntime(t, s)

	ctx, cancel := context.WithCancel(t.Context())
	dropped := rt.nextAsync(ctx)
	waitParkedWaiter(t, s, nil)
	cancel() // the runtime's connection goes away while parked
	if r := receive(t, dropped); r.err == nil {
		t.Fatalf("dropped /next got a reply: %d", r.status)
	}

	// Whether or not the server has noticed yet, the invocation must reach
	// the runtime's next /next.
	res := invokeAsync(t.Context(), s, &Invocation{RequestID: "kept", Payload: []byte(`{}`)})
	next := rt.next()
	if id := next.header.Get("Lambda-Runtime-Aws-Request-Id"); next.status != http.StatusOK || id != "kept" {
		t.Fatalf("next = %d %q", next.status, id)
	}
	rt.post("invocation/kept/response", nil, []byte(`{}`))
	if r := receive(t, res); r.err != nil {
		t.Fatalf("Invoke: %v", r.err)
	}
}

func TestNewerNextReplacesAParkedOne(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := newFakeRuntime(t, s)
	older := rt.nextAsync(t.Context())
	first := waitParkedWaiter(t, s, nil)
	newer := rt.nextAsync(t.Context())
	waitParkedWaiter(t, s, first)

	r := receive(t, older)
	if want := `{"errorMessage":"A newer /runtime/invocation/next request replaced this one","errorType":"InvalidStateTransition"}`; r.status != http.StatusForbidden || string(r.body) != want {
		t.Fatalf("older /next = %d %s", r.status, r.body)
	}
	res := invokeAsync(t.Context(), s, &Invocation{RequestID: "to-newer", Payload: []byte(`{}`)})
	if r := receive(t, newer); r.header.Get("Lambda-Runtime-Aws-Request-Id") != "to-newer" {
		t.Fatalf("newer /next = %d %s", r.status, r.body)
	}
	rt.post("invocation/to-newer/response", nil, []byte(`{}`))
	receive(t, res)
}

func TestResponseMode(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := newFakeRuntime(t, s)

	t.Run("an unknown mode is refused and fails the invocation", func(t *testing.T) {
		res := deliver(t, s, rt, t.Context(), "mode")
		ack := rt.post("invocation/mode/response", http.Header{"Lambda-Runtime-Function-Response-Mode": {"buffered"}}, []byte(`{}`))
		if want := `{"errorMessage":"Invalid function response mode","errorType":"InvalidFunctionResponseMode"}`; ack.status != http.StatusBadRequest || string(ack.body) != want {
			t.Errorf("ack = %d %s", ack.status, ack.body)
		}
		if r := receive(t, res); r.err != nil || !r.resp.FunctionError || r.resp.ErrorType != "Runtime.InvalidResponseModeHeader" {
			t.Errorf("Invoke = %+v, %v", r.resp, r.err)
		}
	})

	t.Run("a streamed response is buffered", func(t *testing.T) {
		res := deliver(t, s, rt, t.Context(), "stream")
		req, _ := http.NewRequest(http.MethodPost, rt.base+"invocation/stream/response",
			io.MultiReader(strings.NewReader("chunk1,"), strings.NewReader("chunk2")))
		req.Header.Set("Lambda-Runtime-Function-Response-Mode", "streaming")
		req.Header.Set("Content-Type", "application/vnd.awslambda.http-integration-response")
		resp, err := rt.client.Do(req)
		if err != nil {
			t.Fatalf("POST: %v", err)
		}
		resp.Body.Close()
		r := receive(t, res)
		if resp.StatusCode != http.StatusAccepted || r.err != nil || string(r.resp.Payload) != "chunk1,chunk2" ||
			r.resp.ContentType != "application/vnd.awslambda.http-integration-response" {
			t.Errorf("got %d, Invoke = %+v, %v", resp.StatusCode, r.resp, r.err)
		}
	})

	t.Run("an error in the trailers is a function error", func(t *testing.T) {
		res := deliver(t, s, rt, t.Context(), "trailer")
		doc := `{"errorMessage":"stream broke","errorType":"StreamError"}`
		body := &trailerReader{r: strings.NewReader("partial"), trailer: http.Header{
			"Lambda-Runtime-Function-Error-Type": nil,
			"Lambda-Runtime-Function-Error-Body": nil,
		}, errType: "Function.StreamFailed", errBody: base64.StdEncoding.EncodeToString([]byte(doc))}
		req, _ := http.NewRequest(http.MethodPost, rt.base+"invocation/trailer/response", body)
		req.Header.Set("Lambda-Runtime-Function-Response-Mode", "streaming")
		req.Trailer = body.trailer
		resp, err := rt.client.Do(req)
		if err != nil {
			t.Fatalf("POST: %v", err)
		}
		resp.Body.Close()
		r := receive(t, res)
		if resp.StatusCode != http.StatusAccepted || r.err != nil || !r.resp.FunctionError ||
			r.resp.ErrorType != "Function.StreamFailed" || string(r.resp.Payload) != doc {
			t.Errorf("got %d, Invoke = %+v (%s), %v", resp.StatusCode, r.resp, r.resp.Payload, r.err)
		}
	})
}

// trailerReader fills in the error trailers when its body ends, like the Go
// runtime client does when the handler's reader fails.
type trailerReader struct {
	r                io.Reader
	trailer          http.Header
	errType, errBody string
}

func (t *trailerReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err == io.EOF {
		t.trailer.Set("Lambda-Runtime-Function-Error-Type", t.errType)
		t.trailer.Set("Lambda-Runtime-Function-Error-Body", t.errBody)
	}
	return n, err
}

func TestRoutes(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := newFakeRuntime(t, s)
	const notFound = `{"errorMessage":"Not Found","errorType":"NotFound"}`
	const notAllowed = `{"errorMessage":"Method Not Allowed","errorType":"MethodNotAllowed"}`
	tests := []struct {
		method, path string
		status       int
		body, allow  string
	}{
		{http.MethodGet, "invocation", 404, notFound, ""},
		{http.MethodGet, "restore/next", 404, notFound, ""},
		{http.MethodGet, "invocation/id/respond", 404, notFound, ""},
		{http.MethodGet, "invocation/a/b/response", 404, notFound, ""},
		{http.MethodPost, "invocation/next", 405, notAllowed, "GET"},
		{http.MethodHead, "invocation/next", 405, "", "GET"},
		{http.MethodGet, "init/error", 405, notAllowed, "POST"},
		{http.MethodGet, "invocation/id/response", 405, notAllowed, "POST"},
		{http.MethodPut, "invocation/id/error", 405, notAllowed, "POST"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := rt.do(t.Context(), tc.method, tc.path, nil, nil)
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.status != tc.status || string(r.body) != tc.body || r.header.Get("Allow") != tc.allow {
				t.Errorf("got %d %s (Allow %q), want %d %s (Allow %q)", r.status, r.body, r.header.Get("Allow"), tc.status, tc.body, tc.allow)
			}
		})
	}
	// Outside the Runtime and Extensions API prefixes.
	resp, err := rt.client.Get("http://" + s.Addr() + "/2022-07-01/telemetry")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("telemetry path = %d, want 404", resp.StatusCode)
	}
}

func TestCloseUnblocksEverything(t *testing.T) {
	s := newTestServer(t, Config{})
	initDone := make(chan error, 1)
	go func() { initDone <- s.WaitInit(t.Context()) }()
	res := invokeAsync(t.Context(), s, &Invocation{Payload: []byte(`{}`)})

	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := receive(t, initDone); !errors.Is(err, ErrClosed) {
		t.Errorf("WaitInit = %v, want ErrClosed", err)
	}
	if r := receive(t, res); !errors.Is(r.err, ErrClosed) {
		t.Errorf("Invoke = %v, want ErrClosed", r.err)
	}
	if _, err := s.Invoke(t.Context(), &Invocation{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Invoke after Close = %v, want ErrClosed", err)
	}
	receive(t, s.Parked())
}

func TestWarmInvokesInARow(t *testing.T) {
	s := newTestServer(t, Config{})
	startEchoRuntime(t, s)
	if err := s.WaitInit(t.Context()); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		payload := []byte(fmt.Sprintf(`{"i":%d}`, i))
		resp, err := s.Invoke(t.Context(), &Invocation{Payload: payload})
		if err != nil {
			t.Fatalf("invoke %d: %v", i, err)
		}
		if !bytes.Equal(resp.Payload, payload) {
			t.Fatalf("invoke %d: got %s", i, resp.Payload)
		}
		receive(t, s.Parked())
	}
}

// newBareServer builds a Server without a listener, driven through
// serveHTTP.
func newBareServer(t *testing.T) *Server {
	t.Helper()
	s, err := newServer(Config{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestAnswerAfterAFailedRedeliveryIsAccepted(t *testing.T) {
	s := newBareServer(t)
	c := newCall(t.Context(), &Invocation{RequestID: "r", Payload: []byte(`{}`)})
	if _, err := s.enqueue(c); err != nil {
		t.Fatal(err)
	}
	gone, cancel := context.WithCancel(t.Context())
	cancel()
	if rec := serveFuzz(s, fuzzRequest(gone, http.MethodGet, pathPrefix+pathNext, nil, nil, nil, 0)); rec.Code != http.StatusOK {
		t.Fatalf("next = %d", rec.Code)
	}
	// A second delivery attempt failed after the first had reached the
	// runtime: the call is queued again, but the runtime knows its id.
	s.mu.Lock()
	s.requeueLocked(c)
	s.mu.Unlock()

	rec := serveFuzz(s, fuzzRequest(gone, http.MethodPost, pathPrefix+"invocation/r/response", nil, nil, []byte(`"ok"`), 0))
	if rec.Code != http.StatusAccepted {
		t.Fatalf("answer = %d %s", rec.Code, rec.Body.Bytes())
	}
	resp, err := s.wait(t.Context(), c)
	if err != nil || string(resp.Payload) != `"ok"` {
		t.Fatalf("wait = %+v, %v", resp, err)
	}
}

func TestAnEventNeverWrittenCannotBeAnswered(t *testing.T) {
	s := newBareServer(t)
	s.mu.Lock()
	s.waiter = make(chan *call, 1) // a parked /next that has not woken yet
	s.mu.Unlock()
	c := newCall(t.Context(), &Invocation{RequestID: "r", Payload: []byte(`{}`)})
	if _, err := s.enqueue(c); err != nil {
		t.Fatal(err)
	}
	rec := serveFuzz(s, fuzzRequest(t.Context(), http.MethodPost, pathPrefix+"invocation/r/response", nil, nil, []byte(`{}`), 0))
	if rec.Code != http.StatusForbidden {
		t.Fatalf("answer = %d %s, want 403", rec.Code, rec.Body.Bytes())
	}
}

package runtimeapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// newFakeExtension speaks the Extensions API of s over real HTTP.
func newFakeExtension(t testing.TB, s *Server) *fakeRuntime {
	x := newFakeRuntime(t, s)
	x.base = "http://" + s.Addr() + "/2020-01-01/extension/"
	return x
}

// register registers name for events and returns the identifier.
func register(t *testing.T, x *fakeRuntime, name string, events ...string) string {
	t.Helper()
	body, _ := json.Marshal(map[string][]string{"events": events})
	r := x.post("register", http.Header{hdrExtName: {name}}, body)
	if r.status != http.StatusOK {
		t.Fatalf("register %s: %d %s", name, r.status, r.body)
	}
	return r.header.Get(hdrExtID)
}

// extNextAsync calls /extension/event/next as id in a goroutine.
func extNextAsync(ctx context.Context, x *fakeRuntime, id string) <-chan reply {
	ch := make(chan reply, 1)
	go func() { ch <- x.do(ctx, http.MethodGet, "event/next", http.Header{hdrExtID: {id}}, nil) }()
	return ch
}

// errorTypeOf returns the errorType of an error body.
func errorTypeOf(b []byte) string {
	var d errorDoc
	_ = json.Unmarshal(b, &d)
	return d.ErrorType
}

// notYet fails if ch is ready within a short while.
func notYet[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case <-ch:
		t.Fatalf("%s happened too early", what)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestExtensionRegisterAnswersWithTheFunction(t *testing.T) {
	s := newTestServer(t, Config{FunctionName: "f", FunctionVersion: "$LATEST", Handler: "h.handler", AccountID: "000000000000"})
	x := newFakeExtension(t, s)
	r := x.post("register", http.Header{hdrExtName: {"tracer"}, hdrExtAcceptFeature: {"accountId"}}, []byte(`{"events":["INVOKE"]}`))
	if r.status != http.StatusOK {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	if _, err := uuid.Parse(r.header.Get(hdrExtID)); err != nil {
		t.Errorf("Lambda-Extension-Identifier %q is not a UUID", r.header.Get(hdrExtID))
	}
	want := `{"functionName":"f","functionVersion":"$LATEST","handler":"h.handler","accountId":"000000000000"}`
	if string(r.body) != want {
		t.Errorf("body = %s, want %s", r.body, want)
	}
	if !s.HasExtensions() {
		t.Error("HasExtensions = false after a registration")
	}
}

func TestExtensionRequestsRefusedInLambdasShape(t *testing.T) {
	s := newTestServer(t, Config{ExternalExtensions: []string{"ext"}})
	x := newFakeExtension(t, s)
	rt := newFakeRuntime(t, s)
	id := register(t, x, "ext", "INVOKE", "SHUTDOWN")
	tests := []struct {
		name, method, path string
		header             http.Header
		body               string
		status             int
		errorType          string
	}{
		{"register without a name", "POST", "register", nil, `{"events":[]}`, 400, typeExtInvalidName},
		{"register with a malformed body", "POST", "register", http.Header{hdrExtName: {"a"}}, `{`, 400, typeInvalidRequestFormat},
		{"register for an unknown event", "POST", "register", http.Header{hdrExtName: {"a"}}, `{"events":["BOOT"]}`, 400, typeExtInvalidEventType},
		{"internal extension registering for SHUTDOWN", "POST", "register", http.Header{hdrExtName: {"a"}}, `{"events":["SHUTDOWN"]}`, 400, typeExtInvalidEventType},
		{"register a name twice", "POST", "register", http.Header{hdrExtName: {"ext"}}, `{"events":[]}`, 403, typeExtInvalidState},
		{"next without an identifier", "GET", "event/next", nil, "", 403, typeExtMissingID},
		{"next with an unknown identifier", "GET", "event/next", http.Header{hdrExtID: {uuid.NewString()}}, "", 403, typeExtUnknownID},
		{"init error without an error type", "POST", "init/error", http.Header{hdrExtID: {id}}, "", 400, typeExtMissingHeader},
		{"exit error from an unknown extension", "POST", "exit/error", http.Header{hdrExtID: {"nope"}, hdrExtErrorType: {"Extension.X"}}, "", 403, typeExtUnknownID},
		{"next with the wrong method", "POST", "event/next", http.Header{hdrExtID: {id}}, "", 405, typeMethodNotAllowed},
		{"an unknown path", "GET", "telemetry", nil, "", 404, typeNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			r := x.do(t.Context(), tc.method, tc.path, tc.header, body)
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.status != tc.status || errorTypeOf(r.body) != tc.errorType {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tc.status, tc.errorType)
			}
		})
	}

	// Init ends; registration closes.
	next := rt.nextAsync(t.Context())
	ext := extNextAsync(t.Context(), x, id)
	if err := s.WaitInit(testContext(t)); err != nil {
		t.Fatalf("WaitInit: %v", err)
	}
	r := x.post("register", http.Header{hdrExtName: {"late"}}, []byte(`{"events":["INVOKE"]}`))
	if r.status != http.StatusForbidden || errorTypeOf(r.body) != typeExtRegistrationClosed {
		t.Fatalf("late register = %d %s", r.status, r.body)
	}
	_ = s.Close()
	receive(t, next)
	receive(t, ext)
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestInitWaitsForEveryExtension(t *testing.T) {
	s := newTestServer(t, Config{ExternalExtensions: []string{"ext-a"}})
	rt := newFakeRuntime(t, s)
	x := newFakeExtension(t, s)
	initDone := make(chan error, 1)
	go func() { initDone <- s.WaitInit(testContext(t)) }()

	internal := register(t, x, "in-process", "INVOKE")
	next := rt.nextAsync(t.Context())
	notYet(t, initDone, "init (external extension not registered)")
	external := register(t, x, "ext-a", "INVOKE", "SHUTDOWN")
	e1 := extNextAsync(t.Context(), x, external)
	notYet(t, initDone, "init (internal extension not in next)")
	e2 := extNextAsync(t.Context(), x, internal)
	if err := receive(t, initDone); err != nil {
		t.Fatalf("WaitInit: %v", err)
	}
	_ = s.Close()
	receive(t, next)
	receive(t, e1)
	receive(t, e2)
}

func TestExtensionsHoldTheEnvironmentUntilTheyCallNext(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := newFakeRuntime(t, s)
	x := newFakeExtension(t, s)
	id := register(t, x, "worker", "INVOKE")
	ext := extNextAsync(t.Context(), x, id)
	next := rt.nextAsync(t.Context())
	if err := s.WaitInit(testContext(t)); err != nil {
		t.Fatalf("WaitInit: %v", err)
	}

	inv := &Invocation{RequestID: "req-1", Payload: []byte(`{}`), Deadline: time.UnixMilli(1_900_000_000_000),
		InvokedFunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:f", TraceID: "Root=1-a-b;Parent=c;Sampled=1"}
	res := invokeAsync(t.Context(), s, inv)
	ev := receive(t, ext)
	if ev.status != http.StatusOK || ev.header.Get(hdrExtEventID) == "" {
		t.Fatalf("extension next = %d %v %s", ev.status, ev.header, ev.body)
	}
	want := `{"eventType":"INVOKE","deadlineMs":1900000000000,"requestId":"req-1","invokedFunctionArn":"arn:aws:lambda:us-east-1:000000000000:function:f","tracing":{"type":"X-Amzn-Trace-Id","value":"Root=1-a-b;Parent=c;Sampled=1"}}`
	if string(ev.body) != want {
		t.Fatalf("INVOKE event = %s\nwant %s", ev.body, want)
	}
	if n := receive(t, next); n.status != http.StatusOK {
		t.Fatalf("runtime next = %d", n.status)
	}
	rt.post("invocation/req-1/response", nil, []byte(`"ok"`))
	if r := receive(t, res); r.err != nil || string(r.resp.Payload) != `"ok"` {
		t.Fatalf("Invoke = %+v, %v", r.resp, r.err)
	}
	// The caller has its answer; the runtime parks, the extension works on.
	next = rt.nextAsync(t.Context())
	parked := s.Parked()
	notYet(t, parked, "Parked while the extension is busy")
	ext = extNextAsync(t.Context(), x, id)
	receive(t, parked)

	_ = s.Close()
	receive(t, next)
	receive(t, ext)
}

func TestShutdownWaitsForSubscribers(t *testing.T) {
	s := newTestServer(t, Config{ExternalExtensions: []string{"ext"}})
	rt := newFakeRuntime(t, s)
	x := newFakeExtension(t, s)
	id := register(t, x, "ext", "SHUTDOWN")
	ext := extNextAsync(t.Context(), x, id)
	next := rt.nextAsync(t.Context())
	if err := s.WaitInit(testContext(t)); err != nil {
		t.Fatalf("WaitInit: %v", err)
	}
	if n := s.ShutdownSubscribers(); n != 1 {
		t.Fatalf("ShutdownSubscribers = %d", n)
	}
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(testContext(t), ShutdownSpindown, time.UnixMilli(1_900_000_002_000)) }()
	ev := receive(t, ext)
	if want := `{"eventType":"SHUTDOWN","shutdownReason":"spindown","deadlineMs":1900000002000}`; string(ev.body) != want {
		t.Fatalf("SHUTDOWN event = %s, want %s", ev.body, want)
	}
	notYet(t, done, "Shutdown before the extension called next")
	ext = extNextAsync(t.Context(), x, id)
	if err := receive(t, done); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	_ = s.Close()
	receive(t, next)
	receive(t, ext)
}

func TestExtensionErrors(t *testing.T) {
	t.Run("an init error fails init as Extension.InitError", func(t *testing.T) {
		s := newTestServer(t, Config{ExternalExtensions: []string{"ext"}})
		x := newFakeExtension(t, s)
		id := register(t, x, "ext", "INVOKE")
		r := x.post("init/error", http.Header{hdrExtID: {id}, hdrExtErrorType: {"Extension.ConfigInvalid"}}, []byte(`{"errorMessage":"bad"}`))
		if r.status != http.StatusAccepted {
			t.Fatalf("init/error = %d %s", r.status, r.body)
		}
		var ie *InitError
		if err := s.WaitInit(testContext(t)); !errors.As(err, &ie) || ie.ErrorType != ErrTypeExtensionInitError {
			t.Fatalf("WaitInit = %v", err)
		}
		if !strings.Contains(string(ie.Payload), "Extension.ConfigInvalid") {
			t.Errorf("payload %s does not name the reported type", ie.Payload)
		}
		r = x.do(t.Context(), "GET", "event/next", http.Header{hdrExtID: {id}}, nil)
		if r.status != http.StatusForbidden || errorTypeOf(r.body) != typeExtInvalidState {
			t.Fatalf("next after init/error = %d %s", r.status, r.body)
		}
	})
	t.Run("an exit error during init fails init as Extension.ExitError", func(t *testing.T) {
		s := newTestServer(t, Config{})
		x := newFakeExtension(t, s)
		id := register(t, x, "in-process", "INVOKE")
		x.post("exit/error", http.Header{hdrExtID: {id}, hdrExtErrorType: {"Extension.Boom"}}, nil)
		var ie *InitError
		if err := s.WaitInit(testContext(t)); !errors.As(err, &ie) || ie.ErrorType != ErrTypeExtensionExitError {
			t.Fatalf("WaitInit = %v", err)
		}
	})
	t.Run("an exit error after init marks the environment for reset", func(t *testing.T) {
		s := newTestServer(t, Config{})
		rt := newFakeRuntime(t, s)
		x := newFakeExtension(t, s)
		id := register(t, x, "in-process", "INVOKE")
		ext := extNextAsync(t.Context(), x, id)
		next := rt.nextAsync(t.Context())
		if err := s.WaitInit(testContext(t)); err != nil {
			t.Fatalf("WaitInit: %v", err)
		}
		if got := s.ExtensionFailure(); got != "" {
			t.Fatalf("ExtensionFailure before = %q", got)
		}
		r := x.post("exit/error", http.Header{hdrExtID: {id}, hdrExtErrorType: {"Extension.Boom"}}, nil)
		if r.status != http.StatusAccepted {
			t.Fatalf("exit/error = %d %s", r.status, r.body)
		}
		if got := s.ExtensionFailure(); got != ErrTypeExtensionExitError {
			t.Fatalf("ExtensionFailure = %q", got)
		}
		if r := receive(t, ext); r.status != http.StatusForbidden {
			t.Fatalf("parked next after exit/error = %d %s", r.status, r.body)
		}
		_ = s.Close()
		receive(t, next)
	})
}

func TestParkedWithoutExtensionsIsUnchanged(t *testing.T) {
	s := newTestServer(t, Config{})
	if s.HasExtensions() {
		t.Fatal("HasExtensions = true without extensions")
	}
	rt := newFakeRuntime(t, s)
	next := rt.nextAsync(t.Context())
	if err := s.WaitInit(testContext(t)); err != nil {
		t.Fatalf("WaitInit: %v", err)
	}
	receive(t, s.Parked())
	r := newFakeExtension(t, s).post("register", http.Header{hdrExtName: {"late"}}, []byte(`{"events":["INVOKE"]}`))
	if r.status != http.StatusForbidden || errorTypeOf(r.body) != typeExtRegistrationClosed {
		t.Fatalf("register after init = %d %s", r.status, r.body)
	}
	_ = s.Close()
	receive(t, next)
}

func TestShutdownEndsWhenTheExtensionExits(t *testing.T) {
	s := newTestServer(t, Config{ExternalExtensions: []string{"ext"}})
	rt := newFakeRuntime(t, s)
	x := newFakeExtension(t, s)
	id := register(t, x, "ext", "SHUTDOWN")
	ext := extNextAsync(t.Context(), x, id)
	next := rt.nextAsync(t.Context())
	if err := s.WaitInit(testContext(t)); err != nil {
		t.Fatalf("WaitInit: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(testContext(t), ShutdownSpindown, time.Now().Add(2*time.Second)) }()
	if ev := receive(t, ext); ev.status != http.StatusOK {
		t.Fatalf("SHUTDOWN delivery = %d %s", ev.status, ev.body)
	}
	notYet(t, done, "Shutdown before the extension exited")
	// The extension exits: its connections close.
	x.client.Transport.(*http.Transport).CloseIdleConnections()
	if err := receive(t, done); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	_ = s.Close()
	receive(t, next)
}

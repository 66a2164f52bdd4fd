package runtimeapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/testutil"
)

// helperEnv makes the test binary act as a Lambda function built with
// aws-lambda-go instead of running tests (see lambdago_test.go).
const helperEnv = "UPDRAFT_RUNTIMEAPI_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "1":
		runLambdaGoFunction() // never returns
	case echoHTTPHelper:
		runEchoHTTPServer() // never returns
	}
	os.Exit(testutil.RunCheckingLeaks(m, 5*time.Second, runsPackageCode))
}

// runsPackageCode reports whether a goroutine other than TestMain's is
// running code of this package (a handler, an Invoke, a fake runtime).
func runsPackageCode(stack string) bool {
	return strings.Contains(stack, "internal/runtimeapi.") && !strings.Contains(stack, "runtimeapi.TestMain")
}

// testLogger returns a logger that writes to t.Log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// newTestServer starts a Server that is closed when the test ends.
func newTestServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	s, err := New(cfg, testLogger(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// fakeRuntime speaks the Runtime API over real HTTP, like a runtime client.
type fakeRuntime struct {
	t      testing.TB
	base   string
	client *http.Client
}

func newFakeRuntime(t testing.TB, s *Server) *fakeRuntime {
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 4}
	t.Cleanup(tr.CloseIdleConnections)
	return &fakeRuntime{t: t, base: "http://" + s.Addr() + "/2018-06-01/runtime/", client: &http.Client{Transport: tr}}
}

// reply is one HTTP exchange's result.
type reply struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// do sends one request and reads the whole reply.
func (rt *fakeRuntime) do(ctx context.Context, method, path string, header http.Header, body []byte) reply {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rt.base+path, rd)
	if err != nil {
		return reply{err: err}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := rt.client.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

// next calls /next and fails the test on a transport error.
func (rt *fakeRuntime) next() reply {
	rt.t.Helper()
	r := rt.do(context.Background(), http.MethodGet, "invocation/next", nil, nil)
	if r.err != nil {
		rt.t.Fatalf("GET next: %v", r.err)
	}
	return r
}

// nextAsync calls /next in a goroutine; the reply arrives on the channel.
func (rt *fakeRuntime) nextAsync(ctx context.Context) <-chan reply {
	ch := make(chan reply, 1)
	go func() { ch <- rt.do(ctx, http.MethodGet, "invocation/next", nil, nil) }()
	return ch
}

// post sends a POST and fails the test on a transport error.
func (rt *fakeRuntime) post(path string, header http.Header, body []byte) reply {
	rt.t.Helper()
	r := rt.do(context.Background(), http.MethodPost, path, header, body)
	if r.err != nil {
		rt.t.Fatalf("POST %s: %v", path, r.err)
	}
	return r
}

// invokeResult is one Invoke's return values.
type invokeResult struct {
	resp *Response
	err  error
}

// invokeAsync runs Invoke in a goroutine.
func invokeAsync(ctx context.Context, s *Server, inv *Invocation) <-chan invokeResult {
	ch := make(chan invokeResult, 1)
	go func() {
		resp, err := s.Invoke(ctx, inv)
		ch <- invokeResult{resp, err}
	}()
	return ch
}

// receive waits for a value with a generous timeout so a bug fails the test
// instead of hanging it.
func receive[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for a result")
		panic("unreachable")
	}
}

// runEchoRuntime is a minimal runtime loop: next, then post the payload
// back. It returns when the server goes away.
func runEchoRuntime(addr string, client *http.Client) error {
	base := "http://" + addr + "/2018-06-01/runtime/invocation/"
	for {
		resp, err := client.Get(base + "next")
		if err != nil {
			return err
		}
		payload, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("next: status %d", resp.StatusCode)
		}
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		resp, err = client.Post(base+id+"/response", "application/json", bytes.NewReader(payload))
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("response: status %d", resp.StatusCode)
		}
	}
}

// startEchoRuntime runs runEchoRuntime until the test's server closes.
func startEchoRuntime(t testing.TB, s *Server) {
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 2}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = runEchoRuntime(s.Addr(), &http.Client{Transport: tr})
	}()
	t.Cleanup(func() {
		_ = s.Close()
		<-done
		tr.CloseIdleConnections()
	})
}

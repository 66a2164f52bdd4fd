package api_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/updraft/updraft/internal/api"
	"github.com/updraft/updraft/internal/invoke"
	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/metrics"
	"github.com/updraft/updraft/internal/pool"
	"github.com/updraft/updraft/internal/registry"
	"github.com/updraft/updraft/internal/testutil"
	"github.com/updraft/updraft/internal/testutil/storetest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

const (
	testRegion  = "us-east-1"
	testAccount = "000000000000"
	testRole    = "arn:aws:iam::000000000000:role/lambda-role"
	fnARN       = "arn:aws:lambda:us-east-1:000000000000:function:"
)

// fakeRunner stands in for the pool. By default it echoes the payload and
// reports the version it was given, as the pool does; answer replaces that.
type fakeRunner struct {
	mu     sync.Mutex
	reqs   []*pool.Request
	answer func(req *pool.Request) (*pool.Result, error)
}

func (r *fakeRunner) Invoke(ctx context.Context, req *pool.Request) (*pool.Result, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	answer := r.answer
	r.mu.Unlock()
	if answer != nil {
		return answer(req)
	}
	return &pool.Result{Payload: req.Payload, ExecutedVersion: req.Version.Version}, nil
}

func (r *fakeRunner) setAnswer(f func(req *pool.Request) (*pool.Result, error)) {
	r.mu.Lock()
	r.answer = f
	r.mu.Unlock()
}

func (r *fakeRunner) requests() []*pool.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

// fixture is an API server over a real registry on an embedded store and
// an invoke service over a fake runner.
type fixture struct {
	srv    *api.Server
	reg    *registry.Registry
	runner *fakeRunner
	logs   *testutil.SyncBuffer
}

func newFixture(t *testing.T, opts ...func(*api.Deps)) *fixture {
	t.Helper()
	logs := &testutil.SyncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st := storetest.Open(t, t.TempDir(), logger)
	reg, err := registry.New(t.Context(), st, registry.Config{Region: testRegion, AccountID: testAccount, CodeCacheDir: t.TempDir()}, logger)
	if err != nil {
		t.Fatalf("registry.New: %v", err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	reg.SetCodeBaseURL("http://127.0.0.1:9321")
	runner := &fakeRunner{}
	inv := invoke.New(reg, runner, metrics.NewInvoke(prometheus.NewRegistry()), logger)
	deps := api.Deps{Logger: logger, Registry: reg, Invoker: inv}
	for _, o := range opts {
		o(&deps)
	}
	return &fixture{srv: api.New(deps), reg: reg, runner: runner, logs: logs}
}

// do serves one request in process and returns the recorded response.
func (f *fixture) do(t *testing.T, method, target string, body io.Reader, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, target, body)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return rec
}

func (f *fixture) doJSON(t *testing.T, method, target string, v any, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return f.do(t, method, target, bytes.NewReader(b), header...)
}

// codeZip is a deployment package with an executable bootstrap.
func codeZip(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("#!/bin/sh\n")); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func createRequest(t *testing.T, name string) *lambdaapi.CreateFunctionRequest {
	return &lambdaapi.CreateFunctionRequest{
		FunctionName: name,
		Runtime:      "provided.al2023",
		Role:         testRole,
		Handler:      "bootstrap",
		Code:         &lambdaapi.FunctionCode{ZipFile: codeZip(t)},
	}
}

// mustCreate creates function name through the API.
func (f *fixture) mustCreate(t *testing.T, name string) {
	t.Helper()
	rec := f.doJSON(t, "POST", "/2015-03-31/functions", createRequest(t, name))
	if rec.Code != http.StatusCreated {
		t.Fatalf("CreateFunction %s: %d %s", name, rec.Code, rec.Body)
	}
}

func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, status int) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, status, rec.Body)
	}
}

// wantError checks the status, X-Amzn-ErrorType, Content-Type, request id
// and the {"Type","Message"} body of an error response.
func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, typ, msg string) {
	t.Helper()
	if rec.Code != status {
		t.Errorf("status = %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if got := rec.Header().Get("X-Amzn-ErrorType"); got != typ {
		t.Errorf("X-Amzn-ErrorType = %q, want %q", got, typ)
	}
	if got := rec.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	if _, err := uuid.Parse(rec.Header().Get("X-Amzn-RequestId")); err != nil {
		t.Errorf("X-Amzn-RequestId = %q, want a UUID", rec.Header().Get("X-Amzn-RequestId"))
	}
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("error body %q: %v", rec.Body, err)
	}
	kind := "User"
	if status >= 500 {
		kind = "Service"
	}
	want := map[string]string{"Type": kind, "Message": msg}
	if !maps.Equal(body, want) {
		t.Errorf("error body = %q, want %q", body, want)
	}
}

// wantThrottle checks a TooManyRequestsException: 429, Retry-After, and a
// body with lower-case "message" and the Reason.
func wantThrottle(t *testing.T, rec *httptest.ResponseRecorder, reason string) {
	t.Helper()
	if rec.Code != http.StatusTooManyRequests {
		t.Errorf("status = %d, want 429; body %s", rec.Code, rec.Body)
	}
	if got := rec.Header().Get("X-Amzn-ErrorType"); got != "TooManyRequestsException" {
		t.Errorf("X-Amzn-ErrorType = %q, want TooManyRequestsException", got)
	}
	if got := rec.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1", got)
	}
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("error body %q: %v", rec.Body, err)
	}
	want := map[string]string{"Type": "User", "message": "Rate Exceeded.", "Reason": reason}
	if !maps.Equal(body, want) {
		t.Errorf("throttle body = %q, want %q", body, want)
	}
}

var errorIDRE = regexp.MustCompile(`error id [0-9a-f]{12}`)

// goldenResponse renders a response as the golden files hold it: status
// line, headers in order (without the per-request X-Amzn-Requestid, which
// is checked to be a UUID), a blank line and the body byte for byte, with
// the random error id of a ServiceException masked.
func goldenResponse(t *testing.T, rec *httptest.ResponseRecorder) []byte {
	t.Helper()
	var b strings.Builder
	b.WriteString("HTTP/1.1 " + strconv.Itoa(rec.Code) + " " + http.StatusText(rec.Code) + "\n")
	h := rec.Header()
	keys := make([]string, 0, len(h))
	for k := range h {
		if k == "X-Amzn-Requestid" {
			if _, err := uuid.Parse(h.Get(k)); err != nil {
				t.Errorf("X-Amzn-Requestid = %q, want a UUID", h.Get(k))
			}
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			b.WriteString(k + ": " + v + "\n")
		}
	}
	b.WriteString("\n")
	b.WriteString(errorIDRE.ReplaceAllString(rec.Body.String(), "error id <id>"))
	b.WriteString("\n")
	return []byte(b.String())
}

// checkGolden compares got with testdata/name.golden byte for byte, or
// rewrites the file under -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (refresh with go test -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("response differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
	}
}

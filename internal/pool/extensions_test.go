package pool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/registry"
	"github.com/updraft/updraft/internal/sandbox"
	"github.com/updraft/updraft/internal/testutil"
)

// newExtensionHarness starts a pool whose functions run testfn with the
// extfn extension in /opt/extensions/extfn.
func newExtensionHarness(t *testing.T) *harness {
	t.Helper()
	if testing.Short() {
		t.Skip("starts real function processes")
	}
	code := buildCodeDir(t, "./internal/testutil/testfn")
	opt, err := os.MkdirTemp("", "pool-opt-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(opt) })
	ext := testutil.BuildBinary(t, "./internal/testutil/extfn", "")
	data, err := os.ReadFile(ext)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(opt, "extensions"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(opt, "extensions", "extfn"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(opt, 0o755)

	logger := slog.New(slog.DiscardHandler)
	if os.Getenv("EXT_DEBUG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	sb, err := sandbox.New(sandbox.Config{ForceBasic: true}, logger)
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	fc := &fakeCode{dirs: map[string]string{"testfn": code}, gates: map[string]chan struct{}{}, entered: make(chan string, 8), opt: opt}
	h := &harness{code: fc, logs: &memSink{}, obs: &recordingObserver{}}
	h.pool, err = New(Config{MaxEnvironments: 10, TmpRoot: t.TempDir(), Region: "us-east-1"},
		Deps{Logger: logger, Sandbox: sb, Code: fc, Logs: h.logs, Observer: h.obs})
	if err != nil {
		t.Fatalf("pool.New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := h.pool.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return h
}

func extVersion(function string, env map[string]string) *registry.Version {
	v := version(function, "testfn", "rev-1")
	v.Layers = []string{"arn:aws:lambda:us-east-1:000000000000:layer:ext:1"}
	v.Env = env
	return v
}

// allMessages returns every log message of function so far.
func (s *memSink) allMessages() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for _, r := range s.recs {
		b.WriteString(r.Message)
		b.WriteByte('\n')
	}
	return b.String()
}

func TestExtensionWorksAfterTheResponseAndBeforeTheNextInvocation(t *testing.T) {
	h := newExtensionHarness(t)
	v := extVersion("ext", nil)

	first := newRequest(v, `{"action":"echo"}`)
	res, err := h.pool.Invoke(t.Context(), first)
	answered := time.Now()
	if err != nil || res.FunctionError != "" {
		t.Fatalf("first invoke: %v, %s", err, describe(res))
	}
	// The caller has its answer while the extension still works (300 ms):
	// the environment is busy, not idle.
	wantStats(t, h.pool, Stats{Environments: 1, Idle: 0, Busy: 1})
	testutil.WaitFor(t, 10*time.Second, func() error {
		if s := h.pool.Stats(); s.Idle != 1 || s.Busy != 0 {
			return fmt.Errorf("stats %+v", s)
		}
		return nil
	})

	second := newRequest(v, `{"action":"read-tmp"}`)
	res = h.mustNotFail(t, second)
	if res.InitDuration != 0 {
		t.Errorf("second invocation was a cold start")
	}
	var reqID string
	var nanos int64
	if _, err := fmt.Sscanf(strings.Trim(string(res.Payload), `"`), "ext-done %s %d", &reqID, &nanos); err != nil || reqID != first.RequestID {
		t.Fatalf("second invocation read %s, want the extension's marker for %s", res.Payload, first.RequestID)
	}
	if written := time.Unix(0, nanos); !written.After(answered) {
		t.Errorf("marker written at %v, before the caller's answer at %v", written, answered)
	}
	if msgs := h.logs.allMessages(); !strings.Contains(msgs, "EXT done "+first.RequestID) {
		t.Errorf("logs lack the extension's line:\n%s", msgs)
	}

	// Eviction sends SHUTDOWN; the extension exits, which ends the wait
	// well within the 2 s budget.
	testutil.WaitFor(t, 10*time.Second, func() error {
		if s := h.pool.Stats(); s.Idle != 1 {
			return fmt.Errorf("stats %+v", s)
		}
		return nil
	})
	envs := h.envs("ext")
	start := time.Now()
	h.pool.EvictStale("ext", func(string, string) bool { return false })
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("eviction took %v; the extension's exit should end the shutdown phase", took)
	}
	wantDestroyed(t, envs[0])
	testutil.WaitFor(t, 5*time.Second, func() error {
		if !strings.Contains(h.logs.allMessages(), "SHUTDOWN spindown") {
			return errors.New("no SHUTDOWN spindown line yet")
		}
		return nil
	})
}

// mustNotFail runs req and fails on a platform or function error.
func (h *harness) mustNotFail(t *testing.T, req *Request) *Result {
	t.Helper()
	res, err := h.pool.Invoke(t.Context(), req)
	if err != nil || res.FunctionError != "" {
		t.Fatalf("invoke %s: %v, %s", req.RequestID, err, describe(res))
	}
	return res
}

func TestExtensionFailuresFailInit(t *testing.T) {
	h := newExtensionHarness(t)
	for _, tc := range []struct{ fail, want string }{
		{"init", "Extension.InitError"},
		{"exit", "Extension.ExitError"},
	} {
		t.Run(tc.fail, func(t *testing.T) {
			v := extVersion("ext-"+tc.fail, map[string]string{"EXT_FAIL": tc.fail})
			res, err := h.pool.Invoke(t.Context(), newRequest(v, `{}`))
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			if res.FunctionError != "Unhandled" || res.ErrorType != tc.want {
				t.Fatalf("result = %s, want %s", describe(res), tc.want)
			}
			if n := len(h.envs(v.FunctionName)); n != 0 {
				t.Errorf("%d environments kept after a failed init", n)
			}
		})
	}
}

func TestExtensionTimeoutAfterTheResponseResetsTheEnvironment(t *testing.T) {
	h := newExtensionHarness(t)
	v := extVersion("slow-ext", map[string]string{"EXT_SLEEP_MS": strconv.Itoa(5000)})
	v.Timeout = time.Second
	h.mustNotFail(t, newRequest(v, `{"action":"echo"}`))
	envs := h.envs("slow-ext")
	if len(envs) != 1 {
		t.Fatalf("%d environments, want 1", len(envs))
	}
	wantDestroyed(t, envs[0])
	wantStats(t, h.pool, Stats{})
}

package testutil

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// Logger returns a text logger at level that writes to t.Log and goes
// quiet once the test ends: the NATS client and background goroutines may
// still report after it, and t.Log would panic then.
func Logger(t testing.TB, level slog.Level) *slog.Logger {
	t.Helper()
	w := &testWriter{t: t}
	t.Cleanup(w.silence)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// testWriter passes each log record to t.Log until silence is called.
type testWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool // guarded by mu
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testWriter) silence() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}

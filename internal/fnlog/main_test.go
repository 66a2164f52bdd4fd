package fnlog

import (
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/testutil"
)

// TestMain fails the package when one of its goroutines outlives the tests.
func TestMain(m *testing.M) {
	os.Exit(testutil.RunCheckingLeaks(m, 2*time.Second, runsPackageCode))
}

// runsPackageCode reports whether a goroutine other than TestMain's is
// running code of this package.
func runsPackageCode(stack string) bool {
	return strings.Contains(stack, "updraft/internal/fnlog.") && !strings.Contains(stack, "fnlog.TestMain")
}

// testLogger returns a logger writing to t.Log.
func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// memSink is a Sink that keeps every record.
type memSink struct {
	mu   sync.Mutex
	recs []Record // guarded by mu
}

func (s *memSink) Publish(rec Record) {
	s.mu.Lock()
	s.recs = append(s.recs, rec)
	s.mu.Unlock()
}

func (s *memSink) records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Record(nil), s.recs...)
}

// messages returns the messages of the records, with their request IDs as
// "id|message" (or "|message").
func (s *memSink) messages() []string {
	var out []string
	for _, r := range s.records() {
		out = append(out, r.RequestID+"|"+r.Message)
	}
	return out
}

// startJetStream runs an embedded JetStream server without a listener in
// t.TempDir() and connects to it in process. The sink creates the log
// streams.
func startJetStream(t *testing.T) jetstream.JetStream {
	t.Helper()
	s, err := server.NewServer(&server.Options{
		JetStream:  true,
		StoreDir:   t.TempDir(),
		DontListen: true,
		NoLog:      true,
		NoSigs:     true,
	})
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	s.Start()
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	nc, err := nats.Connect("", nats.InProcessServer(s))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	return js
}

// newTestSink returns a sink with the default limits, closed at cleanup.
func newTestSink(t *testing.T, js jetstream.JetStream) *JetStreamSink {
	t.Helper()
	s := NewJetStreamSink(js, SinkConfig{Limits: DefaultLimits()}, testLogger(t))
	t.Cleanup(func() { _ = s.Close() })
	return s
}

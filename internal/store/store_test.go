package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/config"
	"github.com/updraft/updraft/internal/testutil"
)

func openEmbedded(t *testing.T, cfg config.Store) *Store {
	t.Helper()
	st, err := Open(t.Context(), cfg, testutil.Logger(t, slog.LevelDebug))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func TestEmbeddedKeepsDataAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Store{DataDir: dir, Replicas: 1}
	st := openEmbedded(t, cfg)
	if st.Mode() != ModeEmbedded {
		t.Fatalf("Mode = %q, want %q", st.Mode(), ModeEmbedded)
	}
	if st.ClientURL() != "" {
		t.Fatalf("ClientURL = %q without a listener, want empty", st.ClientURL())
	}
	if err := st.Healthy(t.Context()); err != nil {
		t.Fatalf("Healthy: %v", err)
	}
	ctx := t.Context()
	if _, err := st.Functions().Put(ctx, "fn.hello", []byte("world")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if _, err := st.Code().PutBytes(ctx, "abc", []byte("zipbytes")); err != nil {
		t.Fatalf("PutBytes: %v", err)
	}
	if _, err := st.JetStream().CreateStream(ctx, jetstream.StreamConfig{Name: "TEST", Subjects: []string{"test.>"}}); err != nil {
		t.Fatalf("create stream: %v", err)
	}
	if _, err := st.JetStream().Publish(ctx, "test.hello", []byte("line")); err != nil {
		t.Fatalf("publish to a stream: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	st2 := openEmbedded(t, cfg)
	e, err := st2.Functions().Get(ctx, "fn.hello")
	if err != nil {
		t.Fatalf("Get after reopen: %v", err)
	}
	if string(e.Value()) != "world" {
		t.Fatalf("value after reopen = %q, want %q", e.Value(), "world")
	}
	b, err := st2.Code().GetBytes(ctx, "abc")
	if err != nil || string(b) != "zipbytes" {
		t.Fatalf("object after reopen = %q, %v", b, err)
	}
	info, err := st2.JetStream().Stream(ctx, "TEST")
	if err != nil {
		t.Fatalf("stream after reopen: %v", err)
	}
	if n := info.CachedInfo().State.Msgs; n != 1 {
		t.Fatalf("stream holds %d messages after reopen, want 1", n)
	}
}

func TestObjectsHaveTheirLimits(t *testing.T) {
	st := openEmbedded(t, config.Store{DataDir: t.TempDir(), Replicas: 3})
	ctx := t.Context()
	kvs, err := st.Functions().Status(ctx)
	if err != nil {
		t.Fatalf("kv status: %v", err)
	}
	if kvs.History() != 1 {
		t.Errorf("functions history = %d, want 1", kvs.History())
	}
	if c := kvs.(*jetstream.KeyValueBucketStatus).StreamInfo().Config; c.Replicas != 1 {
		t.Errorf("embedded replicas = %d, want 1 (clamped)", c.Replicas)
	}
	if st.KeyValue(BucketFunctions) == nil || st.ObjectStore(BucketCode) == nil || st.KeyValue("nope") != nil {
		t.Error("KeyValue/ObjectStore accessors do not match objects.go")
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Healthy(t.Context()); err == nil {
		t.Error("Healthy after Close reported no problem")
	}
}

// TestRetiredLogStreamGoesWhenEmpty: the shared log stream of earlier
// versions stays while it holds records and is deleted once it is empty.
func TestRetiredLogStreamGoesWhenEmpty(t *testing.T) {
	cfg := config.Store{DataDir: t.TempDir(), Replicas: 1}
	st := openEmbedded(t, cfg)
	ctx := t.Context()
	js := st.JetStream()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: retiredLogsStream, Subjects: []string{"updraft.logs.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "updraft.logs.old", []byte("old line")); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = openEmbedded(t, cfg)
	s, err := st.JetStream().Stream(ctx, retiredLogsStream)
	if err != nil {
		t.Fatalf("the retired stream with a record is gone: %v", err)
	}
	if err := s.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = openEmbedded(t, cfg)
	if _, err := st.JetStream().Stream(ctx, retiredLogsStream); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Errorf("the empty retired stream is still there: %v", err)
	}
}

func TestExternalSeesTheEmbeddedStore(t *testing.T) {
	a := openEmbedded(t, config.Store{DataDir: t.TempDir(), NatsListen: "127.0.0.1:0", Replicas: 1})
	if !strings.HasPrefix(a.ClientURL(), "nats://127.0.0.1:") || strings.HasSuffix(a.ClientURL(), ":0") {
		t.Fatalf("ClientURL = %q, want nats://127.0.0.1:<port>", a.ClientURL())
	}
	b, err := Open(t.Context(), config.Store{NatsURL: a.ClientURL(), NatsCreds: a.Join().CredsFile, Replicas: 1},
		testutil.Logger(t, slog.LevelDebug))
	if err != nil {
		t.Fatalf("Open external: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	if b.Mode() != ModeExternal {
		t.Fatalf("Mode = %q, want %q", b.Mode(), ModeExternal)
	}
	if err := b.Healthy(t.Context()); err != nil {
		t.Fatalf("Healthy: %v", err)
	}
	ctx := t.Context()
	if _, err := a.Functions().Put(ctx, "fn.a", []byte("from a")); err != nil {
		t.Fatalf("Put on a: %v", err)
	}
	e, err := b.Functions().Get(ctx, "fn.a")
	if err != nil || string(e.Value()) != "from a" {
		t.Fatalf("b sees %v, %v", e, err)
	}
	if _, err := b.Functions().Put(ctx, "fn.b", []byte("from b")); err != nil {
		t.Fatalf("Put on b: %v", err)
	}
	e, err = a.Functions().Get(ctx, "fn.b")
	if err != nil || string(e.Value()) != "from b" {
		t.Fatalf("a sees %v, %v", e, err)
	}
}

func TestExternalConnectIsBounded(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens here now
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	start := time.Now()
	_, err = Open(ctx, config.Store{NatsURL: "nats://" + addr, Replicas: 1}, testutil.Logger(t, slog.LevelDebug))
	if err == nil {
		t.Fatal("Open against a closed port succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Open took %s to fail", d)
	}
}

func TestEmbeddedNeedsADataDir(t *testing.T) {
	if _, err := Open(t.Context(), config.Store{}, testutil.Logger(t, slog.LevelDebug)); err == nil {
		t.Fatal("Open without a data dir succeeded")
	}
}

// TestReopenAfterKill starts a child process that opens the store, writes
// a key and waits; the test SIGKILLs it and opens the same directory.
func TestReopenAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperKillChild$", "-test.v")
	cmd.Env = append(os.Environ(), "UPDRAFT_STORE_KILL_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "CHILD READY") {
				ready <- nil
				_, _ = io.Copy(io.Discard, out)
				return
			}
		}
		ready <- errors.New("child exited before it was ready")
	}()
	select {
	case err := <-ready:
		if err != nil {
			_ = cmd.Wait()
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatal("child not ready in 30s")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	st := openEmbedded(t, config.Store{DataDir: dir, Replicas: 1})
	e, err := st.Functions().Get(t.Context(), "fn.killed")
	if err != nil || string(e.Value()) != "survived" {
		t.Fatalf("after SIGKILL: %v, %v", e, err)
	}
}

// TestHelperKillChild is the child of TestReopenAfterKill; it does nothing
// unless started by it.
func TestHelperKillChild(t *testing.T) {
	dir := os.Getenv("UPDRAFT_STORE_KILL_CHILD")
	if dir == "" {
		t.Skip("helper process for TestReopenAfterKill")
	}
	st, err := Open(context.Background(), config.Store{DataDir: dir, Replicas: 1}, slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Println("CHILD FAILED", err)
		os.Exit(1)
	}
	if _, err := st.Functions().Put(context.Background(), "fn.killed", []byte("survived")); err != nil {
		fmt.Println("CHILD FAILED", err)
		os.Exit(1)
	}
	fmt.Println("CHILD READY")
	select {} // wait for SIGKILL
}

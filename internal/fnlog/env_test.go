package fnlog

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/testutil"
)

// newTestEnv returns an Env with a memSink and a fixed clock.
func newTestEnv(t *testing.T) (*Env, *memSink) {
	t.Helper()
	sink := &memSink{}
	e := NewEnv(sink, "fn", "$LATEST")
	e.now = func() time.Time { return time.Date(2026, 11, 23, 1, 2, 3, 0, time.UTC) }
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("close env: %v", err)
		}
	})
	return e, sink
}

func TestEnvAttribution(t *testing.T) {
	e, sink := newTestEnv(t)
	out := e.Stdout()
	errw := e.Stderr()
	fmt.Fprint(out, "init line\n")
	e.Begin("req-1", "")
	fmt.Fprint(out, "hello\n")
	fmt.Fprint(errw, "oops\n")
	tail := e.End(Report{Duration: time.Millisecond, MemorySizeMB: 128, MaxMemoryUsedMB: 10})
	fmt.Fprint(out, "between\n")
	e.Begin("req-2", "")
	e.Line(TimeoutLine(e.now(), "req-2", 3*time.Second))
	e.End(Report{RequestID: "req-2", Duration: 3 * time.Second, MemorySizeMB: 128, MaxMemoryUsedMB: 10, Status: "timeout"})

	want := []string{
		"|init line",
		"req-1|START RequestId: req-1 Version: $LATEST",
		"req-1|hello",
		"req-1|oops",
		"req-1|END RequestId: req-1",
		"req-1|REPORT RequestId: req-1\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 10 MB\t",
		"|between",
		"req-2|START RequestId: req-2 Version: $LATEST",
		"req-2|2026-11-23T01:02:03.000Z req-2 Task timed out after 3.00 seconds",
		"req-2|END RequestId: req-2",
		"req-2|REPORT RequestId: req-2\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 10 MB\tStatus: timeout\t",
	}
	if got := sink.messages(); !slices.Equal(got, want) {
		t.Errorf("records:\n got %q\nwant %q", got, want)
	}
	wantTail := "START RequestId: req-1 Version: $LATEST\nhello\noops\nEND RequestId: req-1\n" +
		"REPORT RequestId: req-1\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 10 MB\t\n"
	if string(tail) != wantTail {
		t.Errorf("tail:\n got %q\nwant %q", tail, wantTail)
	}
	for _, r := range sink.records() {
		if r.Function != "fn" || r.Version != "$LATEST" || r.Stream != e.Stream() || r.Time.IsZero() {
			t.Fatalf("record fields not set: %+v", r)
		}
	}
}

func TestEnvTailIsBoundedAndEndsWithReport(t *testing.T) {
	e, _ := newTestEnv(t)
	w := e.Stdout()
	e.Begin("req-1", "")
	line := strings.Repeat("y", 99) + "\n"
	for range 1000 { // 100 KB of output
		io.WriteString(w, line)
	}
	tail := e.End(Report{Duration: time.Millisecond, MemorySizeMB: 128})
	if len(tail) != TailSize {
		t.Fatalf("tail is %d bytes, want %d", len(tail), TailSize)
	}
	report := FormatReport(Report{RequestID: "req-1", Duration: time.Millisecond, MemorySizeMB: 128}) + "\n"
	if !bytes.HasSuffix(tail, []byte("END RequestId: req-1\n"+report)) {
		t.Errorf("tail does not end with END and REPORT: %q", tail[len(tail)-200:])
	}

	// The next invocation starts a fresh tail.
	e.Begin("req-2", "")
	io.WriteString(w, "short\n")
	tail = e.End(Report{Duration: time.Millisecond, MemorySizeMB: 128})
	if !bytes.HasPrefix(tail, []byte("START RequestId: req-2 Version: $LATEST\nshort\nEND")) {
		t.Errorf("second tail = %q", tail)
	}
}

func TestEnvEndEmitsPartialLine(t *testing.T) {
	e, sink := newTestEnv(t)
	w := e.Stdout()
	e.Begin("req-1", "")
	io.WriteString(w, "no newline")
	tail := e.End(Report{})
	if !bytes.Contains(tail, []byte("\nno newline\nEND RequestId: req-1\n")) {
		t.Errorf("tail = %q", tail)
	}
	if got := sink.messages(); got[1] != "req-1|no newline" {
		t.Errorf("records = %q", got)
	}
}

func TestEnvConcurrentWriters(t *testing.T) {
	e, sink := newTestEnv(t)
	const writers, lines = 8, 500
	e.Begin("req-1", "")
	var wg sync.WaitGroup
	for i := range writers {
		w := e.Stdout()
		wg.Go(func() {
			for j := range lines {
				// Each line in two writes, to exercise partial lines.
				fmt.Fprintf(w, "w%d ", i)
				fmt.Fprintf(w, "line %d\n", j)
			}
		})
	}
	wg.Wait()
	e.End(Report{})

	next := make([]int, writers)
	n := 0
	for _, r := range sink.records() {
		var i, j int
		if _, err := fmt.Sscanf(r.Message, "w%d line %d", &i, &j); err != nil {
			continue
		}
		n++
		if r.RequestID != "req-1" {
			t.Fatalf("line %q attributed to %q", r.Message, r.RequestID)
		}
		if j != next[i] {
			t.Fatalf("writer %d: got line %d, want %d", i, j, next[i])
		}
		next[i]++
	}
	if n != writers*lines {
		t.Errorf("got %d lines, want %d", n, writers*lines)
	}
}

func TestEnvAttachFlushesPipeBeforeEnd(t *testing.T) {
	e, sink := newTestEnv(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	e.Attach(r)
	for i := range 200 {
		id := fmt.Sprintf("req-%d", i)
		e.Begin(id, "")
		// The function prints, then "responds": End follows at once.
		fmt.Fprintf(w, "output of %d\n", i)
		tail := e.End(Report{})
		if !bytes.Contains(tail, fmt.Appendf(nil, "\noutput of %d\nEND", i)) {
			t.Fatalf("invocation %d: tail misses the output: %q", i, tail)
		}
	}
	for _, rec := range sink.records() {
		if strings.HasPrefix(rec.Message, "output of ") && rec.RequestID != "req-"+strings.TrimPrefix(rec.Message, "output of ") {
			t.Fatalf("%q attributed to %q", rec.Message, rec.RequestID)
		}
	}
}

func TestEnvAttachReadsBetweenInvocations(t *testing.T) {
	e, sink := newTestEnv(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	e.Attach(r)
	fmt.Fprint(w, "background\nlast words")
	testutil.WaitFor(t, 5*time.Second, func() error {
		if got := sink.messages(); !slices.Contains(got, "|background") {
			return fmt.Errorf("records %q", got)
		}
		return nil
	})
	w.Close() // the process exits: end of file emits the partial line
	testutil.WaitFor(t, 5*time.Second, func() error {
		if got := sink.messages(); !slices.Contains(got, "|last words") {
			return fmt.Errorf("records %q", got)
		}
		return nil
	})
}

func TestEnvAttachPortableReader(t *testing.T) {
	e, sink := newTestEnv(t)
	r, w := io.Pipe() // not a file: the portable loop
	e.Attach(r)
	e.Begin("req-1", "")
	fmt.Fprint(w, "hello\n") // io.Pipe returns once the reader took the bytes
	testutil.WaitFor(t, 5*time.Second, func() error {
		if got := sink.messages(); !slices.Contains(got, "req-1|hello") {
			return fmt.Errorf("records %q", got)
		}
		return nil
	})
	e.End(Report{})
	// Close closes a reader whose writer never ends.
}

func TestEnvFlushDoesNotWaitWhenIdle(t *testing.T) {
	e, _ := newTestEnv(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	e.Attach(r)
	_ = e.Stdout()
	start := time.Now()
	for range 100 {
		e.Flush()
	}
	if d := time.Since(start); d > 100*FlushTimeout {
		t.Errorf("100 idle flushes took %v", d)
	}
}

func TestEnvNilSink(t *testing.T) {
	e := NewEnv(nil, "fn", "1")
	e.Begin("a", "1")
	io.WriteString(e.Stdout(), "x\n")
	if tail := e.End(Report{}); !bytes.HasPrefix(tail, []byte("START RequestId: a Version: 1\nx\n")) {
		t.Errorf("tail = %q", tail)
	}
	if err := e.Close(); err != nil {
		t.Error(err)
	}
}

func BenchmarkWarmInvoke(b *testing.B) {
	e := NewEnv(discard{}, "fn", "$LATEST")
	r, w, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	e.Attach(r)
	defer e.Close()
	defer w.Close()
	msg := []byte("a typical line of function output\n")
	b.ReportAllocs()
	for b.Loop() {
		e.Begin("8476a536-e9f4-11e8-9739-2dfe598c3fcd", "")
		w.Write(msg)
		e.End(Report{Duration: time.Millisecond, MemorySizeMB: 128, MaxMemoryUsedMB: 20})
	}
}

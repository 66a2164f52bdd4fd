package fnlog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/testutil"
)

func TestJetStreamRoundTrip(t *testing.T) {
	js := startJetStream(t)
	ctx := t.Context()
	sink := NewJetStreamSink(js, testLogger(t))
	start := time.Now()

	e := NewEnv(sink, "alpha", "$LATEST")
	other := NewEnv(sink, "beta", "1")
	out := e.Stdout()
	fmt.Fprint(out, "init\n")
	e.Begin("req-1", "")
	fmt.Fprint(out, "hello from alpha\n")
	fmt.Fprint(other.Stdout(), "hello from beta\n")
	e.End(Report{Duration: time.Millisecond, MemorySizeMB: 128, MaxMemoryUsedMB: 10})
	if err := sink.Close(); err != nil {
		t.Fatalf("close sink: %v", err)
	}
	if sink.Published() != 6 || sink.Dropped() != 0 || sink.Failed() != 0 {
		t.Fatalf("published %d dropped %d failed %d", sink.Published(), sink.Dropped(), sink.Failed())
	}

	recs, err := Read(ctx, js, "alpha", ReadOptions{})
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var got []string
	for _, r := range recs {
		if r.Function != "alpha" || r.Version != "$LATEST" || r.Stream != e.Stream() || r.Time.Before(start.Add(-time.Second)) {
			t.Errorf("record fields: %+v", r)
		}
		got = append(got, r.RequestID+"|"+r.Message)
	}
	want := []string{
		"|init",
		"req-1|START RequestId: req-1 Version: $LATEST",
		"req-1|hello from alpha",
		"req-1|END RequestId: req-1",
		"req-1|" + FormatReport(Report{RequestID: "req-1", Duration: time.Millisecond, MemorySizeMB: 128, MaxMemoryUsedMB: 10}),
	}
	if !slices.Equal(got, want) {
		t.Errorf("read alpha:\n got %q\nwant %q", got, want)
	}

	tests := []struct {
		name string
		fn   string
		opts ReadOptions
		want []string
	}{
		{"a limit keeps the newest", "alpha", ReadOptions{Limit: 2}, []string{"END RequestId: req-1", want[4][len("req-1|"):]}},
		{"another function has its own records", "beta", ReadOptions{}, []string{"hello from beta"}},
		{"an unknown function has none", "gamma", ReadOptions{}, nil},
		{"since after the last record gives none", "alpha", ReadOptions{Since: time.Now().Add(time.Hour)}, nil},
		{"since before the first record gives all", "beta", ReadOptions{Since: start.Add(-time.Minute)}, []string{"hello from beta"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := Read(ctx, js, tc.fn, tc.opts)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, r.Message)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestReadLimitOverManyRecords(t *testing.T) {
	js := startJetStream(t)
	sink := NewJetStreamSink(js, testLogger(t))
	e := NewEnv(sink, "chatty", "$LATEST")
	w := e.Stdout()
	for i := range 1000 {
		fmt.Fprintf(w, "line %d\n", i)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{0, 1, 150, 5000} {
		recs, err := Read(t.Context(), js, "chatty", ReadOptions{Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		want := limit
		switch limit {
		case 0:
			want = DefaultReadLimit
		case 5000:
			want = 1000
		}
		if len(recs) != want || recs[len(recs)-1].Message != "line 999" || recs[0].Message != fmt.Sprintf("line %d", 1000-want) {
			t.Errorf("limit %d: got %d records from %q", limit, len(recs), recs[0].Message)
		}
	}
}

func TestReadWithoutStream(t *testing.T) {
	js := startJetStream(t)
	if err := js.DeleteStream(t.Context(), LogsStream); err != nil {
		t.Fatal(err)
	}
	_, err := Read(t.Context(), js, "alpha", ReadOptions{})
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Errorf("Read without stream: %v, want ErrStreamNotFound", err)
	}
}

func TestFollow(t *testing.T) {
	js := startJetStream(t)
	sink := NewJetStreamSink(js, testLogger(t))
	t.Cleanup(func() { _ = sink.Close() })
	e := NewEnv(sink, "alpha", "$LATEST")
	w := e.Stdout()
	since := time.Now()
	fmt.Fprint(w, "old 1\nold 2\n")
	testutil.WaitFor(t, 5*time.Second, func() error {
		if sink.Published() < 2 {
			return errors.New("not published yet")
		}
		return nil
	})

	var mu sync.Mutex
	var got []string
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- Follow(ctx, js, "alpha", since, func(r Record) error {
			mu.Lock()
			got = append(got, r.Message)
			mu.Unlock()
			return nil
		})
	}()
	// Another function's records are not followed.
	fmt.Fprint(NewEnv(sink, "beta", "1").Stdout(), "beta\n")
	fmt.Fprint(w, "new 1\nnew 2\n")
	want := []string{"old 1", "old 2", "new 1", "new 2"}
	testutil.WaitFor(t, 5*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if !slices.Equal(got, want) {
			return fmt.Errorf("got %q, want %q", got, want)
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Follow returned %v after cancel, want nil", err)
	}
}

func TestFollowFromNowAndCallbackError(t *testing.T) {
	js := startJetStream(t)
	sink := NewJetStreamSink(js, testLogger(t))
	t.Cleanup(func() { _ = sink.Close() })
	w := NewEnv(sink, "alpha", "$LATEST").Stdout()
	fmt.Fprint(w, "before follow\n")
	testutil.WaitFor(t, 5*time.Second, func() error {
		if sink.Published() < 1 {
			return errors.New("not published yet")
		}
		return nil
	})

	errStop := errors.New("stop")
	first := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Follow(t.Context(), js, "alpha", time.Time{}, func(r Record) error {
			first <- r.Message
			return errStop
		})
	}()
	// The consumer starts at some point; keep printing until it sees a line.
	var msg string
	testutil.WaitFor(t, 5*time.Second, func() error {
		fmt.Fprint(w, "after follow\n")
		select {
		case msg = <-first:
			return nil
		default:
			return errors.New("nothing followed yet")
		}
	})
	if msg != "after follow" {
		t.Errorf("first followed record = %q, want a new one", msg)
	}
	if err := <-done; !errors.Is(err, errStop) {
		t.Errorf("Follow returned %v, want the callback's error", err)
	}
}

// blockingJS is a JetStream whose async publish blocks until released, then
// fails.
type blockingJS struct {
	jetstream.JetStream
	entered chan struct{} // receives once per call
	release chan struct{}
}

func (b *blockingJS) PublishMsgAsync(*nats.Msg, ...jetstream.PublishOpt) (jetstream.PubAckFuture, error) {
	b.entered <- struct{}{}
	<-b.release
	return nil, errors.New("unavailable")
}

func TestJetStreamSinkDropsWhenSaturated(t *testing.T) {
	js := &blockingJS{entered: make(chan struct{}, 100), release: make(chan struct{})}
	cfg := defaultSinkConfig
	cfg.buffer, cfg.batch = 4, 1
	s := newJetStreamSink(js, testLogger(t), cfg)

	start := time.Now()
	s.Publish(Record{Function: "f", Message: "taken by the publisher"})
	<-js.entered // the publisher is stuck on the first record
	for i := range 4 + 3 {
		s.Publish(Record{Function: "f", Message: fmt.Sprint(i)})
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Publish blocked for %v", d)
	}
	if got := s.Dropped(); got != 3 {
		t.Errorf("Dropped = %d, want 3", got)
	}
	close(js.release)
	if err := s.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if got := s.Failed(); got != 5 {
		t.Errorf("Failed = %d, want 5 (the queued records the fake rejected)", got)
	}
	s.Publish(Record{Function: "f"})
	if got := s.Dropped(); got != 4 {
		t.Errorf("Dropped after Close = %d, want 4", got)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}

func TestReadThenFollowPrintsTheLastRecordsThenNewOnes(t *testing.T) {
	tests := []struct {
		name  string
		old   int // records stored before
		limit int
		want  []string
	}{
		{"the last two of three, then the new ones", 3, 2, []string{"old 1", "old 2", "new 0", "new 1"}},
		{"a function without records follows from now", 0, 2, []string{"new 0", "new 1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			js := startJetStream(t)
			sink := NewJetStreamSink(js, testLogger(t))
			t.Cleanup(func() { _ = sink.Close() })
			w := NewEnv(sink, "alpha", "$LATEST").Stdout()
			for i := range tc.old {
				fmt.Fprintf(w, "old %d\n", i)
			}
			testutil.WaitFor(t, 5*time.Second, func() error {
				if sink.Published() < uint64(tc.old) {
					return errors.New("not published yet")
				}
				return nil
			})
			var mu sync.Mutex
			var got []string
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() {
				done <- ReadThenFollow(ctx, js, "alpha", ReadOptions{Limit: tc.limit}, func(r Record) error {
					mu.Lock()
					got = append(got, r.Message)
					mu.Unlock()
					return nil
				})
			}()
			// Written once the read part is printed (or at once when there
			// is nothing to read): nothing is lost between read and follow.
			testutil.WaitFor(t, 5*time.Second, func() error {
				mu.Lock()
				defer mu.Unlock()
				if len(got) < min(tc.old, tc.limit) {
					return errors.New("read part not printed yet")
				}
				return nil
			})
			fmt.Fprint(w, "new 0\nnew 1\n")
			testutil.WaitFor(t, 5*time.Second, func() error {
				mu.Lock()
				defer mu.Unlock()
				if !slices.Equal(got, tc.want) {
					return fmt.Errorf("got %q, want %q", got, tc.want)
				}
				return nil
			})
			cancel()
			if err := <-done; err != nil {
				t.Errorf("ReadThenFollow returned %v after cancel", err)
			}
		})
	}
}

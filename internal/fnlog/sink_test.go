package fnlog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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
	sink := newTestSink(t, js)
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
	sink := newTestSink(t, js)
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
	recs, err := Read(t.Context(), js, "alpha", ReadOptions{})
	if err != nil || recs != nil {
		t.Errorf("Read of a function without a stream = %v, %v; want none and no error", recs, err)
	}
}

func TestFollow(t *testing.T) {
	js := startJetStream(t)
	sink := newTestSink(t, js)
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
	sink := newTestSink(t, js)
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

func (b *blockingJS) CreateOrUpdateStream(context.Context, jetstream.StreamConfig) (jetstream.Stream, error) {
	return nil, nil
}

func (b *blockingJS) PublishMsgAsync(*nats.Msg, ...jetstream.PublishOpt) (jetstream.PubAckFuture, error) {
	b.entered <- struct{}{}
	<-b.release
	return nil, errors.New("unavailable")
}

func newBlockingJS() *blockingJS {
	return &blockingJS{entered: make(chan struct{}, 100), release: make(chan struct{})}
}

// dropCount is a DropObserver that adds up what it is told.
type dropCount struct {
	mu    sync.Mutex
	lines map[string]int // function/reason → lines; guarded by mu
	bytes map[string]int // function/reason → bytes; guarded by mu
}

func (d *dropCount) LogLinesDropped(function, reason string, lines, bytes int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.lines == nil {
		d.lines, d.bytes = map[string]int{}, map[string]int{}
	}
	d.lines[function+"/"+reason] += lines
	d.bytes[function+"/"+reason] += bytes
}

func (d *dropCount) get(key string) (lines, bytes int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lines[key], d.bytes[key]
}

// shareOf returns a BufferBytes whose per-function quarter holds n records
// of one-byte messages.
func shareOf(n int) int { return 4 * n * recordSize(Record{Message: "x"}) }

func TestJetStreamSinkDropsPerFunctionWhenSaturated(t *testing.T) {
	js := newBlockingJS()
	obs := &dropCount{}
	tune := defaultSinkConfig
	tune.linger = 0
	s := newJetStreamSink(js, SinkConfig{BufferBytes: shareOf(3), Observer: obs}, testLogger(t), tune)

	start := time.Now()
	s.Publish(Record{Function: "f", Message: "x"})
	<-js.entered // the publisher is stuck on the first record
	for range 10 {
		s.Publish(Record{Function: "f", Message: "x"})
	}
	// Another function still has its own share.
	for range 3 {
		s.Publish(Record{Function: "g", Message: "y"})
	}
	// A platform line passes a full share, within the reserve.
	s.Publish(Record{Function: "f", Message: "REPORT", platform: true})
	if d := time.Since(start); d > time.Second {
		t.Errorf("Publish blocked for %v", d)
	}
	if got := s.Dropped(); got != 7 {
		t.Errorf("Dropped = %d, want 7", got)
	}
	if lines, bytes := obs.get("f/" + DropBuffer); lines != 7 || bytes != 7 {
		t.Errorf("observer: f dropped %d lines %d bytes for a full buffer, want 7 and 7", lines, bytes)
	}
	if got := s.TakeDropped("f"); got != 7 {
		t.Errorf("TakeDropped(f) = %d, want 7", got)
	}
	if got := s.TakeDropped("f"); got != 0 {
		t.Errorf("TakeDropped(f) again = %d, want 0 (it resets)", got)
	}
	if got := s.TakeDropped("g"); got != 0 {
		t.Errorf("TakeDropped(g) = %d, want 0", got)
	}

	close(js.release)
	if err := s.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	// The fake refuses every publish: 1 + 3 + 1 records of f, 3 of g.
	if got := s.Failed(); got != 8 {
		t.Errorf("Failed = %d, want 8 (the queued records the fake rejected)", got)
	}
	if lines, _ := obs.get("g/" + DropStore); lines != 3 {
		t.Errorf("observer: g lost %d lines in the store, want 3", lines)
	}
	if got := s.TakeDropped("f"); got != 5 {
		t.Errorf("TakeDropped(f) after the store refused = %d, want 5", got)
	}
	s.Publish(Record{Function: "f"})
	if got := s.Dropped(); got != 8 {
		t.Errorf("Dropped after Close = %d, want 8", got)
	}
	if lines, _ := obs.get("f/" + DropClosed); lines != 1 {
		t.Errorf("observer: %d lines dropped after close, want 1", lines)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}

func TestJetStreamSinkMemoryIsBounded(t *testing.T) {
	js := newBlockingJS()
	buffer := MinBufferBytes
	s := newJetStreamSink(js, SinkConfig{BufferBytes: buffer}, testLogger(t), defaultSinkConfig)
	t.Cleanup(func() {
		close(js.release)
		_ = s.Close()
	})
	s.Publish(Record{Function: "f0", Message: "first"})
	<-js.entered
	line := strings.Repeat("z", 1000)
	for i := range 200_000 { // 200 MB from 8 functions
		s.Publish(Record{Function: fmt.Sprint("f", i%8), Message: line})
	}
	s.mu.Lock()
	queued := s.queued
	var most int
	for _, q := range s.queues {
		most = max(most, q.bytes)
	}
	s.mu.Unlock()
	if queued > buffer || most > buffer/4 {
		t.Errorf("queued %d bytes, %d for one function; want at most %d and %d", queued, most, buffer, buffer/4)
	}
	if s.Dropped() < 190_000 {
		t.Errorf("Dropped = %d, want most of 200,000", s.Dropped())
	}
}

func TestJetStreamSinkRecountsALostReport(t *testing.T) {
	s := newJetStreamSink(newBlockingJS(), SinkConfig{}, testLogger(t), defaultSinkConfig)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.Publish(Record{Function: "f", Message: "REPORT ...", platform: true, reports: 5})
	if got := s.TakeDropped("f"); got != 6 {
		t.Errorf("TakeDropped after a REPORT of 5 was dropped = %d, want 6", got)
	}
}

func TestEndReportsDroppedLines(t *testing.T) {
	js := newBlockingJS()
	tune := defaultSinkConfig
	tune.linger = 0
	s := newJetStreamSink(js, SinkConfig{BufferBytes: 4 * 3 * recordSize(Record{Message: "line 0", RequestID: "req-1"})},
		testLogger(t), tune)
	t.Cleanup(func() {
		close(js.release)
		_ = s.Close()
	})
	e := NewEnv(s, "f", "$LATEST")
	e.Begin("req-1", "")
	<-js.entered // START is taken, the publisher is stuck
	w := e.Stdout()
	for i := range 10 {
		fmt.Fprintf(w, "line %d\n", i)
	}
	tail := string(e.End(Report{Duration: time.Millisecond, MemorySizeMB: 128}))
	if !strings.Contains(tail, "\tDropped Log Lines: 7\t") {
		t.Errorf("REPORT does not count the 7 dropped lines:\n%s", tail)
	}
	e.Begin("req-2", "")
	tail = string(e.End(Report{Duration: time.Millisecond, MemorySizeMB: 128}))
	if strings.Contains(tail, "Dropped Log Lines") {
		t.Errorf("the next REPORT counts them again:\n%s", tail)
	}
}

func TestFunctionBudgetKeepsOtherFunctions(t *testing.T) {
	js := startJetStream(t)
	lim := Limits{MaxBytes: 256 << 10, MaxMessages: 1000, MaxAge: time.Hour}
	sink := NewJetStreamSink(js, SinkConfig{Limits: lim}, testLogger(t))
	t.Cleanup(func() { _ = sink.Close() })

	quiet := NewEnv(sink, "quiet", "$LATEST").Stdout()
	for i := range 100 {
		fmt.Fprintf(quiet, "quiet %d\n", i)
	}
	// 4 MB, sixteen times the budget, in batches the sink can keep up with.
	loud := NewEnv(sink, "loud", "$LATEST").Stdout()
	line := strings.Repeat("l", 1000)
	for i := range 4000 {
		fmt.Fprintf(loud, "%06d %s\n", i, line)
		if i%500 == 499 {
			testutil.WaitFor(t, 10*time.Second, func() error {
				if n := sink.Published() + sink.Dropped() + sink.Failed(); n < uint64(i+101) {
					return fmt.Errorf("%d of %d records handled", n, i+101)
				}
				return nil
			})
		}
	}
	ctx := t.Context()
	testutil.WaitFor(t, 10*time.Second, func() error {
		if n := sink.Published(); n < 4100 {
			return fmt.Errorf("%d records published", n)
		}
		return nil
	})

	recs, err := Read(ctx, js, "quiet", ReadOptions{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 100 || recs[0].Message != "quiet 0" || recs[99].Message != "quiet 99" {
		t.Errorf("quiet kept %d records, want its 100", len(recs))
	}
	st, err := js.Stream(ctx, StreamOf("loud"))
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := info.Config
	if c.MaxBytes != lim.MaxBytes || c.MaxMsgs != lim.MaxMessages || c.MaxAge != lim.MaxAge || c.Discard != jetstream.DiscardOld {
		t.Errorf("loud's stream limits: bytes %d msgs %d age %s discard %v", c.MaxBytes, c.MaxMsgs, c.MaxAge, c.Discard)
	}
	if info.State.Bytes > uint64(lim.MaxBytes) {
		t.Errorf("loud's stream holds %d bytes, over its budget of %d", info.State.Bytes, lim.MaxBytes)
	}
	recs, err = Read(ctx, js, "loud", ReadOptions{Limit: 5000})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 || len(recs) >= 4000 || !strings.HasPrefix(recs[len(recs)-1].Message, "003999 ") {
		t.Fatalf("loud kept %d records, want its newest ones, fewer than 4000", len(recs))
	}
	if first := recs[0].Message[:6]; first == "000000" {
		t.Errorf("loud's oldest record %s was kept past the budget", first)
	}
}

func TestFunctionMessageBudget(t *testing.T) {
	js := startJetStream(t)
	lim := Limits{MaxBytes: 1 << 20, MaxMessages: 5, MaxAge: time.Hour}
	tune := defaultSinkConfig
	tune.linger = 0
	sink := newJetStreamSink(js, SinkConfig{Limits: lim}, testLogger(t), tune)
	t.Cleanup(func() { _ = sink.Close() })
	w := NewEnv(sink, "f", "$LATEST").Stdout()
	for i := range 20 { // one message each: the sink publishes each before the next
		fmt.Fprintf(w, "line %d\n", i)
		testutil.WaitFor(t, 5*time.Second, func() error {
			if sink.Published() <= uint64(i) {
				return errors.New("not published yet")
			}
			return nil
		})
	}
	recs, err := Read(t.Context(), js, "f", ReadOptions{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.Message)
	}
	if want := []string{"line 15", "line 16", "line 17", "line 18", "line 19"}; !slices.Equal(got, want) {
		t.Errorf("kept %q, want the newest 5 messages %q", got, want)
	}
}

func TestFollowWaitsForTheStream(t *testing.T) {
	js := startJetStream(t)
	sink := newTestSink(t, js)
	got := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Follow(t.Context(), js, "late", time.Time{}, func(r Record) error {
			got <- r.Message
			return errors.New("stop")
		})
	}()
	time.Sleep(150 * time.Millisecond) // Follow has polled at least once
	fmt.Fprint(NewEnv(sink, "late", "$LATEST").Stdout(), "first words\n")
	select {
	case msg := <-got:
		if msg != "first words" {
			t.Errorf("followed %q", msg)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Follow did not see the first record of a stream made after it started")
	}
	<-done
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
			sink := NewJetStreamSink(js, SinkConfig{}, testLogger(t))
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

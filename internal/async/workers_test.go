package async

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/testutil"
)

// workerSets is how many functions e runs workers for.
func (e *Engine) workerSets() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.workers)
}

// consumers lists the names of the stream's consumers.
func (f *fixture) consumers(t *testing.T) []string {
	t.Helper()
	var names []string
	l := f.engine.stream.ConsumerNames(t.Context())
	for n := range l.Name() {
		names = append(names, n)
	}
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

// queueRaw stores an event for fn as a node that died right after its
// accept would have: in the stream, with no worker told.
func (f *fixture) queueRaw(t *testing.T, id string) {
	t.Helper()
	ev := &event{RequestID: id, RecordKey: id, Function: "fn", Received: time.Now().UTC(), Payload: []byte(`{}`)}
	if _, err := f.engine.records.create(t.Context(), id, newRecord(ev)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.js.PublishMsg(t.Context(), ev.message()); err != nil {
		t.Fatal(err)
	}
}

func TestAFunctionWithoutEventsCostsNothing(t *testing.T) {
	f := newFixture(t, Policy{}, succeed)
	f.engine.FunctionChanged("fn") // registered, changed: still no event
	if n := f.engine.workerSets(); n != 0 {
		t.Errorf("worker sets = %d, want 0", n)
	}
	if c := f.consumers(t); len(c) != 0 {
		t.Errorf("consumers %v, want none", c)
	}
	if rec := f.final(t, f.accept(t, `{}`)); rec.Status != StatusSucceeded {
		t.Fatalf("first event ended %s", rec.Status)
	}
	if c := f.consumers(t); len(c) != 1 || c[0] != consumerFor("fn") {
		t.Errorf("consumers after the first event %v, want [%s]", c, consumerFor("fn"))
	}
}

func TestWorkersAndConsumerAreReleasedAndComeBack(t *testing.T) {
	f := newFixtureWith(t, func(c *Config) { c.ReleaseAfter = time.Second }, Policy{}, succeed)
	if rec := f.final(t, f.accept(t, `{}`)); rec.Status != StatusSucceeded {
		t.Fatalf("first event ended %s", rec.Status)
	}
	testutil.WaitFor(t, 15*time.Second, func() error {
		if n := f.engine.workerSets(); n != 0 {
			return fmt.Errorf("%d worker sets remain", n)
		}
		if c := f.consumers(t); len(c) != 0 {
			return fmt.Errorf("consumers %v remain", c)
		}
		return nil
	})
	if rec := f.final(t, f.accept(t, `{}`)); rec.Status != StatusSucceeded {
		t.Fatalf("event after the release ended %s", rec.Status)
	}
}

func TestWorkersStayWhileAnEventWaitsOutARetryDelay(t *testing.T) {
	// The retry comes 3 s after the failure, well past the 1 s release
	// period: the workers and the consumer must wait for it.
	f := newFixtureWith(t, func(c *Config) {
		c.ReleaseAfter = time.Second
		c.RetryDelay = 3 * time.Second
	}, Policy{MaxRetries: 1}, failFunction, succeed)
	rec := f.final(t, f.accept(t, `{}`))
	if rec.Status != StatusSucceeded || rec.Attempts != 2 {
		t.Fatalf("record %+v: want success on the retry", rec)
	}
}

func TestScanFindsEventsNoWorkerWasToldOf(t *testing.T) {
	f := newFixture(t, Policy{}, succeed)
	const id = "0b7c6f4e-2222-4333-8444-555566667777"
	f.queueRaw(t, id)
	if n := f.engine.workerSets(); n != 0 {
		t.Fatalf("worker sets = %d before the scan, want 0", n)
	}
	started, err := f.engine.Scan(t.Context())
	if err != nil || started != 1 {
		t.Fatalf("Scan = %d, %v; want 1 function started", started, err)
	}
	if rec := f.final(t, id); rec.Status != StatusSucceeded {
		t.Fatalf("record %+v", rec)
	}
	if started, err := f.engine.Scan(t.Context()); err != nil || started != 0 {
		t.Fatalf("second Scan = %d, %v; want nothing left to start", started, err)
	}
}

func TestStartRunsEventsQueuedBeforeIt(t *testing.T) {
	f := newFixture(t, Policy{}, succeed)
	const id = "1c8d7a5f-3333-4444-8555-666677778888"
	f.queueRaw(t, id)
	second := f.peer(t) // a node (or a restart) that starts after the accept
	if rec := f.final(t, id); rec.Status != StatusSucceeded {
		t.Fatalf("record %+v", rec)
	}
	if n := second.workerSets(); n != 1 {
		t.Errorf("the node started later runs %d worker sets, want 1", n)
	}
}

func TestAFirstEventWakesTheOtherNodes(t *testing.T) {
	f := newFixture(t, Policy{}, succeed)
	other := f.peer(t)
	f.final(t, f.accept(t, `{}`))
	testutil.WaitFor(t, 5*time.Second, func() error {
		if n := other.workerSets(); n != 1 {
			return fmt.Errorf("the other node runs %d worker sets, want 1", n)
		}
		return nil
	})
}

func TestOldConsumersGetTheInactivityThreshold(t *testing.T) {
	f := newFixtureWith(t, func(c *Config) { c.ReleaseAfter = time.Second }, Policy{}, succeed)
	// A consumer as an earlier server made it for every function.
	_, err := f.engine.stream.CreateOrUpdateConsumer(t.Context(), jetstream.ConsumerConfig{
		Durable: consumerFor("old"), FilterSubject: subjectFor("old"), AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.peer(t) // starts, adopting it
	testutil.WaitFor(t, 15*time.Second, func() error {
		_, err := f.engine.stream.Consumer(t.Context(), consumerFor("old"))
		if errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil
		}
		return fmt.Errorf("the old consumer is still there (err %v)", err)
	})
}

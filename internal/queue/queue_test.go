package queue

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/store"
	"github.com/updraft/updraft/internal/testutil"
	"github.com/updraft/updraft/internal/testutil/storetest"
)

func newService(t *testing.T) (*Service, *store.Store) {
	t.Helper()
	st := storetest.Open(t, t.TempDir(), testutil.Logger(t, slog.LevelDebug))
	return New(st.JetStream(), 1, testutil.Logger(t, slog.LevelDebug)), st
}

func mustSend(t *testing.T, s *Service, name, body string, attrs map[string]Attribute) string {
	t.Helper()
	id, err := s.Send(t.Context(), name, []byte(body), attrs)
	if err != nil {
		t.Fatalf("Send(%s): %v", name, err)
	}
	return id
}

func bodies(msgs []Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = string(m.Body)
	}
	return out
}

func TestSendThenReceive(t *testing.T) {
	s, st := newService(t)
	ctx := t.Context()
	attrs := map[string]Attribute{
		"RequestID":    {DataType: TypeString, StringValue: "r-1"},
		"ErrorCode":    {DataType: TypeNumber, StringValue: "200"},
		"ErrorMessage": {DataType: TypeString, StringValue: "Task timed out after 3.00 seconds"},
	}
	before := time.Now().Add(-time.Second)
	id := mustSend(t, s, "My_DLQ.fifo", `{"event":1}`, attrs)
	if _, err := uuid.Parse(id); err != nil {
		t.Errorf("message id %q is not a UUID", id)
	}
	mustSend(t, s, "My_DLQ.fifo", "second", nil)

	info, err := st.JetStream().Stream(ctx, "UPDRAFT_QUEUE__my___d_l_q_0fifo")
	if err != nil {
		t.Fatalf("the queue's stream: %v", err)
	}
	cfg := info.CachedInfo().Config
	if cfg.Retention != jetstream.WorkQueuePolicy || cfg.Storage != jetstream.FileStorage || cfg.MaxAge != 14*24*time.Hour ||
		cfg.MaxBytes != MaxQueueBytes || cfg.Discard != jetstream.DiscardNew || cfg.Replicas != 1 ||
		len(cfg.Subjects) != 2 || cfg.Subjects[0] != "updraft.queue._my___d_l_q_0fifo" || cfg.Subjects[1] != "updraft.queue._my___d_l_q_0fifo.*" {
		t.Errorf("stream config %+v", cfg)
	}

	msgs, err := s.Receive(ctx, "My_DLQ.fifo", 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := bodies(msgs); len(got) != 2 || got[0] != `{"event":1}` || got[1] != "second" {
		t.Fatalf("received %q, want both messages in order", got)
	}
	m := msgs[0]
	sum := md5.Sum([]byte(`{"event":1}`))
	if m.MessageID != id || m.MD5OfBody != hex.EncodeToString(sum[:]) || !reflect.DeepEqual(m.Attributes, attrs) ||
		m.SentAt.Before(before) || m.SentAt.After(time.Now()) || m.Sequence != 1 || m.ReceiveCount != 1 {
		t.Errorf("message %+v", m)
	}
	if msgs[1].Attributes != nil {
		t.Errorf("a message sent without attributes has %v", msgs[1].Attributes)
	}

	// Receive deleted them: the stream is empty and a second receive gets nothing.
	again, err := s.Receive(ctx, "My_DLQ.fifo", 10, 0)
	if err != nil || len(again) != 0 {
		t.Fatalf("second Receive = %q, %v; want nothing", bodies(again), err)
	}
	si, err := info.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if si.State.Msgs != 0 {
		t.Errorf("stream still holds %d messages after Receive", si.State.Msgs)
	}
}

func TestReceiveHonoursMax(t *testing.T) {
	s, _ := newService(t)
	for i := range 5 {
		mustSend(t, s, "q", fmt.Sprint(i), nil)
	}
	var got []string
	for range 3 {
		msgs, err := s.Receive(t.Context(), "q", 2, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) > 2 {
			t.Fatalf("Receive(max 2) returned %d", len(msgs))
		}
		got = append(got, bodies(msgs)...)
	}
	if strings.Join(got, ",") != "0,1,2,3,4" {
		t.Errorf("received %q, want 0..4 once each, in order", got)
	}
}

func TestReceiveOfAnUnknownQueueIsNotFound(t *testing.T) {
	s, _ := newService(t)
	_, err := s.Receive(t.Context(), "nobody-sent-here", 1, 0)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Receive = %v, want ErrNotFound", err)
	}
}

func TestBadRequestsAreValidationErrors(t *testing.T) {
	s, _ := newService(t)
	ctx := t.Context()
	mustSend(t, s, "q", "x", nil)
	tests := []struct {
		name string
		err  error
	}{
		{"Send to a bad name", func() error { _, err := s.Send(ctx, "a.b", []byte("x"), nil); return err }()},
		{"Send of a body over the limit", func() error {
			_, err := s.Send(ctx, "q", make([]byte, MaxMessageBytes+1), nil)
			return err
		}()},
		{"Send whose attributes push it over the limit", func() error {
			_, err := s.Send(ctx, "q", make([]byte, MaxMessageBytes-5), map[string]Attribute{"a": {DataType: TypeString, StringValue: "x"}})
			return err
		}()},
		{"Send with a bad attribute", func() error {
			_, err := s.Send(ctx, "q", []byte("x"), map[string]Attribute{"a": {DataType: "Binary", StringValue: "x"}})
			return err
		}()},
		{"SendWithID with a space in the id", func() error { _, err := s.SendWithID(ctx, "q", "a b", []byte("x"), nil); return err }()},
		{"SendWithID with an empty id", func() error { _, err := s.SendWithID(ctx, "q", "", []byte("x"), nil); return err }()},
		{"Receive from a bad name", func() error { _, err := s.Receive(ctx, "", 1, 0); return err }()},
		{"Receive of 0 messages", func() error { _, err := s.Receive(ctx, "q", 0, 0); return err }()},
		{"Receive of 11 messages", func() error { _, err := s.Receive(ctx, "q", 11, 0); return err }()},
		{"Receive with a negative wait", func() error { _, err := s.Receive(ctx, "q", 1, -time.Second); return err }()},
		{"Receive with a wait over 20 s", func() error { _, err := s.Receive(ctx, "q", 1, 21*time.Second); return err }()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ve *ValidationError
			if !errors.As(tc.err, &ve) || !errors.Is(tc.err, ErrInvalid) {
				t.Fatalf("err = %v, want a *ValidationError", tc.err)
			}
		})
	}
	// None of that removed or added anything.
	msgs, err := s.Receive(ctx, "q", 10, 0)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Receive = %q, %v; want the one message", bodies(msgs), err)
	}
}

// TestAMessageOfTheMaximumSizeFits sends a message of MaxMessageBytes. A
// NATS server whose max_payload cannot carry it (nats-server's default is
// 1 MiB, headers included) must refuse it with a validation error that
// says so, rather than fail obscurely.
func TestAnEmptyBodyIsStored(t *testing.T) {
	s, _ := newService(t)
	mustSend(t, s, "empty-body", "", map[string]Attribute{"RequestID": {DataType: TypeString, StringValue: "r-1"}})
	msgs, err := s.Receive(t.Context(), "empty-body", 1, 0)
	if err != nil || len(msgs) != 1 || len(msgs[0].Body) != 0 || msgs[0].Attributes["RequestID"].StringValue != "r-1" ||
		msgs[0].MD5OfBody != "d41d8cd98f00b204e9800998ecf8427e" {
		t.Fatalf("Receive = %+v, %v", msgs, err)
	}
}

func TestAMessageOfTheMaximumSizeFits(t *testing.T) {
	s, st := newService(t)
	body := strings.Repeat("x", MaxMessageBytes-len("RequestID")-len("String")-3)
	_, err := s.Send(t.Context(), "big", []byte(body), map[string]Attribute{"RequestID": {DataType: TypeString, StringValue: "r-1"}})
	if limit := st.Conn().MaxPayload(); limit < MaxMessageBytes+4096 {
		var ve *ValidationError
		if !errors.As(err, &ve) || !strings.Contains(ve.Message, "max_payload") {
			t.Fatalf("Send of %d bytes with max_payload %d = %v, want a validation error naming max_payload", MaxMessageBytes, limit, err)
		}
		t.Skipf("the server's max_payload (%d) is below a full-size message; refused clearly", limit)
	}
	if err != nil {
		t.Fatalf("Send of %d bytes: %v", MaxMessageBytes, err)
	}
	msgs, err := s.Receive(t.Context(), "big", 1, 0)
	if err != nil || len(msgs) != 1 || string(msgs[0].Body) != body {
		t.Fatalf("Receive: %d messages, %v", len(msgs), err)
	}
}

func TestSendWithIDDeduplicatesRetries(t *testing.T) {
	s, _ := newService(t)
	for range 3 {
		id, err := s.SendWithID(t.Context(), "dedup", "retry-1", []byte("once"), nil)
		if err != nil || id != "retry-1" {
			t.Fatalf("SendWithID = %q, %v", id, err)
		}
	}
	mustSend(t, s, "dedup", "other", nil)
	msgs, err := s.Receive(t.Context(), "dedup", 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := bodies(msgs); strings.Join(got, ",") != "once,other" || msgs[0].MessageID != "retry-1" {
		t.Errorf("received %q (first id %q), want the retried message once", got, msgs[0].MessageID)
	}
}

func TestLongPollReturnsWhenAMessageArrives(t *testing.T) {
	s, _ := newService(t)
	mustSend(t, s, "lp", "first", nil)
	if _, err := s.Receive(t.Context(), "lp", 10, 0); err != nil {
		t.Fatal(err)
	}
	sent := make(chan error, 1)
	go func() {
		time.Sleep(200 * time.Millisecond) // let Receive park first; correctness does not depend on it
		_, err := s.Send(context.Background(), "lp", []byte("late"), nil)
		sent <- err
	}()
	start := time.Now()
	msgs, err := s.Receive(t.Context(), "lp", 10, 20*time.Second)
	took := time.Since(start)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if err != nil || len(msgs) != 1 || string(msgs[0].Body) != "late" {
		t.Fatalf("Receive = %q, %v", bodies(msgs), err)
	}
	if took > 10*time.Second {
		t.Errorf("long poll took %s; it should return as soon as a message arrives", took)
	}
}

func TestLongPollOfAnEmptyQueueWaitsThenReturnsNothing(t *testing.T) {
	s, _ := newService(t)
	mustSend(t, s, "empty", "x", nil)
	if _, err := s.Receive(t.Context(), "empty", 1, 0); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	msgs, err := s.Receive(t.Context(), "empty", 10, 300*time.Millisecond)
	if err != nil || len(msgs) != 0 {
		t.Fatalf("Receive = %q, %v; want nothing", bodies(msgs), err)
	}
	if took := time.Since(start); took < 250*time.Millisecond {
		t.Errorf("Receive returned after %s; want it to wait about 300ms", took)
	}
}

func TestCancelledLongPollReturnsTheContextError(t *testing.T) {
	s, _ := newService(t)
	mustSend(t, s, "c", "x", nil)
	if _, err := s.Receive(t.Context(), "c", 1, 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	stop := time.AfterFunc(100*time.Millisecond, cancel)
	defer stop.Stop()
	start := time.Now()
	_, err := s.Receive(ctx, "c", 1, 20*time.Second)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Receive = %v, want the context's error", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("a cancelled Receive took %s to return", took)
	}
}

// TestTwoServicesShareOneConsumer is two nodes on one JetStream: each
// message goes to exactly one receiver.
func TestTwoServicesShareOneConsumer(t *testing.T) {
	st := storetest.Open(t, t.TempDir(), testutil.Logger(t, slog.LevelDebug))
	a := New(st.JetStream(), 1, testutil.Logger(t, slog.LevelDebug))
	b := New(st.JetStream(), 1, testutil.Logger(t, slog.LevelDebug))
	const n = 40
	for i := range n {
		mustSend(t, a, "shared", fmt.Sprint(i), nil)
	}
	seen := map[string]int{}
	for i := 0; i < 2*n && len(seen) < n; i++ {
		svc := a
		if i%2 == 1 {
			svc = b
		}
		msgs, err := svc.Receive(t.Context(), "shared", 3, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			seen[string(m.Body)]++
		}
	}
	if len(seen) != n {
		t.Fatalf("received %d distinct messages, want %d", len(seen), n)
	}
	for body, c := range seen {
		if c != 1 {
			t.Errorf("message %s received %d times", body, c)
		}
	}
}

func TestMessagesSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	st := storetest.Open(t, dir, testutil.Logger(t, slog.LevelDebug))
	s := New(st.JetStream(), 1, testutil.Logger(t, slog.LevelDebug))
	mustSend(t, s, "durable", "kept", map[string]Attribute{"K": {DataType: TypeString, StringValue: "v"}})
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = storetest.Open(t, dir, testutil.Logger(t, slog.LevelDebug))
	s = New(st.JetStream(), 1, testutil.Logger(t, slog.LevelDebug))
	msgs, err := s.Receive(t.Context(), "durable", 1, 0)
	if err != nil || len(msgs) != 1 || string(msgs[0].Body) != "kept" || msgs[0].Attributes["K"].StringValue != "v" {
		t.Fatalf("after restart: %+v, %v", msgs, err)
	}
}

func TestList(t *testing.T) {
	st := storetest.Open(t, t.TempDir(), testutil.Logger(t, slog.LevelDebug))
	s := New(st.JetStream(), 1, testutil.Logger(t, slog.LevelDebug), WithAccount("eu-west-1", "123456789012"))
	got, err := s.List(t.Context())
	if err != nil || len(got) != 0 {
		t.Fatalf("List of no queues = %v, %v", got, err)
	}
	mustSend(t, s, "b.fifo", "1", nil)
	mustSend(t, s, "b.fifo", "2", nil)
	mustSend(t, s, "A", "1", nil)
	got, err = s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []QueueInfo{
		{Name: "A", ARN: "arn:aws:sqs:eu-west-1:123456789012:A", ApproximateNumberOfMessages: 1},
		{Name: "b.fifo", ARN: "arn:aws:sqs:eu-west-1:123456789012:b.fifo", ApproximateNumberOfMessages: 2},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("List = %+v, want %+v", got, want)
	}
}

func TestAFullQueueRefusesNewMessages(t *testing.T) {
	s, _ := newService(t)
	s.maxBytes = 4 << 10
	body := make([]byte, 1<<10)
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		_, err = s.Send(t.Context(), "small", body, nil)
	}
	if !errors.Is(err, ErrFull) {
		t.Fatalf("Send to a full queue = %v, want ErrFull", err)
	}
	msgs, rerr := s.Receive(t.Context(), "small", 10, 0)
	if rerr != nil || len(msgs) == 0 {
		t.Fatalf("the messages stored before the queue filled: %d, %v", len(msgs), rerr)
	}
	if _, err := s.Send(t.Context(), "small", body, nil); err != nil {
		t.Errorf("Send after draining: %v", err)
	}
}

func TestSendRecreatesADeletedStream(t *testing.T) {
	s, st := newService(t)
	mustSend(t, s, "gone", "1", nil)
	if _, err := s.Receive(t.Context(), "gone", 1, 0); err != nil { // caches the consumer
		t.Fatal(err)
	}
	if err := st.JetStream().DeleteStream(t.Context(), streamName("gone")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Receive(t.Context(), "gone", 1, 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("Receive after the stream was deleted = %v, want ErrNotFound", err)
	}
	mustSend(t, s, "gone", "2", nil)
	msgs, err := s.Receive(t.Context(), "gone", 10, 0)
	if err != nil || strings.Join(bodies(msgs), ",") != "2" {
		t.Fatalf("Receive = %q, %v; want the message sent after the stream came back", bodies(msgs), err)
	}
}

// TestACancelledLongPollDoesNotSwallowTheNextMessage: the pull request of
// a receiver that went away stays on the server until it expires; a
// message sent meanwhile must still reach the next receiver at once, not
// after the ack wait.
func TestACancelledLongPollDoesNotSwallowTheNextMessage(t *testing.T) {
	s, _ := newService(t)
	mustSend(t, s, "p", "x", nil)
	if _, err := s.Receive(t.Context(), "p", 1, 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	stop := time.AfterFunc(100*time.Millisecond, cancel)
	defer stop.Stop()
	if _, err := s.Receive(ctx, "p", 1, 20*time.Second); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Receive = %v", err)
	}
	mustSend(t, s, "p", "y", nil)
	start := time.Now()
	msgs, err := s.Receive(t.Context(), "p", 1, 20*time.Second)
	if err != nil || len(msgs) != 1 || string(msgs[0].Body) != "y" {
		t.Fatalf("Receive = %q, %v", bodies(msgs), err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the message took %s to arrive; the cancelled poll held it", took)
	}
}

package queue

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/testutil"
	"github.com/updraft/updraft/internal/testutil/storetest"
)

func newServiceWith(t *testing.T, opts ...Option) *Service {
	t.Helper()
	st := storetest.Open(t, t.TempDir(), testutil.Logger(t, slog.LevelDebug))
	return New(st.JetStream(), 1, testutil.Logger(t, slog.LevelDebug), opts...)
}

func deliveryBodies(ds []*Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = string(d.Body)
	}
	return out
}

func TestFetchLeavesMessagesUntilAcked(t *testing.T) {
	s := newServiceWith(t, WithVisibilityTimeout(time.Second))
	ctx := t.Context()
	attrs := map[string]Attribute{"k": {DataType: TypeString, StringValue: "v"}}
	id := mustSend(t, s, "fq", "one", attrs)
	mustSend(t, s, "fq", "two", nil)

	ds, err := s.Fetch(ctx, "fq", 10, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := deliveryBodies(ds); len(got) != 2 || got[0] != "one" || got[1] != "two" {
		t.Fatalf("Fetch = %q, want [one two]", got)
	}
	d := ds[0]
	if d.MessageID != id || d.ReceiveCount != 1 || d.Attributes["k"].StringValue != "v" || d.MD5OfBody == "" || d.SentAt.IsZero() {
		t.Errorf("first delivery = %+v", d.Message)
	}
	// Invisible while fetched.
	if again, err := s.Receive(ctx, "fq", 10, 0); err != nil || len(again) != 0 {
		t.Fatalf("Receive while fetched = %v, %v; want nothing", again, err)
	}
	if err := ds[1].Ack(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ds[0].Release(0); err != nil {
		t.Fatal(err)
	}
	var back []*Delivery
	testutil.WaitFor(t, 10*time.Second, func() error {
		if back, err = s.Fetch(ctx, "fq", 10, time.Second, 0); err != nil {
			return err
		}
		if len(back) == 0 {
			return errors.New("the released message did not come back")
		}
		return nil
	})
	if len(back) != 1 || string(back[0].Body) != "one" || back[0].ReceiveCount != 2 {
		t.Fatalf("after release Fetch = %q (count %d), want [one] with count 2", deliveryBodies(back), back[0].ReceiveCount)
	}
	// Forgotten: back after the visibility timeout, counted again.
	start := time.Now()
	third, err := s.Fetch(ctx, "fq", 10, 5*time.Second, 0)
	if err != nil || len(third) != 1 || third[0].ReceiveCount != 3 {
		t.Fatalf("after the visibility timeout Fetch = %v, %v", third, err)
	}
	if waited := time.Since(start); waited < 500*time.Millisecond {
		t.Errorf("the message came back after %s, before the 1 s visibility timeout", waited)
	}
	if err := third[0].Ack(ctx); err != nil {
		t.Fatal(err)
	}
	if rest, err := s.Fetch(ctx, "fq", 10, 1500*time.Millisecond, 0); err != nil || len(rest) != 0 {
		t.Fatalf("after ack Fetch = %v, %v; want nothing", rest, err)
	}
}

func TestFetchGathersWithinTheWindow(t *testing.T) {
	s := newServiceWith(t)
	ctx := t.Context()
	mustSend(t, s, "wq", "a", nil)
	go func() {
		time.Sleep(300 * time.Millisecond)
		for _, b := range []string{"b", "c"} {
			if _, err := s.Send(ctx, "wq", []byte(b), nil); err != nil {
				t.Errorf("Send: %v", err)
			}
		}
	}()
	start := time.Now()
	ds, err := s.Fetch(ctx, "wq", 3, time.Second, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := deliveryBodies(ds); len(got) != 3 {
		t.Fatalf("Fetch = %q, want three messages", got)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("a full batch waited %s, want it returned once full", d)
	}
	for _, d := range ds {
		if err := d.Ack(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFetchValidates(t *testing.T) {
	s := newServiceWith(t)
	for _, tc := range []struct {
		name         string
		queue        string
		max          int
		wait, window time.Duration
	}{
		{"bad name", "a b", 1, 0, 0},
		{"zero max", "q", 0, 0, 0},
		{"max above 10000", "q", MaxFetch + 1, 0, 0},
		{"negative wait", "q", 1, -time.Second, 0},
		{"long wait", "q", 1, MaxWait + time.Second, 0},
		{"long window", "q", 1, 0, MaxWindow + time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Fetch(t.Context(), tc.queue, tc.max, tc.wait, tc.window)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Fetch = %v, want a *ValidationError", err)
			}
		})
	}
	if _, err := s.Fetch(t.Context(), "nobody", 1, 0, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Fetch of an unknown queue = %v, want ErrNotFound", err)
	}
}

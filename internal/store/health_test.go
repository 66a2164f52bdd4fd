package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestFaultReason(t *testing.T) {
	api := func(code jetstream.ErrorCode, desc string) error {
		return fmt.Errorf("publish: %w", &jetstream.APIError{ErrorCode: code, Description: desc})
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"no error is no fault", nil, ""},
		{"a caller that went away is no fault", context.Canceled, ""},
		{"a missed deadline is a timeout", fmt.Errorf("put: %w", context.DeadlineExceeded), ReasonTimeout},
		{"an async publish without an ack is a timeout", jetstream.ErrAsyncPublishTimeout, ReasonTimeout},
		{"nats' own timeout is a timeout", nats.ErrTimeout, ReasonTimeout},
		{"insufficient resources", api(errCodeInsufficient, "insufficient resources"), ReasonInsufficientResources},
		{"insufficient storage resources", api(errCodeStorageResources, "insufficient storage resources available"), ReasonInsufficientResources},
		{"JetStream not enabled", api(errCodeNotEnabled, "JetStream not enabled"), ReasonJetStreamDisabled},
		{"a store failure for want of space", api(errCodeStoreFailed, "write x.blk: no space left on device"), ReasonDiskFull},
		{"another store failure", api(errCodeStoreFailed, "input/output error"), ReasonWriteError},
		{"a full queue is the stream's own limit", api(errCodeStoreFailed, "maximum bytes exceeded"), ""},
		{"a wrong last sequence is a conflict", api(10071, "wrong last sequence: 4"), ""},
		{"an unknown key is no fault", jetstream.ErrKeyNotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := faultReason(tc.err); got != tc.want {
				t.Errorf("faultReason(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}

func TestHealthRefusesUntilRecovered(t *testing.T) {
	h := newHealth(slog.New(slog.DiscardHandler), nil)
	if err := h.check(); err != nil {
		t.Fatalf("fresh health refuses: %v", err)
	}
	err := h.observe(fmt.Errorf("put: %w", context.DeadlineExceeded))
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("observe(timeout) = %v, want ErrUnavailable wrapping the cause", err)
	}
	if err := h.check(); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("check after a fault = %v, want ErrUnavailable", err)
	}
	h.serverError("Filestore [S] Critical write error: write 1.blk: no space left on device")
	if st := h.get(); st.Reason != ReasonDiskFull || !h.isPoisoned() {
		t.Fatalf("after a write error line: %+v poisoned=%v, want disk_full and poisoned", st, h.isPoisoned())
	}
	waited := make(chan error, 1)
	go func() { waited <- h.wait(t.Context()) }()
	h.recovered()
	if err := <-waited; err != nil {
		t.Fatalf("wait: %v", err)
	}
	if err := h.check(); err != nil {
		t.Fatalf("check after recovery: %v", err)
	}
}

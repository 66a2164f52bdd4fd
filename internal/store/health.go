package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/metrics"
)

// ErrUnavailable is matched (errors.Is) by every write the store refused
// or that failed because JetStream cannot store right now: the disk is
// full, JetStream is out of resources or disabled, or the write missed its
// deadline. Callers answer it with a 5xx in their service's shape; the
// request changed nothing it could not take back.
var ErrUnavailable = errors.New("store: not accepting writes")

// UnavailableError is the error of a write the store refused or that
// failed for want of storage. It matches [ErrUnavailable].
type UnavailableError struct {
	// Reason says why the store cannot write, in words for an operator
	// (the text /healthz shows).
	Reason string
	// Cause is JetStream's error when a write failed, nil when the write
	// was refused before it was sent.
	Cause error
}

func (e *UnavailableError) Error() string {
	if e.Cause != nil {
		return "store: not accepting writes (" + e.Reason + "): " + e.Cause.Error()
	}
	return "store: not accepting writes (" + e.Reason + ")"
}

// Is makes errors.Is(err, ErrUnavailable) true.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// Unwrap returns the cause.
func (e *UnavailableError) Unwrap() error { return e.Cause }

// Reasons of a degraded store, the label values of the write-failure
// metric.
const (
	ReasonDiskFull              = "disk_full"
	ReasonInsufficientResources = "insufficient_resources"
	ReasonWriteError            = "write_error"
	ReasonTimeout               = "timeout"
	ReasonJetStreamDisabled     = "jetstream_disabled"
)

// Status is what the store reports about its ability to write.
type Status struct {
	// Writable is false while writes are refused.
	Writable bool
	// Reason is the metric label of why not (ReasonDiskFull, ...); "" when
	// writable.
	Reason string
	// Detail says it in words for an operator; "" when writable.
	Detail string
	// Since is when the store stopped taking writes; zero when writable.
	Since time.Time
}

// health tracks whether the store takes writes. A write that fails for
// want of storage, the embedded server's own report of a write error, or
// the free-space watch turns it degraded; from then on writes are refused
// at once (no request waits for a deadline that is sure to pass) until
// the monitor's probe write succeeds again.
type health struct {
	logger  *slog.Logger
	metrics *metrics.Store // nil when no metrics are kept

	mu     sync.Mutex
	status Status // guarded by mu
	// poisoned is set when the embedded server reported a write error:
	// its file store then refuses every later write of that stream until
	// JetStream restarts (nats-server keeps the first write error for
	// good), so recovery restarts it. Guarded by mu.
	poisoned bool
	// writable is closed while the store takes writes and replaced by an
	// open channel when it stops; WaitWritable waits on it. Guarded by mu.
	writable chan struct{}
}

func newHealth(logger *slog.Logger, m *metrics.Store) *health {
	ch := make(chan struct{})
	close(ch)
	return &health{logger: logger, metrics: m, status: Status{Writable: true}, writable: ch}
}

// get returns the current status.
func (h *health) get() Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.status
}

// check returns nil while the store takes writes, else the refusal (and
// counts it).
func (h *health) check() error {
	h.mu.Lock()
	st := h.status
	h.mu.Unlock()
	if st.Writable {
		return nil
	}
	h.count(st.Reason)
	return &UnavailableError{Reason: st.Detail}
}

// observe classifies a write's error: a storage fault degrades the store
// and comes back as an [UnavailableError]; anything else is returned as
// it is.
func (h *health) observe(err error) error {
	reason := faultReason(err)
	if reason == "" {
		return err
	}
	h.count(reason)
	detail := describe(reason, err)
	h.degrade(reason, detail, false)
	return &UnavailableError{Reason: detail, Cause: err}
}

// observeAsync is the asynchronous publishes' error handler.
func (h *health) observeAsync(_ jetstream.JetStream, _ *nats.Msg, err error) { _ = h.observe(err) }

func (h *health) count(reason string) {
	if h.metrics != nil {
		h.metrics.WriteFailures.WithLabelValues(reason).Inc()
	}
}

// degrade stops writes for reason. A store already degraded keeps its
// first reason unless the disk is now known to be full, which says more.
func (h *health) degrade(reason, detail string, poisoned bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if poisoned {
		h.poisoned = true
	}
	if !h.status.Writable {
		if reason == ReasonDiskFull && h.status.Reason != ReasonDiskFull {
			h.status.Reason, h.status.Detail = reason, detail
		}
		return
	}
	h.status = Status{Reason: reason, Detail: detail, Since: time.Now()}
	h.writable = make(chan struct{})
	if h.metrics != nil {
		h.metrics.Writable.Set(0)
	}
	h.logger.Warn("store not accepting writes: requests that write fail until it recovers", "reason", reason, "detail", detail)
}

// recovered lets writes through again.
func (h *health) recovered() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.status.Writable {
		return
	}
	h.logger.Info("store accepting writes again", "was", h.status.Reason, "after", time.Since(h.status.Since).Round(time.Millisecond))
	h.status = Status{Writable: true}
	close(h.writable)
	if h.metrics != nil {
		h.metrics.Writable.Set(1)
	}
}

// isPoisoned reports whether the embedded server reported a write error
// since JetStream last (re)started.
func (h *health) isPoisoned() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.poisoned
}

// clearPoisoned forgets the write errors once JetStream restarted.
func (h *health) clearPoisoned() {
	h.mu.Lock()
	h.poisoned = false
	h.mu.Unlock()
}

// wait blocks until the store takes writes or ctx ends.
func (h *health) wait(ctx context.Context) error {
	h.mu.Lock()
	ch := h.writable
	h.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// serverError reads an error line of the embedded nats-server: a write
// error in a file store (no space left, or any I/O error) poisons that
// stream until JetStream restarts, and a server out of resources refuses
// writes.
func (h *health) serverError(line string) {
	l := strings.ToLower(line)
	switch {
	case strings.Contains(l, "no space left"):
		h.degrade(ReasonDiskFull, "the data dir's file system is full: JetStream could not write (no space left on device)", true)
	case strings.Contains(l, "write error"), strings.Contains(l, "failed to store a msg"),
		strings.Contains(l, "permission denied while writing"):
		h.degrade(ReasonWriteError, "JetStream reported a write error: "+line, true)
	case strings.Contains(l, "will be disabled"), strings.Contains(l, "disabling jetstream"):
		h.degrade(ReasonJetStreamDisabled, "JetStream disabled itself: "+line, true)
	case strings.Contains(l, "resource limits exceeded"):
		h.degrade(ReasonInsufficientResources, "JetStream is out of resources: "+line, false)
	}
}

// nats-server's error codes that mean it cannot store.
const (
	errCodeAccountResources  jetstream.ErrorCode = 10002 // JSAccountResourcesExceededErr
	errCodeInsufficient      jetstream.ErrorCode = 10023 // JSInsufficientResourcesErr
	errCodeMemoryResources   jetstream.ErrorCode = 10028 // JSMemoryResourcesExceededErr
	errCodeStorageResources  jetstream.ErrorCode = 10047 // JSStorageResourcesExceededErr
	errCodeStoreFailed       jetstream.ErrorCode = 10077 // JSStreamStoreFailedF
	errCodeNotEnabled        jetstream.ErrorCode = 10076 // JSNotEnabledErr
	errCodeNotEnabledAccount jetstream.ErrorCode = 10039 // JSNotEnabledForAccountErr
)

// faultReason returns the reason a write's error means the store cannot
// store, or "" for any other error (a conflict, a full queue, bad input,
// a caller that went away).
func faultReason(err error) string {
	if err == nil || errors.Is(err, context.Canceled) {
		return ""
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case errCodeAccountResources, errCodeInsufficient, errCodeMemoryResources, errCodeStorageResources:
			return ReasonInsufficientResources
		case errCodeNotEnabled, errCodeNotEnabledAccount:
			return ReasonJetStreamDisabled
		case errCodeStoreFailed:
			// The same code carries a stream's own limits (maximum
			// bytes or messages, a message too large): those are the
			// stream's answer, not the store's failure.
			d := strings.ToLower(apiErr.Description)
			switch {
			case strings.Contains(d, "no space left"):
				return ReasonDiskFull
			case strings.Contains(d, "maximum"), strings.Contains(d, "too large"):
				return ""
			}
			return ReasonWriteError
		}
		return ""
	}
	switch {
	case errors.Is(err, jetstream.ErrJetStreamNotEnabled), errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount):
		return ReasonJetStreamDisabled
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout),
		errors.Is(err, jetstream.ErrAsyncPublishTimeout):
		return ReasonTimeout
	case strings.Contains(err.Error(), "no space left"):
		return ReasonDiskFull
	}
	return ""
}

// describe says in words what a write's fault means.
func describe(reason string, err error) string {
	switch reason {
	case ReasonDiskFull:
		return "the data dir's file system is full: JetStream could not write (no space left on device)"
	case ReasonInsufficientResources:
		return fmt.Sprintf("JetStream has insufficient resources to store: %v", err)
	case ReasonJetStreamDisabled:
		return "JetStream is not enabled"
	case ReasonTimeout:
		return "a store write got no answer within its deadline"
	}
	return fmt.Sprintf("JetStream could not store: %v", err)
}

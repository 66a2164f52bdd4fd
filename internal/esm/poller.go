package esm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/invoke"
	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/queue"
)

// Poller timing.
const (
	// longPoll is how long one fetch waits for a first message (SQS's
	// longest WaitTimeSeconds; Lambda long polls its queues).
	longPoll = 20 * time.Second
	// minBackoff and maxBackoff bound the pause after a failed fetch,
	// for instance while the queue does not exist yet.
	minBackoff = 500 * time.Millisecond
	maxBackoff = 5 * time.Second
	// settleTimeout bounds the acknowledgements of one batch.
	settleTimeout = 10 * time.Second
)

// Start runs a poller for every Enabled mapping, now and as mappings
// change on any node, until Close. It returns once the mappings stored
// are loaded.
func (s *Service) Start(ctx context.Context) error {
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	w, err := s.kv.Watch(s.ctx, mappingPrefix+"*")
	if err != nil {
		s.cancel()
		return fmt.Errorf("esm: watch %s: %w", Bucket, err)
	}
	loaded := make(chan struct{})
	s.wg.Add(1)
	go s.watch(w, loaded)
	select {
	case <-loaded:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("esm: load mappings: %w", context.Cause(ctx))
	}
}

// Close stops every poller and waits, until ctx ends, for batches in
// flight to finish; messages of a batch it gives up on come back after
// the visibility timeout.
func (s *Service) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	if s.cancel != nil {
		s.cancel()
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("esm: close: %w", context.Cause(ctx))
	}
}

// watch follows the bucket, restarting the watcher if it ends.
func (s *Service) watch(w jetstream.KeyWatcher, loaded chan struct{}) {
	defer s.wg.Done()
	for {
		for e := range w.Updates() {
			if e == nil {
				if loaded != nil {
					close(loaded)
					loaded = nil
				}
				continue
			}
			s.apply(e)
		}
		_ = w.Stop()
		for {
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(time.Second):
			}
			var err error
			if w, err = s.kv.Watch(s.ctx, mappingPrefix+"*"); err == nil {
				break
			}
			s.logger.Warn("restart the mappings watcher", "err", err)
		}
	}
}

// apply starts, restarts or stops the poller of one changed mapping.
func (s *Service) apply(e jetstream.KeyValueEntry) {
	id := strings.TrimPrefix(e.Key(), mappingPrefix)
	var m *Mapping
	if e.Operation() == jetstream.KeyValuePut {
		m = new(Mapping)
		if err := json.Unmarshal(e.Value(), m); err != nil {
			s.logger.Error("undecodable event source mapping", "uuid", id, "err", err)
			m = nil
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	old := s.pollers[id]
	if old != nil && m != nil && old.m.sameWork(m) {
		return
	}
	if old != nil {
		old.cancel() // a batch in flight finishes; the poller then ends
		delete(s.pollers, id)
		if m == nil && old.m.Stream != "" && s.deps.Streams != nil {
			// Deleted: once the poller stopped, remove the checkpoints it
			// may have recreated after Delete removed them.
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				<-old.done
				ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), settleTimeout)
				defer cancel()
				if err := s.deps.Streams.DeleteReaders(ctx, old.m.Stream, readerPrefix(id)); err != nil {
					s.logger.Debug("delete the stream readers of a deleted mapping", "uuid", id, "err", err)
				}
			}()
		}
	}
	if m == nil || !m.Enabled {
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	p := &poller{m: m, cancel: cancel, done: make(chan struct{})}
	s.pollers[id] = p
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(p.done)
		if m.Stream != "" {
			s.pollStream(ctx, m)
			return
		}
		s.poll(ctx, m)
	}()
}

// poll runs one mapping's batches until ctx ends.
func (s *Service) poll(ctx context.Context, m *Mapping) {
	log := s.logger.With("uuid", m.UUID, "queue", m.Queue, "function", m.FunctionArn)
	log.Debug("poller started")
	defer log.Debug("poller stopped")
	window := time.Duration(m.BatchingWindow) * time.Second
	backoff := minBackoff
	for ctx.Err() == nil {
		ds, err := s.deps.Queues.Fetch(ctx, m.Queue, m.BatchSize, longPoll, window)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !errors.Is(err, queue.ErrNotFound) {
				log.Warn("fetch failed", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = minBackoff
		if len(ds) > 0 {
			// The batch finishes even if the mapping is disabled meanwhile.
			s.process(context.WithoutCancel(ctx), m, ds)
		}
	}
}

// process invokes the function with one batch and settles every message.
func (s *Service) process(ctx context.Context, m *Mapping, ds []*queue.Delivery) {
	src := source{arn: m.EventSourceArn, region: s.cfg.Region, account: s.cfg.AccountID}
	msgs := make([]queue.Message, len(ds))
	for i, d := range ds {
		msgs[i] = d.Message
	}
	payload, n, err := src.buildEvent(msgs, s.now(), invoke.MaxSyncRequestBytes)
	if err != nil {
		s.logger.Error("build an SQS event", "uuid", m.UUID, "err", err)
		n = 0
	}
	for _, d := range ds[n:] {
		_ = d.Release(0) // for the next batch
	}
	ds = ds[:n]
	if n == 0 {
		return
	}
	stop := s.extend(ds)
	resp, err := s.deps.Invoker.Invoke(ctx, &invoke.Request{
		FunctionName:   m.Function,
		Qualifier:      m.Qualifier,
		InvocationType: lambdaapi.InvocationRequestResponse,
		Payload:        payload,
		RequestID:      uuid.NewString(),
	})
	stop()
	ids := make([]string, n)
	for i, d := range ds {
		ids[i] = d.MessageID
	}
	retry, reason := outcome(m.reportsFailures(), ids, resp, err)
	if reason != "" {
		s.logger.Info("batch failed; its messages come back after the visibility timeout", "uuid", m.UUID, "function", m.FunctionArn,
			"messages", len(retry), "of", n, "reason", reason)
	}
	sctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	delay := s.deps.Queues.VisibilityTimeout()
	for _, d := range ds {
		if retry[d.MessageID] {
			if err := d.Release(delay); err != nil {
				s.logger.Debug("release failed; the message comes back after the visibility timeout anyway", "err", err)
			}
			continue
		}
		if err := d.Ack(sctx); err != nil {
			s.logger.Warn("delete a processed message; it may be delivered again", "uuid", m.UUID, "err", err)
		}
	}
}

// extend keeps the batch invisible while the function runs and returns
// the function that stops doing so.
func (s *Service) extend(ds []*queue.Delivery) func() {
	return repeatEvery(s.deps.Queues.VisibilityTimeout()/3, func() {
		for _, d := range ds {
			_ = d.Extend()
		}
	})
}

// repeatEvery runs touch every interval until the returned stop function is
// called; stop returns once touch is no longer running.
func repeatEvery(interval time.Duration, touch func()) (stop func()) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				touch()
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// outcome decides which messages of a batch to retry after an
// invocation: none on success, all on a failure to invoke or a function
// error, and with reportFailures the ones the partial batch response
// names (all if it is invalid). reason says why anything is retried.
func outcome(reportFailures bool, ids []string, resp *invoke.Response, err error) (retry map[string]bool, reason string) {
	all := func() map[string]bool {
		r := make(map[string]bool, len(ids))
		for _, id := range ids {
			r[id] = true
		}
		return r
	}
	switch {
	case err != nil:
		return all(), "invoke: " + err.Error()
	case resp == nil:
		return all(), "invoke: no response"
	case resp.FunctionError != "":
		t := resp.ErrorType
		if t == "" {
			t = resp.FunctionError
		}
		return all(), "function error: " + t
	case !reportFailures:
		return nil, ""
	}
	in := make(map[string]bool, len(ids))
	for _, id := range ids {
		in[id] = true
	}
	failed, ok := ParseBatchItemFailures(resp.Payload, in)
	if !ok {
		return all(), "invalid partial batch response"
	}
	if len(failed) == 0 {
		return nil, ""
	}
	retry = make(map[string]bool, len(failed))
	for _, id := range failed {
		retry[id] = true
	}
	return retry, "batch item failures"
}

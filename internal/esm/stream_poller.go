package esm

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/updraft/updraft/internal/invoke"
	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/stream"
)

// Stream poller timing.
const (
	// streamPoll is how long one read waits for a first record.
	streamPoll = 5 * time.Second
	// retryMin and retryMax bound the pause between two attempts at a
	// failed batch (doubling from retryMin).
	retryMin = time.Second
	retryMax = 30 * time.Second
	// keepAliveEvery restarts the AckWait of a batch being processed.
	keepAliveEvery = stream.AckWait / 3
)

// readerPrefix starts the names of a mapping's stream readers.
func readerPrefix(id string) string { return "esm-" + id + "-" }

// pollStream runs one stream mapping: a poller per shard, until ctx ends.
func (s *Service) pollStream(ctx context.Context, m *Mapping) {
	log := s.logger.With("uuid", m.UUID, "stream", m.Stream, "function", m.FunctionArn)
	log.Debug("stream poller started")
	defer log.Debug("stream poller stopped")
	if s.deps.Streams == nil {
		log.Error("no stream service: the mapping cannot run")
		return
	}
	backoff := minBackoff
	var n int
	for {
		var err error
		if n, err = s.deps.Streams.Shards(ctx, m.Stream); err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		if !errors.Is(err, stream.ErrNotFound) {
			log.Warn("look up the stream", "err", err)
		}
		if !sleep(ctx, backoff) {
			return
		}
		backoff = min(2*backoff, maxBackoff)
	}
	var wg sync.WaitGroup
	for shard := range n {
		wg.Go(func() { s.pollShard(ctx, m, shard, log.With("shard", stream.ShardID(shard))) })
	}
	wg.Wait()
}

// pollShard processes one shard while this node holds its lease.
func (s *Service) pollShard(ctx context.Context, m *Mapping, shard int, log *slog.Logger) {
	for ctx.Err() == nil {
		lctx, release, err := s.leases.acquire(ctx, m.UUID, shard)
		if err != nil {
			return
		}
		log.Debug("shard lease taken")
		s.readShard(lctx, m, shard, log)
		release()
		if ctx.Err() == nil {
			log.Warn("shard lease lost; taking it again", "err", context.Cause(lctx))
		}
	}
}

// readShard reads and processes the shard's batches, one at a time and
// in order, until ctx ends.
func (s *Service) readShard(ctx context.Context, m *Mapping, shard int, log *slog.Logger) {
	from := stream.Position{Type: m.StartingPosition}
	if m.StartingTimestamp != nil {
		from.Timestamp = *m.StartingTimestamp
	}
	window := time.Duration(m.BatchingWindow) * time.Second
	backoff := minBackoff
	for ctx.Err() == nil {
		r, err := s.deps.Streams.OpenShard(ctx, m.Stream, shard, readerPrefix(m.UUID)+strconv.Itoa(shard), from, m.BatchSize)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Warn("open the shard", "err", err)
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		for ctx.Err() == nil {
			ds, err := r.Fetch(ctx, m.BatchSize, streamPoll, window)
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("read the shard", "err", err)
					sleep(ctx, backoff)
					backoff = min(2*backoff, maxBackoff)
				}
				break // open it again
			}
			backoff = minBackoff
			if len(ds) > 0 && !s.processRecords(ctx, m, ds, log) {
				return
			}
		}
	}
}

// processRecords delivers records in order, as many batches as the
// payload limit asks, and reports whether all were settled (false when
// ctx ended first: the rest are released to be read again).
func (s *Service) processRecords(ctx context.Context, m *Mapping, ds []*stream.Delivered, log *slog.Logger) bool {
	stop := keepAlive(ds)
	defer stop()
	src := source{arn: m.EventSourceArn, region: s.cfg.Region, account: s.cfg.AccountID}
	for len(ds) > 0 {
		_, n, err := src.buildStreamEvent(ds, m.Role, invoke.MaxSyncRequestBytes)
		if err != nil {
			log.Error("build a stream event", "err", err)
			n = 1
		}
		if !s.deliverBatch(ctx, m, src, ds[:n], log) {
			for _, d := range ds {
				_ = d.Release()
			}
			return false
		}
		ds = ds[n:]
	}
	return true
}

// deliverBatch invokes the function with one batch until it succeeds,
// retrying the same batch with backoff: the shard waits, as on Lambda.
// A function error counts against MaximumRetryAttempts and, with
// BisectBatchOnFunctionError, splits the batch in two, each half
// delivered in order (splitting does not count as a retry). Records older
// than MaximumRecordAgeInSeconds (or the stream's retention) are
// discarded, as is a batch out of retries: acknowledged, so the shard
// moves on, and logged. It reports false when ctx ended first.
func (s *Service) deliverBatch(ctx context.Context, m *Mapping, src source, ds []*stream.Delivered, log *slog.Logger) bool {
	maxAge := stream.Retention
	if m.MaxRecordAge >= 0 {
		maxAge = time.Duration(m.MaxRecordAge) * time.Second
	}
	retries := 0
	backoff := retryMin
	for {
		if age := s.now().Sub(ds[0].Arrival); age > maxAge {
			log.Warn("discarding a batch: its oldest record is past the maximum record age", "records", len(ds),
				"first", ds[0].SequenceNumber, "last", ds[len(ds)-1].SequenceNumber, "age", age.Round(time.Second))
			s.ack(ctx, ds, log)
			return true
		}
		payload, _, err := src.buildStreamEvent(ds, m.Role, len(ds)*invoke.MaxSyncRequestBytes)
		var resp *invoke.Response
		if err == nil {
			// The invocation finishes even if the mapping stops meanwhile.
			resp, err = s.deps.Invoker.Invoke(context.WithoutCancel(ctx), &invoke.Request{
				FunctionName:   m.Function,
				Qualifier:      m.Qualifier,
				InvocationType: lambdaapi.InvocationRequestResponse,
				Payload:        payload,
				RequestID:      uuid.NewString(),
			})
		}
		_, reason := outcome(false, nil, resp, err)
		if reason == "" {
			s.ack(ctx, ds, log)
			return true
		}
		functionError := err == nil && resp != nil && resp.FunctionError != ""
		if functionError && m.Bisect && len(ds) > 1 {
			h := len(ds) / 2
			log.Info("batch failed; bisecting it", "records", len(ds), "reason", reason)
			return s.deliverBatch(ctx, m, src, ds[:h], log) && s.deliverBatch(ctx, m, src, ds[h:], log)
		}
		if functionError {
			if m.MaxRetry >= 0 && retries >= m.MaxRetry {
				log.Warn("discarding a batch: retries exhausted", "records", len(ds), "retries", retries,
					"first", ds[0].SequenceNumber, "last", ds[len(ds)-1].SequenceNumber, "reason", reason)
				s.ack(ctx, ds, log)
				return true
			}
			retries++
		}
		log.Info("batch failed; retrying it, the shard waits", "records", len(ds), "first", ds[0].SequenceNumber,
			"retry", retries, "in", backoff, "reason", reason)
		if !sleep(ctx, backoff) {
			return false
		}
		backoff = min(2*backoff, retryMax)
	}
}

// ack checkpoints ds, waiting for JetStream on the last one.
func (s *Service) ack(ctx context.Context, ds []*stream.Delivered, log *slog.Logger) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	for i, d := range ds {
		if err := d.Ack(sctx, i == len(ds)-1); err != nil {
			log.Warn("checkpoint a record; it may be delivered again", "seq", d.SequenceNumber, "err", err)
		}
	}
}

// keepAlive restarts the records' AckWait while a batch is processed and
// returns the function that stops doing so.
func keepAlive(ds []*stream.Delivered) func() {
	return repeatEvery(keepAliveEvery, func() {
		for _, d := range ds {
			_ = d.InProgress()
		}
	})
}

// sleep waits d or until ctx ends, reporting whether it waited it all.
func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

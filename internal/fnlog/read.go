package fnlog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DefaultReadLimit is the number of records [Read] returns when
// ReadOptions.Limit is 0.
const DefaultReadLimit = 100

// ReadOptions selects the records [Read] returns.
type ReadOptions struct {
	// Since drops records older than this; zero means from the start of the
	// stream. Read walks every record of the function since then, so callers
	// showing recent logs should set it.
	Since time.Time
	// Limit is how many of the newest matching records to return; 0 means
	// DefaultReadLimit.
	Limit int
}

// Read returns the last opts.Limit records of function stored in its log
// stream ([StreamOf]), oldest first, no newer than the newest one when Read
// started. A function without records yields none and no error.
func Read(ctx context.Context, js jetstream.JetStream, function string, opts ReadOptions) ([]Record, error) {
	recs, _, err := read(ctx, js, function, opts)
	return recs, err
}

// ReadThenFollow calls fn for the records [Read] returns, then, as
// [Follow] does, for each record stored after them, from the stream
// sequence after the last message read, so nothing stored in between is
// lost or shown twice: `updraft logs NAME --follow --limit N`.
func ReadThenFollow(ctx context.Context, js jetstream.JetStream, function string, opts ReadOptions, fn func(Record) error) error {
	recs, lastSeq, err := read(ctx, js, function, opts)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if err := fn(r); err != nil {
			return err
		}
	}
	cfg := jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{Subject(function)},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    lastSeq + 1,
	}
	return follow(ctx, js, function, cfg, time.Time{}, fn)
}

// read is Read, also returning the stream sequence up to which it read
// (the stream's last sequence when the function has no records).
func read(ctx context.Context, js jetstream.JetStream, function string, opts ReadOptions) ([]Record, uint64, error) {
	limit := opts.Limit
	if limit <= 0 {
		limit = DefaultReadLimit
	}
	stream, err := openStream(ctx, js, function)
	if err != nil {
		return nil, 0, err
	}
	if stream == nil { // nothing printed yet: a follower starts at the first record
		return nil, 0, nil
	}
	// The stream's last sequence before the subject's: a record stored
	// after this is not missed by a follower starting past it.
	info, err := stream.Info(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("fnlog: read %s: stream info: %w", function, err)
	}
	streamLast := info.State.LastSeq
	subject := Subject(function)
	last, err := stream.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, streamLast, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("fnlog: read %s: last record: %w", function, err)
	}
	if !opts.Since.IsZero() && last.Time.Before(opts.Since) {
		return nil, last.Sequence, nil
	}
	cons, err := stream.OrderedConsumer(ctx, consumerConfig(subject, opts.Since, jetstream.DeliverAllPolicy))
	if err != nil {
		return nil, 0, fmt.Errorf("fnlog: read %s: consumer: %w", function, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return nil, 0, fmt.Errorf("fnlog: read %s: consume: %w", function, err)
	}
	defer it.Stop()

	// Keep the newest limit records: append, and cut back to limit whenever
	// the slice reaches twice that.
	var recs []Record
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return nil, 0, fmt.Errorf("fnlog: read %s: %w", function, err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			return nil, 0, fmt.Errorf("fnlog: read %s: metadata: %w", function, err)
		}
		recs = decode(recs, msg.Data(), opts.Since)
		if len(recs) >= 2*limit {
			recs = append(recs[:0], recs[len(recs)-limit:]...)
		}
		if meta.Sequence.Stream >= last.Sequence || meta.NumPending == 0 {
			break
		}
	}
	if len(recs) > limit {
		recs = recs[len(recs)-limit:]
	}
	return recs, last.Sequence, nil
}

// Follow calls fn for each record of function stored from now on, in order,
// or from since when it is not zero (so a caller can show [Read]'s result,
// then follow from just after its last record's Time). It uses an ordered
// consumer, which recovers from gaps and reconnects by itself, and blocks
// until ctx ends (then returns nil) or fn returns an error (returned as is).
// A function that has not printed anything yet has no stream: Follow waits
// for it, polling, and then follows from its first record.
func Follow(ctx context.Context, js jetstream.JetStream, function string, since time.Time, fn func(Record) error) error {
	return follow(ctx, js, function, consumerConfig(Subject(function), since, jetstream.DeliverNewPolicy), since, fn)
}

// follow calls fn for each record the ordered consumer cfg delivers,
// waiting for the function's stream if it has none yet.
func follow(ctx context.Context, js jetstream.JetStream, function string, cfg jetstream.OrderedConsumerConfig, since time.Time, fn func(Record) error) error {
	stream, err := openStream(ctx, js, function)
	for wait := followPoll; stream == nil && err == nil; wait = min(2*wait, followPollMax) {
		if cfg.DeliverPolicy == jetstream.DeliverNewPolicy {
			cfg.DeliverPolicy = jetstream.DeliverAllPolicy // everything the new stream holds is new
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		stream, err = openStream(ctx, js, function)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("fnlog: follow %s: %w", function, err)
	}
	cons, err := stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return fmt.Errorf("fnlog: follow %s: consumer: %w", function, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("fnlog: follow %s: consume: %w", function, err)
	}
	defer it.Stop()
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("fnlog: follow %s: %w", function, err)
		}
		for _, rec := range decode(nil, msg.Data(), since) {
			if err := fn(rec); err != nil {
				return err
			}
		}
	}
}

// Follow polls for a stream that does not exist yet every followPoll at
// first, backing off to followPollMax.
const (
	followPoll    = 100 * time.Millisecond
	followPollMax = time.Second
)

// consumerConfig returns the ordered consumer of subject starting at since,
// or with policy when since is zero.
func consumerConfig(subject string, since time.Time, policy jetstream.DeliverPolicy) jetstream.OrderedConsumerConfig {
	cfg := jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subject},
		DeliverPolicy:  policy,
	}
	if !since.IsZero() {
		cfg.DeliverPolicy = jetstream.DeliverByStartTimePolicy
		cfg.OptStartTime = &since
	}
	return cfg
}

// decode appends the records of one stored message (one JSON record per
// line) to recs, skipping malformed ones and those timed before since
// (JetStream selects by storage time, a little later).
func decode(recs []Record, data []byte, since time.Time) []Record {
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(line, &rec); err != nil {
			continue
		}
		if !since.IsZero() && rec.Time.Before(since) {
			continue
		}
		recs = append(recs, rec)
	}
	return recs
}

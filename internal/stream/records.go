package stream

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/jsname"
)

// Limits of ReadShard (Kinesis's GetRecords limits).
const (
	// MaxReadRecords is the most records one read returns.
	MaxReadRecords = 10000
	// MaxReadBytes bounds the data one read returns: 10 MiB.
	MaxReadBytes = 10 << 20
	// readerInactive is how long an abandoned read's ephemeral consumer
	// lingers before the server removes it.
	readerInactive = 5 * time.Second
)

// StoredRecord is one record read by position.
type StoredRecord struct {
	PartitionKey string
	Data         []byte
	// Sequence is the record's sequence (see FormatSequence).
	Sequence uint64
	// Arrival is when the stream stored the record.
	Arrival time.Time
}

// ReadShard reads up to limit records (and about MaxReadBytes) of shard
// of stream name, from sequence from on, or, when from is 0, from the
// first record stored at or after at (from the first record when at is
// zero too). It returns the records and the sequence to read from next:
// after the last record returned, or, when
// none is read, the sequence from which later records will be found.
func (s *Service) ReadShard(ctx context.Context, name string, shard int, from uint64, at time.Time, limit int) (recs []StoredRecord, next uint64, err error) {
	_, n, err := s.info(ctx, name)
	if err != nil {
		return nil, 0, err
	}
	if shard < 0 || shard >= n {
		return nil, 0, invalid("Stream %s has no shard %d.", name, shard)
	}
	if limit < 1 || limit > MaxReadRecords {
		return nil, 0, invalid("Limit %d is invalid: must be from 1 to %d.", limit, MaxReadRecords)
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject(name, shard)}, InactiveThreshold: readerInactive}
	switch {
	case from > 0:
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from
	case !at.IsZero():
		t := at
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &t
	default:
		cfg.DeliverPolicy = jetstream.DeliverAllPolicy
	}
	c, err := s.js.OrderedConsumer(ctx, jsName(name), cfg)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, 0, ErrNotFound
	}
	if err != nil {
		return nil, 0, fmt.Errorf("stream: read %s: %w", name, err)
	}
	defer func() {
		if ci := c.CachedInfo(); ci != nil {
			_ = s.js.DeleteConsumer(context.WithoutCancel(ctx), jsName(name), ci.Name)
		}
	}()
	batch, err := c.FetchNoWait(limit)
	if err != nil {
		return nil, 0, fmt.Errorf("stream: read %s: %w", name, err)
	}
	next = from
	size := 0
	for m := range batch.Messages() {
		md, err := m.Metadata()
		if err != nil {
			continue
		}
		if size+len(m.Data()) > MaxReadBytes && len(recs) > 0 {
			break
		}
		size += len(m.Data())
		recs = append(recs, StoredRecord{PartitionKey: m.Headers().Get(headerPartitionKey), Data: m.Data(),
			Sequence: md.Sequence.Stream, Arrival: md.Timestamp})
		next = md.Sequence.Stream + 1
	}
	if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) && len(recs) == 0 {
		return nil, 0, fmt.Errorf("stream: read %s: %w", name, err)
	}
	if next == 0 {
		// Nothing at or after the start: every record the shard gets from
		// now on comes after the stream's last sequence.
		last, err := s.LastSequence(ctx, name)
		if err != nil {
			return nil, 0, err
		}
		next = last + 1
	}
	return recs, next, nil
}

// ShardEnd returns the sequence and arrival of the last record of shard
// of stream name; 0 when the shard has none.
func (s *Service) ShardEnd(ctx context.Context, name string, shard int) (uint64, time.Time, error) {
	st, err := s.js.Stream(ctx, jsName(name))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return 0, time.Time{}, ErrNotFound
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("stream: look up %s: %w", name, err)
	}
	raw, err := st.GetLastMsgForSubject(ctx, subject(name, shard))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("stream: last record of %s: %w", name, err)
	}
	return raw.Sequence, raw.Time, nil
}

// List returns the names of every stream, sorted.
func (s *Service) List(ctx context.Context) ([]string, error) {
	lister := s.js.StreamNames(ctx, jetstream.WithStreamListSubject("updraft.stream.>"))
	var out []string
	for n := range lister.Name() {
		enc, ok := strings.CutPrefix(n, "UPDRAFT_STREAM_")
		if !ok {
			continue
		}
		if name, err := jsname.Decode(enc); err == nil && ValidName(name) == nil {
			out = append(out, name)
		}
	}
	if err := lister.Err(); err != nil {
		return nil, fmt.Errorf("stream: list: %w", err)
	}
	sort.Strings(out)
	return out, nil
}

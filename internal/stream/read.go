package stream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Starting positions of a reader (Kinesis's ShardIteratorType and
// Lambda's StartingPosition).
const (
	TrimHorizon = "TRIM_HORIZON"
	Latest      = "LATEST"
	AtTimestamp = "AT_TIMESTAMP"
)

// AckWait is how long a delivered record stays with its reader before
// JetStream delivers it again; InProgress restarts it.
const AckWait = 30 * time.Second

// Position is where a new reader starts.
type Position struct {
	// Type is TrimHorizon, Latest or AtTimestamp.
	Type string
	// Timestamp is the start of AtTimestamp.
	Timestamp time.Time
}

// Delivered is one record read from a shard.
type Delivered struct {
	// PartitionKey, Data and SequenceNumber are as put.
	PartitionKey   string
	Data           []byte
	SequenceNumber string
	// ShardID is the record's shard.
	ShardID string
	// Arrival is when the stream stored the record.
	Arrival time.Time
	msg     jetstream.Msg
}

// Ack checkpoints the record: it is not delivered to this reader again.
// sync waits for JetStream to confirm.
func (d *Delivered) Ack(ctx context.Context, sync bool) error {
	var err error
	if sync {
		err = d.msg.DoubleAck(ctx)
	} else {
		err = d.msg.Ack()
	}
	if err != nil {
		return fmt.Errorf("stream: ack record %s: %w", d.SequenceNumber, err)
	}
	return nil
}

// InProgress restarts the record's AckWait.
func (d *Delivered) InProgress() error {
	if err := d.msg.InProgress(); err != nil {
		return fmt.Errorf("stream: extend record %s: %w", d.SequenceNumber, err)
	}
	return nil
}

// ShardReader reads one shard through one durable consumer.
type ShardReader struct {
	name  string
	shard int
	c     jetstream.Consumer
}

// OpenShard returns the reader durable of shard of stream name, creating
// its consumer at from when it does not exist yet (an existing one
// continues from its checkpoint). maxPending bounds the records delivered
// and not yet acknowledged, so that a reader that acknowledges in order
// reads in order.
func (s *Service) OpenShard(ctx context.Context, name string, shard int, durable string, from Position, maxPending int) (*ShardReader, error) {
	_, n, err := s.info(ctx, name)
	if err != nil {
		return nil, err
	}
	if shard < 0 || shard >= n {
		return nil, invalid("Stream %s has no shard %d.", name, shard)
	}
	c, err := s.js.Consumer(ctx, jsName(name), durable)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		cfg := jetstream.ConsumerConfig{
			Durable:       durable,
			Description:   "updraft stream reader",
			FilterSubject: subject(name, shard),
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       AckWait,
			MaxAckPending: max(maxPending, 1),
			MaxDeliver:    -1,
			Replicas:      s.replicas,
		}
		switch from.Type {
		case TrimHorizon:
			cfg.DeliverPolicy = jetstream.DeliverAllPolicy
		case Latest:
			cfg.DeliverPolicy = jetstream.DeliverNewPolicy
		case AtTimestamp:
			t := from.Timestamp
			cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &t
		default:
			return nil, invalid("Starting position %q is not one of TRIM_HORIZON, LATEST, AT_TIMESTAMP.", from.Type)
		}
		c, err = s.js.CreateConsumer(ctx, jsName(name), cfg)
		if errors.Is(err, jetstream.ErrConsumerExists) {
			c, err = s.js.Consumer(ctx, jsName(name), durable)
		}
	}
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("stream: open reader %s of %s: %w", durable, name, err)
	}
	return &ShardReader{name: name, shard: shard, c: c}, nil
}

// DeleteReaders deletes the consumers of stream name whose names start
// with prefix. A stream that is gone has none.
func (s *Service) DeleteReaders(ctx context.Context, name, prefix string) error {
	st, err := s.js.Stream(ctx, jsName(name))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stream: look up %s: %w", name, err)
	}
	names := st.ConsumerNames(ctx)
	var errs []error
	for c := range names.Name() {
		if strings.HasPrefix(c, prefix) {
			if err := st.DeleteConsumer(ctx, c); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
				errs = append(errs, err)
			}
		}
	}
	if err := names.Err(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stream: delete readers %s* of %s: %w", prefix, name, err)
	}
	return nil
}

// Fetch reads up to max records in order. With none waiting it waits up
// to wait for the first; once it has one it gathers more until it has
// max or window has passed (0: only what is waiting now). The caller
// acknowledges each record; those it does not come back after AckWait.
func (r *ShardReader) Fetch(ctx context.Context, max int, wait, window time.Duration) ([]*Delivered, error) {
	msgs, err := r.fetch(ctx, max, 0)
	if err == nil && len(msgs) == 0 && wait > 0 {
		msgs, err = r.fetch(ctx, 1, wait)
	}
	if err == nil && len(msgs) > 0 && len(msgs) < max {
		var more []jetstream.Msg
		more, err = r.fetch(ctx, max-len(msgs), window)
		msgs = append(msgs, more...)
		if len(msgs) > 0 {
			err = nil
		}
	}
	if err != nil {
		return nil, err
	}
	out := make([]*Delivered, 0, len(msgs))
	for _, m := range msgs {
		d := &Delivered{PartitionKey: m.Headers().Get(headerPartitionKey), Data: m.Data(), ShardID: ShardID(r.shard), msg: m}
		if md, err := m.Metadata(); err == nil {
			d.SequenceNumber = FormatSequence(md.Sequence.Stream)
			d.Arrival = md.Timestamp
		}
		out = append(out, d)
	}
	return out, nil
}

// fetch pulls up to n messages, waiting up to wait (not at all for 0).
func (r *ShardReader) fetch(ctx context.Context, n int, wait time.Duration) ([]jetstream.Msg, error) {
	var (
		batch jetstream.MessageBatch
		err   error
	)
	if wait == 0 {
		batch, err = r.c.FetchNoWait(n)
	} else {
		wctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		batch, err = r.c.Fetch(n, jetstream.FetchContext(wctx))
	}
	if err != nil {
		return nil, fmt.Errorf("stream: read %s shard %d: %w", r.name, r.shard, err)
	}
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	if err := batch.Error(); err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrTimeout) {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("stream: read %s shard %d: %w", r.name, r.shard, context.Cause(ctx))
		}
		if len(msgs) == 0 {
			return nil, fmt.Errorf("stream: read %s shard %d: %w", r.name, r.shard, err)
		}
	}
	return msgs, nil
}

// Release hands the record back at once, for the next read of its
// reader. It is best effort: a lost release means the record comes back
// after AckWait instead.
func (d *Delivered) Release() error {
	if err := d.msg.Nak(); err != nil {
		return fmt.Errorf("stream: release record %s: %w", d.SequenceNumber, err)
	}
	return nil
}

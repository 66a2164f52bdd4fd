package stream

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// ReadAt reads up to max records of one shard from stream sequence seq
// on (0: from the oldest), without a durable reader: the read behind
// GetRecords-style iterators. Records come back in order, with their
// sequence numbers; none is acknowledged or kept for next time.
func (s *Service) ReadAt(ctx context.Context, name string, shard int, seq uint64, max int) ([]*Delivered, error) {
	_, n, err := s.info(ctx, name)
	if err != nil {
		return nil, err
	}
	if shard < 0 || shard >= n {
		return nil, invalid("Stream %s has no shard %d.", name, shard)
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject(name, shard)}, DeliverPolicy: jetstream.DeliverAllPolicy}
	if seq > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, seq
	}
	c, err := s.js.OrderedConsumer(ctx, jsName(name), cfg)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("stream: read %s shard %d: %w", name, shard, err)
	}
	batch, err := c.FetchNoWait(max)
	if err != nil {
		return nil, fmt.Errorf("stream: read %s shard %d: %w", name, shard, err)
	}
	var out []*Delivered
	for m := range batch.Messages() {
		d := &Delivered{PartitionKey: m.Headers().Get(headerPartitionKey), Data: m.Data(), ShardID: ShardID(shard)}
		if md, err := m.Metadata(); err == nil {
			d.SequenceNumber = FormatSequence(md.Sequence.Stream)
			d.Arrival = md.Timestamp
		}
		out = append(out, d)
	}
	return out, nil
}

// LastSequence is the sequence number of the stream's last record (0
// when it has none).
func (s *Service) LastSequence(ctx context.Context, name string) (uint64, error) {
	info, _, err := s.info(ctx, name)
	if err != nil {
		return 0, err
	}
	return info.State.LastSeq, nil
}

package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Limits of a stream and its records.
const (
	// DefaultShards is ShardCount when CreateStream gives none.
	DefaultShards = 1
	// MaxShards is the most shards a built-in stream has.
	MaxShards = 16
	// Retention is how long records are kept: 24 hours, Kinesis's
	// default retention period.
	Retention = 24 * time.Hour
	// MaxRecordBytes bounds a record's data plus partition key: 1 MiB,
	// Kinesis's default maximum record size.
	MaxRecordBytes = 1 << 20
	// MaxPartitionKeyLen is the longest partition key (256 characters).
	MaxPartitionKeyLen = 256
	// MaxPutRecords is the most records one PutRecords takes.
	MaxPutRecords = 500
	// MetaShards is the stream metadata key holding the shard count.
	MetaShards = "updraft.shards"
	// headerPartitionKey carries a record's partition key.
	headerPartitionKey = "Updraft-Partition-Key"
)

// Record is one record to put.
type Record struct {
	// PartitionKey chooses the shard (1–256 characters).
	PartitionKey string
	// ExplicitHashKey, when set, chooses the shard instead of the
	// partition key's hash.
	ExplicitHashKey string
	// Data is the record's blob.
	Data []byte
}

// PutResult is where a put record went.
type PutResult struct {
	ShardID        string
	SequenceNumber string
}

// Shard describes one shard.
type Shard struct {
	ID                             string
	StartingHashKey, EndingHashKey string
	StartingSequenceNumber         string
}

// Info describes a stream.
type Info struct {
	Name    string
	ARN     string
	Created time.Time
	Shards  []Shard
}

// Option configures a Service.
type Option func(*Service)

// WithAccount sets the region and account id shown in stream ARNs; the
// default is us-east-1 and 000000000000, updraft's defaults.
func WithAccount(region, account string) Option {
	return func(s *Service) { s.region, s.account = region, account }
}

// Service reads and writes the built-in streams. Its methods are safe
// for concurrent use; it keeps no state but its configuration.
type Service struct {
	js       jetstream.JetStream
	replicas int
	logger   *slog.Logger
	region   string
	account  string
}

// New returns a Service over js that creates streams with the given
// number of replicas (at least 1).
func New(js jetstream.JetStream, replicas int, logger *slog.Logger, opts ...Option) *Service {
	s := &Service{js: js, replicas: max(replicas, 1), logger: logger.With("component", "stream"),
		region: "us-east-1", account: "000000000000"}
	for _, o := range opts {
		o(s)
	}
	return s
}

// ARN returns the ARN of stream name.
func (s *Service) ARN(name string) string { return ARN(s.region, s.account, name) }

// Account returns the account id streams belong to.
func (s *Service) Account() string { return s.account }

// Create creates stream name with shards shards (0 means DefaultShards);
// ErrInUse if it exists.
func (s *Service) Create(ctx context.Context, name string, shards int) error {
	if err := ValidName(name); err != nil {
		return err
	}
	if shards == 0 {
		shards = DefaultShards
	}
	if shards < 1 || shards > MaxShards {
		return invalid("ShardCount %d is invalid: built-in streams have from 1 to %d shards.", shards, MaxShards)
	}
	// CreateStream succeeds for an identical config, so look first; two
	// nodes creating one stream at once may both succeed.
	if _, err := s.js.Stream(ctx, jsName(name)); err == nil {
		return ErrInUse
	} else if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("stream: look up %s: %w", name, err)
	}
	_, err := s.js.CreateStream(ctx, jetstream.StreamConfig{
		Name:        jsName(name),
		Description: "updraft stream " + name,
		Subjects:    []string{"updraft.stream." + encodeName(name) + ".*"},
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      Retention,
		Storage:     jetstream.FileStorage,
		Replicas:    s.replicas,
		Discard:     jetstream.DiscardOld,
		Metadata:    map[string]string{MetaShards: strconv.Itoa(shards)},
	})
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return ErrInUse
	}
	if err != nil {
		return fmt.Errorf("stream: create %s: %w", name, err)
	}
	s.logger.Info("stream created", "stream", name, "shards", shards)
	return nil
}

// Delete deletes stream name and its records; ErrNotFound if there is none.
func (s *Service) Delete(ctx context.Context, name string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	err := s.js.DeleteStream(ctx, jsName(name))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("stream: delete %s: %w", name, err)
	}
	s.logger.Info("stream deleted", "stream", name)
	return nil
}

// info reads the JetStream stream of name and its shard count.
func (s *Service) info(ctx context.Context, name string) (*jetstream.StreamInfo, int, error) {
	if err := ValidName(name); err != nil {
		return nil, 0, err
	}
	st, err := s.js.Stream(ctx, jsName(name))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, 0, ErrNotFound
	}
	if err != nil {
		return nil, 0, fmt.Errorf("stream: look up %s: %w", name, err)
	}
	in := st.CachedInfo()
	n, err := strconv.Atoi(in.Config.Metadata[MetaShards])
	if err != nil || n < 1 || n > MaxShards {
		return nil, 0, fmt.Errorf("stream: %s has no valid shard count in its metadata (%q)", name, in.Config.Metadata[MetaShards])
	}
	return in, n, nil
}

// Shards returns the shard count of stream name.
func (s *Service) Shards(ctx context.Context, name string) (int, error) {
	_, n, err := s.info(ctx, name)
	return n, err
}

// Describe returns stream name with its shards.
func (s *Service) Describe(ctx context.Context, name string) (*Info, error) {
	in, n, err := s.info(ctx, name)
	if err != nil {
		return nil, err
	}
	out := &Info{Name: name, ARN: s.ARN(name), Created: in.Created, Shards: make([]Shard, n)}
	for i := range out.Shards {
		start, end := HashKeyRange(i, n)
		out.Shards[i] = Shard{ID: ShardID(i), StartingHashKey: start.String(), EndingHashKey: end.String(),
			StartingSequenceNumber: FormatSequence(0)}
	}
	return out, nil
}

// checkRecord applies Kinesis's rules to one record and returns its
// hash key.
func checkRecord(r Record) (*big.Int, error) {
	if r.PartitionKey == "" || len([]rune(r.PartitionKey)) > MaxPartitionKeyLen {
		return nil, invalid("PartitionKey must have length from 1 to %d.", MaxPartitionKeyLen)
	}
	if len(r.Data)+len(r.PartitionKey) > MaxRecordBytes {
		return nil, invalid("Record size (data and partition key) %d exceeds the limit of %d bytes.", len(r.Data)+len(r.PartitionKey), MaxRecordBytes)
	}
	if r.ExplicitHashKey != "" {
		return ParseHashKey(r.ExplicitHashKey)
	}
	return HashKey(r.PartitionKey), nil
}

// Put stores records in stream name, in order, and returns where each
// went once JetStream has them. A record that breaks a rule fails the
// whole call before anything is stored; a store failure midway returns
// the results so far with the error.
func (s *Service) Put(ctx context.Context, name string, recs []Record) ([]PutResult, error) {
	if len(recs) < 1 || len(recs) > MaxPutRecords {
		return nil, invalid("Records must hold from 1 to %d records.", MaxPutRecords)
	}
	hashes := make([]*big.Int, len(recs))
	for i, r := range recs {
		h, err := checkRecord(r)
		if err != nil {
			return nil, err
		}
		hashes[i] = h
	}
	_, n, err := s.info(ctx, name)
	if err != nil {
		return nil, err
	}
	out := make([]PutResult, 0, len(recs))
	for i, r := range recs {
		shard := ShardFor(hashes[i], n)
		msg := &nats.Msg{Subject: subject(name, shard), Data: r.Data, Header: nats.Header{}}
		msg.Header.Set(headerPartitionKey, r.PartitionKey)
		ack, err := s.js.PublishMsg(ctx, msg, jetstream.WithExpectStream(jsName(name)))
		if errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) {
			return out, ErrNotFound
		}
		if err != nil {
			return out, fmt.Errorf("stream: put to %s: %w", name, err)
		}
		out = append(out, PutResult{ShardID: ShardID(shard), SequenceNumber: FormatSequence(ack.Sequence)})
	}
	return out, nil
}

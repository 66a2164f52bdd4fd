package kinesis

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/updraft/updraft/internal/stream"
)

// Read limits, as Kinesis has them.
const (
	// iteratorLifetime is how long a shard iterator stays valid.
	iteratorLifetime = 5 * time.Minute
	// maxListStreams is ListStreams' largest Limit.
	maxListStreams = 10000
	// defaultListStreams is ListStreams' Limit when none is given.
	defaultListStreams = 100
)

// Iterator types of GetShardIterator.
const (
	iterAtSequence    = "AT_SEQUENCE_NUMBER"
	iterAfterSequence = "AFTER_SEQUENCE_NUMBER"
	iterAtTimestamp   = "AT_TIMESTAMP"
	iterTrimHorizon   = "TRIM_HORIZON"
	iterLatest        = "LATEST"
)

// Read shapes.
type (
	getShardIteratorInput struct {
		kinesisStreamRef
		ShardID                string   `json:"ShardId"`
		ShardIteratorType      string   `json:"ShardIteratorType"`
		StartingSequenceNumber string   `json:"StartingSequenceNumber,omitempty"`
		Timestamp              *float64 `json:"Timestamp,omitempty"`
	}
	getRecordsInput struct {
		ShardIterator string `json:"ShardIterator"`
		Limit         *int   `json:"Limit,omitempty"`
		StreamARN     string `json:"StreamARN,omitempty"`
	}
	kinesisRecord struct {
		SequenceNumber              string  `json:"SequenceNumber"`
		ApproximateArrivalTimestamp float64 `json:"ApproximateArrivalTimestamp"`
		Data                        []byte  `json:"Data"`
		PartitionKey                string  `json:"PartitionKey"`
	}
	getRecordsOutput struct {
		Records            []kinesisRecord `json:"Records"`
		NextShardIterator  string          `json:"NextShardIterator"`
		MillisBehindLatest int64           `json:"MillisBehindLatest"`
	}
	listStreamsInput struct {
		Limit                    *int   `json:"Limit,omitempty"`
		ExclusiveStartStreamName string `json:"ExclusiveStartStreamName,omitempty"`
		NextToken                string `json:"NextToken,omitempty"`
	}
	describeStreamInput struct {
		kinesisStreamRef
		Limit                 *int   `json:"Limit,omitempty"`
		ExclusiveStartShardID string `json:"ExclusiveStartShardId,omitempty"`
	}
)

// iterator is what a shard iterator carries, base64-encoded JSON.
type iterator struct {
	Stream string `json:"s"`
	Shard  int    `json:"h"`
	// Seq is the next sequence to read; 0 with At to start at a time, or
	// from the start.
	Seq uint64 `json:"q,omitempty"`
	// At is a start time in Unix milliseconds.
	At int64 `json:"t,omitempty"`
	// Issued is when the iterator was made, in Unix milliseconds.
	Issued int64 `json:"i"`
}

func (it iterator) encode() string {
	b, _ := json.Marshal(it)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeIterator(s string) (iterator, bool) {
	var it iterator
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &it) != nil || it.Stream == "" || it.Issued == 0 || stream.ValidName(it.Stream) != nil {
		return iterator{}, false
	}
	return it, true
}

// shardIndex resolves a ShardId of stream name.
func (h *Handler) shardIndex(ctx context.Context, name, id string) (int, error) {
	i, ok := stream.ParseShardID(id)
	if !ok {
		return 0, kinErr("ResourceNotFoundException", "Shard %s in stream %s under account %s does not exist", sanitize(id), name, h.cfg.Streams.Account())
	}
	info, err := h.cfg.Streams.Describe(ctx, name)
	if err != nil {
		return 0, h.streamError(name, err)
	}
	if i >= len(info.Shards) {
		return 0, kinErr("ResourceNotFoundException", "Shard %s in stream %s under account %s does not exist", sanitize(id), name, h.cfg.Streams.Account())
	}
	return i, nil
}

func (h *Handler) getShardIterator(ctx context.Context, in *getShardIteratorInput) (any, error) {
	name, err := h.streamName(&in.kinesisStreamRef)
	if err != nil {
		return nil, err
	}
	switch in.ShardIteratorType {
	case iterAtSequence, iterAfterSequence, iterAtTimestamp, iterTrimHorizon, iterLatest:
	default:
		return nil, kinErr("ValidationException", "1 validation error detected: Value '%s' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, AT_SEQUENCE_NUMBER, AT_TIMESTAMP, TRIM_HORIZON, LATEST]", sanitize(in.ShardIteratorType))
	}
	shard, err := h.shardIndex(ctx, name, in.ShardID)
	if err != nil {
		return nil, err
	}
	it := iterator{Stream: name, Shard: shard, Issued: time.Now().UnixMilli()}
	switch in.ShardIteratorType {
	case iterAtSequence, iterAfterSequence:
		if in.StartingSequenceNumber == "" {
			return nil, kinErr("InvalidArgumentException", "The StartingSequenceNumber parameter is required for ShardIteratorType %s.", in.ShardIteratorType)
		}
		seq, err := stream.ParseSequence(in.StartingSequenceNumber)
		if err != nil {
			return nil, kinErr("InvalidArgumentException", "StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account %s is invalid.",
				sanitize(in.StartingSequenceNumber), in.ShardID, name, h.cfg.Streams.Account())
		}
		it.Seq = max(seq, 1)
		if in.ShardIteratorType == iterAfterSequence {
			it.Seq = seq + 1
		}
	case iterAtTimestamp:
		if in.Timestamp == nil {
			return nil, kinErr("InvalidArgumentException", "The Timestamp parameter is required for ShardIteratorType AT_TIMESTAMP.")
		}
		it.At = int64(*in.Timestamp * 1000)
		if it.At <= 0 {
			it.At = 1
		}
	case iterTrimHorizon:
	case iterLatest:
		last, err := h.cfg.Streams.LastSequence(ctx, name)
		if err != nil {
			return nil, h.streamError(name, err)
		}
		it.Seq = last + 1
	}
	return map[string]string{"ShardIterator": it.encode()}, nil
}

func (h *Handler) getRecords(ctx context.Context, in *getRecordsInput) (any, error) {
	if in.ShardIterator == "" {
		return nil, kinErr("ValidationException", "1 validation error detected: Value null at 'shardIterator' failed to satisfy constraint: Member must not be null")
	}
	it, ok := decodeIterator(in.ShardIterator)
	if !ok {
		return nil, kinErr("InvalidArgumentException", "Invalid ShardIterator.")
	}
	now := time.Now()
	if now.Sub(time.UnixMilli(it.Issued)) > iteratorLifetime {
		return nil, kinErr("ExpiredIteratorException", "Iterator expired. The iterator was created at time %s while right now it is %s which is further in the future than the tolerated delay of %d milliseconds.",
			time.UnixMilli(it.Issued).UTC().Format(time.UnixDate), now.UTC().Format(time.UnixDate), iteratorLifetime.Milliseconds())
	}
	if in.StreamARN != "" && in.StreamARN != h.cfg.Streams.ARN(it.Stream) {
		return nil, kinErr("InvalidArgumentException", "StreamARN %s does not match the stream of the ShardIterator.", sanitize(in.StreamARN))
	}
	limit := stream.MaxReadRecords
	if in.Limit != nil {
		if limit = *in.Limit; limit < 1 || limit > stream.MaxReadRecords {
			return nil, kinErr("ValidationException", "1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and %d", limit, stream.MaxReadRecords)
		}
	}
	var at time.Time
	if it.At > 0 {
		at = time.UnixMilli(it.At)
	}
	recs, next, err := h.cfg.Streams.ReadShard(ctx, it.Stream, it.Shard, it.Seq, at, limit)
	if err != nil {
		return nil, h.streamError(it.Stream, err)
	}
	out := getRecordsOutput{Records: make([]kinesisRecord, 0, len(recs))}
	for _, r := range recs {
		out.Records = append(out.Records, kinesisRecord{SequenceNumber: stream.FormatSequence(r.Sequence),
			ApproximateArrivalTimestamp: float64(r.Arrival.UnixMilli()) / 1000, Data: r.Data, PartitionKey: r.PartitionKey})
	}
	last, lastAt, err := h.cfg.Streams.ShardEnd(ctx, it.Stream, it.Shard)
	if err != nil {
		return nil, h.streamError(it.Stream, err)
	}
	if last >= next {
		// Behind: by the age of the newest record against the last read.
		from := now
		if len(recs) > 0 {
			from = recs[len(recs)-1].Arrival
		}
		out.MillisBehindLatest = max(0, lastAt.Sub(from).Milliseconds())
		if len(recs) == 0 {
			out.MillisBehindLatest = max(0, now.Sub(lastAt).Milliseconds())
		}
	}
	out.NextShardIterator = iterator{Stream: it.Stream, Shard: it.Shard, Seq: next, Issued: now.UnixMilli()}.encode()
	return out, nil
}

func (h *Handler) listStreams(ctx context.Context, in *listStreamsInput) (any, error) {
	limit := defaultListStreams
	if in.Limit != nil {
		if limit = *in.Limit; limit < 1 || limit > maxListStreams {
			return nil, kinErr("ValidationException", "1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and %d", limit, maxListStreams)
		}
	}
	after := in.ExclusiveStartStreamName
	if in.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		if err != nil {
			return nil, kinErr("InvalidArgumentException", "NextToken is invalid.")
		}
		after = string(b)
	}
	names, err := h.cfg.Streams.List(ctx)
	if err != nil {
		return nil, err
	}
	type summary struct {
		StreamName        string `json:"StreamName"`
		StreamARN         string `json:"StreamARN"`
		StreamStatus      string `json:"StreamStatus"`
		StreamModeDetails struct {
			StreamMode string `json:"StreamMode"`
		} `json:"StreamModeDetails"`
	}
	out := struct {
		StreamNames     []string  `json:"StreamNames"`
		HasMoreStreams  bool      `json:"HasMoreStreams"`
		NextToken       string    `json:"NextToken,omitempty"`
		StreamSummaries []summary `json:"StreamSummaries"`
	}{StreamNames: []string{}, StreamSummaries: []summary{}}
	for _, n := range names {
		if after != "" && n <= after {
			continue
		}
		if len(out.StreamNames) == limit {
			out.HasMoreStreams = true
			out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(out.StreamNames[limit-1]))
			break
		}
		out.StreamNames = append(out.StreamNames, n)
		s := summary{StreamName: n, StreamARN: h.cfg.Streams.ARN(n), StreamStatus: "ACTIVE"}
		s.StreamModeDetails.StreamMode = "PROVISIONED"
		out.StreamSummaries = append(out.StreamSummaries, s)
	}
	return out, nil
}

func (h *Handler) describeStream(ctx context.Context, in *describeStreamInput) (any, error) {
	name, err := h.streamName(&in.kinesisStreamRef)
	if err != nil {
		return nil, err
	}
	limit := 100
	if in.Limit != nil {
		if limit = *in.Limit; limit < 1 || limit > maxListShards {
			return nil, kinErr("ValidationException", "1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and %d", limit, maxListShards)
		}
	}
	info, err := h.cfg.Streams.Describe(ctx, name)
	if err != nil {
		return nil, h.streamError(name, err)
	}
	d := struct {
		StreamName        string `json:"StreamName"`
		StreamARN         string `json:"StreamARN"`
		StreamStatus      string `json:"StreamStatus"`
		StreamModeDetails struct {
			StreamMode string `json:"StreamMode"`
		} `json:"StreamModeDetails"`
		Shards                  []kinesisShard `json:"Shards"`
		HasMoreShards           bool           `json:"HasMoreShards"`
		RetentionPeriodHours    int            `json:"RetentionPeriodHours"`
		StreamCreationTimestamp float64        `json:"StreamCreationTimestamp"`
		EnhancedMonitoring      []struct {
			ShardLevelMetrics []string `json:"ShardLevelMetrics"`
		} `json:"EnhancedMonitoring"`
		EncryptionType string `json:"EncryptionType"`
	}{StreamName: info.Name, StreamARN: info.ARN, StreamStatus: "ACTIVE", Shards: []kinesisShard{},
		RetentionPeriodHours: int(stream.Retention / time.Hour), StreamCreationTimestamp: float64(info.Created.UnixMilli()) / 1000, EncryptionType: "NONE"}
	d.StreamModeDetails.StreamMode = "PROVISIONED"
	d.EnhancedMonitoring = make([]struct {
		ShardLevelMetrics []string `json:"ShardLevelMetrics"`
	}, 1)
	d.EnhancedMonitoring[0].ShardLevelMetrics = []string{}
	for _, sh := range info.Shards {
		if in.ExclusiveStartShardID != "" && sh.ID <= in.ExclusiveStartShardID {
			continue
		}
		if len(d.Shards) == limit {
			d.HasMoreShards = true
			break
		}
		var ks kinesisShard
		ks.ShardID = sh.ID
		ks.HashKeyRange.StartingHashKey, ks.HashKeyRange.EndingHashKey = sh.StartingHashKey, sh.EndingHashKey
		ks.SequenceNumberRange.StartingSequenceNumber = sh.StartingSequenceNumber
		d.Shards = append(d.Shards, ks)
	}
	return map[string]any{"StreamDescription": d}, nil
}

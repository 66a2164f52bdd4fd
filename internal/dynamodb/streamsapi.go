package dynamodb

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/updraft/updraft/internal/stream"
)

// StreamsTargetPrefix starts the X-Amz-Target of DynamoDB Streams'
// operations.
const StreamsTargetPrefix = "DynamoDBStreams_20120810."

// MaxGetRecords is the most records one GetRecords returns.
const MaxGetRecords = 1000

var streamOps = map[string]op{
	"ListStreams":      mk((*Service).listStreams, func(i *listStreamsInput) string { return i.TableName }),
	"DescribeStream":   mk((*Service).describeStream, nil),
	"GetShardIterator": mk((*Service).getShardIterator, nil),
	"GetRecords":       mk((*Service).getRecords, nil),
}

type listStreamsInput struct {
	TableName               string `json:"TableName"`
	Limit                   *int   `json:"Limit"`
	ExclusiveStartStreamArn string `json:"ExclusiveStartStreamArn"`
}

func (s *Service) listStreams(ctx context.Context, in *listStreamsInput) (any, error) {
	names := []string{in.TableName}
	if in.TableName == "" {
		keys, err := s.tableNames(ctx)
		if err != nil && !strings.Contains(err.Error(), "no keys") {
			return nil, err
		}
		names = keys
	}
	sort.Strings(names)
	type entry struct {
		StreamArn   string `json:"StreamArn"`
		TableName   string `json:"TableName"`
		StreamLabel string `json:"StreamLabel"`
	}
	out := []entry{}
	for _, n := range names {
		t, _, err := s.getTable(ctx, n)
		if err != nil {
			return nil, err
		}
		if t == nil {
			if in.TableName != "" {
				return nil, notFound("Requested resource not found: Table: " + n + " not found")
			}
			continue
		}
		if t.StreamLabel == "" {
			continue
		}
		arn := s.streamARN(t.Name, t.StreamLabel)
		if in.ExclusiveStartStreamArn != "" && arn <= in.ExclusiveStartStreamArn {
			continue
		}
		out = append(out, entry{arn, t.Name, t.StreamLabel})
	}
	res := map[string]any{}
	if in.Limit != nil && *in.Limit > 0 && len(out) > *in.Limit {
		out = out[:*in.Limit]
		res["LastEvaluatedStreamArn"] = out[len(out)-1].StreamArn
	}
	res["Streams"] = out
	return res, nil
}

// streamTable finds the table of a stream ARN of this server.
func (s *Service) streamTable(ctx context.Context, arn string) (*Table, string, error) {
	region, account, table, label, err := ParseStreamARN(arn)
	if err != nil || region != s.region || account != s.account {
		return nil, "", validation("Invalid StreamArn")
	}
	t, _, err := s.getTable(ctx, table)
	if err != nil {
		return nil, "", err
	}
	if t == nil || t.StreamLabel != label {
		return nil, "", notFound("Requested resource not found: Stream: " + arn + " not found")
	}
	return t, label, nil
}

type describeStreamInput struct {
	StreamArn string `json:"StreamArn"`
}

func (s *Service) describeStream(ctx context.Context, in *describeStreamInput) (any, error) {
	t, label, err := s.streamTable(ctx, in.StreamArn)
	if err != nil {
		return nil, err
	}
	status := "ENABLED"
	if t.Stream == nil || !t.Stream.StreamEnabled {
		status = "DISABLED"
	}
	info, err := s.streams.Describe(ctx, StreamName(t.Name, label))
	if err != nil {
		return nil, err
	}
	created, _ := time.Parse("2006-01-02T15:04:05.000", label)
	shards := make([]map[string]any, len(info.Shards))
	for i := range info.Shards {
		shards[i] = map[string]any{"ShardId": shardID(t.Name, label, i), "SequenceNumberRange": map[string]string{"StartingSequenceNumber": DynamoDBSequence(stream.FormatSequence(1))}}
	}
	view := ""
	if t.Stream != nil {
		view = t.Stream.StreamViewType
	}
	return map[string]any{"StreamDescription": map[string]any{
		"StreamArn": in.StreamArn, "StreamLabel": label, "StreamStatus": status, "StreamViewType": view,
		"CreationRequestDateTime": float64(created.UnixMilli()) / 1000, "TableName": t.Name, "KeySchema": t.KeySchema, "Shards": shards,
	}}, nil
}

// iterator is a shard iterator: where the next GetRecords reads.
type iterator struct {
	Arn   string `json:"a"`
	Shard int    `json:"s"`
	Seq   uint64 `json:"q"`
	// Expires: iterators last 15 minutes, as AWS's.
	Expires int64 `json:"e"`
}

func (it iterator) encode() string {
	b, _ := json.Marshal(it)
	return base64.RawURLEncoding.EncodeToString(b)
}

type getShardIteratorInput struct {
	StreamArn         string `json:"StreamArn"`
	ShardID           string `json:"ShardId"`
	ShardIteratorType string `json:"ShardIteratorType"`
	SequenceNumber    string `json:"SequenceNumber"`
}

func (s *Service) getShardIterator(ctx context.Context, in *getShardIteratorInput) (any, error) {
	t, label, err := s.streamTable(ctx, in.StreamArn)
	if err != nil {
		return nil, err
	}
	shard, ok := parseShardID(t.Name, label, in.ShardID)
	if !ok {
		return nil, notFound("Requested resource not found: Shard does not exist")
	}
	it := iterator{Arn: in.StreamArn, Shard: shard, Expires: time.Now().Add(15 * time.Minute).Unix()}
	switch in.ShardIteratorType {
	case "TRIM_HORIZON":
	case "LATEST":
		last, err := s.streamLast(ctx, StreamName(t.Name, label))
		if err != nil {
			return nil, err
		}
		it.Seq = last + 1
	case "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER":
		n, err := strconv.ParseUint(in.SequenceNumber, 10, 64)
		if err != nil {
			return nil, validation("Invalid SequenceNumber: %s", in.SequenceNumber)
		}
		if in.ShardIteratorType == "AFTER_SEQUENCE_NUMBER" {
			n++
		}
		it.Seq = n
	default:
		return nil, validation("1 validation error detected: Value '%s' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON]", in.ShardIteratorType)
	}
	return map[string]any{"ShardIterator": it.encode()}, nil
}

// streamLast is the last sequence number of a built-in stream.
func (s *Service) streamLast(ctx context.Context, name string) (uint64, error) {
	type lastSeq interface {
		LastSequence(ctx context.Context, name string) (uint64, error)
	}
	if l, ok := s.streams.(lastSeq); ok {
		return l.LastSequence(ctx, name)
	}
	return 0, errors.New("dynamodb: the stream store cannot tell its last record")
}

type getRecordsInput struct {
	ShardIterator string `json:"ShardIterator"`
	Limit         *int   `json:"Limit"`
}

func (s *Service) getRecords(ctx context.Context, in *getRecordsInput) (any, error) {
	b, err := base64.RawURLEncoding.DecodeString(in.ShardIterator)
	var it iterator
	if err != nil || json.Unmarshal(b, &it) != nil || it.Arn == "" {
		return nil, validation("Invalid ShardIterator")
	}
	if time.Now().Unix() > it.Expires {
		return nil, &apiError{Type: "ExpiredIteratorException", Message: "Iterator expired. The iterator was created over 15 minutes ago.", Status: 400}
	}
	limit := MaxGetRecords
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > MaxGetRecords {
			return nil, validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 1000", *in.Limit)
		}
		limit = *in.Limit
	}
	t, label, err := s.streamTable(ctx, it.Arn)
	if err != nil {
		return nil, err
	}
	ds, err := s.streams.ReadAt(ctx, StreamName(t.Name, label), it.Shard, it.Seq, limit)
	if err != nil {
		return nil, err
	}
	recs := make([]json.RawMessage, 0, len(ds))
	for _, d := range ds {
		var r record
		if err := json.Unmarshal(d.Data, &r); err != nil {
			continue
		}
		r.Dynamodb.SequenceNumber = DynamoDBSequence(d.SequenceNumber)
		out, _ := json.Marshal(r)
		recs = append(recs, out)
		if n, err := stream.ParseSequence(d.SequenceNumber); err == nil {
			it.Seq = n + 1
		}
	}
	it.Expires = time.Now().Add(15 * time.Minute).Unix()
	return map[string]any{"Records": recs, "NextShardIterator": it.encode()}, nil
}

// shardID names shard i of a table stream as DynamoDB does (28 to 65
// characters): shardId-, 20 digits, a dash and 8 hex digits of the
// stream's name.
func shardID(table, label string, i int) string {
	return fmt.Sprintf("shardId-%020d-%s", i, strings.TrimPrefix(StreamName(table, label), "ddbstream-")[:8])
}

func parseShardID(table, label, id string) (int, bool) {
	for i := range 1 {
		if id == shardID(table, label, i) {
			return i, true
		}
	}
	return 0, false
}

package e2e

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/updraft/updraft/internal/testutil"
)

// kinesisClient is an aws-sdk-go-v2 Kinesis client for srv.
func kinesisClient(srv *testutil.Server) *kinesis.Client {
	return kinesis.New(kinesis.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.SecretAccessKey, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       srv.HTTPClient(),
	})
}

// testKinesisReads reads stream cli-s (shard 1 holds "hello" at seq, then
// "two") with every iterator type through aws-sdk-go-v2; next is the
// iterator after both.
func testKinesisReads(t *testing.T, srv *testutil.Server, seq, next string) {
	c := kinesisClient(srv)
	cx := ctx(t)
	shard := aws.String("shardId-000000000001")
	iter := func(typ ktypes.ShardIteratorType, seq string, at *time.Time) *string {
		t.Helper()
		in := &kinesis.GetShardIteratorInput{StreamName: aws.String("cli-s"), ShardId: shard, ShardIteratorType: typ, Timestamp: at}
		if seq != "" {
			in.StartingSequenceNumber = &seq
		}
		out, err := c.GetShardIterator(cx, in)
		if err != nil {
			t.Fatalf("GetShardIterator %s: %v", typ, err)
		}
		return out.ShardIterator
	}
	read := func(it *string, limit int32) *kinesis.GetRecordsOutput {
		t.Helper()
		in := &kinesis.GetRecordsInput{ShardIterator: it}
		if limit > 0 {
			in.Limit = &limit
		}
		out, err := c.GetRecords(cx, in)
		if err != nil {
			t.Fatalf("GetRecords: %v", err)
		}
		return out
	}
	datas := func(out *kinesis.GetRecordsOutput) []string {
		var d []string
		for _, r := range out.Records {
			d = append(d, string(r.Data))
		}
		return d
	}
	if got := datas(read(iter(ktypes.ShardIteratorTypeAtSequenceNumber, seq, nil), 0)); len(got) != 2 || got[0] != "hello" {
		t.Errorf("AT_SEQUENCE_NUMBER: %q", got)
	}
	if got := datas(read(iter(ktypes.ShardIteratorTypeAfterSequenceNumber, seq, nil), 0)); len(got) != 1 || got[0] != "two" {
		t.Errorf("AFTER_SEQUENCE_NUMBER: %q", got)
	}
	first := read(iter(ktypes.ShardIteratorTypeTrimHorizon, "", nil), 1)
	if got := datas(first); len(got) != 1 || got[0] != "hello" || aws.ToInt64(first.MillisBehindLatest) < 0 {
		t.Errorf("TRIM_HORIZON with Limit 1: %q", got)
	}
	if got := datas(read(first.NextShardIterator, 0)); len(got) != 1 || got[0] != "two" {
		t.Errorf("the next iterator after Limit 1: %q", got)
	}
	if got := datas(read(iter(ktypes.ShardIteratorTypeAtTimestamp, "", aws.Time(time.Now().Add(time.Hour))), 0)); len(got) != 0 {
		t.Errorf("AT_TIMESTAMP in an hour: %q", got)
	}
	if got := datas(read(iter(ktypes.ShardIteratorTypeAtTimestamp, "", aws.Time(time.Now().Add(-time.Hour))), 0)); len(got) != 2 {
		t.Errorf("AT_TIMESTAMP an hour ago: %q", got)
	}
	latest := iter(ktypes.ShardIteratorTypeLatest, "", nil)
	empty := read(latest, 0)
	if len(empty.Records) != 0 {
		t.Errorf("LATEST before a put: %q", datas(empty))
	}
	if _, err := c.PutRecord(cx, &kinesis.PutRecordInput{StreamName: aws.String("cli-s"), PartitionKey: aws.String("b"), Data: []byte("three")}); err != nil {
		t.Fatal(err)
	}
	if got := datas(read(empty.NextShardIterator, 0)); len(got) != 1 || got[0] != "three" {
		t.Errorf("LATEST after a put: %q", got)
	}
	if got := datas(read(aws.String(next), 0)); len(got) != 1 || got[0] != "three" {
		t.Errorf("the CLI's next iterator: %q", got)
	}
	if _, err := c.GetRecords(cx, &kinesis.GetRecordsInput{ShardIterator: aws.String("junk")}); apiErrorCode(err) != "InvalidArgumentException" {
		t.Errorf("GetRecords with a bad iterator: %v", err)
	}
	if _, err := c.GetShardIterator(cx, &kinesis.GetShardIteratorInput{StreamName: aws.String("cli-s"), ShardId: aws.String("shardId-000000000009"),
		ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon}); apiErrorCode(err) != "ResourceNotFoundException" {
		t.Errorf("GetShardIterator of a missing shard: %v", err)
	}
	ls, err := c.ListStreams(cx, &kinesis.ListStreamsInput{})
	if err != nil || len(ls.StreamNames) != 1 || ls.StreamNames[0] != "cli-s" || len(ls.StreamSummaries) != 1 {
		t.Errorf("ListStreams: %+v, %v", ls, err)
	}
	arn := aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/cli-s")
	reg, err := c.RegisterStreamConsumer(cx, &kinesis.RegisterStreamConsumerInput{StreamARN: arn, ConsumerName: aws.String("fan")})
	if err != nil || reg.Consumer.ConsumerStatus != ktypes.ConsumerStatusActive {
		t.Fatalf("RegisterStreamConsumer: %+v, %v", reg, err)
	}
	if _, err := c.RegisterStreamConsumer(cx, &kinesis.RegisterStreamConsumerInput{StreamARN: arn, ConsumerName: aws.String("fan")}); apiErrorCode(err) != "ResourceInUseException" {
		t.Errorf("RegisterStreamConsumer twice: %v", err)
	}
	lc, err := c.ListStreamConsumers(cx, &kinesis.ListStreamConsumersInput{StreamARN: arn})
	if err != nil || len(lc.Consumers) != 1 || aws.ToString(lc.Consumers[0].ConsumerARN) != aws.ToString(reg.Consumer.ConsumerARN) {
		t.Errorf("ListStreamConsumers: %+v, %v", lc, err)
	}
	if _, err := c.DeregisterStreamConsumer(cx, &kinesis.DeregisterStreamConsumerInput{ConsumerARN: reg.Consumer.ConsumerARN}); err != nil {
		t.Errorf("DeregisterStreamConsumer: %v", err)
	}
	if _, err := c.DescribeStreamConsumer(cx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: reg.Consumer.ConsumerARN}); apiErrorCode(err) != "ResourceNotFoundException" {
		t.Errorf("DescribeStreamConsumer after deregistering: %v", err)
	}
	ds, err := c.DescribeStream(cx, &kinesis.DescribeStreamInput{StreamName: aws.String("cli-s")})
	if err != nil || len(ds.StreamDescription.Shards) != 2 || ds.StreamDescription.StreamStatus != ktypes.StreamStatusActive {
		t.Errorf("DescribeStream: %+v, %v", ds, err)
	}
}

package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/testutil"
)

// TestKinesisStreamWithAWSCLI drives the built-in streams' Kinesis API
// with `aws kinesis`.
func TestKinesisStreamWithAWSCLI(t *testing.T) {
	requireAWSCLI(t)
	srv := testutil.StartServer(t, testutil.Options{})

	awsCLI(t, srv, false, "kinesis", "create-stream", "--stream-name", "cli-s", "--shard-count", "2")
	_, errOut := awsCLI(t, srv, true, "kinesis", "create-stream", "--stream-name", "cli-s", "--shard-count", "2")
	if !strings.Contains(errOut, "ResourceInUseException") {
		t.Fatalf("create twice: %s", errOut)
	}
	out, _ := awsCLI(t, srv, false, "kinesis", "describe-stream-summary", "--stream-name", "cli-s")
	var sum struct {
		StreamDescriptionSummary struct {
			StreamARN, StreamStatus string
			OpenShardCount          int
		}
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.StreamDescriptionSummary.OpenShardCount != 2 ||
		sum.StreamDescriptionSummary.StreamARN != "arn:aws:kinesis:us-east-1:000000000000:stream/cli-s" {
		t.Fatalf("describe-stream-summary: %s (%v)", out, err)
	}
	out, _ = awsCLI(t, srv, false, "kinesis", "list-shards", "--stream-name", "cli-s")
	var shards struct{ Shards []struct{ ShardId string } }
	if err := json.Unmarshal([]byte(out), &shards); err != nil || len(shards.Shards) != 2 || shards.Shards[1].ShardId != "shardId-000000000001" {
		t.Fatalf("list-shards: %s (%v)", out, err)
	}
	out, _ = awsCLI(t, srv, false, "kinesis", "put-record", "--stream-name", "cli-s", "--partition-key", "b", "--data", "hello")
	var put struct{ ShardId, SequenceNumber string }
	if err := json.Unmarshal([]byte(out), &put); err != nil || put.ShardId != "shardId-000000000001" || len(put.SequenceNumber) != 56 {
		t.Fatalf("put-record: %s (%v)", out, err)
	}
	out, _ = awsCLI(t, srv, false, "kinesis", "put-records", "--stream-name", "cli-s", "--records",
		`[{"PartitionKey":"a","Data":"one"},{"PartitionKey":"b","Data":"two"}]`)
	var puts struct {
		FailedRecordCount int
		Records           []struct{ ShardId, SequenceNumber string }
	}
	if err := json.Unmarshal([]byte(out), &puts); err != nil || puts.FailedRecordCount != 0 || len(puts.Records) != 2 ||
		puts.Records[0].ShardId != "shardId-000000000000" || puts.Records[1].SequenceNumber <= put.SequenceNumber {
		t.Fatalf("put-records: %s (%v)", out, err)
	}
	awsCLI(t, srv, false, "kinesis", "delete-stream", "--stream-name", "cli-s")
	_, errOut = awsCLI(t, srv, true, "kinesis", "describe-stream-summary", "--stream-name", "cli-s")
	if !strings.Contains(errOut, "ResourceNotFoundException") || !strings.Contains(errOut, "Stream cli-s under account 000000000000 not found.") {
		t.Fatalf("describe after delete: %s", errOut)
	}
}

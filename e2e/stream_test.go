package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/testutil"
)

// TestKinesisStreamWithAWSCLI drives the built-in streams' Kinesis API
// with `aws kinesis`.
func TestKinesisStreamWithAWSCLI(t *testing.T) {
	t.Parallel()
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

// TestKinesisMappingWithAWSCLI triggers a function from a 2-shard stream:
// every record arrives, in order per partition key; a failing record is
// retried once (MaximumRetryAttempts 1), then its shard moves on.
func TestKinesisMappingWithAWSCLI(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	srv := testutil.StartServer(t, testutil.Options{})
	const fn = "kinesis-fn"
	createTestFunction(t, srv.Lambda(), fn, fnOpts{zip: testutil.FunctionZip(t, "./internal/testutil/kinesisfn", "")})
	awsCLI(t, srv, false, "kinesis", "create-stream", "--stream-name", "in", "--shard-count", "2")
	arn := "arn:aws:kinesis:us-east-1:000000000000:stream/in"
	_, errOut := awsCLI(t, srv, true, "lambda", "create-event-source-mapping", "--function-name", fn, "--event-source-arn", arn)
	if !strings.Contains(errOut, "InvalidParameterValueException") || !strings.Contains(errOut, "startingPosition") {
		t.Fatalf("no starting position: %s", errOut)
	}
	for i := range 6 {
		awsCLI(t, srv, false, "kinesis", "put-record", "--stream-name", "in", "--partition-key", []string{"a", "b", "c"}[i%3], "--data", fmt.Sprintf("r%d", i))
	}
	out, _ := awsCLI(t, srv, false, "lambda", "create-event-source-mapping", "--function-name", fn, "--event-source-arn", arn,
		"--starting-position", "TRIM_HORIZON", "--batch-size", "10", "--maximum-retry-attempts", "1")
	var m struct {
		UUID, StartingPosition                                     string
		BatchSize, MaximumRetryAttempts, MaximumRecordAgeInSeconds int
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil || m.StartingPosition != "TRIM_HORIZON" || m.BatchSize != 10 ||
		m.MaximumRetryAttempts != 1 || m.MaximumRecordAgeInSeconds != -1 {
		t.Fatalf("create-event-source-mapping: %s (%v)", out, err)
	}
	logs := func() string {
		out, _, _ := updraftCLI(t, srv, "logs", fn)
		return out
	}
	waitLogs := func(want ...string) string {
		t.Helper()
		var l string
		testutil.WaitFor(t, 90*time.Second, func() error {
			l = logs()
			for _, w := range want {
				if !strings.Contains(l, w) {
					return fmt.Errorf("the function's log lacks %q:\n%s", w, l)
				}
			}
			return nil
		})
		return l
	}
	l := waitLogs("data=r0", "data=r1", "data=r2", "data=r3", "data=r4", "data=r5 ", "source=aws:kinesis")
	for _, pair := range [][2]string{{"data=r0 ", "data=r3 "}, {"data=r1 ", "data=r4 "}, {"data=r2 ", "data=r5 "}} {
		if strings.Index(l, pair[0]) > strings.Index(l, pair[1]) {
			t.Errorf("%s came after %s:\n%s", pair[0], pair[1], l)
		}
	}
	// "b" and "fail" records: tried twice, then the shard moves on.
	awsCLI(t, srv, false, "kinesis", "put-record", "--stream-name", "in", "--partition-key", "b", "--data", "fail-1")
	l = waitLogs("data=fail-1")
	awsCLI(t, srv, false, "kinesis", "put-record", "--stream-name", "in", "--partition-key", "b", "--data", "next")
	l = waitLogs("data=next ")
	if n := strings.Count(l, "data=fail-1 "); n != 2 {
		t.Errorf("fail-1 delivered %d times, want 2:\n%s", n, l)
	}
}

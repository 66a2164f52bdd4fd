package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/testutil"
)

// TestKinesisMappingBisectAtTimestamp drives a stream mapping with
// StartingPosition AT_TIMESTAMP, which skips records put before the
// timestamp, and BisectBatchOnFunctionError with no retries: the failing
// batch of four is split in halves until the failing record is alone, so
// the healthy half after it is delivered a second time and succeeds,
// where without bisection the whole batch would be dropped after its one
// attempt.
func TestKinesisMappingBisectAtTimestamp(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{})
	const fn = "bisect-fn"
	c := srv.Lambda()
	createTestFunction(t, c, fn, fnOpts{zip: testutil.FunctionZip(t, "./internal/testutil/kinesisfn", "")})
	k := kinesis.New(kinesis.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: srv.AccessKeyID, SecretAccessKey: srv.SecretAccessKey}, nil
		})})
	if _, err := k.CreateStream(ctx(t), &kinesis.CreateStreamInput{StreamName: aws.String("bis"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatalf("create stream: %v", err)
	}
	put := func(data ...string) {
		t.Helper()
		for _, d := range data {
			if _, err := k.PutRecord(ctx(t), &kinesis.PutRecordInput{StreamName: aws.String("bis"), PartitionKey: aws.String("p"), Data: []byte(d)}); err != nil {
				t.Fatalf("put %s: %v", d, err)
			}
		}
	}
	put("old-1", "old-2")
	time.Sleep(1500 * time.Millisecond)
	from := time.Now()
	time.Sleep(1500 * time.Millisecond)
	put("a1", "fail-x", "a3", "a4")

	if _, err := c.CreateEventSourceMapping(ctx(t), &lambda.CreateEventSourceMappingInput{
		FunctionName: aws.String(fn), EventSourceArn: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/bis"),
		StartingPosition: types.EventSourcePositionAtTimestamp, StartingPositionTimestamp: aws.Time(from),
		BatchSize: aws.Int32(10), MaximumRetryAttempts: aws.Int32(0), BisectBatchOnFunctionError: aws.Bool(true),
	}); err != nil {
		t.Fatalf("create mapping: %v", err)
	}
	var l string
	waitLogs := func(want string) {
		t.Helper()
		testutil.WaitFor(t, 90*time.Second, func() error {
			l, _, _ = updraftCLI(t, srv, "logs", fn)
			if !strings.Contains(l, want) {
				return fmt.Errorf("the function's log lacks %q:\n%s", want, l)
			}
			return nil
		})
	}
	waitLogs("data=a4 ")
	put("after")
	waitLogs("data=after ")
	if strings.Contains(l, "data=old-") {
		t.Errorf("AT_TIMESTAMP delivered records put before the timestamp:\n%s", l)
	}
	// [a1 fail-x a3 a4] fails; [a3 a4] then succeeds alone.
	for _, d := range []string{"a3", "a4"} {
		if n := strings.Count(l, "data="+d+" "); n != 2 {
			t.Errorf("%s delivered %d times, want 2 (the whole batch, then its healthy half):\n%s", d, n, l)
		}
	}
	// fail-x is tried in the whole batch, in [a1 fail-x] and alone.
	if n := strings.Count(l, "data=fail-x "); n != 3 {
		t.Errorf("fail-x delivered %d times, want 3:\n%s", n, l)
	}
	if n := strings.Count(l, "data=after "); n != 1 {
		t.Errorf("after delivered %d times, want 1:\n%s", n, l)
	}
}

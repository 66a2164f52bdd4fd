package e2e

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/updraft/updraft/internal/testutil"
)

// TestEventGenerateSQSPipedIntoInvoke pipes `updraft event generate sqs`
// into `updraft invoke --payload @-` of an aws-lambda-go function taking
// events.SQSEvent, as the README shows, and checks what the function saw.
func TestEventGenerateSQSPipedIntoInvoke(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{})
	zip := testutil.FunctionZip(t, "./internal/testutil/sqsfn", "")
	createTestFunction(t, srv.Lambda(), "worker", fnOpts{zip: zip})

	bin := testutil.BuildBinary(t, "./cmd/updraft", "")
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	generate := exec.CommandContext(c, bin, "event", "generate", "sqs", "--body", `{"order":42} & more`, "--queue", "orders", "--count", "2")
	invoke := exec.CommandContext(c, bin, "invoke", "worker", "--payload", "@-", "--endpoint-url", srv.URL)
	invoke.Env = srv.AWSEnv()
	pipe, err := generate.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	invoke.Stdin = pipe
	var genErr, out, invErr strings.Builder
	generate.Stderr = &genErr
	invoke.Stdout, invoke.Stderr = &out, &invErr
	if err := generate.Start(); err != nil {
		t.Fatal(err)
	}
	if err := invoke.Run(); err != nil {
		t.Fatalf("invoke: %v\n%s\n%s", err, out.String(), invErr.String())
	}
	if err := generate.Wait(); err != nil {
		t.Fatalf("event generate: %v\n%s", err, genErr.String())
	}

	var seen struct {
		Bodies     []string `json:"bodies"`
		MessageIDs []string `json:"messageIds"`
		Queue      string   `json:"queue"`
		MD5OK      bool     `json:"md5ok"`
	}
	if err := json.Unmarshal([]byte(out.String()), &seen); err != nil {
		t.Fatalf("answer is not JSON: %v\n%s", err, out.String())
	}
	if len(seen.Bodies) != 2 || seen.Bodies[0] != `{"order":42} & more` || seen.Bodies[1] != seen.Bodies[0] {
		t.Errorf("the function saw bodies %q", seen.Bodies)
	}
	if !seen.MD5OK || seen.Queue != "arn:aws:sqs:us-east-1:000000000000:orders" || seen.MessageIDs[0] == seen.MessageIDs[1] {
		t.Errorf("the function saw %+v", seen)
	}
}

// TestEventGenerateSESAndCloudWatchLogs runs the binary's `event generate
// ses` and `event generate cloudwatch-logs` and decodes what they print
// with aws-lambda-go's types, the logs event through
// CloudwatchLogsRawData.Parse, as a Go handler would.
func TestEventGenerateSESAndCloudWatchLogs(t *testing.T) {
	t.Parallel()
	bin := testutil.BuildBinary(t, "./cmd/updraft", "")
	run := func(args ...string) []byte {
		t.Helper()
		c, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(c, bin, append([]string{"event", "generate"}, args...)...).Output()
		if err != nil {
			t.Fatalf("event generate %v: %v", args, err)
		}
		return out
	}
	var mail events.SimpleEmailEvent
	if err := json.Unmarshal(run("ses", "--to", "orders@shop.example", "--function", "mailer"), &mail); err != nil ||
		len(mail.Records) != 1 || mail.Records[0].SES.Receipt.Recipients[0] != "orders@shop.example" ||
		mail.Records[0].SES.Receipt.Action.FunctionARN != "arn:aws:lambda:us-east-1:000000000000:function:mailer" {
		t.Fatalf("ses event %+v (%v)", mail, err)
	}
	var logs events.CloudwatchLogsEvent
	if err := json.Unmarshal(run("cloudwatch-logs", "--message", "hello", "--count", "3"), &logs); err != nil {
		t.Fatal(err)
	}
	d, err := logs.AWSLogs.Parse()
	if err != nil || len(d.LogEvents) != 3 || d.LogEvents[2].Message != "hello" || d.SubscriptionFilters[0] != "my-filter" {
		t.Fatalf("parsed logs %+v (%v)", d, err)
	}
}

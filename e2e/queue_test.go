package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/testutil"
)

// receivedLine is one line of `updraft queue receive`.
type receivedLine struct {
	MessageID         string `json:"MessageId"`
	Body              string
	MD5OfBody         string
	MessageAttributes map[string]struct{ DataType, StringValue string }
}

// receiveLines parses the JSON lines `updraft queue receive` printed.
func receiveLines(t *testing.T, out string) []receivedLine {
	t.Helper()
	var msgs []receivedLine
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var m receivedLine
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("queue receive printed a line that is not JSON: %q: %v", line, err)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// requireQueues fails the test with a pointer to the wiring when the
// server has no queue service.
func requireQueues(t *testing.T, srv *testutil.Server) {
	t.Helper()
	out, errOut, err := updraftCLI(t, srv, "queue", "list")
	if err != nil {
		if strings.Contains(errOut, "Built-in queues are not available") {
			t.Fatalf("the server has no queue service: wire queue.New into api.Deps.Queues in internal/daemon\n%s", errOut)
		}
		t.Fatalf("queue list: %v\n%s\n%s", err, out, errOut)
	}
}

// TestQueueWithUpdraftCLI sends, lists and receives through `updraft
// queue` against the real server.
func TestQueueWithUpdraftCLI(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{})
	requireQueues(t, srv)

	out, errOut, err := updraftCLI(t, srv, "queue", "send", "e2e-q.fifo", `{"n":1}`,
		"--attribute", "RequestID=r-1", "--attribute", "ErrorCode:Number=500")
	if err != nil || !strings.Contains(out, `"MessageId": "`) {
		t.Fatalf("queue send: %v\n%s\n%s", err, out, errOut)
	}
	if _, errOut, err := updraftCLI(t, srv, "queue", "send", "e2e-q.fifo", "second"); err != nil {
		t.Fatalf("queue send: %v\n%s", err, errOut)
	}
	out, errOut, err = updraftCLI(t, srv, "queue", "list")
	if err != nil || !strings.Contains(out, "e2e-q.fifo  2         arn:aws:sqs:us-east-1:000000000000:e2e-q.fifo") {
		t.Fatalf("queue list: %v\n%s\n%s", err, out, errOut)
	}

	out, errOut, err = updraftCLI(t, srv, "queue", "receive", "e2e-q.fifo", "--max", "10")
	if err != nil {
		t.Fatalf("queue receive: %v\n%s", err, errOut)
	}
	msgs := receiveLines(t, out)
	if len(msgs) != 2 || msgs[0].Body != `{"n":1}` || msgs[1].Body != "second" ||
		msgs[0].MessageAttributes["RequestID"].StringValue != "r-1" || msgs[0].MessageAttributes["ErrorCode"].DataType != "Number" {
		t.Fatalf("queue receive printed:\n%s", out)
	}

	// Received means deleted.
	out, errOut, err = updraftCLI(t, srv, "queue", "receive", "e2e-q.fifo", "--wait", "1s")
	if err != nil || out != "" {
		t.Fatalf("second receive: %v\n%q\n%s", err, out, errOut)
	}
	out, errOut, err = updraftCLI(t, srv, "queue", "receive", "nobody-here")
	if err == nil || !strings.Contains(errOut, "ResourceNotFoundException: Queue not found: arn:aws:sqs:us-east-1:000000000000:nobody-here") {
		t.Fatalf("receive of an unknown queue: %v\n%s\n%s", err, out, errOut)
	}
}

// TestDeadLetterQueueGetsTheFailedEvent: an Event invocation that fails
// with no retries left lands in the function's dead-letter queue as the
// original event with Lambda's RequestID, ErrorCode and ErrorMessage
// attributes ("Dead-letter queues", AWS Lambda Developer Guide).
func TestDeadLetterQueueGetsTheFailedEvent(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{Args: []string{"--async-retry-delay", "100ms"}})
	requireQueues(t, srv)
	c := srv.Lambda()
	const dlq = "arn:aws:sqs:us-east-1:000000000000:e2e-dlq"
	createTestFunction(t, c, "doomed", fnOpts{})
	if _, err := c.UpdateFunctionConfiguration(ctx(t), &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String("doomed"), DeadLetterConfig: &types.DeadLetterConfig{TargetArn: aws.String(dlq)},
	}); err != nil {
		t.Fatalf("set the dead-letter queue: %v", err)
	}
	if _, err := c.PutFunctionEventInvokeConfig(ctx(t), &lambda.PutFunctionEventInvokeConfigInput{
		FunctionName: aws.String("doomed"), MaximumRetryAttempts: aws.Int32(0),
	}); err != nil {
		t.Fatalf("no retries: %v", err)
	}
	event := map[string]any{"action": "error", "value": "boom"}
	id := eventInvoke(t, c, "doomed", event)
	payload, _ := json.Marshal(event)

	var msgs []receivedLine
	testutil.WaitFor(t, 60*time.Second, func() error {
		out, errOut, err := updraftCLI(t, srv, "queue", "receive", "e2e-dlq", "--wait", "2s")
		if err != nil {
			return fmt.Errorf("queue receive: %v: %s", err, errOut)
		}
		msgs = append(msgs, receiveLines(t, out)...)
		if len(msgs) == 0 {
			return errors.New("the dead-letter queue is still empty")
		}
		return nil
	})
	if len(msgs) != 1 {
		t.Fatalf("dead-letter queue got %d messages: %+v", len(msgs), msgs)
	}
	m := msgs[0]
	if m.Body != string(payload) {
		t.Errorf("dead-letter body = %q, want the event %s", m.Body, payload)
	}
	attrs := m.MessageAttributes
	if attrs["RequestID"].StringValue != id || attrs["ErrorCode"].DataType != "Number" || attrs["ErrorCode"].StringValue == "" ||
		!strings.Contains(attrs["ErrorMessage"].StringValue, "testfn failed: boom") {
		t.Errorf("dead-letter attributes = %+v (request id %s)", attrs, id)
	}
}

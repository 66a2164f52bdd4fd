package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/updraft/updraft/internal/testutil"
)

const (
	testAccount = "000000000000"
	queueARN    = "arn:aws:sqs:us-east-1:" + testAccount + ":"
	functionARN = "arn:aws:lambda:us-east-1:" + testAccount + ":function:"
)

// receiveQueue reads messages from a built-in queue with the updraft CLI,
// long-polling until want messages arrived or within passed.
func receiveQueue(t *testing.T, srv *testutil.Server, name string, want int, within time.Duration) []receivedLine {
	t.Helper()
	var got []receivedLine
	deadline := time.Now().Add(within)
	for len(got) < want && time.Now().Before(deadline) {
		out, errOut, err := updraftCLI(t, srv, "queue", "receive", name, "--max", "10", "--wait", "5s")
		if err != nil && !strings.Contains(errOut, "ResourceNotFound") {
			t.Fatalf("queue receive %s: %v\n%s", name, err, errOut)
		}
		got = append(got, receiveLines(t, out)...)
		if err != nil {
			time.Sleep(200 * time.Millisecond) // the queue is made on first write
		}
	}
	if len(got) != want {
		t.Fatalf("queue %s: got %d messages, want %d: %+v", name, len(got), want, got)
	}
	return got
}

var destinationTimestamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// checkDestinationRecord compares a destination record with Lambda's,
// field by field: the same keys, no others, and the given values.
func checkDestinationRecord(t *testing.T, body string, want map[string]any) {
	t.Helper()
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("destination record %s: %v", body, err)
	}
	ts, _ := got["timestamp"].(string)
	if !destinationTimestamp.MatchString(ts) {
		t.Errorf("timestamp %q is not Lambda's format", ts)
	}
	delete(got, "timestamp")
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("destination record\n got %s\nwant %s", gotJSON, wantJSON)
	}
}

// TestAsyncDeadLetterAndDestinations configures a function with the aws
// CLI (DeadLetterConfig, put-function-event-invoke-config with no
// retries, queue destinations) and checks what Lambda would deliver: the
// failed event in the DLQ with its attributes, and the OnFailure and
// OnSuccess records field by field. It then points the destinations at a
// function and a webhook.
func TestAsyncDeadLetterAndDestinations(t *testing.T) {
	requireAWSCLI(t)
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{Args: []string{"--async-retry-delay", "100ms"}})
	createTestFunction(t, srv.Lambda(), "ledger", fnOpts{})
	awsCLI(t, srv, false, "lambda", "update-function-configuration", "--function-name", "ledger",
		"--dead-letter-config", "TargetArn="+queueARN+"ledger-dlq")
	awsCLI(t, srv, false, "lambda", "put-function-event-invoke-config", "--function-name", "ledger",
		"--maximum-retry-attempts", "0", "--destination-config",
		`{"OnSuccess":{"Destination":"`+queueARN+`ledger-ok"},"OnFailure":{"Destination":"`+queueARN+`ledger-ko"}}`)

	failing := `{"action":"error","value":"boom"}`
	id := eventInvoke(t, srv.Lambda(), "ledger", json.RawMessage(failing))
	rec := waitRecord(t, srv, id, 30*time.Second)
	if rec.Status != "FAILED" || rec.Attempts != 1 || rec.Condition != "RetriesExhausted" {
		t.Fatalf("with retries=0 the record is %+v, want FAILED after 1 attempt", rec)
	}
	dead := receiveQueue(t, srv, "ledger-dlq", 1, 30*time.Second)[0]
	if dead.Body != failing {
		t.Errorf("DLQ body %q, want the event %q", dead.Body, failing)
	}
	for name, want := range map[string][2]string{
		"RequestID":    {"String", id},
		"ErrorCode":    {"Number", "200"},
		"ErrorMessage": {"String", "testfn failed: boom"},
	} {
		got := dead.MessageAttributes[name]
		if got.DataType != want[0] || got.StringValue != want[1] {
			t.Errorf("DLQ attribute %s = %+v, want %v", name, got, want)
		}
	}
	ko := receiveQueue(t, srv, "ledger-ko", 1, 30*time.Second)[0]
	checkDestinationRecord(t, ko.Body, map[string]any{
		"version": "1.0",
		"requestContext": map[string]any{
			"requestId": id, "functionArn": functionARN + "ledger:$LATEST",
			"condition": "RetriesExhausted", "approximateInvokeCount": 1,
		},
		"requestPayload":  map[string]any{"action": "error", "value": "boom"},
		"responseContext": map[string]any{"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
		"responsePayload": map[string]any{"errorMessage": "testfn failed: boom", "errorType": "errorString"},
	})

	id = eventInvoke(t, srv.Lambda(), "ledger", map[string]any{"action": "version"})
	if rec := waitRecord(t, srv, id, 30*time.Second); rec.Status != "SUCCEEDED" {
		t.Fatalf("record %+v", rec)
	}
	ok := receiveQueue(t, srv, "ledger-ok", 1, 30*time.Second)[0]
	checkDestinationRecord(t, ok.Body, map[string]any{
		"version": "1.0",
		"requestContext": map[string]any{
			"requestId": id, "functionArn": functionARN + "ledger:$LATEST",
			"condition": "Success", "approximateInvokeCount": 1,
		},
		"requestPayload":  map[string]any{"action": "version"},
		"responseContext": map[string]any{"statusCode": 200, "executedVersion": "$LATEST"},
		"responsePayload": "v1",
	})

	// A function and a webhook as destinations.
	hooks := make(chan string, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hooks <- string(b)
	}))
	t.Cleanup(hook.Close)
	createTestFunction(t, srv.Lambda(), "ledger-sink", fnOpts{})
	awsCLI(t, srv, false, "lambda", "update-function-event-invoke-config", "--function-name", "ledger",
		"--destination-config", `{"OnSuccess":{"Destination":"`+hook.URL+`"},"OnFailure":{"Destination":"`+functionARN+`ledger-sink"}}`)
	id = eventInvoke(t, srv.Lambda(), "ledger", map[string]any{"action": "version"})
	select {
	case body := <-hooks:
		if !strings.Contains(body, `"requestId":"`+id+`"`) || !strings.Contains(body, `"condition":"Success"`) {
			t.Errorf("webhook got %s", body)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the webhook destination got nothing")
	}
	eventInvoke(t, srv.Lambda(), "ledger", json.RawMessage(failing))
	testutil.WaitFor(t, 30*time.Second, func() error {
		if v := metricValue(t, srv, `lambda_invocations_total{function="ledger-sink",version="$LATEST"}`); v != "1" {
			return fmt.Errorf("the function destination ran %q times", v)
		}
		return nil
	})
}

// TestAsyncEventAgeExceeded: with a maximum event age of 60 s (Lambda's
// shortest) and the function's only slot held by a long synchronous call,
// the event is throttled and retried until it is too old, then reaches
// OnFailure with condition EventAgeExceeded.
func TestAsyncEventAgeExceeded(t *testing.T) {
	requireAWSCLI(t)
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{})
	c := srv.Lambda()
	createTestFunction(t, c, "busy", fnOpts{timeout: 120})
	if _, err := c.PutFunctionConcurrency(ctx(t), &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("busy"), ReservedConcurrentExecutions: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	awsCLI(t, srv, false, "lambda", "put-function-event-invoke-config", "--function-name", "busy",
		"--maximum-event-age-in-seconds", "60", "--destination-config",
		`{"OnFailure":{"Destination":"`+queueARN+`busy-aged"}}`)

	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	gate := reachableURL(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		select {
		case <-release:
		case <-time.After(100 * time.Second):
		}
		fmt.Fprint(w, "released")
	}))
	held := make(chan error, 1)
	go func() {
		_, err := c.Invoke(testutil.Context(t, 2*time.Minute), &lambda.InvokeInput{FunctionName: aws.String("busy"),
			Payload: []byte(`{"action":"wait-url","value":"` + gate + `"}`)})
		held <- err
	}()
	defer func() {
		close(release)
		if err := <-held; err != nil {
			t.Errorf("the call holding the slot: %v", err)
		}
	}()
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the call holding the slot never started")
	}

	id := eventInvoke(t, c, "busy", map[string]any{"action": "echo"})
	start := time.Now()
	aged := receiveQueue(t, srv, "busy-aged", 1, 100*time.Second)[0]
	elapsed := time.Since(start)
	var got struct {
		RequestContext struct {
			RequestID string `json:"requestId"`
			Condition string `json:"condition"`
		} `json:"requestContext"`
		RequestPayload map[string]any `json:"requestPayload"`
	}
	if err := json.Unmarshal([]byte(aged.Body), &got); err != nil {
		t.Fatal(err)
	}
	if got.RequestContext.RequestID != id || got.RequestContext.Condition != "EventAgeExceeded" || got.RequestPayload["action"] != "echo" {
		t.Fatalf("OnFailure record %s", aged.Body)
	}
	if elapsed < 55*time.Second {
		t.Fatalf("the event expired after %s, before its 60 s maximum age", elapsed)
	}
	rec := waitRecord(t, srv, id, 5*time.Second)
	if rec.Status != "FAILED" || rec.Condition != "EventAgeExceeded" || rec.Attempts != 0 {
		t.Fatalf("record %+v", rec)
	}
}

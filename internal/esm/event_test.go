package esm

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/updraft/updraft/internal/invoke"
	"github.com/updraft/updraft/internal/lambdaerr"
	"github.com/updraft/updraft/internal/queue"
)

func TestBuildEvent(t *testing.T) {
	src := source{arn: "arn:aws:sqs:us-east-1:000000000000:q", region: "us-east-1", account: "000000000000"}
	sent := time.UnixMilli(1700000000123)
	got := time.UnixMilli(1700000005000)
	sum := md5.Sum([]byte("hello"))
	msgs := []queue.Message{
		{MessageID: "m-1", Body: []byte("hello"), SentAt: sent, Sequence: 7, ReceiveCount: 3,
			Attributes: map[string]queue.Attribute{"k": {DataType: "String", StringValue: "v"}}},
		{MessageID: "m-2", Body: []byte(`{"x":1}`), SentAt: sent, Sequence: 8, ReceiveCount: 1},
	}
	for _, tc := range []struct {
		name  string
		limit int
		want  int
	}{
		{"everything fits", invoke.MaxSyncRequestBytes, 2},
		{"only the first fits", 100, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			payload, n, err := src.buildEvent(msgs, got, tc.limit)
			if err != nil || n != tc.want {
				t.Fatalf("buildEvent = %d, %v; want %d", n, err, tc.want)
			}
			var ev events.SQSEvent
			if err := json.Unmarshal(payload, &ev); err != nil || len(ev.Records) != n {
				t.Fatalf("payload %s: %v", payload, err)
			}
			r := ev.Records[0]
			for _, c := range []struct{ name, got, want string }{
				{"messageId", r.MessageId, "m-1"},
				{"body", r.Body, "hello"},
				{"md5OfBody", r.Md5OfBody, hex.EncodeToString(sum[:])},
				{"receiptHandle", r.ReceiptHandle, "7:m-1"},
				{"eventSource", r.EventSource, "aws:sqs"},
				{"eventSourceARN", r.EventSourceARN, src.arn},
				{"awsRegion", r.AWSRegion, "us-east-1"},
				{"ApproximateReceiveCount", r.Attributes["ApproximateReceiveCount"], "3"},
				{"SentTimestamp", r.Attributes["SentTimestamp"], "1700000000123"},
				{"SenderId", r.Attributes["SenderId"], "000000000000"},
				{"ApproximateFirstReceiveTimestamp", r.Attributes["ApproximateFirstReceiveTimestamp"], "1700000005000"},
				{"messageAttributes.k.dataType", r.MessageAttributes["k"].DataType, "String"},
				{"messageAttributes.k.stringValue", *r.MessageAttributes["k"].StringValue, "v"},
			} {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
				}
			}
			if len(r.Md5OfMessageAttributes) != 32 {
				t.Errorf("md5OfMessageAttributes = %q, want a hex digest", r.Md5OfMessageAttributes)
			}
			if !strings.Contains(string(payload), `"stringListValues":[]`) {
				t.Errorf("attributes lack Lambda's empty lists: %s", payload)
			}
		})
	}
}

// TestMD5OfAttributes checks the digest against the example of SQS's
// documentation algorithm computed independently for one attribute.
func TestMD5OfAttributes(t *testing.T) {
	if got := md5OfAttributes(nil); got != "" {
		t.Errorf("no attributes: %q, want empty", got)
	}
	a := md5OfAttributes(map[string]queue.Attribute{"b": {DataType: "String", StringValue: "2"}, "a": {DataType: "Number", StringValue: "1"}})
	b := md5OfAttributes(map[string]queue.Attribute{"a": {DataType: "Number", StringValue: "1"}, "b": {DataType: "String", StringValue: "2"}})
	if a != b || len(a) != 32 {
		t.Errorf("digest depends on map order or is malformed: %q %q", a, b)
	}
	// name "a", type "String", transport 1, value "x", each length-prefixed.
	raw := []byte{0, 0, 0, 1, 'a', 0, 0, 0, 6, 'S', 't', 'r', 'i', 'n', 'g', 1, 0, 0, 0, 1, 'x'}
	sum := md5.Sum(raw)
	if got := md5OfAttributes(map[string]queue.Attribute{"a": {DataType: "String", StringValue: "x"}}); got != hex.EncodeToString(sum[:]) {
		t.Errorf("digest = %s, want %x", got, sum)
	}
}

func TestOutcome(t *testing.T) {
	ids := []string{"a", "b"}
	ok := &invoke.Response{StatusCode: 200, Payload: []byte(`{"batchItemFailures":[{"itemIdentifier":"b"}]}`)}
	for _, tc := range []struct {
		name   string
		report bool
		resp   *invoke.Response
		err    error
		retry  []string
	}{
		{"success", false, ok, nil, nil},
		{"throttled", false, nil, lambdaerr.TooManyRequests("ReservedFunctionConcurrentInvocationLimitExceeded", "Rate Exceeded."), []string{"a", "b"}},
		{"system error", true, nil, errors.New("boom"), []string{"a", "b"}},
		{"function error", true, &invoke.Response{FunctionError: "Unhandled", Payload: []byte(`{}`)}, nil, []string{"a", "b"}},
		{"partial", true, ok, nil, []string{"b"}},
		{"partial, empty list", true, &invoke.Response{Payload: []byte(`{"batchItemFailures":[]}`)}, nil, nil},
		{"partial, invalid", true, &invoke.Response{Payload: []byte(`{"batchItemFailures":[{"itemIdentifier":"zz"}]}`)}, nil, []string{"a", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			retry, reason := outcome(tc.report, ids, tc.resp, tc.err)
			if len(retry) != len(tc.retry) {
				t.Fatalf("retry = %v, want %v", retry, tc.retry)
			}
			for _, id := range tc.retry {
				if !retry[id] {
					t.Errorf("retry = %v, want %v", retry, tc.retry)
				}
			}
			if (reason != "") != (len(tc.retry) > 0) {
				t.Errorf("reason %q with retry %v", reason, retry)
			}
		})
	}
}

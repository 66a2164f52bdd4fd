package api_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/api"
	"github.com/updraft/updraft/internal/queue"
	"github.com/updraft/updraft/internal/testutil"
	"github.com/updraft/updraft/internal/testutil/storetest"
)

// queueServer is the API with only the queue service, over a real
// embedded JetStream, served on 127.0.0.1.
func queueServer(t *testing.T) string {
	t.Helper()
	logs := &testutil.SyncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st := storetest.Open(t, t.TempDir(), logger)
	q := queue.New(st.JetStream(), 1, logger, queue.WithAccount(testRegion, testAccount))
	srv := httptest.NewUnstartedServer(api.New(api.Deps{Logger: logger, Queues: q}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// queueCall sends one request and returns the status and the body.
func queueCall(t *testing.T, method, url, body string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func queueDecode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

type queueSendResp struct {
	MessageID        string `json:"MessageId"`
	MD5OfMessageBody string
}

type queueRecvMsg struct {
	MessageID         string `json:"MessageId"`
	ReceiptHandle     string
	MD5OfBody         string
	Body              string
	Attributes        map[string]string
	MessageAttributes map[string]queue.Attribute
}

type queueRecvResp struct {
	Messages []queueRecvMsg
}

func TestQueueSendReceiveList(t *testing.T) {
	base := queueServer(t)
	md5hex := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }

	resp, b := queueCall(t, "POST", base+"/updraft/v1/queues/dlq/messages",
		`{"MessageBody":"{\"n\":1}","MessageAttributes":{"RequestID":{"DataType":"String","StringValue":"r-1"},"ErrorCode":{"DataType":"Number","StringValue":"200"}}}`)
	if resp.StatusCode != 200 {
		t.Fatalf("send: %d %s", resp.StatusCode, b)
	}
	sent := queueDecode[queueSendResp](t, b)
	if sent.MessageID == "" || sent.MD5OfMessageBody != md5hex(`{"n":1}`) {
		t.Errorf("send answered %s", b)
	}
	if resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("X-Amzn-RequestId") == "" {
		t.Errorf("send headers %v", resp.Header)
	}
	if resp, b := queueCall(t, "POST", base+"/updraft/v1/queues/dlq/messages", `{"MessageBody":"two"}`); resp.StatusCode != 200 {
		t.Fatalf("second send: %d %s", resp.StatusCode, b)
	}
	if resp, b := queueCall(t, "POST", base+"/updraft/v1/queues/Other.fifo/messages", `{"MessageBody":"x"}`); resp.StatusCode != 200 {
		t.Fatalf("send to a FIFO name: %d %s", resp.StatusCode, b)
	}

	resp, b = queueCall(t, "GET", base+"/updraft/v1/queues", "")
	if resp.StatusCode != 200 {
		t.Fatalf("list: %d %s", resp.StatusCode, b)
	}
	const wantList = `{"Queues":[{"Name":"Other.fifo","Arn":"arn:aws:sqs:us-east-1:000000000000:Other.fifo","ApproximateNumberOfMessages":1},` +
		`{"Name":"dlq","Arn":"arn:aws:sqs:us-east-1:000000000000:dlq","ApproximateNumberOfMessages":2}]}`
	if string(b) != wantList {
		t.Errorf("list =\n%s\nwant\n%s", b, wantList)
	}

	before := time.Now().Add(-time.Minute).UnixMilli()
	resp, b = queueCall(t, "POST", base+"/updraft/v1/queues/dlq/receive?max=10", "")
	if resp.StatusCode != 200 {
		t.Fatalf("receive: %d %s", resp.StatusCode, b)
	}
	got := queueDecode[queueRecvResp](t, b)
	if len(got.Messages) != 2 {
		t.Fatalf("receive returned %s, want two messages", b)
	}
	m := got.Messages[0]
	if m.MessageID != sent.MessageID || m.Body != `{"n":1}` || m.MD5OfBody != md5hex(`{"n":1}`) || m.ReceiptHandle == "" ||
		!reflect.DeepEqual(m.MessageAttributes["RequestID"], queue.Attribute{DataType: "String", StringValue: "r-1"}) ||
		!reflect.DeepEqual(m.MessageAttributes["ErrorCode"], queue.Attribute{DataType: "Number", StringValue: "200"}) ||
		m.Attributes["ApproximateReceiveCount"] != "1" {
		t.Errorf("first message %+v", m)
	}
	if ts, err := strconv.ParseInt(m.Attributes["SentTimestamp"], 10, 64); err != nil || ts < before {
		t.Errorf("SentTimestamp %q", m.Attributes["SentTimestamp"])
	}
	if got.Messages[1].Body != "two" || got.Messages[1].MessageAttributes != nil {
		t.Errorf("second message %+v", got.Messages[1])
	}
	if strings.Contains(string(b), `"MessageAttributes":null`) {
		t.Errorf("a message without attributes should omit MessageAttributes: %s", b)
	}

	// They were deleted: an empty queue answers an empty list.
	resp, b = queueCall(t, "POST", base+"/updraft/v1/queues/dlq/receive", "")
	if resp.StatusCode != 200 || string(b) != `{"Messages":[]}` {
		t.Errorf("receive of an empty queue: %d %s", resp.StatusCode, b)
	}
}

func TestQueueReceiveDefaultsToOneMessage(t *testing.T) {
	base := queueServer(t)
	for _, body := range []string{"a", "b"} {
		if resp, b := queueCall(t, "POST", base+"/updraft/v1/queues/q/messages", `{"MessageBody":"`+body+`"}`); resp.StatusCode != 200 {
			t.Fatalf("send: %d %s", resp.StatusCode, b)
		}
	}
	_, b := queueCall(t, "POST", base+"/updraft/v1/queues/q/receive", "")
	if got := queueDecode[queueRecvResp](t, b); len(got.Messages) != 1 || got.Messages[0].Body != "a" {
		t.Errorf("receive without max = %s, want one message", b)
	}
}

func TestQueueLongPoll(t *testing.T) {
	base := queueServer(t)
	if resp, b := queueCall(t, "POST", base+"/updraft/v1/queues/lp/messages", `{"MessageBody":"x"}`); resp.StatusCode != 200 {
		t.Fatalf("send: %d %s", resp.StatusCode, b)
	}
	queueCall(t, "POST", base+"/updraft/v1/queues/lp/receive", "")
	go func() {
		time.Sleep(200 * time.Millisecond)
		req, _ := http.NewRequestWithContext(context.Background(), "POST", base+"/updraft/v1/queues/lp/messages", bytes.NewReader([]byte(`{"MessageBody":"late"}`)))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	start := time.Now()
	resp, b := queueCall(t, "POST", base+"/updraft/v1/queues/lp/receive?wait=20&max=5", "")
	if got := queueDecode[queueRecvResp](t, b); resp.StatusCode != 200 || len(got.Messages) != 1 || got.Messages[0].Body != "late" {
		t.Fatalf("long poll: %d %s", resp.StatusCode, b)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("long poll took %s", took)
	}
}

func TestQueueErrors(t *testing.T) {
	base := queueServer(t)
	if resp, b := queueCall(t, "POST", base+"/updraft/v1/queues/exists/messages", `{"MessageBody":"x"}`); resp.StatusCode != 200 {
		t.Fatalf("send: %d %s", resp.StatusCode, b)
	}
	tests := []struct {
		name, method, path, body string
		status                   int
		typ, msg                 string
	}{
		{"receive from an unknown queue is 404 naming its ARN", "POST", "/updraft/v1/queues/nope/receive", "",
			404, "ResourceNotFoundException", "Queue not found: arn:aws:sqs:us-east-1:000000000000:nope"},
		{"a bad name is 400", "POST", "/updraft/v1/queues/a.b/messages", `{"MessageBody":"x"}`,
			400, "InvalidParameterValueException", `Queue name "a.b" is invalid: only letters, digits, hyphens and underscores are allowed, with an optional .fifo suffix.`},
		{"a bad name on receive is 400", "POST", "/updraft/v1/queues/a%20b/receive", "",
			400, "InvalidParameterValueException", `Queue name "a b" is invalid: only letters, digits, hyphens and underscores are allowed, with an optional .fifo suffix.`},
		{"a missing body is 400", "POST", "/updraft/v1/queues/exists/messages", `{}`,
			400, "InvalidParameterValueException", "The request must contain the parameter MessageBody."},
		{"an empty body is 400", "POST", "/updraft/v1/queues/exists/messages", `{"MessageBody":""}`,
			400, "InvalidParameterValueException", "The request must contain the parameter MessageBody."},
		{"a bad attribute type is 400", "POST", "/updraft/v1/queues/exists/messages", `{"MessageBody":"x","MessageAttributes":{"a":{"DataType":"Blob","StringValue":"x"}}}`,
			400, "InvalidParameterValueException", `Message attribute "a" has DataType "Blob": only String, Number and Binary, optionally with a custom label, are supported.`},
		{"a body that is not JSON is 400", "POST", "/updraft/v1/queues/exists/messages", `{oops`,
			400, "InvalidRequestContentException", "Could not parse request body into json: invalid character 'o' looking for beginning of object key string"},
		{"max 0 is 400", "POST", "/updraft/v1/queues/exists/receive?max=0", "",
			400, "InvalidParameterValueException", "Value 0 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."},
		{"max 11 is 400", "POST", "/updraft/v1/queues/exists/receive?max=11", "",
			400, "InvalidParameterValueException", "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."},
		{"a non-numeric max is 400", "POST", "/updraft/v1/queues/exists/receive?max=lots", "",
			400, "InvalidParameterValueException", `Value "lots" for parameter max is invalid: want a whole number from 1 to 10.`},
		{"wait over 20 is 400", "POST", "/updraft/v1/queues/exists/receive?wait=21", "",
			400, "InvalidParameterValueException", `Value "21" for parameter wait is invalid: want seconds from 0 to 20.`},
		{"a negative wait is 400", "POST", "/updraft/v1/queues/exists/receive?wait=-1", "",
			400, "InvalidParameterValueException", `Value "-1" for parameter wait is invalid: want seconds from 0 to 20.`},
		{"GET on receive is an unknown operation", "GET", "/updraft/v1/queues/exists/receive", "",
			404, "UnknownOperationException", "No operation matches GET /updraft/v1/queues/exists/receive."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := queueCall(t, tc.method, base+tc.path, tc.body)
			if resp.StatusCode != tc.status || resp.Header.Get("X-Amzn-ErrorType") != tc.typ {
				t.Errorf("got %d %s, want %d %s; body %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), tc.status, tc.typ, b)
			}
			want := map[string]string{"Type": "User", "Message": tc.msg}
			if got := queueDecode[map[string]string](t, b); got["Type"] != want["Type"] || got["Message"] != want["Message"] || len(got) != 2 {
				t.Errorf("body %q, want %q", got, want)
			}
		})
	}
	// None of the refused requests touched the queue.
	_, b := queueCall(t, "POST", base+"/updraft/v1/queues/exists/receive?max=10", "")
	if got := queueDecode[queueRecvResp](t, b); len(got.Messages) != 1 {
		t.Errorf("the queue holds %s, want the one message", b)
	}
}

func TestQueuesWithoutAQueueServiceAreUnavailable(t *testing.T) {
	f := newFixture(t)
	for _, target := range []string{"GET /updraft/v1/queues", "POST /updraft/v1/queues/q/receive", "POST /updraft/v1/queues/q/messages"} {
		method, path, _ := strings.Cut(target, " ")
		rec := f.do(t, method, path, strings.NewReader(`{"MessageBody":"x"}`))
		wantError(t, rec, 503, "ServiceUnavailableException", "Built-in queues are not available on this server.")
	}
}

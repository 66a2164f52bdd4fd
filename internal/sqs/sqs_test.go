package sqs

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/queue"
)

// fakeQueues is an in-memory Queues with one queue, "q" (and "q.fifo").
type fakeQueues struct{}

func (fakeQueues) state(name string) (*queue.State, error) {
	if name != "q" && name != "q.fifo" {
		return nil, queue.ErrNotFound
	}
	return &queue.State{Name: name, Attributes: defaults(queue.FIFO(name)), Tags: map[string]string{}}, nil
}
func (f fakeQueues) Create(_ context.Context, name string, _, _ map[string]string) (*queue.State, error) {
	st, err := f.state(name)
	if err == nil {
		return st, queue.ErrExists
	}
	return &queue.State{Name: name}, nil
}
func (f fakeQueues) State(_ context.Context, name string) (*queue.State, error) { return f.state(name) }
func (f fakeQueues) SetAttributes(_ context.Context, name string, _ map[string]string) error {
	_, err := f.state(name)
	return err
}
func (f fakeQueues) Tag(_ context.Context, name string, _ map[string]string) error {
	_, err := f.state(name)
	return err
}
func (f fakeQueues) Untag(_ context.Context, name string, _ []string) error {
	_, err := f.state(name)
	return err
}
func (f fakeQueues) Delete(_ context.Context, name string) error {
	_, err := f.state(name)
	return err
}
func (f fakeQueues) Purge(_ context.Context, name string) error {
	_, err := f.state(name)
	return err
}
func (fakeQueues) List(context.Context) ([]queue.QueueInfo, error) {
	return []queue.QueueInfo{{Name: "q"}, {Name: "q.fifo"}}, nil
}
func (f fakeQueues) SendMessage(_ context.Context, name string, _ []byte, attrs map[string]queue.Attribute, _ queue.SendOptions) (queue.Sent, error) {
	if _, err := f.state(name); err != nil {
		return queue.Sent{}, err
	}
	for n, a := range attrs {
		if n == "" || a.DataType == "" {
			return queue.Sent{}, &queue.ValidationError{Message: "bad attribute"}
		}
	}
	return queue.Sent{MessageID: "id", Sequence: 1}, nil
}
func (f fakeQueues) ReceiveVisible(_ context.Context, name string, _ int, _, _ time.Duration) ([]queue.Received, error) {
	if _, err := f.state(name); err != nil {
		return nil, err
	}
	return []queue.Received{{Message: queue.Message{MessageID: "id", Body: []byte("b"), Group: "g",
		Attributes: map[string]queue.Attribute{"a": {DataType: "String", StringValue: "v"}, "b": {DataType: "Binary", BinaryValue: []byte{1}}}}, Handle: "h"}}, nil
}
func (f fakeQueues) DeleteMessage(_ context.Context, name, handle string) error {
	if handle != "h" {
		return queue.ErrBadHandle
	}
	_, err := f.state(name)
	return err
}
func (f fakeQueues) ChangeVisibility(ctx context.Context, name, handle string, _ time.Duration) error {
	return f.DeleteMessage(ctx, name, handle)
}

func newTestHandler() *Handler {
	return New(Config{Queues: fakeQueues{}, Region: "us-east-1", AccountID: "000000000000"})
}

func TestQueueName(t *testing.T) {
	h := newTestHandler()
	c := &call{r: httptest.NewRequest("POST", "http://localhost:9000/", nil)}
	tests := []struct {
		url, want, code string
	}{
		{"http://localhost:9000/000000000000/q", "q", ""},
		{"https://sqs.us-east-1.amazonaws.com/000000000000/q.fifo", "q.fifo", ""},
		{"http://x/111111111111/q", "", "AWS.SimpleQueueService.NonExistentQueue"},
		{"http://x/000000000000/bad name", "", "InvalidAddress"},
		{"http://x/q", "", "InvalidAddress"},
		{"", "", "MissingParameter"},
	}
	for _, tc := range tests {
		got, e := h.queueName(c, tc.url)
		if got != tc.want || (e == nil) != (tc.code == "") || e != nil && e.Code != tc.code {
			t.Errorf("queueName(%q) = %q, %v; want %q, %s", tc.url, got, e, tc.want, tc.code)
		}
	}
}

func TestCheckAttributes(t *testing.T) {
	tests := []struct {
		name  string
		attrs map[string]string
		code  string
	}{
		{"q", map[string]string{"VisibilityTimeout": "43200", "DelaySeconds": "900", "MessageRetentionPeriod": "60"}, ""},
		{"q", map[string]string{"VisibilityTimeout": "43201"}, "InvalidAttributeValue"},
		{"q", map[string]string{"MessageRetentionPeriod": "59"}, "InvalidAttributeValue"},
		{"q", map[string]string{"Colour": "blue"}, "InvalidAttributeName"},
		{"q", map[string]string{"FifoQueue": "true"}, "InvalidAttributeName"},
		{"q.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"}, ""},
		{"q.fifo", map[string]string{}, "InvalidParameterValue"},
		{"q", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:d","maxReceiveCount":5}`}, ""},
		{"q", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:d.fifo","maxReceiveCount":5}`}, "InvalidParameterValue"},
		{"q", map[string]string{"RedrivePolicy": `{"maxReceiveCount":5}`}, "InvalidParameterValue"},
		{"q", map[string]string{"RedrivePolicy": `nope`}, "InvalidParameterValue"},
	}
	for _, tc := range tests {
		e := checkAttributes(tc.name, tc.attrs, true)
		if (e == nil) != (tc.code == "") || e != nil && e.Code != tc.code {
			t.Errorf("checkAttributes(%s, %v) = %v, want %q", tc.name, tc.attrs, e, tc.code)
		}
	}
}

func TestSelectAttributes(t *testing.T) {
	attrs := map[string]queue.Attribute{"a.x": {}, "a.y": {}, "b": {}}
	tests := []struct {
		names []string
		want  int
	}{{nil, 0}, {[]string{"All"}, 3}, {[]string{".*"}, 3}, {[]string{"a.*"}, 2}, {[]string{"b"}, 1}, {[]string{"c"}, 0}}
	for _, tc := range tests {
		if got := selectAttributes(attrs, tc.names); len(got) != tc.want {
			t.Errorf("selectAttributes(%v) = %v, want %d", tc.names, got, tc.want)
		}
	}
}

// FuzzHandler sends any body, as the JSON protocol with any target or as a
// query form, to a handler over an in-memory store: never a 5xx, and
// every answer in its protocol's shape.
func FuzzHandler(f *testing.F) {
	f.Add("SendMessage", []byte(`{"QueueUrl":"http://x/000000000000/q","MessageBody":"hi","MessageAttributes":{"a":{"DataType":"String","StringValue":"v"}}}`), false)
	f.Add("ReceiveMessage", []byte(`{"QueueUrl":"http://x/000000000000/q","AttributeNames":["All"],"MessageAttributeNames":["All"]}`), false)
	f.Add("SendMessageBatch", []byte(`{"QueueUrl":"http://x/000000000000/q.fifo","Entries":[{"Id":"a","MessageBody":"x","MessageGroupId":"g"}]}`), false)
	f.Add("", []byte("Action=ReceiveMessage&Version=2012-11-05&QueueUrl=http://x/000000000000/q&AttributeName.1=All&MessageAttributeName.1=All"), true)
	f.Add("", []byte("Action=CreateQueue&Version=2012-11-05&QueueName=x.fifo&Attribute.1.Name=FifoQueue&Attribute.1.Value=true&Tag.1.Key=k&Tag.1.Value=v"), true)
	f.Add("", []byte("Action=DeleteMessageBatch&Version=2012-11-05&QueueUrl=http://x/000000000000/q&DeleteMessageBatchRequestEntry.1.Id=a&DeleteMessageBatchRequestEntry.1.ReceiptHandle=h"), true)
	f.Add("", []byte("Action=SendMessage&Version=2012-11-05&QueueUrl=http://x/000000000000/q&MessageBody=x&MessageAttribute.1.Name=b&MessageAttribute.1.Value.DataType=Binary&MessageAttribute.1.Value.BinaryValue=AA=="), true)
	h := newTestHandler()
	f.Fuzz(func(t *testing.T, target string, body []byte, query bool) {
		r := httptest.NewRequest(http.MethodPost, "http://localhost/", strings.NewReader(string(body)))
		if !query {
			r.Header.Set("X-Amz-Target", TargetPrefix+target)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		if !query {
			var v map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
				t.Fatalf("answer is not JSON: %q", w.Body)
			}
			if w.Code != 200 && (w.Header().Get("x-amzn-query-error") == "" || !strings.HasPrefix(v["__type"].(string), "com.amazonaws.sqs#")) {
				t.Fatalf("error not in SQS's shape: %s %q", w.Header(), w.Body)
			}
			return
		}
		var doc struct{ XMLName xml.Name }
		if err := xml.Unmarshal(w.Body.Bytes(), &doc); err != nil {
			t.Fatalf("answer is not XML: %q", w.Body)
		}
		if w.Code != 200 && doc.XMLName.Local != "ErrorResponse" {
			t.Fatalf("error not an ErrorResponse: %q", w.Body)
		}
	})
}

package sqs

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/queue"
	"github.com/updraft/updraft/internal/testutil/storetest"
)

// FuzzHandlerOnJetStream runs fuzzed JSON-protocol requests against the
// real queues on an embedded JetStream, after a queue "q" and a FIFO
// queue "f.fifo" with a message each exist: whatever the request, the
// answer is a success or a client error, never a 5xx.
func FuzzHandlerOnJetStream(f *testing.F) {
	for _, seed := range []struct{ target, body string }{
		{"SendMessage", `{"QueueUrl":"http://x/000000000000/q","MessageBody":"hi","DelaySeconds":1,"MessageAttributes":{"b":{"DataType":"Binary.x","BinaryValue":"AAE="}}}`},
		{"SendMessage", `{"QueueUrl":"http://x/000000000000/f.fifo","MessageBody":"hi","MessageGroupId":"g","MessageDeduplicationId":"d"}`},
		{"ReceiveMessage", `{"QueueUrl":"http://x/000000000000/f.fifo","MaxNumberOfMessages":10,"VisibilityTimeout":0,"MessageSystemAttributeNames":["All"]}`},
		{"SetQueueAttributes", `{"QueueUrl":"http://x/000000000000/q","Attributes":{"RedrivePolicy":"{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:nope\",\"maxReceiveCount\":1}"}}`},
		{"CreateQueue", `{"QueueName":"n.fifo","Attributes":{"FifoQueue":"true","MessageRetentionPeriod":"60"},"tags":{"k":"v"}}`},
		{"DeleteMessageBatch", `{"QueueUrl":"http://x/000000000000/q","Entries":[{"Id":"a","ReceiptHandle":"JEpTLkFDSy5VUERSQUZUX1FVRVVFX3EudXBkcmFmdC1xdWV1ZS4xLjEuMS4xLjA"}]}`},
		{"PurgeQueue", `{"QueueUrl":"http://x/000000000000/q"}`},
		{"ChangeMessageVisibilityBatch", `{"QueueUrl":"http://x/000000000000/q","Entries":[{"Id":"a","ReceiptHandle":"x","VisibilityTimeout":5}]}`},
	} {
		f.Add(seed.target, []byte(seed.body))
	}
	// The fuzz function may not log through f, so the services log
	// nowhere; their errors show as 5xx answers.
	logger := slog.New(slog.DiscardHandler)
	st := storetest.Open(f, f.TempDir(), logger)
	qs := queue.New(st.JetStream(), 1, logger)
	h := New(Config{Queues: qs, Region: "us-east-1", AccountID: "000000000000", Logger: logger})
	ctx := context.Background()
	if _, err := qs.Create(ctx, "q", defaults(false), nil); err != nil {
		f.Fatal(err)
	}
	if _, err := qs.Create(ctx, "f.fifo", defaults(true), nil); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, target string, body []byte) {
		cx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		r := httptest.NewRequestWithContext(cx, http.MethodPost, "http://localhost/", strings.NewReader(string(body)))
		r.Header.Set("X-Amz-Target", TargetPrefix+target)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 && cx.Err() == nil {
			t.Fatalf("%s %s: status %d: %s", target, body, w.Code, w.Body)
		}
	})
}

package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/updraft/updraft/internal/testutil"
)

// sqsClient is an aws-sdk-go-v2 SQS client for srv. It validates the
// MD5 digests of bodies and attributes in SendMessage and ReceiveMessage
// answers, as the SDK does by default, so every send and receive through
// it checks updraft's digests against the SDK's own.
func sqsClient(srv *testutil.Server) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.SecretAccessKey, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       srv.HTTPClient(),
	})
}

// awsJSON runs the aws CLI and decodes its JSON output into out.
func awsJSON(t *testing.T, srv *testutil.Server, out any, args ...string) {
	t.Helper()
	stdout, _ := awsCLI(t, srv, false, args...)
	if out == nil {
		return
	}
	if strings.TrimSpace(stdout) == "" {
		stdout = "{}"
	}
	if err := json.Unmarshal([]byte(stdout), out); err != nil {
		t.Fatalf("aws %s: output %q: %v", strings.Join(args, " "), stdout, err)
	}
}

type cliMessage struct {
	MessageID              string `json:"MessageId"`
	ReceiptHandle          string
	Body                   string
	MD5OfBody              string
	MD5OfMessageAttributes string
	Attributes             map[string]string
	MessageAttributes      map[string]struct {
		DataType    string
		StringValue string
	}
}

type cliReceive struct{ Messages []cliMessage }

// TestSQSWithAWSCLI drives the SQS API with the aws CLI v1, which speaks
// SQS's JSON protocol, and checks what a queue-triggered function sees.
func TestSQSWithAWSCLI(t *testing.T) {
	requireAWSCLI(t)
	srv := testutil.StartServer(t, testutil.Options{})

	t.Run("send receive delete", func(t *testing.T) {
		t.Parallel()
		var created struct {
			QueueURL string `json:"QueueUrl"`
		}
		awsJSON(t, srv, &created, "sqs", "create-queue", "--queue-name", "cli-basic", "--attributes", "VisibilityTimeout=5")
		if want := srv.URL + "/000000000000/cli-basic"; created.QueueURL != want {
			t.Fatalf("create-queue QueueUrl = %q, want %q", created.QueueURL, want)
		}
		u := created.QueueURL
		// The same attributes again: the same queue. Others: QueueAlreadyExists.
		awsJSON(t, srv, &created, "sqs", "create-queue", "--queue-name", "cli-basic", "--attributes", "VisibilityTimeout=5")
		_, errOut := awsCLI(t, srv, true, "sqs", "create-queue", "--queue-name", "cli-basic", "--attributes", "VisibilityTimeout=7")
		if !strings.Contains(errOut, "(QueueAlreadyExists)") {
			t.Errorf("create-queue with another VisibilityTimeout: %s", errOut)
		}

		var sent struct {
			MessageID              string `json:"MessageId"`
			MD5OfMessageBody       string
			MD5OfMessageAttributes string
		}
		awsJSON(t, srv, &sent, "sqs", "send-message", "--queue-url", u, "--message-body", "hello from the cli",
			"--message-attributes", `{"colour":{"DataType":"String","StringValue":"blue"},"n":{"DataType":"Number","StringValue":"42"}}`)
		if sent.MessageID == "" || sent.MD5OfMessageBody != md5hex("hello from the cli") || len(sent.MD5OfMessageAttributes) != 32 {
			t.Fatalf("send-message: %+v", sent)
		}

		var got cliReceive
		awsJSON(t, srv, &got, "sqs", "receive-message", "--queue-url", u, "--attribute-names", "All",
			"--message-attribute-names", "All", "--wait-time-seconds", "5")
		if len(got.Messages) != 1 {
			t.Fatalf("receive-message: %+v", got)
		}
		m := got.Messages[0]
		if m.MessageID != sent.MessageID || m.Body != "hello from the cli" || m.MD5OfBody != sent.MD5OfMessageBody ||
			m.MD5OfMessageAttributes != sent.MD5OfMessageAttributes || m.Attributes["ApproximateReceiveCount"] != "1" ||
			m.Attributes["SentTimestamp"] == "" || m.MessageAttributes["colour"].StringValue != "blue" ||
			m.MessageAttributes["n"].DataType != "Number" {
			t.Fatalf("received %+v", m)
		}
		// In flight, the message is invisible.
		var again cliReceive
		awsJSON(t, srv, &again, "sqs", "receive-message", "--queue-url", u)
		if len(again.Messages) != 0 {
			t.Fatalf("an in-flight message was received again: %+v", again)
		}
		var attrs struct{ Attributes map[string]string }
		awsJSON(t, srv, &attrs, "sqs", "get-queue-attributes", "--queue-url", u, "--attribute-names", "All")
		if attrs.Attributes["ApproximateNumberOfMessagesNotVisible"] != "1" || attrs.Attributes["ApproximateNumberOfMessages"] != "0" ||
			attrs.Attributes["VisibilityTimeout"] != "5" || attrs.Attributes["QueueArn"] != "arn:aws:sqs:us-east-1:000000000000:cli-basic" ||
			attrs.Attributes["MessageRetentionPeriod"] != "345600" {
			t.Errorf("get-queue-attributes: %v", attrs.Attributes)
		}
		awsCLI(t, srv, false, "sqs", "delete-message", "--queue-url", u, "--receipt-handle", m.ReceiptHandle)
		awsJSON(t, srv, &attrs, "sqs", "get-queue-attributes", "--queue-url", u, "--attribute-names", "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
		if attrs.Attributes["ApproximateNumberOfMessagesNotVisible"] != "0" || attrs.Attributes["ApproximateNumberOfMessages"] != "0" {
			t.Errorf("after delete-message: %v", attrs.Attributes)
		}

		_, errOut = awsCLI(t, srv, true, "sqs", "delete-message", "--queue-url", u, "--receipt-handle", "not-a-handle")
		if !strings.Contains(errOut, "(ReceiptHandleIsInvalid)") {
			t.Errorf("delete-message with a bad handle: %s", errOut)
		}
		_, errOut = awsCLI(t, srv, true, "sqs", "get-queue-url", "--queue-name", "no-such-queue")
		if !strings.Contains(errOut, "(AWS.SimpleQueueService.NonExistentQueue)") || !strings.Contains(errOut, "The specified queue does not exist.") {
			t.Errorf("get-queue-url of a missing queue: %s", errOut)
		}
		_, errOut = awsCLI(t, srv, true, "sqs", "send-message", "--queue-url", u, "--message-body", "x", "--delay-seconds", "901")
		if !strings.Contains(errOut, "(InvalidParameterValue)") {
			t.Errorf("send-message with delay 901: %s", errOut)
		}
		_, errOut = awsCLI(t, srv, true, "sqs", "set-queue-attributes", "--queue-url", u, "--attributes", "Colour=blue")
		if !strings.Contains(errOut, "(InvalidAttributeName)") {
			t.Errorf("set-queue-attributes with an unknown attribute: %s", errOut)
		}
		var url struct {
			QueueURL string `json:"QueueUrl"`
		}
		awsJSON(t, srv, &url, "sqs", "get-queue-url", "--queue-name", "cli-basic")
		if url.QueueURL != u {
			t.Errorf("get-queue-url = %q, want %q", url.QueueURL, u)
		}
		// AWS's own form of the URL names the same queue.
		awsCLI(t, srv, false, "sqs", "send-message", "--queue-url", "https://sqs.us-east-1.amazonaws.com/000000000000/cli-basic", "--message-body", "via an AWS URL")
		awsCLI(t, srv, false, "sqs", "purge-queue", "--queue-url", u)
		awsJSON(t, srv, &got, "sqs", "receive-message", "--queue-url", u)
		if len(got.Messages) != 0 {
			t.Errorf("a purged queue returned %+v", got)
		}
		awsCLI(t, srv, false, "sqs", "tag-queue", "--queue-url", u, "--tags", "team=core,env=test")
		awsCLI(t, srv, false, "sqs", "untag-queue", "--queue-url", u, "--tag-keys", "env")
		var tags struct{ Tags map[string]string }
		awsJSON(t, srv, &tags, "sqs", "list-queue-tags", "--queue-url", u)
		if len(tags.Tags) != 1 || tags.Tags["team"] != "core" {
			t.Errorf("list-queue-tags: %v", tags.Tags)
		}
		var list struct{ QueueUrls []string }
		awsJSON(t, srv, &list, "sqs", "list-queues", "--queue-name-prefix", "cli-ba")
		if !slices.Equal(list.QueueUrls, []string{u}) {
			t.Errorf("list-queues: %v", list.QueueUrls)
		}
		awsCLI(t, srv, false, "sqs", "delete-queue", "--queue-url", u)
		_, errOut = awsCLI(t, srv, true, "sqs", "receive-message", "--queue-url", u)
		if !strings.Contains(errOut, "NonExistentQueue") {
			t.Errorf("receive-message from a deleted queue: %s", errOut)
		}
	})

	t.Run("redrive to a dead-letter queue", func(t *testing.T) {
		t.Parallel()
		var dlq, src struct {
			QueueURL string `json:"QueueUrl"`
		}
		awsJSON(t, srv, &dlq, "sqs", "create-queue", "--queue-name", "cli-dlq")
		policy := `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:cli-dlq","maxReceiveCount":"2"}`
		attrs, _ := json.Marshal(map[string]string{"RedrivePolicy": policy})
		awsJSON(t, srv, &src, "sqs", "create-queue", "--queue-name", "cli-src", "--attributes", string(attrs))
		var sent struct {
			MessageID string `json:"MessageId"`
		}
		awsJSON(t, srv, &sent, "sqs", "send-message", "--queue-url", src.QueueURL, "--message-body", "poison")
		for i := 1; i <= 2; i++ {
			var got cliReceive
			awsJSON(t, srv, &got, "sqs", "receive-message", "--queue-url", src.QueueURL, "--visibility-timeout", "0",
				"--wait-time-seconds", "5", "--attribute-names", "ApproximateReceiveCount")
			if len(got.Messages) != 1 || got.Messages[0].Attributes["ApproximateReceiveCount"] != fmt.Sprint(i) {
				t.Fatalf("receive %d: %+v", i, got)
			}
		}
		// The third receive exceeds maxReceiveCount: the message moves.
		var got cliReceive
		awsJSON(t, srv, &got, "sqs", "receive-message", "--queue-url", src.QueueURL, "--wait-time-seconds", "1")
		if len(got.Messages) != 0 {
			t.Fatalf("a message past maxReceiveCount was received: %+v", got)
		}
		awsJSON(t, srv, &got, "sqs", "receive-message", "--queue-url", dlq.QueueURL, "--wait-time-seconds", "5")
		if len(got.Messages) != 1 || got.Messages[0].Body != "poison" || got.Messages[0].MessageID != sent.MessageID {
			t.Fatalf("dead-letter queue: %+v", got)
		}
	})

	t.Run("FIFO group order and deduplication", func(t *testing.T) {
		t.Parallel()
		var q struct {
			QueueURL string `json:"QueueUrl"`
		}
		awsJSON(t, srv, &q, "sqs", "create-queue", "--queue-name", "cli-order.fifo", "--attributes",
			"FifoQueue=true,ContentBasedDeduplication=true")
		send := func(group, body string) string {
			var out struct {
				MessageID      string `json:"MessageId"`
				SequenceNumber string
			}
			awsJSON(t, srv, &out, "sqs", "send-message", "--queue-url", q.QueueURL, "--message-body", body, "--message-group-id", group)
			if out.SequenceNumber == "" {
				t.Fatalf("send to a FIFO queue without SequenceNumber: %+v", out)
			}
			return out.MessageID
		}
		first := send("a", "a1")
		send("b", "b1")
		send("a", "a2")
		send("b", "b2")
		send("a", "a3")
		if dup := send("a", "a1"); dup != first {
			t.Errorf("a duplicate (content-based) got id %s, want the original's %s", dup, first)
		}
		_, errOut := awsCLI(t, srv, true, "sqs", "send-message", "--queue-url", q.QueueURL, "--message-body", "x")
		if !strings.Contains(errOut, "(MissingParameter)") || !strings.Contains(errOut, "MessageGroupId") {
			t.Errorf("FIFO send without a group: %s", errOut)
		}
		var got cliReceive
		awsJSON(t, srv, &got, "sqs", "receive-message", "--queue-url", q.QueueURL, "--max-number-of-messages", "10",
			"--attribute-names", "All")
		var bodies []string
		for _, m := range got.Messages {
			bodies = append(bodies, m.Body)
		}
		if !slices.Equal(bodies, []string{"a1", "b1", "a2", "b2", "a3"}) {
			t.Fatalf("FIFO receive = %v, want a1 b1 a2 b2 a3 (the duplicate dropped)", bodies)
		}
		if got.Messages[0].Attributes["MessageGroupId"] != "a" || got.Messages[0].Attributes["MessageDeduplicationId"] == "" {
			t.Errorf("FIFO attributes: %v", got.Messages[0].Attributes)
		}
		// While group a has messages in flight, a4 waits.
		send("a", "a4")
		var held cliReceive
		awsJSON(t, srv, &held, "sqs", "receive-message", "--queue-url", q.QueueURL, "--wait-time-seconds", "1")
		if len(held.Messages) != 0 {
			t.Fatalf("a4 was received while a1-a3 were in flight: %+v", held)
		}
		for _, m := range got.Messages {
			awsCLI(t, srv, false, "sqs", "delete-message", "--queue-url", q.QueueURL, "--receipt-handle", m.ReceiptHandle)
		}
		awsJSON(t, srv, &held, "sqs", "receive-message", "--queue-url", q.QueueURL, "--wait-time-seconds", "5")
		if len(held.Messages) != 1 || held.Messages[0].Body != "a4" {
			t.Fatalf("after deleting a1-a3: %+v", held)
		}
	})

	t.Run("delay and visibility", func(t *testing.T) {
		t.Parallel()
		var q struct {
			QueueURL string `json:"QueueUrl"`
		}
		awsJSON(t, srv, &q, "sqs", "create-queue", "--queue-name", "cli-delay")
		start := time.Now()
		awsCLI(t, srv, false, "sqs", "send-message", "--queue-url", q.QueueURL, "--message-body", "later", "--delay-seconds", "2")
		var got cliReceive
		awsJSON(t, srv, &got, "sqs", "receive-message", "--queue-url", q.QueueURL, "--wait-time-seconds", "10", "--attribute-names", "All")
		if len(got.Messages) != 1 || time.Since(start) < 2*time.Second || got.Messages[0].Attributes["ApproximateReceiveCount"] != "1" {
			t.Fatalf("delayed message after %s: %+v", time.Since(start), got)
		}
		// Visible again at once after its visibility is set to 0.
		awsCLI(t, srv, false, "sqs", "change-message-visibility", "--queue-url", q.QueueURL,
			"--receipt-handle", got.Messages[0].ReceiptHandle, "--visibility-timeout", "0")
		awsJSON(t, srv, &got, "sqs", "receive-message", "--queue-url", q.QueueURL, "--wait-time-seconds", "5", "--attribute-names", "All")
		if len(got.Messages) != 1 || got.Messages[0].Attributes["ApproximateReceiveCount"] != "2" {
			t.Fatalf("after change-message-visibility 0: %+v", got)
		}
	})

	t.Run("a queue-triggered function receives what send-message sent", func(t *testing.T) {
		t.Parallel()
		const fn = "sqs-cli-fn"
		createTestFunction(t, srv.Lambda(), fn, fnOpts{zip: testutil.FunctionZip(t, "./internal/testutil/esmfn", "")})
		var q struct {
			QueueURL string `json:"QueueUrl"`
		}
		awsJSON(t, srv, &q, "sqs", "create-queue", "--queue-name", "cli-trigger")
		awsCLI(t, srv, false, "lambda", "create-event-source-mapping", "--function-name", fn,
			"--event-source-arn", "arn:aws:sqs:us-east-1:000000000000:cli-trigger", "--batch-size", "1")
		awsCLI(t, srv, false, "sqs", "send-message", "--queue-url", q.QueueURL, "--message-body", "hello-trigger")
		testutil.WaitFor(t, 60*time.Second, func() error {
			out, _, _ := updraftCLI(t, srv, "logs", fn)
			if !strings.Contains(out, "seen body=hello-trigger count=1 source=aws:sqs") {
				return fmt.Errorf("the function's log lacks the message:\n%s", out)
			}
			return nil
		})
	})
}

// TestSQSWithSDK checks the SDK's MD5 validation of bodies and of binary
// and custom-typed attributes, and the batch operations.
func TestSQSWithSDK(t *testing.T) {
	srv := testutil.StartServer(t, testutil.Options{})
	c := sqsClient(srv)
	cx := ctx(t)
	q, err := c.CreateQueue(cx, &sqs.CreateQueueInput{QueueName: aws.String("sdk-q")})
	if err != nil {
		t.Fatal(err)
	}
	attrs := map[string]sqstypes.MessageAttributeValue{
		"bin":   {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2, 255}},
		"price": {DataType: aws.String("Number.float"), StringValue: aws.String("9.99")},
		"who":   {DataType: aws.String("String"), StringValue: aws.String("ünïcode")},
	}
	// The SDK fails a call whose digests differ from its own.
	if _, err := c.SendMessage(cx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("body ✓"), MessageAttributes: attrs}); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	batch, err := c.SendMessageBatch(cx, &sqs.SendMessageBatchInput{QueueUrl: q.QueueUrl, Entries: []sqstypes.SendMessageBatchRequestEntry{
		{Id: aws.String("one"), MessageBody: aws.String("b1"), MessageAttributes: attrs},
		{Id: aws.String("two"), MessageBody: aws.String("b2")},
		{Id: aws.String("bad"), MessageBody: aws.String("\u0001")},
	}})
	if err != nil || len(batch.Successful) != 2 || len(batch.Failed) != 1 || aws.ToString(batch.Failed[0].Code) != "InvalidMessageContents" {
		t.Fatalf("SendMessageBatch: %+v, %v", batch, err)
	}
	got, err := c.ReceiveMessage(cx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10,
		MessageAttributeNames: []string{"All"}, WaitTimeSeconds: 5})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	for len(got.Messages) < 3 {
		more, err := c.ReceiveMessage(cx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10,
			MessageAttributeNames: []string{"All"}, WaitTimeSeconds: 5})
		if err != nil || len(more.Messages) == 0 {
			t.Fatalf("ReceiveMessage got %d of 3: %v", len(got.Messages), err)
		}
		got.Messages = append(got.Messages, more.Messages...)
	}
	var entries []sqstypes.DeleteMessageBatchRequestEntry
	for i, m := range got.Messages {
		if aws.ToString(m.Body) != "b2" && !bytes.Equal(m.MessageAttributes["bin"].BinaryValue, []byte{0, 1, 2, 255}) {
			t.Errorf("message %q lost its binary attribute: %+v", aws.ToString(m.Body), m.MessageAttributes)
		}
		entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint("m", i)), ReceiptHandle: m.ReceiptHandle})
	}
	entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String("junk"), ReceiptHandle: aws.String("junk")})
	del, err := c.DeleteMessageBatch(cx, &sqs.DeleteMessageBatchInput{QueueUrl: q.QueueUrl, Entries: entries})
	if err != nil || len(del.Successful) != 3 || len(del.Failed) != 1 || aws.ToString(del.Failed[0].Code) != "ReceiptHandleIsInvalid" {
		t.Fatalf("DeleteMessageBatch: %+v, %v", del, err)
	}
	qa, err := c.GetQueueAttributes(cx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
	if err != nil || qa.Attributes["ApproximateNumberOfMessages"] != "0" || qa.Attributes["ApproximateNumberOfMessagesNotVisible"] != "0" {
		t.Fatalf("GetQueueAttributes after deleting all: %v, %v", qa, err)
	}
	_, err = c.GetQueueUrl(cx, &sqs.GetQueueUrlInput{QueueName: aws.String("nope")})
	var notFound *sqstypes.QueueDoesNotExist
	if !errors.As(err, &notFound) {
		t.Errorf("GetQueueUrl of a missing queue: %v, want QueueDoesNotExist", err)
	}
}

// TestSQSQueryProtocol speaks SQS's query protocol, as older clients
// (the Debian awscli v2.9 package among them) do: signed forms posted to
// / and to a queue's URL, answered in XML.
func TestSQSQueryProtocol(t *testing.T) {
	srv := testutil.StartServer(t, testutil.Options{})
	post := func(path string, form url.Values) (int, []byte) {
		t.Helper()
		form.Set("Version", "2012-11-05")
		body := form.Encode()
		req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		sum := sha256.Sum256([]byte(body))
		creds := aws.Credentials{AccessKeyID: srv.AccessKeyID, SecretAccessKey: srv.SecretAccessKey}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "sqs", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := srv.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	status, b := post("/", url.Values{"Action": {"CreateQueue"}, "QueueName": {"query-q"},
		"Attribute.1.Name": {"VisibilityTimeout"}, "Attribute.1.Value": {"10"}})
	var created struct {
		QueueURL string `xml:"CreateQueueResult>QueueUrl"`
	}
	if err := xml.Unmarshal(b, &created); status != 200 || err != nil || created.QueueURL != srv.URL+"/000000000000/query-q" {
		t.Fatalf("CreateQueue: %d %s", status, b)
	}
	status, b = post("/000000000000/query-q", url.Values{"Action": {"SendMessage"}, "MessageBody": {"über query"},
		"MessageAttribute.1.Name": {"k"}, "MessageAttribute.1.Value.DataType": {"String"}, "MessageAttribute.1.Value.StringValue": {"v"}})
	var sent struct {
		MD5OfMessageBody string `xml:"SendMessageResult>MD5OfMessageBody"`
		MessageID        string `xml:"SendMessageResult>MessageId"`
	}
	if err := xml.Unmarshal(b, &sent); status != 200 || err != nil || sent.MD5OfMessageBody != md5hex("über query") || sent.MessageID == "" {
		t.Fatalf("SendMessage: %d %s", status, b)
	}
	status, b = post("/", url.Values{"Action": {"ReceiveMessage"}, "QueueUrl": {created.QueueURL}, "WaitTimeSeconds": {"5"},
		"AttributeName.1": {"All"}, "MessageAttributeName.1": {"All"}})
	var recv struct {
		Messages []struct {
			MessageID     string `xml:"MessageId"`
			ReceiptHandle string
			Body          string
			Attributes    []struct{ Name, Value string } `xml:"Attribute"`
			MsgAttrs      []struct {
				Name  string
				Value struct{ StringValue, DataType string }
			} `xml:"MessageAttribute"`
		} `xml:"ReceiveMessageResult>Message"`
	}
	if err := xml.Unmarshal(b, &recv); status != 200 || err != nil || len(recv.Messages) != 1 || recv.Messages[0].Body != "über query" ||
		recv.Messages[0].MessageID != sent.MessageID || len(recv.Messages[0].MsgAttrs) != 1 || recv.Messages[0].MsgAttrs[0].Value.StringValue != "v" ||
		!slices.ContainsFunc(recv.Messages[0].Attributes, func(a struct{ Name, Value string }) bool {
			return a.Name == "ApproximateReceiveCount" && a.Value == "1"
		}) {
		t.Fatalf("ReceiveMessage: %d %s", status, b)
	}
	status, b = post("/", url.Values{"Action": {"DeleteMessage"}, "QueueUrl": {created.QueueURL}, "ReceiptHandle": {recv.Messages[0].ReceiptHandle}})
	if status != 200 || !bytes.Contains(b, []byte("<DeleteMessageResponse")) {
		t.Fatalf("DeleteMessage: %d %s", status, b)
	}
	status, b = post("/", url.Values{"Action": {"GetQueueAttributes"}, "QueueUrl": {created.QueueURL}, "AttributeName.1": {"All"}})
	if status != 200 || !bytes.Contains(b, []byte("<Attribute><Name>ApproximateNumberOfMessages</Name><Value>0</Value></Attribute>")) ||
		!bytes.Contains(b, []byte("<Attribute><Name>VisibilityTimeout</Name><Value>10</Value></Attribute>")) {
		t.Fatalf("GetQueueAttributes: %d %s", status, b)
	}
	status, b = post("/", url.Values{"Action": {"GetQueueUrl"}, "QueueName": {"missing"}})
	var e struct {
		Type    string `xml:"Error>Type"`
		Code    string `xml:"Error>Code"`
		Message string `xml:"Error>Message"`
	}
	if err := xml.Unmarshal(b, &e); status != 400 || err != nil || e.Code != "AWS.SimpleQueueService.NonExistentQueue" || e.Type != "Sender" ||
		e.Message != "The specified queue does not exist for this wsdl version." {
		t.Fatalf("GetQueueUrl of a missing queue: %d %s", status, b)
	}
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

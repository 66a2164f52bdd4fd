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
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
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

// TestSQS drives the SQS API as people do: the aws CLI v1 (SQS's JSON
// protocol), aws-sdk-go-v2 (also JSON, with its MD5 checks), and signed
// query-protocol forms (what older clients send); one server for all.
func TestSQS(t *testing.T) {
	requireAWSCLI(t)
	srv := testutil.StartServer(t, testutil.Options{})
	t.Run("aws CLI", func(t *testing.T) { t.Parallel(); testSQSWithAWSCLI(t, srv) })
	t.Run("SDK", func(t *testing.T) { t.Parallel(); testSQSWithSDK(t, srv) })
	t.Run("redrive", func(t *testing.T) { t.Parallel(); testSQSRedrive(t, srv) })
	t.Run("FIFO", func(t *testing.T) { t.Parallel(); testSQSFIFO(t, srv) })
	t.Run("delay and visibility", func(t *testing.T) { t.Parallel(); testSQSDelay(t, srv) })
	t.Run("query protocol", func(t *testing.T) { t.Parallel(); testSQSQueryProtocol(t, srv) })
	t.Run("trigger", func(t *testing.T) { t.Parallel(); testSQSTrigger(t, srv) })
	t.Run("Debian awscli v2 (query protocol)", func(t *testing.T) { t.Parallel(); testSQSDebianAWSCLI(t, srv) })
}

// debianAWSCLI is Debian's awscli package (2.9 in bookworm), whose
// botocore predates SQS's JSON protocol and speaks the query protocol.
const debianAWSCLI = "/usr/bin/aws"

// testSQSDebianAWSCLI drives the query protocol with a real client: the
// Debian awscli package when it is installed (apt-get install awscli),
// which the aws CLI v1 on PATH does not replace.
func testSQSDebianAWSCLI(t *testing.T, srv *testutil.Server) {
	run := func(wantFail bool, args ...string) (string, string) {
		t.Helper()
		c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(c, debianAWSCLI, append([]string{"--endpoint-url", srv.URL, "--region", "us-east-1", "--output", "json"}, args...)...)
		cmd.Env = srv.AWSEnv()
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if (err != nil) != wantFail {
			t.Fatalf("%s %s: %v\n%s\n%s", debianAWSCLI, strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		return stdout.String(), stderr.String()
	}
	if out, err := exec.Command(debianAWSCLI, "--version").CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "aws-cli/2.9") {
		t.Skipf("Debian's awscli 2.9 (query protocol) is not at %s (apt-get install awscli): %s %v", debianAWSCLI, out, err)
	}
	var created struct {
		QueueURL string `json:"QueueUrl"`
	}
	out, _ := run(false, "sqs", "create-queue", "--queue-name", "debian-q")
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.QueueURL != srv.URL+"/000000000000/debian-q" {
		t.Fatalf("create-queue: %s (%v)", out, err)
	}
	run(false, "sqs", "send-message", "--queue-url", created.QueueURL, "--message-body", "from debian",
		"--message-attributes", `{"k":{"DataType":"String","StringValue":"v"}}`)
	out, _ = run(false, "sqs", "receive-message", "--queue-url", created.QueueURL, "--wait-time-seconds", "5",
		"--attribute-names", "All", "--message-attribute-names", "All")
	var got cliReceive
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.Messages) != 1 || got.Messages[0].Body != "from debian" ||
		got.Messages[0].MessageAttributes["k"].StringValue != "v" || got.Messages[0].Attributes["ApproximateReceiveCount"] != "1" {
		t.Fatalf("receive-message: %s (%v)", out, err)
	}
	run(false, "sqs", "delete-message", "--queue-url", created.QueueURL, "--receipt-handle", got.Messages[0].ReceiptHandle)
	_, errOut := run(true, "sqs", "get-queue-url", "--queue-name", "no-such-queue")
	if !strings.Contains(errOut, "AWS.SimpleQueueService.NonExistentQueue") {
		t.Errorf("get-queue-url of a missing queue: %s", errOut)
	}
}

// testSQSWithAWSCLI: create-queue, send-message, receive-message,
// delete-message and an error, with the aws CLI.
func testSQSWithAWSCLI(t *testing.T, srv *testutil.Server) {
	var created struct {
		QueueURL string `json:"QueueUrl"`
	}
	awsJSON(t, srv, &created, "sqs", "create-queue", "--queue-name", "cli-basic", "--attributes", "VisibilityTimeout=5")
	if want := srv.URL + "/000000000000/cli-basic"; created.QueueURL != want {
		t.Fatalf("create-queue QueueUrl = %q, want %q", created.QueueURL, want)
	}
	u := created.QueueURL
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
	c := sqsClient(srv)
	cx := ctx(t)
	qa, err := c.GetQueueAttributes(cx, &sqs.GetQueueAttributesInput{QueueUrl: &u, AttributeNames: []sqstypes.QueueAttributeName{"All"}})
	if err != nil || qa.Attributes["ApproximateNumberOfMessagesNotVisible"] != "1" || qa.Attributes["ApproximateNumberOfMessages"] != "0" ||
		qa.Attributes["VisibilityTimeout"] != "5" || qa.Attributes["QueueArn"] != "arn:aws:sqs:us-east-1:000000000000:cli-basic" ||
		qa.Attributes["MessageRetentionPeriod"] != "345600" {
		t.Errorf("GetQueueAttributes with the message in flight: %v, %v", qa, err)
	}
	awsCLI(t, srv, false, "sqs", "delete-message", "--queue-url", u, "--receipt-handle", m.ReceiptHandle)
	qa, err = c.GetQueueAttributes(cx, &sqs.GetQueueAttributesInput{QueueUrl: &u, AttributeNames: []sqstypes.QueueAttributeName{"All"}})
	if err != nil || qa.Attributes["ApproximateNumberOfMessagesNotVisible"] != "0" || qa.Attributes["ApproximateNumberOfMessages"] != "0" {
		t.Errorf("GetQueueAttributes after delete-message: %v, %v", qa, err)
	}
	_, errOut := awsCLI(t, srv, true, "sqs", "get-queue-url", "--queue-name", "no-such-queue")
	if !strings.Contains(errOut, "(AWS.SimpleQueueService.NonExistentQueue)") || !strings.Contains(errOut, "The specified queue does not exist.") {
		t.Errorf("get-queue-url of a missing queue: %s", errOut)
	}
}

// testSQSTrigger: a function mapped to a queue receives what `aws sqs
// send-message` sent.
func testSQSTrigger(t *testing.T, srv *testutil.Server) {
	const fn = "sqs-cli-fn"
	createTestFunction(t, srv.Lambda(), fn, fnOpts{zip: testutil.FunctionZip(t, "./internal/testutil/esmfn", "")})
	c := sqsClient(srv)
	q, err := c.CreateQueue(ctx(t), &sqs.CreateQueueInput{QueueName: aws.String("cli-trigger")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Lambda().CreateEventSourceMapping(ctx(t), &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(fn),
		EventSourceArn: aws.String("arn:aws:sqs:us-east-1:000000000000:cli-trigger"), BatchSize: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	awsCLI(t, srv, false, "sqs", "send-message", "--queue-url", aws.ToString(q.QueueUrl), "--message-body", "hello-trigger")
	testutil.WaitFor(t, 60*time.Second, func() error {
		out, _, _ := updraftCLI(t, srv, "logs", fn)
		if !strings.Contains(out, "seen body=hello-trigger count=1 source=aws:sqs") {
			return fmt.Errorf("the function's log lacks the message:\n%s", out)
		}
		return nil
	})
}

// testSQSRedrive: a message received more than maxReceiveCount times
// moves to the dead-letter queue.
func testSQSRedrive(t *testing.T, srv *testutil.Server) {
	c := sqsClient(srv)
	cx := ctx(t)
	dlq, err := c.CreateQueue(cx, &sqs.CreateQueueInput{QueueName: aws.String("sdk-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	policy := `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:sdk-dlq","maxReceiveCount":"2"}`
	// A visibility timeout of 0 makes each received message visible again
	// at once.
	src, err := c.CreateQueue(cx, &sqs.CreateQueueInput{QueueName: aws.String("sdk-src"),
		Attributes: map[string]string{"RedrivePolicy": policy, "VisibilityTimeout": "0"}})
	if err != nil {
		t.Fatal(err)
	}
	sent, err := c.SendMessage(cx, &sqs.SendMessageInput{QueueUrl: src.QueueUrl, MessageBody: aws.String("poison")})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		got, err := c.ReceiveMessage(cx, &sqs.ReceiveMessageInput{QueueUrl: src.QueueUrl, WaitTimeSeconds: 5,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"ApproximateReceiveCount"}})
		if err != nil || len(got.Messages) != 1 || got.Messages[0].Attributes["ApproximateReceiveCount"] != fmt.Sprint(i) {
			t.Fatalf("receive %d: %+v, %v", i, got, err)
		}
	}
	// The third receive exceeds maxReceiveCount: the message moves.
	got, err := c.ReceiveMessage(cx, &sqs.ReceiveMessageInput{QueueUrl: src.QueueUrl, WaitTimeSeconds: 1})
	if err != nil || len(got.Messages) != 0 {
		t.Fatalf("a message past maxReceiveCount was received: %+v, %v", got, err)
	}
	got, err = c.ReceiveMessage(cx, &sqs.ReceiveMessageInput{QueueUrl: dlq.QueueUrl, WaitTimeSeconds: 5})
	if err != nil || len(got.Messages) != 1 || aws.ToString(got.Messages[0].Body) != "poison" ||
		aws.ToString(got.Messages[0].MessageId) != aws.ToString(sent.MessageId) {
		t.Fatalf("dead-letter queue: %+v, %v", got, err)
	}
	_, err = c.SetQueueAttributes(cx, &sqs.SetQueueAttributesInput{QueueUrl: src.QueueUrl,
		Attributes: map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:sdk-dlq","maxReceiveCount":0}`}})
	if apiErrorCode(err) != "InvalidParameterValue" {
		t.Errorf("maxReceiveCount 0: %v", err)
	}
}

// testSQSFIFO: messages of a group arrive in order, a group waits while
// one of its messages is in flight, and duplicates are dropped.
func testSQSFIFO(t *testing.T, srv *testutil.Server) {
	c := sqsClient(srv)
	cx := ctx(t)
	q, err := c.CreateQueue(cx, &sqs.CreateQueueInput{QueueName: aws.String("sdk-order.fifo"),
		Attributes: map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	send := func(group, body string) string {
		t.Helper()
		out, err := c.SendMessage(cx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(body), MessageGroupId: aws.String(group)})
		if err != nil || aws.ToString(out.SequenceNumber) == "" {
			t.Fatalf("send %s: %+v, %v", body, out, err)
		}
		return aws.ToString(out.MessageId)
	}
	first := send("a", "a1")
	send("b", "b1")
	send("a", "a2")
	send("b", "b2")
	send("a", "a3")
	if dup := send("a", "a1"); dup != first {
		t.Errorf("a duplicate (content-based) got id %s, want the original's %s", dup, first)
	}
	if _, err := c.SendMessage(cx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("x")}); apiErrorCode(err) != "MissingParameter" {
		t.Errorf("FIFO send without a group: %v", err)
	}
	got, err := c.ReceiveMessage(cx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, m := range got.Messages {
		bodies = append(bodies, aws.ToString(m.Body))
	}
	if !slices.Equal(bodies, []string{"a1", "b1", "a2", "b2", "a3"}) {
		t.Fatalf("FIFO receive = %v, want a1 b1 a2 b2 a3 (the duplicate dropped)", bodies)
	}
	if got.Messages[0].Attributes["MessageGroupId"] != "a" || got.Messages[0].Attributes["MessageDeduplicationId"] == "" {
		t.Errorf("FIFO attributes: %v", got.Messages[0].Attributes)
	}
	// While group a has messages in flight, a4 waits.
	send("a", "a4")
	held, err := c.ReceiveMessage(cx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 1})
	if err != nil || len(held.Messages) != 0 {
		t.Fatalf("a4 was received while a1-a3 were in flight: %+v, %v", held, err)
	}
	for _, m := range got.Messages {
		if _, err := c.DeleteMessage(cx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
	}
	held, err = c.ReceiveMessage(cx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 5})
	if err != nil || len(held.Messages) != 1 || aws.ToString(held.Messages[0].Body) != "a4" {
		t.Fatalf("after deleting a1-a3: %+v, %v", held, err)
	}
}

// testSQSDelay: a delayed message appears after its delay; a visibility
// change to 0 makes a message visible again at once.
func testSQSDelay(t *testing.T, srv *testutil.Server) {
	c := sqsClient(srv)
	cx := ctx(t)
	q, err := c.CreateQueue(cx, &sqs.CreateQueueInput{QueueName: aws.String("sdk-delay")})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	const trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
	if _, err := c.SendMessage(cx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("later"), DelaySeconds: 2,
		MessageSystemAttributes: map[string]sqstypes.MessageSystemAttributeValue{
			"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String(trace)}}}); err != nil {
		t.Fatal(err)
	}
	all := []sqstypes.MessageSystemAttributeName{"All"}
	got, err := c.ReceiveMessage(cx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 10, MessageSystemAttributeNames: all})
	if err != nil || len(got.Messages) != 1 || time.Since(start) < 2*time.Second || got.Messages[0].Attributes["ApproximateReceiveCount"] != "1" ||
		got.Messages[0].Attributes["AWSTraceHeader"] != trace {
		t.Fatalf("delayed message after %s: %+v, %v", time.Since(start), got, err)
	}
	if _, err := c.ChangeMessageVisibility(cx, &sqs.ChangeMessageVisibilityInput{QueueUrl: q.QueueUrl,
		ReceiptHandle: got.Messages[0].ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	got, err = c.ReceiveMessage(cx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 5, MessageSystemAttributeNames: all})
	if err != nil || len(got.Messages) != 1 || got.Messages[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("after ChangeMessageVisibility 0: %+v, %v", got, err)
	}
	if _, err := c.SendMessage(cx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("x"), DelaySeconds: 901}); apiErrorCode(err) != "InvalidParameterValue" {
		t.Errorf("DelaySeconds 901: %v", err)
	}
}

// testSQSWithSDK checks the SDK's MD5 validation of bodies and of binary
// and custom-typed attributes, the batch operations, queue management.
func testSQSWithSDK(t *testing.T, srv *testutil.Server) {
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

	// Creating it again with the same attributes is fine; with others not.
	if _, err := c.CreateQueue(cx, &sqs.CreateQueueInput{QueueName: aws.String("sdk-q")}); err != nil {
		t.Errorf("CreateQueue again: %v", err)
	}
	_, err = c.CreateQueue(cx, &sqs.CreateQueueInput{QueueName: aws.String("sdk-q"), Attributes: map[string]string{"VisibilityTimeout": "7"}})
	var exists *sqstypes.QueueNameExists
	if !errors.As(err, &exists) {
		t.Errorf("CreateQueue with another VisibilityTimeout: %v, want QueueNameExists", err)
	}
	_, err = c.SetQueueAttributes(cx, &sqs.SetQueueAttributesInput{QueueUrl: q.QueueUrl, Attributes: map[string]string{"Colour": "blue"}})
	var badName *sqstypes.InvalidAttributeName
	if !errors.As(err, &badName) {
		t.Errorf("SetQueueAttributes with an unknown attribute: %v", err)
	}
	if _, err := c.DeleteMessage(cx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: aws.String("not-a-handle")}); apiErrorCode(err) != "ReceiptHandleIsInvalid" {
		t.Errorf("DeleteMessage with a bad handle: %v", err)
	}
	// AWS's own form of the URL names the same queue.
	awsURL := "https://sqs.us-east-1.amazonaws.com/000000000000/sdk-q"
	if _, err := c.SendMessage(cx, &sqs.SendMessageInput{QueueUrl: &awsURL, MessageBody: aws.String("via an AWS URL")}); err != nil {
		t.Errorf("SendMessage to %s: %v", awsURL, err)
	}
	if _, err := c.PurgeQueue(cx, &sqs.PurgeQueueInput{QueueUrl: q.QueueUrl}); err != nil {
		t.Fatal(err)
	}
	if got, err := c.ReceiveMessage(cx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl}); err != nil || len(got.Messages) != 0 {
		t.Errorf("a purged queue returned %+v, %v", got, err)
	}
	if _, err := c.TagQueue(cx, &sqs.TagQueueInput{QueueUrl: q.QueueUrl, Tags: map[string]string{"team": "core", "env": "test"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagQueue(cx, &sqs.UntagQueueInput{QueueUrl: q.QueueUrl, TagKeys: []string{"env"}}); err != nil {
		t.Fatal(err)
	}
	if tags, err := c.ListQueueTags(cx, &sqs.ListQueueTagsInput{QueueUrl: q.QueueUrl}); err != nil || len(tags.Tags) != 1 || tags.Tags["team"] != "core" {
		t.Errorf("ListQueueTags: %+v, %v", tags, err)
	}
	if list, err := c.ListQueues(cx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String("sdk-q")}); err != nil || !slices.Equal(list.QueueUrls, []string{aws.ToString(q.QueueUrl)}) {
		t.Errorf("ListQueues: %+v, %v", list, err)
	}
	if _, err := c.DeleteQueue(cx, &sqs.DeleteQueueInput{QueueUrl: q.QueueUrl}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReceiveMessage(cx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl}); !errors.As(err, &notFound) {
		t.Errorf("ReceiveMessage from a deleted queue: %v", err)
	}
}

// testSQSQueryProtocol speaks SQS's query protocol, as older clients
// (the Debian awscli v2.9 package among them) do: signed forms posted to
// / and to a queue's URL, answered in XML.
func testSQSQueryProtocol(t *testing.T, srv *testutil.Server) {
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

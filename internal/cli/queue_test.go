package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeQueues fakes updraft's queue endpoints with one in-memory queue
// per name, and records what it was sent.
type fakeQueues struct {
	mu       sync.Mutex
	queues   map[string][]queueMessage // guarded by mu
	requests []string                  // "METHOD /path?query", guarded by mu
	bodies   map[string][]byte         // last body per "METHOD /path", guarded by mu
	nextID   int                       // guarded by mu
}

func newFakeQueues(t *testing.T) (*fakeQueues, string) {
	t.Helper()
	f := &fakeQueues{queues: map[string][]queueMessage{}, bodies: map[string][]byte{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /updraft/v1/queues/{name}/messages", f.send)
	mux.HandleFunc("POST /updraft/v1/queues/{name}/receive", f.receive)
	mux.HandleFunc("GET /updraft/v1/queues", f.list)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
		f.bodies[r.Method+" "+r.URL.Path] = body
		f.mu.Unlock()
		if auth := r.Header.Get("Authorization"); !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDTEST/") {
			lambdaError(w, http.StatusForbidden, "InvalidSignatureException", "unsigned request: "+auth)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func (f *fakeQueues) send(w http.ResponseWriter, r *http.Request) {
	var req struct {
		MessageBody       *string
		MessageAttributes map[string]queueAttribute
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.MessageBody == nil {
		lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", "The request must contain the parameter MessageBody.")
		return
	}
	f.mu.Lock()
	f.nextID++
	id := "id-" + string(rune('0'+f.nextID))
	name := r.PathValue("name")
	f.queues[name] = append(f.queues[name], queueMessage{MessageID: id, ReceiptHandle: "1:" + id, MD5OfBody: "md5",
		Body: *req.MessageBody, MessageAttributes: req.MessageAttributes})
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"MessageId": id, "MD5OfMessageBody": "md5"})
}

func (f *fakeQueues) receive(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := r.PathValue("name")
	msgs, ok := f.queues[name]
	if !ok {
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Queue not found: arn:aws:sqs:us-east-1:000000000000:"+name)
		return
	}
	n := 1
	if r.URL.Query().Get("max") == "10" {
		n = 10
	}
	n = min(n, len(msgs))
	f.queues[name] = msgs[n:]
	writeJSON(w, http.StatusOK, map[string]any{"Messages": msgs[:n]})
}

func (f *fakeQueues) list(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []queueInfo{}
	for _, name := range []string{"dlq", "orders.fifo"} {
		if msgs, ok := f.queues[name]; ok {
			out = append(out, queueInfo{Name: name, Arn: "arn:aws:sqs:us-east-1:000000000000:" + name, ApproximateNumberOfMessages: uint64(len(msgs))})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"Queues": out})
}

func (f *fakeQueues) seen() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.requests, "\n")
}

func (f *fakeQueues) body(key string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bodies[key]
}

func TestQueueCommands(t *testing.T) {
	fake, url := newFakeQueues(t)

	steps := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string // exact unless wantPrefix
		wantStderr string // substring; "" means stderr must be empty
	}{
		{name: "send prints the message id",
			args:       []string{"queue", "send", "dlq", `{"n":1}`, "--attribute", "RequestID=r-1", "--attribute", "ErrorCode:Number=200"},
			wantStdout: "{\n    \"MessageId\": \"id-1\",\n    \"MD5OfMessageBody\": \"md5\"\n}\n"},
		{name: "send to a second queue",
			args: []string{"queue", "send", "orders.fifo", "x"}, wantStdout: "{\n    \"MessageId\": \"id-2\",\n    \"MD5OfMessageBody\": \"md5\"\n}\n"},
		{name: "send of a second message",
			args: []string{"queue", "send", "dlq", "two words"}, wantStdout: "{\n    \"MessageId\": \"id-3\",\n    \"MD5OfMessageBody\": \"md5\"\n}\n"},
		{name: "list prints a table",
			args: []string{"queue", "list"},
			wantStdout: "NAME         MESSAGES  ARN\n" +
				"dlq          2         arn:aws:sqs:us-east-1:000000000000:dlq\n" +
				"orders.fifo  1         arn:aws:sqs:us-east-1:000000000000:orders.fifo\n"},
		{name: "list --json prints the server's shape",
			args:       []string{"queue", "list", "--json"},
			wantStdout: "{\n    \"Queues\": [\n        {\n            \"Name\": \"dlq\",\n            \"Arn\": \"arn:aws:sqs:us-east-1:000000000000:dlq\",\n            \"ApproximateNumberOfMessages\": 2\n        },\n        {\n            \"Name\": \"orders.fifo\",\n            \"Arn\": \"arn:aws:sqs:us-east-1:000000000000:orders.fifo\",\n            \"ApproximateNumberOfMessages\": 1\n        }\n    ]\n}\n"},
		{name: "receive prints one JSON line per message",
			args: []string{"queue", "receive", "dlq", "--max", "10", "--wait", "1500ms"},
			wantStdout: `{"MessageId":"id-1","ReceiptHandle":"1:id-1","MD5OfBody":"md5","Body":"{\"n\":1}","MessageAttributes":{"ErrorCode":{"DataType":"Number","StringValue":"200"},"RequestID":{"DataType":"String","StringValue":"r-1"}}}` + "\n" +
				`{"MessageId":"id-3","ReceiptHandle":"1:id-3","MD5OfBody":"md5","Body":"two words"}` + "\n"},
		{name: "receive of an empty queue prints nothing and succeeds",
			args: []string{"queue", "receive", "dlq"}},
		{name: "receive of a missing queue fails with the service error",
			args: []string{"queue", "receive", "ghost"}, wantCode: 1,
			wantStderr: "updraft: ResourceNotFoundException: Queue not found: arn:aws:sqs:us-east-1:000000000000:ghost\n"},
		{name: "receive refuses --max 11 before sending anything",
			args: []string{"queue", "receive", "dlq", "--max", "11"}, wantCode: 1, wantStderr: "updraft: --max 11: want 1 to 10\n"},
		{name: "receive refuses --wait over 20s",
			args: []string{"queue", "receive", "dlq", "--wait", "21s"}, wantCode: 1, wantStderr: "updraft: --wait 21s: want 0s to 20s\n"},
		{name: "send refuses a malformed attribute",
			args: []string{"queue", "send", "dlq", "x", "--attribute", "novalue"}, wantCode: 1,
			wantStderr: "updraft: --attribute \"novalue\": want NAME=VALUE or NAME:Number=VALUE\n"},
		{name: "send refuses an unknown attribute type",
			args: []string{"queue", "send", "dlq", "x", "--attribute", "a:Binary=x"}, wantCode: 1,
			wantStderr: "updraft: --attribute \"a:Binary=x\": type \"Binary\": want String or Number\n"},
		{name: "send without a body points to --help",
			args: []string{"queue", "send", "dlq"}, wantCode: 1,
			wantStderr: "updraft: want the queue NAME and the message BODY (see 'updraft queue send --help')\n"},
		{name: "receive without a name points to --help",
			args: []string{"queue", "receive"}, wantCode: 1,
			wantStderr: "updraft: missing the queue NAME (see 'updraft queue receive --help')\n"},
	}
	for _, tc := range steps {
		t.Run(tc.name, func(t *testing.T) {
			res := runCLI(t, url, tc.args...)
			if res.code != tc.wantCode {
				t.Errorf("exit %d, want %d (stderr %q)", res.code, tc.wantCode, res.stderr)
			}
			if res.stdout != tc.wantStdout {
				t.Errorf("stdout =\n%s\nwant\n%s", res.stdout, tc.wantStdout)
			}
			if tc.wantStderr == "" && res.stderr != "" || !strings.Contains(res.stderr, tc.wantStderr) {
				t.Errorf("stderr = %q, want %q", res.stderr, tc.wantStderr)
			}
		})
	}

	var sent struct {
		MessageBody       string
		MessageAttributes map[string]queueAttribute
	}
	if err := json.Unmarshal(fake.body("POST /updraft/v1/queues/dlq/messages"), &sent); err != nil {
		t.Fatal(err)
	}
	if sent.MessageBody != "two words" {
		t.Errorf("last body sent to dlq = %+v", sent)
	}
	seen := fake.seen()
	for _, want := range []string{
		"POST /updraft/v1/queues/dlq/receive?max=10&wait=1.5",
		"POST /updraft/v1/queues/dlq/receive?max=1",
		"GET /updraft/v1/queues",
	} {
		if !strings.Contains(seen, want) {
			t.Errorf("server did not see %q in:\n%s", want, seen)
		}
	}
	if strings.Contains(seen, "max=11") || strings.Contains(seen, "wait=21") {
		t.Errorf("refused flags reached the server:\n%s", seen)
	}
}

func TestQueueSendReadsTheBodyFromStdin(t *testing.T) {
	fake, url := newFakeQueues(t)
	runCLI(t, "") // sets the test environment
	var stdout, stderr bytes.Buffer
	cmd := queueCommand(newEnv(&stdout, &stderr))
	cmd.SetIn(strings.NewReader("line one\nline two\n"))
	cmd.SetArgs([]string{"send", "q", "-", "--endpoint-url", url})
	if err := cmd.ExecuteContext(t.Context()); err != nil {
		t.Fatalf("%v (stderr %s)", err, stderr.String())
	}
	var sent struct{ MessageBody string }
	if err := json.Unmarshal(fake.body("POST /updraft/v1/queues/q/messages"), &sent); err != nil {
		t.Fatal(err)
	}
	if sent.MessageBody != "line one\nline two\n" {
		t.Errorf("body sent = %q", sent.MessageBody)
	}
}

func TestParseQueueAttributes(t *testing.T) {
	got, err := parseQueueAttributes([]string{"a=1=2", "b:Number=3", "c="})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]queueAttribute{"a": {"String", "1=2"}, "b": {"Number", "3"}, "c": {"String", ""}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %+v, want %+v", k, got[k], v)
		}
	}
	if _, err := parseQueueAttributes([]string{"a=1", "a=2"}); err == nil {
		t.Error("a repeated attribute was accepted")
	}
	if got, err := parseQueueAttributes(nil); got != nil || err != nil {
		t.Errorf("no attributes = %v, %v", got, err)
	}
}

func TestQueueReceivePath(t *testing.T) {
	got, err := queueReceivePath("a b", queueReceiveFlags{max: 3, wait: 20 * time.Second})
	if err != nil || got != "/updraft/v1/queues/a%20b/receive?max=3&wait=20" {
		t.Errorf("queueReceivePath = %q, %v", got, err)
	}
}

package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/updraft/updraft/internal/testutil"
)

// invocationRecord is the JSON of GET /updraft/v1/invocations/{id}.
type invocationRecord struct {
	RequestID       string          `json:"requestId"`
	Status          string          `json:"status"`
	Attempts        int             `json:"attempts"`
	StartedAt       *time.Time      `json:"startedAt"`
	Condition       string          `json:"condition"`
	ExecutedVersion string          `json:"executedVersion"`
	Result          json.RawMessage `json:"result"`
	Error           *struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	} `json:"error"`
}

// signedDo sends a SigV4-signed request to srv, signed for service (the
// aws CLI signs "lambda"; remote-service callers sign "execute-api").
func signedDo(t *testing.T, srv *testutil.Server, service, method, path string, body []byte, header http.Header) (int, http.Header, []byte) {
	t.Helper()
	return signedDoIn(t, srv, "us-east-1", service, method, path, body, header)
}

// signedDoIn is signedDo signing for region (a server started with
// --region).
func signedDoIn(t *testing.T, srv *testutil.Server, region, service, method, path string, body []byte, header http.Header) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: srv.AccessKeyID, SecretAccessKey: srv.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, region, time.Now()); err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(c))
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// waitRecord long-polls the record of id until it is final.
func waitRecord(t *testing.T, srv *testutil.Server, id string, within time.Duration) invocationRecord {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		status, _, body := signedDo(t, srv, "lambda", "GET", "/updraft/v1/invocations/"+id+"?wait=20", nil, nil)
		if status != 200 {
			t.Fatalf("GET record %s: %d %s", id, status, body)
		}
		var rec invocationRecord
		if err := json.Unmarshal(body, &rec); err != nil {
			t.Fatalf("record %s: %v: %s", id, err, body)
		}
		if rec.Status == "SUCCEEDED" || rec.Status == "FAILED" {
			return rec
		}
		if time.Now().After(deadline) {
			t.Fatalf("record %s still %s after %s: %s", id, rec.Status, within, body)
		}
	}
}

var requestIDHeader = regexp.MustCompile(`(?i)'x-amzn-RequestId': '([0-9a-f-]{36})'`)

// TestAsyncEventWithAWSCLI: the aws CLI's Event invoke gets 202 and the
// record of its request id reaches SUCCEEDED with the function's result.
func TestAsyncEventWithAWSCLI(t *testing.T) {
	requireAWSCLI(t)
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{})
	createTestFunction(t, srv.Lambda(), "evented", fnOpts{})
	stdout, stderr := awsCLI(t, srv, false, "--debug", "lambda", "invoke", "--function-name", "evented",
		"--invocation-type", "Event",
		"--payload", `{"action":"echo","echo":"later"}`, "out.json")
	var out struct{ StatusCode int }
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || out.StatusCode != 202 {
		t.Fatalf("aws lambda invoke --invocation-type Event printed %q (err %v), want StatusCode 202", stdout, err)
	}
	m := requestIDHeader.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no x-amzn-RequestId in the CLI's debug output:\n%s", lastLines(stderr, 40))
	}
	rec := waitRecord(t, srv, m[1], 30*time.Second)
	if rec.Status != "SUCCEEDED" || rec.Attempts != 1 || rec.ExecutedVersion != "$LATEST" {
		t.Fatalf("record: %+v", rec)
	}
	var result map[string]any
	if err := json.Unmarshal(rec.Result, &result); err != nil || result["echo"] != "later" || result["requestId"] != m[1] {
		t.Fatalf("result %s (err %v): want the echo under request id %s", rec.Result, err, m[1])
	}

	// The legacy InvokeAsync operation queues an event too.
	args := filepath.Join(t.TempDir(), "args.json")
	if err := os.WriteFile(args, []byte(`{"action":"echo","echo":"legacy"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, _ = awsCLI(t, srv, false, "lambda", "invoke-async", "--function-name", "evented", "--invoke-args", args)
	if !strings.Contains(stdout, `"Status": 202`) {
		t.Fatalf("aws lambda invoke-async printed %q, want Status 202", stdout)
	}
	testutil.WaitFor(t, 30*time.Second, func() error {
		if v := metricValue(t, srv, `lambda_invocations_total{function="evented",version="$LATEST"}`); v != "2" {
			return fmt.Errorf("the function ran %q times, want 2", v)
		}
		return nil
	})
	for _, series := range []string{
		`lambda_async_events_received_total{function="evented"}`,
		`lambda_async_queue_depth{function="evented"}`,
		`lambda_async_event_age_seconds{function="evented"}`,
	} {
		if metricValue(t, srv, series) == "" {
			t.Errorf("/metrics lacks %s", series)
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// failingURL answers "fail" to the first failures GETs and "ok" after,
// counting them.
func failingURL(t *testing.T, failures int64) (string, *atomic.Int64) {
	var calls atomic.Int64
	url := reachableURL(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= failures {
			fmt.Fprint(w, "fail")
			return
		}
		fmt.Fprint(w, "ok")
	}))
	return url, &calls
}

// eventInvoke sends an Event invocation with the SDK and returns its
// request id.
func eventInvoke(t *testing.T, c *lambda.Client, name string, event any) string {
	t.Helper()
	payload, _ := json.Marshal(event)
	out, err := c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String(name), InvocationType: types.InvocationTypeEvent, Payload: payload})
	if err != nil {
		t.Fatalf("Event invoke %s: %v", name, err)
	}
	if out.StatusCode != 202 {
		t.Fatalf("Event invoke %s: status %d", name, out.StatusCode)
	}
	id := requestIDOf(out.ResultMetadata)
	if id == "" {
		t.Fatal("Event invoke: no request id")
	}
	return id
}

// TestAsyncRetriesThenSuccess: with the default two retries, a function
// failing twice succeeds on its third attempt.
func TestAsyncRetriesThenSuccess(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{Args: []string{"--async-retry-delay", "200ms"}})
	createTestFunction(t, srv.Lambda(), "flaky", fnOpts{})
	url, calls := failingURL(t, 2)
	id := eventInvoke(t, srv.Lambda(), "flaky", map[string]any{"action": "fail-url", "value": url})
	rec := waitRecord(t, srv, id, 30*time.Second)
	if rec.Status != "SUCCEEDED" || rec.Attempts != 3 || string(rec.Result) != `"ok"` || calls.Load() != 3 {
		t.Fatalf("record %+v after %d calls: want SUCCEEDED on attempt 3 with \"ok\"", rec, calls.Load())
	}
}

// requestIDOf returns the x-amzn-RequestId the SDK recorded.
func requestIDOf(md middleware.Metadata) string {
	id, _ := awsmiddleware.GetRequestIDMetadata(md)
	return id
}

// TestAsyncWithUpdraftCLI: `updraft invoke --async` prints a request id,
// `updraft invocation get --wait` prints its final record, and
// `updraft invoke --async --wait` prints the result or fails like a
// synchronous invoke.
func TestAsyncWithUpdraftCLI(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{Args: []string{"--async-retry-delay", "100ms"}})
	createTestFunction(t, srv.Lambda(), "queued", fnOpts{})

	out, errOut, err := updraftCLI(t, srv, "invoke", "queued", "--async", "--payload", `{"action":"echo","echo":"cli"}`)
	id := strings.TrimSpace(out)
	if err != nil || len(id) != 36 {
		t.Fatalf("invoke --async: %v\n%s\n%s", err, out, errOut)
	}
	out, errOut, err = updraftCLI(t, srv, "invocation", "get", id, "--wait", "30s")
	if err != nil || !strings.Contains(out, `"status": "SUCCEEDED"`) || !strings.Contains(out, `"echo": "cli"`) {
		t.Fatalf("invocation get --wait: %v\n%s\n%s", err, out, errOut)
	}
	out, errOut, err = updraftCLI(t, srv, "invoke", "queued", "--async", "--wait", "--payload", `{"action":"version"}`)
	if err != nil || strings.TrimSpace(out) != `"v1"` {
		t.Fatalf("invoke --async --wait: %v\n%s\n%s", err, out, errOut)
	}
	out, errOut, err = updraftCLI(t, srv, "invoke", "queued", "--async", "--wait", "--payload", `{"action":"error","value":"boom"}`)
	if err == nil || !strings.Contains(out, "testfn failed: boom") || !strings.Contains(errOut, "errorString") {
		t.Fatalf("invoke --async --wait of a failing function: %v\n%s\n%s", err, out, errOut)
	}
}

// TestFunctionInvokesAnotherAsynchronously: a function's own AWS SDK,
// configured only from the environment the platform gives it
// (credentials and AWS_ENDPOINT_URL), queues an Event invocation of
// another function, which then runs.
func TestFunctionInvokesAnotherAsynchronously(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{})
	c := srv.Lambda()
	createTestFunction(t, c, "caller", fnOpts{})
	createTestFunction(t, c, "callee", fnOpts{})
	var out struct {
		Status    int    `json:"status"`
		RequestID string `json:"requestId"`
	}
	invokeJSON(t, c, "caller", map[string]any{"action": "invoke-event", "value": "callee"}, &out)
	if out.Status != 202 || out.RequestID == "" {
		t.Fatalf("the function's Event invoke answered %+v", out)
	}
	rec := waitRecord(t, srv, out.RequestID, 30*time.Second)
	if rec.Status != "SUCCEEDED" || !strings.Contains(string(rec.Result), "from a function") {
		t.Fatalf("record of the event a function queued: %+v %s", rec, rec.Result)
	}
}

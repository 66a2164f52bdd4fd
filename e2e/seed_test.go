package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/testutil"
)

// batchIDHeader is the header Snowflake's external functions send, in
// the spelling they send it and the seed reads it.
const batchIDHeader = "sf-external-function-query-batch-id"

// headersHandler answers the header names of its API Gateway event.
const headersHandler = `import json


def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({
        "batch": event["headers"].get("sf-external-function-query-batch-id"),
        "headers": sorted(event["headers"]),
        "multi": sorted(event["multiValueHeaders"]),
    })}
`

// TestHTTPProxyRawHeaderNames: the HTTP proxy's REST events carry header
// names as the client spelled them, as API Gateway's do, so a function
// indexing event["headers"] by the lower-case name finds it.
func TestHTTPProxyRawHeaderNames(t *testing.T) {
	pyRequire(t)
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{})
	zipPath := filepath.Join(t.TempDir(), "fn.zip")
	zip := testutil.ZipFiles(t, map[string]testutil.ZipEntry{"app.py": {Data: []byte(headersHandler)}})
	if err := os.WriteFile(zipPath, zip, 0o644); err != nil {
		t.Fatal(err)
	}
	pyCLICreate(t, srv, zipPath, "raw-headers", "app.handler")
	h := http.Header{}
	h[batchIDHeader] = []string{"batch-7"} // as sent: not canonicalised
	h["X-MiXeD-CaSe"] = []string{"1"}
	for i := 0; i < 2; i++ { // the second on a kept-alive connection
		status, _, body := signedDo(t, srv, "execute-api", "POST", "/updraft/v1/http/raw-headers/x", []byte(`{}`), h)
		if status != 200 {
			t.Fatalf("status %d: %s", status, body)
		}
		var got struct {
			Batch          *string
			Headers, Multi []string
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("body %s: %v", body, err)
		}
		if got.Batch == nil || *got.Batch != "batch-7" {
			t.Fatalf(`event["headers"][%q] = %v; header names %v`, batchIDHeader, got.Batch, got.Headers)
		}
		for _, want := range []string{batchIDHeader, "X-MiXeD-CaSe", "Content-Length", "Host", "Authorization", "X-Amz-Date"} {
			if !contains(got.Headers, want) || !contains(got.Multi, want) {
				t.Errorf("header %q missing from headers %v or multiValueHeaders %v", want, got.Headers, got.Multi)
			}
		}
		if contains(got.Headers, "Sf-External-Function-Query-Batch-Id") {
			t.Errorf("the canonical spelling is in the event too: %v", got.Headers)
		}
	}
}

// TestHTTPProxyHeaderNamesOverHTTP2: over HTTP/2 (h2c with prior
// knowledge, as the AWS SDK for JavaScript v3 speaks it) header names are
// lower case on the wire, and the event carries them so; HTTP/1.1 on the
// same server keeps the client's spellings.
func TestHTTPProxyHeaderNamesOverHTTP2(t *testing.T) {
	pyRequire(t)
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{Args: []string{"--auth", "none"}})
	zip := testutil.ZipFiles(t, map[string]testutil.ZipEntry{"app.py": {Data: []byte(headersHandler)}})
	if _, err := srv.Lambda().CreateFunction(ctx(t), &lambda.CreateFunctionInput{
		FunctionName: aws.String("h2-headers"), Runtime: types.RuntimePython312, Handler: aws.String("app.handler"),
		Role: aws.String(testRole), Code: &types.FunctionCode{ZipFile: zip},
	}); err != nil {
		t.Fatal(err)
	}
	h2 := &http.Transport{Protocols: new(http.Protocols)}
	h2.Protocols.SetUnencryptedHTTP2(true)
	defer h2.CloseIdleConnections()
	for _, tc := range []struct {
		name   string
		client *http.Client
		proto  int
		want   []string
	}{
		{"HTTP/2", &http.Client{Transport: h2}, 2, []string{batchIDHeader, "x-mixed-case", "host"}},
		{"HTTP/1.1", &http.Client{}, 1, []string{batchIDHeader, "X-MiXeD-CaSe", "Host"}},
	} {
		req, err := http.NewRequestWithContext(ctx(t), "GET", srv.URL+"/updraft/v1/http/h2-headers/x", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header[batchIDHeader] = []string{"b"}
		req.Header["X-MiXeD-CaSe"] = []string{"1"}
		resp, err := tc.client.Do(req)
		if err != nil {
			if tc.proto == 2 {
				t.Skipf("the server does not speak h2c: %v", err)
			}
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.ProtoMajor != tc.proto {
			t.Fatalf("%s: %s %d %s", tc.name, resp.Proto, resp.StatusCode, body)
		}
		var got struct{ Headers []string }
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("%s: %s: %v", tc.name, body, err)
		}
		for _, want := range tc.want {
			if !contains(got.Headers, want) {
				t.Errorf("%s: header %q missing from %v", tc.name, want, got.Headers)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// awsCLIIn runs the aws CLI against srv signing for region; it returns
// stdout, stderr and whether it succeeded.
func awsCLIIn(t *testing.T, srv *testutil.Server, region string, args ...string) (string, string, bool) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	full := append([]string{"--endpoint-url", srv.URL, "--region", region, "--output", "json"}, args...)
	cmd := exec.CommandContext(c, "aws", full...)
	cmd.Env = srv.AWSEnv()
	cmd.Dir = t.TempDir()
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err == nil
}

// TestSeedAsyncRemoteService runs the seed's asynchronous remote service
// (e2e/testdata/seed/lambda_function.py: Snowflake's sample, unmodified
// but for its sentiment call) as the README walks through it: a server
// with --region us-east-2 (the sample's REGION_NAME), the table Jobs made
// with the aws CLI, the function behind the HTTP proxy. The POST handler
// records the batch in DynamoDB and invokes the function itself with
// InvocationType='Event' through boto3; the GET handler polls the table.
func TestSeedAsyncRemoteService(t *testing.T) {
	requireAWSCLI(t)
	boto3Require(t)
	t.Parallel()
	const region = "us-east-2"
	srv := testutil.StartServer(t, testutil.Options{Args: []string{"--region", region}})
	// DynamoDB's JSON protocol, signed as the CLI signs it; the CLI's own
	// start-up costs seconds, so it runs only where a person would type.
	dynamo := func(op, body string) (int, []byte) {
		t.Helper()
		status, _, out := signedDoIn(t, srv, region, "dynamodb", "POST", "/", []byte(body), http.Header{
			"X-Amz-Target": {"DynamoDB_20120810." + op}, "Content-Type": {"application/x-amz-json-1.0"}})
		return status, out
	}
	if status, out := dynamo("ListTables", "{}"); status != 200 {
		// Without DynamoDB, "POST /" signed for dynamodb is refused as a
		// request for another service, or as an unknown operation.
		if strings.Contains(string(out), "UnknownOperation") || strings.Contains(string(out), "No operation matches") ||
			strings.Contains(string(out), "Credential should be scoped to correct service") {
			t.Skipf("this server does not serve DynamoDB (DynamoDB_20120810) yet, which the seed's table needs (issue 15 items 1-2): %d %s", status, out)
		}
		t.Fatalf("ListTables: %d %s", status, out)
	}
	if out, errOut, ok := awsCLIIn(t, srv, region, "dynamodb", "create-table", "--table-name", "Jobs",
		"--attribute-definitions", "AttributeName=batch_id,AttributeType=S",
		"--key-schema", "AttributeName=batch_id,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST"); !ok {
		t.Fatalf("aws dynamodb create-table: %s%s", out, errOut)
	}

	code, err := os.ReadFile(filepath.Join("testdata", "seed", "lambda_function.py"))
	if err != nil {
		t.Fatal(err)
	}
	c := lambda.New(lambda.Options{
		Region: region, BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.SecretAccessKey, ""),
	})
	if _, err := c.CreateFunction(ctx(t), &lambda.CreateFunctionInput{
		FunctionName: aws.String("ext-func-async"), Runtime: types.RuntimePython312,
		Handler: aws.String("lambda_function.lambda_handler"), Role: aws.String(testRole),
		Timeout: aws.Int32(30), MemorySize: aws.Int32(256),
		Code: &types.FunctionCode{ZipFile: testutil.ZipFiles(t, map[string]testutil.ZipEntry{"lambda_function.py": {Data: code}})},
	}); err != nil {
		t.Fatalf("create-function: %v", err)
	}
	testutil.WaitFor(t, 30*time.Second, func() error {
		status, out := dynamo("DescribeTable", `{"TableName":"Jobs"}`)
		var d struct{ Table struct{ TableStatus string } }
		if status != 200 || json.Unmarshal(out, &d) != nil || d.Table.TableStatus != "ACTIVE" {
			return fmt.Errorf("table Jobs: %d %s", status, out)
		}
		f, err := c.GetFunctionConfiguration(ctx(t), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("ext-func-async")})
		if err != nil || f.State != types.StateActive {
			return fmt.Errorf("function ext-func-async not active: %v", err)
		}
		return nil
	})

	const path = "/updraft/v1/http/ext-func-async"
	h := http.Header{batchIDHeader: []string{"batch-0001"}, "Content-Type": []string{"application/json"}}
	status, _, body := signedDoIn(t, srv, region, "execute-api", "POST", path,
		[]byte(`{"data": [[0, "hello world"], [1, "I am happy"]]}`), h)
	if status != 202 {
		t.Fatalf("POST: %d %s, want 202", status, body)
	}
	want := [][]any{
		{float64(0), `{"upper": "HELLO WORLD", "words": 2}`},
		{float64(1), `{"upper": "I AM HAPPY", "words": 3}`},
	}
	deadline := time.Now().Add(30 * time.Second)
	for polls := 1; ; polls++ {
		status, _, body = signedDoIn(t, srv, region, "execute-api", "GET", path, nil, http.Header{batchIDHeader: []string{"batch-0001"}})
		if status == 200 {
			var got struct{ Data [][]any }
			if err := json.Unmarshal(body, &got); err != nil || !reflect.DeepEqual(got.Data, want) {
				t.Fatalf("GET 200 body %s (%v), want data %v", body, err, want)
			}
			t.Logf("200 after %d polls", polls)
			break
		}
		if status != 202 || time.Now().After(deadline) {
			t.Fatalf("GET (poll %d): %d %s, want 202 until 200", polls, status, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// What the processing run stored, read back with the aws CLI.
	var item struct{ Item map[string]map[string]any }
	out, errOut, ok := awsCLIIn(t, srv, region, "dynamodb", "get-item", "--table-name", "Jobs",
		"--key", `{"batch_id": {"S": "batch-0001"}}`, "--consistent-read")
	if err := json.Unmarshal([]byte(out), &item); !ok || err != nil {
		t.Fatalf("aws dynamodb get-item: %s%s (%v)", out, errOut, err)
	}
	if item.Item["status"]["S"] != "SUCCESS" {
		t.Errorf("the Jobs item is %v, want status SUCCESS", item.Item)
	}
}

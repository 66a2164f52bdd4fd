package e2e

import (
	"context"
	"crypto/md5"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/testutil"
)

// TestREADMEClaims drives, through the real binary, README claims that no
// other end-to-end test covers: weighted alias routing, presigned invoke
// URLs, Kinesis ExplicitHashKey and the error and throttle metrics.
func TestREADMEClaims(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{})
	c := srv.Lambda()

	t.Run("weighted alias routing", func(t *testing.T) {
		createTestFunction(t, c, "weighted", fnOpts{})
		for i, desc := range []string{"one", "two"} {
			if i > 0 {
				if _, err := c.UpdateFunctionConfiguration(ctx(t), &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("weighted"), Description: aws.String(desc)}); err != nil {
					t.Fatalf("update: %v", err)
				}
			}
			if err := lambda.NewFunctionUpdatedV2Waiter(c).Wait(ctx(t), getFunctionInput("weighted"), 30*time.Second); err != nil {
				t.Fatalf("wait updated: %v", err)
			}
			if _, err := c.PublishVersion(ctx(t), &lambda.PublishVersionInput{FunctionName: aws.String("weighted")}); err != nil {
				t.Fatalf("publish %d: %v", i+1, err)
			}
		}
		if _, err := c.CreateAlias(ctx(t), &lambda.CreateAliasInput{FunctionName: aws.String("weighted"), Name: aws.String("canary"), FunctionVersion: aws.String("1"),
			RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": 0.5}}}); err != nil {
			t.Fatalf("create alias: %v", err)
		}
		counts := map[string]int{}
		const n = 50
		for range n {
			res := invokeJSON(t, c, "weighted:canary", map[string]string{"action": "echo"}, nil)
			counts[aws.ToString(res.ExecutedVersion)]++
		}
		// With p = 0.5 over 50 invokes, fewer than 10 of either is a
		// 1-in-10^5 event.
		if counts["1"] < 10 || counts["2"] < 10 || counts["1"]+counts["2"] != n {
			t.Errorf("X-Amz-Executed-Version over %d invokes = %v, want both 1 and 2 about half the time", n, counts)
		}
	})

	t.Run("presigned invoke URL", func(t *testing.T) {
		createTestFunction(t, c, "presigned", fnOpts{})
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/2015-03-31/functions/presigned/invocations", nil)
		if err != nil {
			t.Fatal(err)
		}
		creds := aws.Credentials{AccessKeyID: srv.AccessKeyID, SecretAccessKey: srv.SecretAccessKey}
		url, _, err := v4.NewSigner().PresignHTTP(ctx(t), creds, req, "UNSIGNED-PAYLOAD", "lambda", "us-east-1", time.Now())
		if err != nil {
			t.Fatalf("presign: %v", err)
		}
		post := func(u string) (int, string) {
			resp, err := http.Post(u, "application/json", strings.NewReader(`{"action":"echo","echo":"presigned-ok"}`))
			if err != nil {
				t.Fatalf("POST: %v", err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		if status, body := post(url); status != 200 || !strings.Contains(body, `"echo":"presigned-ok"`) {
			t.Errorf("presigned POST = %d %s, want 200 with the echo", status, body)
		}
		// The signature covers the query: tampering with it is refused.
		tampered := strings.Replace(url, "X-Amz-Signature=", "X-Amz-Signature=0", 1)
		if status, body := post(tampered); status != 403 {
			t.Errorf("tampered presigned POST = %d %s, want 403", status, body)
		}
	})

	t.Run("kinesis ExplicitHashKey", func(t *testing.T) {
		k := kinesis.New(kinesis.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
			Credentials: aws.CredentialsProviderFunc(func(ctx2 context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: srv.AccessKeyID, SecretAccessKey: srv.SecretAccessKey}, nil
			})})
		if _, err := k.CreateStream(ctx(t), &kinesis.CreateStreamInput{StreamName: aws.String("ehk"), ShardCount: aws.Int32(4)}); err != nil {
			t.Fatalf("create stream: %v", err)
		}
		shards, err := k.ListShards(ctx(t), &kinesis.ListShardsInput{StreamName: aws.String("ehk")})
		if err != nil || len(shards.Shards) != 4 {
			t.Fatalf("list shards: %v %v", shards, err)
		}
		owner := func(h *big.Int) string {
			for _, s := range shards.Shards {
				lo, _ := new(big.Int).SetString(aws.ToString(s.HashKeyRange.StartingHashKey), 10)
				hi, _ := new(big.Int).SetString(aws.ToString(s.HashKeyRange.EndingHashKey), 10)
				if h.Cmp(lo) >= 0 && h.Cmp(hi) <= 0 {
					return aws.ToString(s.ShardId)
				}
			}
			t.Fatalf("no shard owns %s", h)
			return ""
		}
		const key = "partition-a"
		sum := md5.Sum([]byte(key))
		byKey := owner(new(big.Int).SetBytes(sum[:]))
		for _, s := range shards.Shards {
			if aws.ToString(s.ShardId) == byKey {
				continue
			}
			// The last hash of another shard: the explicit key, not the
			// partition key's MD5, chooses the shard.
			hash := aws.ToString(s.HashKeyRange.EndingHashKey)
			out, err := k.PutRecord(ctx(t), &kinesis.PutRecordInput{StreamName: aws.String("ehk"), PartitionKey: aws.String(key), ExplicitHashKey: aws.String(hash), Data: []byte("x")})
			if err != nil {
				t.Fatalf("put record: %v", err)
			}
			if got := aws.ToString(out.ShardId); got != aws.ToString(s.ShardId) {
				t.Errorf("ExplicitHashKey %s landed on %s, want %s (the partition key alone gives %s)", hash, got, aws.ToString(s.ShardId), byKey)
			}
			res, err := k.PutRecords(ctx(t), &kinesis.PutRecordsInput{StreamName: aws.String("ehk"),
				Records: []kinesistypes.PutRecordsRequestEntry{{PartitionKey: aws.String(key), ExplicitHashKey: aws.String(hash), Data: []byte("y")}}})
			if err != nil || len(res.Records) != 1 {
				t.Fatalf("put records: %v %v", res, err)
			}
			if got := aws.ToString(res.Records[0].ShardId); got != aws.ToString(s.ShardId) {
				t.Errorf("PutRecords ExplicitHashKey %s landed on %s, want %s", hash, got, aws.ToString(s.ShardId))
			}
		}
	})

	t.Run("errors and throttles metrics", func(t *testing.T) {
		createTestFunction(t, c, "metered", fnOpts{})
		errs := `lambda_errors_total{function="metered",version="$LATEST"}`
		throttles := `lambda_throttles_total{function="metered",version="$LATEST"}`
		e0, th0 := metricNumber(t, srv, errs), metricNumber(t, srv, throttles)
		for range 2 {
			res, err := c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("metered"), Payload: []byte(`{"action":"error","value":"boom"}`)})
			if err != nil || res.FunctionError == nil {
				t.Fatalf("invoke error action: %v %v", res, err)
			}
		}
		if _, err := c.PutFunctionConcurrency(ctx(t), &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("metered"), ReservedConcurrentExecutions: aws.Int32(0)}); err != nil {
			t.Fatalf("put concurrency: %v", err)
		}
		for range 3 {
			_, err := c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("metered"), Payload: []byte(`{}`)})
			if code := apiErrorCode(err); code != "TooManyRequestsException" {
				t.Fatalf("invoke at reserved concurrency 0: %v, want TooManyRequestsException", err)
			}
		}
		if got := metricNumber(t, srv, errs) - e0; got != 2 {
			t.Errorf("%s rose by %v, want 2", errs, got)
		}
		if got := metricNumber(t, srv, throttles) - th0; got != 3 {
			t.Errorf("%s rose by %v, want 3", throttles, got)
		}
	})

	t.Run("http proxy multiValueHeaders", func(t *testing.T) {
		pyRequire(t)
		zip := testutil.ZipFiles(t, map[string]testutil.ZipEntry{"mv.py": {Data: []byte(`import json

def handler(event, context):
    return {
        "statusCode": 200,
        "headers": {"X-Single": "s", "X-Both": "m1", "X-Merged": "h"},
        "multiValueHeaders": {"X-Both": ["m1", "m2"], "X-Merged": ["m"], "X-Multi": ["a", "b"]},
        "body": json.dumps({
            "mvh": event["multiValueHeaders"].get("X-Twice"),
            "h": event["headers"].get("X-Twice"),
            "mvq": event["multiValueQueryStringParameters"].get("q"),
            "q": event["queryStringParameters"].get("q"),
        }),
    }
`)}})
		if _, err := c.CreateFunction(ctx(t), &lambda.CreateFunctionInput{
			FunctionName: aws.String("mvweb"), Runtime: types.RuntimePython312, Handler: aws.String("mv.handler"),
			Role: aws.String(testRole), Timeout: aws.Int32(10), Code: &types.FunctionCode{ZipFile: zip},
		}); err != nil {
			t.Fatalf("create: %v", err)
		}
		status, header, body := signedDo(t, srv, "execute-api", "GET", "/updraft/v1/http/mvweb/x?q=1&q=2", nil,
			http.Header{"X-Twice": {"first", "second"}})
		if status != 200 {
			t.Fatalf("status %d: %s", status, body)
		}
		// API Gateway's REST proxy: the event lists every value in
		// multiValueHeaders and multiValueQueryStringParameters and the
		// last one in headers and queryStringParameters; in the answer,
		// headers and multiValueHeaders merge, a pair given in both once
		// ("If the same key-value pair is specified in both, only the
		// values from multiValueHeaders will appear in the merged list").
		var got struct {
			MVH []string `json:"mvh"`
			H   string   `json:"h"`
			MVQ []string `json:"mvq"`
			Q   string   `json:"q"`
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("body %s: %v", body, err)
		}
		if !slices.Equal(got.MVH, []string{"first", "second"}) || got.H != "second" || !slices.Equal(got.MVQ, []string{"1", "2"}) || got.Q != "2" {
			t.Errorf("the function saw %+v, want multiValueHeaders [first second], headers second, multiValueQueryStringParameters [1 2], queryStringParameters 2", got)
		}
		for name, want := range map[string][]string{"X-Multi": {"a", "b"}, "X-Both": {"m1", "m2"}, "X-Merged": {"m", "h"}, "X-Single": {"s"}} {
			if got := header.Values(name); !slices.Equal(got, want) {
				t.Errorf("response header %s = %q, want %q", name, got, want)
			}
		}
	})
}

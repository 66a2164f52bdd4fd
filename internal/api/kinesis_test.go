package api_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/api"
	"github.com/updraft/updraft/internal/stream"
	"github.com/updraft/updraft/internal/testutil"
	"github.com/updraft/updraft/internal/testutil/storetest"
)

// kinesisServer is the API with only the stream service.
func kinesisServer(t *testing.T) string {
	t.Helper()
	logger := testutil.Logger(t, slog.LevelDebug)
	st := storetest.Open(t, t.TempDir(), logger)
	s := stream.New(st.JetStream(), 1, logger, stream.WithAccount(testRegion, testAccount))
	srv := httptest.NewUnstartedServer(api.New(api.Deps{Logger: logger, Streams: s}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

func kinesisCall(t *testing.T, url, op, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "Kinesis_20131202."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		t.Errorf("%s: Content-Type %q", op, ct)
	}
	var out map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s: body %q: %v", op, b, err)
		}
	}
	return resp.StatusCode, out
}

func TestKinesisAPI(t *testing.T) {
	url := kinesisServer(t)
	for _, tc := range []struct {
		name, op, body string
		status         int
		errType        string
		check          func(t *testing.T, out map[string]any)
	}{
		{name: "create", op: "CreateStream", body: `{"StreamName":"s1","ShardCount":2}`, status: 200},
		{name: "create again", op: "CreateStream", body: `{"StreamName":"s1","ShardCount":2}`, status: 400, errType: "ResourceInUseException"},
		{name: "bad name", op: "CreateStream", body: `{"StreamName":"a b"}`, status: 400, errType: "InvalidArgumentException"},
		{name: "zero shards", op: "CreateStream", body: `{"StreamName":"z","ShardCount":0}`, status: 400, errType: "ValidationException"},
		{name: "not json", op: "PutRecord", body: `{"StreamName":`, status: 400, errType: "SerializationException"},
		{name: "unknown op", op: "MergeShards", body: `{}`, status: 400, errType: "UnknownOperationException"},
		{name: "GetRecords without an iterator", op: "GetRecords", body: `{}`, status: 400, errType: "ValidationException"},
		{name: "GetRecords with an expired iterator", op: "GetRecords", status: 400, errType: "ExpiredIteratorException",
			body: `{"ShardIterator":"` + base64.RawURLEncoding.EncodeToString([]byte(`{"s":"s1","h":0,"i":1000}`)) + `"}`},
		{name: "GetShardIterator with a bad type", op: "GetShardIterator", status: 400, errType: "ValidationException",
			body: `{"StreamName":"s1","ShardId":"shardId-000000000000","ShardIteratorType":"OLDEST"}`},
		{name: "no stream", op: "DescribeStreamSummary", body: `{}`, status: 400, errType: "InvalidArgumentException"},
		{name: "missing stream", op: "DescribeStreamSummary", body: `{"StreamName":"nope"}`, status: 400, errType: "ResourceNotFoundException",
			check: func(t *testing.T, out map[string]any) {
				if out["message"] != "Stream nope under account 000000000000 not found." {
					t.Errorf("message %v", out["message"])
				}
			}},
		{name: "describe", op: "DescribeStreamSummary", body: `{"StreamName":"s1"}`, status: 200, check: func(t *testing.T, out map[string]any) {
			sum, _ := out["StreamDescriptionSummary"].(map[string]any)
			if sum["StreamARN"] != "arn:aws:kinesis:us-east-1:000000000000:stream/s1" || sum["OpenShardCount"] != 2.0 ||
				sum["StreamStatus"] != "ACTIVE" || sum["RetentionPeriodHours"] != 24.0 {
				t.Errorf("summary %v", sum)
			}
		}},
		{name: "list shards by ARN", op: "ListShards", body: `{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s1","MaxResults":1}`, status: 200,
			check: func(t *testing.T, out map[string]any) {
				shards, _ := out["Shards"].([]any)
				if len(shards) != 1 || out["NextToken"] == nil {
					t.Fatalf("ListShards %v", out)
				}
				sh := shards[0].(map[string]any)
				hk := sh["HashKeyRange"].(map[string]any)
				if sh["ShardId"] != "shardId-000000000000" || hk["EndingHashKey"] != "170141183460469231731687303715884105727" {
					t.Errorf("shard %v", sh)
				}
			}},
		{name: "ARN of another account", op: "ListShards", body: `{"StreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s1"}`, status: 400, errType: "ResourceNotFoundException"},
		// "a" hashes into shard 0 of 2, "b" into shard 1.
		{name: "put", op: "PutRecord", body: `{"StreamName":"s1","PartitionKey":"b","Data":"aGVsbG8="}`, status: 200, check: func(t *testing.T, out map[string]any) {
			if out["ShardId"] != "shardId-000000000001" || len(out["SequenceNumber"].(string)) != 56 {
				t.Errorf("PutRecord %v", out)
			}
		}},
		{name: "put not base64", op: "PutRecord", body: `{"StreamName":"s1","PartitionKey":"b","Data":"*"}`, status: 400, errType: "SerializationException"},
		{name: "put no key", op: "PutRecord", body: `{"StreamName":"s1","Data":""}`, status: 400, errType: "ValidationException"},
		{name: "puts", op: "PutRecords", body: `{"StreamName":"s1","Records":[{"PartitionKey":"a","Data":""},{"PartitionKey":"b","Data":"eA=="}]}`, status: 200,
			check: func(t *testing.T, out map[string]any) {
				recs, _ := out["Records"].([]any)
				if out["FailedRecordCount"] != 0.0 || len(recs) != 2 || recs[0].(map[string]any)["ShardId"] != "shardId-000000000000" {
					t.Errorf("PutRecords %v", out)
				}
			}},
		{name: "delete", op: "DeleteStream", body: `{"StreamName":"s1"}`, status: 200},
		{name: "delete again", op: "DeleteStream", body: `{"StreamName":"s1"}`, status: 400, errType: "ResourceNotFoundException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := kinesisCall(t, url, tc.op, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, out)
			}
			if tc.errType != "" && out["__type"] != tc.errType {
				t.Fatalf("__type %v, want %s: %v", out["__type"], tc.errType, out)
			}
			if tc.check != nil {
				tc.check(t, out)
			}
		})
	}
}

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/testutil"
)

// snowflakeHeaders are the headers a data warehouse sends with every
// request of one batch (POST, each polling GET, each retry).
func snowflakeHeaders(batchID string) http.Header {
	h := http.Header{}
	h.Set("sf-external-function-format", "json")
	h.Set("sf-external-function-format-version", "1.0")
	h.Set("sf-external-function-current-query-id", "01b02bdf-0001-7b58-0003-27d60056b5a6")
	h.Set("sf-external-function-query-batch-id", batchID)
	h.Set("sf-external-function-name", "UPPER_REMOTE")
	h.Set("User-Agent", "snowflake/1.0")
	h.Set("Content-Type", "application/json")
	return h
}

// TestAsyncBatchAcrossTwoNodes speaks the remote-service batch protocol
// the way a data warehouse does, signed with service execute-api: POST to
// one node → 202, GET on the other node → 202 … → 200 with one row per
// input row, then the result is gone (404). Repeating the POST does not
// run the batch twice.
func TestAsyncBatchAcrossTwoNodes(t *testing.T) {
	t.Parallel()
	a := testutil.StartServer(t, testutil.Options{Args: []string{"--nats-listen", "127.0.0.1:0"}})
	b := testutil.StartServer(t, testutil.Options{Args: joinArgs(t, a)})
	createTestFunction(t, a.Lambda(), "rows", fnOpts{})
	testutil.WaitFor(t, 10*time.Second, func() error {
		_, err := b.Lambda().GetFunction(ctx(t), getFunctionInput("rows"))
		return err
	})

	const batchID = "01b02bdf-0001-7b58-0003-27d60056b5a6:1:1:0:0"
	body := []byte(`{"data":[[0,"good morning"],[1,"bad news"],[2,"so-so"]]}`)
	h := snowflakeHeaders(batchID)
	for i := 0; i < 2; i++ { // the second POST is a caller's retry
		status, _, resp := signedDo(t, a, "execute-api", "POST", "/updraft/v1/async/rows", body, h)
		if status != 202 {
			t.Fatalf("POST %d: %d %s", i, status, resp)
		}
	}
	var got []byte
	polls := 0
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, header, resp := signedDo(t, b, "execute-api", "GET", "/updraft/v1/async/rows", nil, h)
		polls++
		if status == 200 {
			if header.Get("Content-MD5") == "" {
				t.Error("200 without Content-MD5")
			}
			got = resp
			break
		}
		if status != 202 {
			t.Fatalf("GET: %d %s", status, resp)
		}
		if time.Now().After(deadline) {
			t.Fatalf("batch still running after %d polls", polls)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var result struct{ Data [][]any }
	if err := json.Unmarshal(got, &result); err != nil {
		t.Fatalf("result %s: %v", got, err)
	}
	want := [][]any{{0.0, "GOOD MORNING"}, {1.0, "BAD NEWS"}, {2.0, "SO-SO"}}
	if fmt.Sprint(result.Data) != fmt.Sprint(want) {
		t.Fatalf("rows %v, want %v", result.Data, want)
	}
	if status, _, resp := signedDo(t, b, "execute-api", "GET", "/updraft/v1/async/rows", nil, h); status != 404 {
		t.Fatalf("GET after the result was read: %d %s, want 404", status, resp)
	}
	runs := 0
	for _, srv := range []*testutil.Server{a, b} {
		if v := metricValue(t, srv, `lambda_invocations_total{function="rows",version="$LATEST"}`); v != "" {
			var n int
			fmt.Sscan(v, &n)
			runs += n
		}
	}
	if runs != 1 {
		t.Fatalf("the batch ran %d times across the two nodes, want 1", runs)
	}
}

// TestAsyncRefusesBadInputAndQueuesNothing: an oversized Event payload
// gets 413, a batch that is not JSON 400, an unknown batch id 404, a batch
// without an id 400 — and none of them queues anything.
func TestAsyncRefusesBadInputAndQueuesNothing(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{})
	createTestFunction(t, srv.Lambda(), "strict", fnOpts{})
	big := []byte(`{"pad":"` + strings.Repeat("x", 1<<20) + `"}`)
	event := http.Header{"X-Amz-Invocation-Type": {"Event"}}
	cases := []struct {
		name, method, path string
		body               []byte
		header             http.Header
		status             int
		errType            string
	}{
		{"oversized event", "POST", "/2015-03-31/functions/strict/invocations", big, event, 413, "RequestTooLargeException"},
		{"event not JSON", "POST", "/2015-03-31/functions/strict/invocations", []byte("{nope"), event, 400, "InvalidRequestContentException"},
		{"event to a missing function", "POST", "/2015-03-31/functions/absent/invocations", []byte("{}"), event, 404, "ResourceNotFoundException"},
		{"oversized InvokeAsync", "POST", "/2014-11-13/functions/strict/invoke-async/", big, nil, 413, "RequestTooLargeException"},
		{"batch not JSON", "POST", "/updraft/v1/async/strict", []byte(`{"data":[[0,"a"]`), snowflakeHeaders("b-1"), 400, "InvalidRequestContentException"},
		{"oversized batch", "POST", "/updraft/v1/async/strict", big, snowflakeHeaders("b-2"), 413, "RequestTooLargeException"},
		{"batch without an id", "POST", "/updraft/v1/async/strict", []byte(`{"data":[]}`), http.Header{}, 400, "InvalidParameterValueException"},
		{"unknown batch", "GET", "/updraft/v1/async/strict", nil, snowflakeHeaders("never-sent"), 404, "ResourceNotFoundException"},
		{"record of an unknown request", "GET", "/updraft/v1/invocations/6f1d2e8a-1111-4222-8333-444455556666", nil, nil, 404, "ResourceNotFoundException"},
		{"record of a malformed id", "GET", "/updraft/v1/invocations/not-an-id", nil, nil, 400, "InvalidParameterValueException"},
	}
	for _, tc := range cases {
		// Each path is signed for the service that serves it.
		service := "lambda"
		if strings.HasPrefix(tc.path, "/updraft/v1/async/") {
			service = "execute-api"
		}
		status, header, body := signedDo(t, srv, service, tc.method, tc.path, tc.body, tc.header)
		if status != tc.status || header.Get("X-Amzn-ErrorType") != tc.errType {
			t.Errorf("%s: %d %s %s, want %d %s", tc.name, status, header.Get("X-Amzn-ErrorType"), body, tc.status, tc.errType)
		}
		var doc map[string]string
		if err := json.Unmarshal(body, &doc); err != nil || doc["Message"] == "" || doc["Type"] == "" {
			t.Errorf("%s: body %s is not Lambda's error shape", tc.name, body)
		}
	}
	if v := metricValue(t, srv, `lambda_async_events_received_total{function="strict"}`); v != "" {
		t.Errorf("refused requests queued %s events", v)
	}
}

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/testutil"
)

// TestAsyncNothingLostOnKill accepts 1,000 events, kills the server with
// SIGKILL while they are being processed, restarts it on the same data
// dir, and checks that every accepted request id reaches a final status.
func TestAsyncNothingLostOnKill(t *testing.T) {
	t.Parallel()
	const events = 1000
	dataDir := t.TempDir()
	first := testutil.StartServer(t, testutil.Options{DataDir: dataDir})
	createTestFunction(t, first.Lambda(), "steady", fnOpts{})

	ids := make([]string, events)
	var wg sync.WaitGroup
	work := make(chan int)
	errs := make(chan error, events)
	c := first.Lambda()
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				payload := fmt.Sprintf(`{"action":"sleep","n":40,"echo":%d}`, i)
				out, err := c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("steady"), InvocationType: types.InvocationTypeEvent, Payload: []byte(payload)})
				if err != nil {
					errs <- fmt.Errorf("event %d: %w", i, err)
					continue
				}
				if out.StatusCode != 202 {
					errs <- fmt.Errorf("event %d: status %d", i, out.StatusCode)
					continue
				}
				ids[i] = requestIDOf(out.ResultMetadata)
			}
		}()
	}
	for i := 0; i < events; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	// Kill once processing is under way but far from done.
	early := waitRecord(t, first, ids[40], 60*time.Second)
	if early.Status != "SUCCEEDED" {
		t.Fatalf("event 40 before the kill: %+v", early)
	}
	last := recordStatus(t, first, ids[events-1])
	first.Kill()
	if last == "SUCCEEDED" {
		t.Fatal("every event finished before the kill: the test proves nothing; slow the function down")
	}
	t.Logf("killed with the last event %s", last)

	second := testutil.StartServer(t, testutil.Options{DataDir: dataDir})
	var mu sync.Mutex
	statuses := map[string]int{}
	work = make(chan int)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				rec := waitRecord(t, second, ids[i], 120*time.Second)
				mu.Lock()
				statuses[rec.Status]++
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < events; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	if statuses["SUCCEEDED"] != events {
		t.Fatalf("final statuses after the restart: %v, want all %d SUCCEEDED", statuses, events)
	}
}

// recordStatus reads the current status of a record without waiting.
func recordStatus(t *testing.T, srv *testutil.Server, id string) string {
	t.Helper()
	status, _, body := signedDo(t, srv, "lambda", "GET", "/updraft/v1/invocations/"+id, nil, nil)
	if status != 200 {
		t.Fatalf("GET record %s: %d %s", id, status, body)
	}
	var rec invocationRecord
	if err := json.Unmarshal(body, &rec); err != nil {
		t.Fatal(err)
	}
	return rec.Status
}

// metricValue reads one sample line from srv's /metrics ("" when absent).
func metricValue(t *testing.T, srv *testutil.Server, series string) string {
	t.Helper()
	resp, err := http.Get(srv.MetricsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

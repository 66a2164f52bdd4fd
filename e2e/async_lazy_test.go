package e2e

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/testutil"
)

// acceptEvent sends one Event invoke and returns its request id.
func acceptEvent(c *lambda.Client, t *testing.T, function, payload string) (string, error) {
	out, err := c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String(function),
		InvocationType: types.InvocationTypeEvent, Payload: []byte(payload)})
	if err != nil {
		return "", fmt.Errorf("event for %s: %w", function, err)
	}
	if out.StatusCode != 202 {
		return "", fmt.Errorf("event for %s: status %d", function, out.StatusCode)
	}
	return requestIDOf(out.ResultMetadata), nil
}

// TestAsyncFirstEventsSurviveKill creates functions that never had an
// event (so no consumer and no worker exists for them), accepts events for
// them, kills the server with SIGKILL right after the last 202, restarts
// it on the same data dir and checks that every event runs, some of them
// only after the restart.
func TestAsyncFirstEventsSurviveKill(t *testing.T) {
	t.Parallel()
	const functions, perFunction = 4, 12
	dataDir := t.TempDir()
	first := testutil.StartServer(t, testutil.Options{DataDir: dataDir})
	c := first.Lambda()
	for i := range functions {
		createTestFunction(t, c, fmt.Sprintf("first-event-%d", i), fnOpts{})
	}

	var mu sync.Mutex
	var ids []string
	var wg sync.WaitGroup
	errs := make(chan error, functions*perFunction)
	for i := range functions {
		for j := range perFunction {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id, err := acceptEvent(c, t, fmt.Sprintf("first-event-%d", i), fmt.Sprintf(`{"action":"sleep","n":500,"echo":%d}`, j))
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				ids = append(ids, id)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	first.Kill()
	killed := time.Now()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	second := testutil.StartServer(t, testutil.Options{DataDir: dataDir})
	after := 0
	for _, id := range ids {
		rec := waitRecord(t, second, id, 2*time.Minute)
		if rec.Status != "SUCCEEDED" {
			t.Errorf("event %s ended %s: %+v", id, rec.Status, rec.Error)
		}
		if rec.StartedAt != nil && rec.StartedAt.After(killed) {
			after++
		}
	}
	if after == 0 {
		t.Fatal("every event started before the kill: the test proves nothing; slow the function down")
	}
	t.Logf("%d of %d events started only after the restart", after, len(ids))
}

// TestAsyncReleasedFunctionGetsNewEvents runs a function's event, waits
// until its workers and consumer are released (--async-release-after 1s:
// the consumer's queue depth series leaves /metrics when JetStream deletes
// it), then sends another event, which must run. It also checks that
// registering functions does not add goroutines per function.
func TestAsyncReleasedFunctionGetsNewEvents(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{Args: []string{"--async-release-after", "1s"}})
	c := srv.Lambda()

	read := func() int {
		n, err := strconv.Atoi(metricValue(t, srv, "go_goroutines"))
		if err != nil {
			t.Fatalf("go_goroutines: %v", err)
		}
		return n
	}
	// The count once it holds still: a server just started (on a loaded
	// machine, slowly) is still starting its pre-started sandboxes and
	// services, which is no function's cost.
	goroutines := func() int {
		last := read()
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
			time.Sleep(time.Second)
			n := read()
			if d := n - last; d >= -2 && d <= 2 {
				return n
			}
			last = n
		}
		return last
	}
	before := goroutines()
	script := testutil.ZipFiles(t, map[string]testutil.ZipEntry{"bootstrap": {Data: []byte("#!/bin/sh\nexit 1\n"), Mode: 0o755}})
	const idle = 40
	for i := range idle {
		createTestFunction(t, c, fmt.Sprintf("never-invoked-%d", i), fnOpts{zip: script})
	}
	// Before the change every function held six (a consumer's four in
	// JetStream, a worker and its pull): allow noise, not one per function.
	if grown := goroutines() - before; grown >= idle/2 {
		t.Errorf("%d registered functions added %d goroutines, want none per function", idle, grown)
	}

	createTestFunction(t, c, "released", fnOpts{})
	depth := `lambda_async_queue_depth{function="released"}`
	if v := metricValue(t, srv, depth); v != "" {
		t.Fatalf("a function without events has a consumer (%s %s)", depth, v)
	}
	id, err := acceptEvent(c, t, "released", `{"action":"echo","echo":"one"}`)
	if err != nil {
		t.Fatal(err)
	}
	if rec := waitRecord(t, srv, id, time.Minute); rec.Status != "SUCCEEDED" {
		t.Fatalf("first event: %+v", rec)
	}
	testutil.WaitFor(t, 30*time.Second, func() error {
		if v := metricValue(t, srv, depth); v != "" {
			return fmt.Errorf("the consumer is still there (%s %s)", depth, v)
		}
		return nil
	})
	id, err = acceptEvent(c, t, "released", `{"action":"echo","echo":"two"}`)
	if err != nil {
		t.Fatal(err)
	}
	if rec := waitRecord(t, srv, id, time.Minute); rec.Status != "SUCCEEDED" || string(rec.Result) == "" {
		t.Fatalf("event after the release: %+v", rec)
	}
}

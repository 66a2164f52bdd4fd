package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
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

// invokeRaw invokes and returns the output, failing only on API errors.
func invokeRaw(t *testing.T, c *lambda.Client, name, payload string) *lambda.InvokeOutput {
	t.Helper()
	res, err := c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(payload)})
	if err != nil {
		t.Fatalf("invoke %s %s: %v", name, payload, err)
	}
	return res
}

func functionErrorType(t *testing.T, res *lambda.InvokeOutput) string {
	t.Helper()
	if res.FunctionError == nil {
		t.Fatalf("expected a function error, got payload %s", res.Payload)
	}
	var doc struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	if err := json.Unmarshal(res.Payload, &doc); err != nil {
		t.Fatalf("error payload %s: %v", res.Payload, err)
	}
	return doc.ErrorType
}

func TestWarmReuseKeepsTmp(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{})
	c := srv.Lambda()
	createTestFunction(t, c, "warm", fnOpts{})
	invokeJSON(t, c, "warm", map[string]string{"action": "write-tmp", "value": "kept"}, nil)
	var got string
	invokeJSON(t, c, "warm", map[string]string{"action": "read-tmp"}, &got)
	if got != "kept" {
		t.Fatalf("second invocation read %q from /tmp, want %q", got, "kept")
	}
	res := invokeRaw(t, c, "warm", `{"action":"write-task"}`)
	if res.FunctionError == nil && strings.Contains(srv.Output.String(), "isolation: full") {
		t.Fatalf("the code directory is writable under full isolation: %s", res.Payload)
	}
}

func TestFreezeStopsBackgroundWork(t *testing.T) {
	srv := testutil.StartServer(t, testutil.Options{})
	c := srv.Lambda()
	createTestFunction(t, c, "freeze", fnOpts{})
	var first int64
	invokeJSON(t, c, "freeze", map[string]string{"action": "start-counter"}, &first)
	if first == 0 {
		t.Fatal("the background goroutine made no progress while the invocation ran")
	}
	var a, b int64
	invokeJSON(t, c, "freeze", map[string]string{"action": "read-counter"}, &a)
	time.Sleep(700 * time.Millisecond) // the environment sits idle, frozen
	invokeJSON(t, c, "freeze", map[string]string{"action": "read-counter"}, &b)
	// The goroutine ticks every millisecond; while thawed for two short
	// invocations it advances a little, while frozen for 700 ms it must not.
	if b-a > 150 {
		t.Fatalf("counter advanced by %d while the environment was idle: it was not frozen", b-a)
	}
}

func TestTimeoutThenRecovery(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{})
	c := srv.Lambda()
	createTestFunction(t, c, "slow", fnOpts{timeout: 1})
	res := invokeRaw(t, c, "slow", `{"action":"sleep","n":3000}`)
	if typ := functionErrorType(t, res); typ != "Sandbox.Timedout" {
		t.Fatalf("error type %q, want Sandbox.Timedout", typ)
	}
	if !strings.Contains(string(res.Payload), "Task timed out after 1.00 seconds") {
		t.Fatalf("timeout payload: %s", res.Payload)
	}
	var got any
	invokeJSON(t, c, "slow", map[string]string{"action": "echo"}, &got)
}

func TestOutOfMemory(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{})
	c := srv.Lambda()
	createTestFunction(t, c, "hungry", fnOpts{memory: 128, timeout: 30})
	res := invokeRaw(t, c, "hungry", `{"action":"alloc","n":400}`)
	if typ := functionErrorType(t, res); typ != "Runtime.OutOfMemory" {
		t.Fatalf("error type %q, want Runtime.OutOfMemory (payload %s)", typ, res.Payload)
	}
	var got any
	invokeJSON(t, c, "hungry", map[string]string{"action": "echo"}, &got)
	resp, err := srv.Lambda().ListFunctions(ctx(t), &lambda.ListFunctionsInput{})
	if err != nil || len(resp.Functions) != 1 {
		t.Fatalf("server not serving after OOM: %v", err)
	}
}

func TestCrashAndInitFailures(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{})
	c := srv.Lambda()
	createTestFunction(t, c, "crash", fnOpts{})
	res := invokeRaw(t, c, "crash", `{"action":"exit","n":7}`)
	if typ := functionErrorType(t, res); typ != "Runtime.ExitError" {
		t.Fatalf("exit mid-invoke: error type %q, want Runtime.ExitError", typ)
	}
	if !strings.Contains(string(res.Payload), "Runtime exited with error: exit status 7") {
		t.Fatalf("exit payload: %s", res.Payload)
	}
	var got any
	invokeJSON(t, c, "crash", map[string]string{"action": "echo"}, &got)

	createTestFunction(t, c, "init-exit", fnOpts{env: map[string]string{"FAIL_INIT": "1"}})
	res = invokeRaw(t, c, "init-exit", `{}`)
	if typ := functionErrorType(t, res); typ != "Runtime.ExitError" {
		t.Fatalf("exit in init: error type %q, want Runtime.ExitError", typ)
	}
	createTestFunction(t, c, "init-post", fnOpts{env: map[string]string{"FAIL_INIT": "post"}})
	res = invokeRaw(t, c, "init-post", `{}`)
	if typ := functionErrorType(t, res); typ != "Runtime.HandlerNotFound" {
		t.Fatalf("init/error: error type %q, want Runtime.HandlerNotFound", typ)
	}
	res = invokeRaw(t, c, "crash", `{"action":"panic"}`)
	if res.FunctionError == nil || aws.ToString(res.FunctionError) != "Unhandled" {
		t.Fatalf("panic: %v %s", res.FunctionError, res.Payload)
	}
}

// gate is an HTTP server the test function blocks on: it counts arrivals
// and answers every waiting request once the test opens it.
type gate struct {
	url     string // reachable by the functions
	mu      sync.Mutex
	arrived int
	open    chan struct{}
}

func newGate(t *testing.T) *gate {
	g := &gate{open: make(chan struct{})}
	g.url = reachableURL(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.arrived++
		g.mu.Unlock()
		select {
		case <-g.open:
			_, _ = w.Write([]byte("released"))
		case <-time.After(90 * time.Second):
			_, _ = w.Write([]byte("gate timeout"))
		}
	}))
	t.Cleanup(g.release)
	return g
}

func (g *gate) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.arrived
}

func (g *gate) release() {
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

// TestParallelEnvironmentsAndReservedConcurrency proves parallelism
// without timing: 64 invocations all block on a gate that opens only once
// all 64 are inside the function at the same time, which needs 64
// environments. Then with reserved concurrency 2, two invocations hold the
// only slots and every further call is throttled.
func TestParallelEnvironmentsAndReservedConcurrency(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{})
	c := srv.Lambda()
	createTestFunction(t, c, "parallel", fnOpts{timeout: 120})
	const n = 64
	g := newGate(t)
	payload := []byte(fmt.Sprintf(`{"action":"wait-url","value":%q}`, g.url))
	var wg sync.WaitGroup
	results := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("parallel"), Payload: payload})
			switch {
			case err != nil:
				results <- "error: " + err.Error()
			case res.FunctionError != nil:
				results <- "function error: " + string(res.Payload)
			default:
				results <- string(res.Payload)
			}
		}()
	}
	testutil.WaitFor(t, 90*time.Second, func() error {
		if got := g.count(); got < n {
			return fmt.Errorf("%d of %d invocations are inside the function at once", got, n)
		}
		return nil
	})
	g.release()
	wg.Wait()
	close(results)
	for r := range results {
		if r != `"released"` {
			t.Errorf("concurrent invocation: %s", r)
		}
	}

	if _, err := c.PutFunctionConcurrency(ctx(t), &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("parallel"), ReservedConcurrentExecutions: aws.Int32(2)}); err != nil {
		t.Fatalf("put concurrency: %v", err)
	}
	held := newGate(t)
	heldPayload := []byte(fmt.Sprintf(`{"action":"wait-url","value":%q}`, held.url))
	holders := make(chan error, 2)
	for i := 0; i < 2; i++ {
		go func() {
			res, err := c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("parallel"), Payload: heldPayload})
			if err == nil && res.FunctionError != nil {
				err = fmt.Errorf("function error: %s", res.Payload)
			}
			holders <- err
		}()
	}
	testutil.WaitFor(t, 60*time.Second, func() error {
		if got := held.count(); got < 2 {
			return fmt.Errorf("%d of 2 holders running", got)
		}
		return nil
	})
	for i := 0; i < 6; i++ {
		_, err := c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("parallel"), Payload: []byte(`{"action":"echo"}`)})
		var tmr *types.TooManyRequestsException
		if !errors.As(err, &tmr) || tmr.Reason != types.ThrottleReasonReservedFunctionConcurrentInvocationLimitExceeded {
			t.Fatalf("call %d beyond reserved concurrency 2: %v, want TooManyRequestsException with Reason %s", i, err, types.ThrottleReasonReservedFunctionConcurrentInvocationLimitExceeded)
		}
	}
	held.release()
	for i := 0; i < 2; i++ {
		if err := <-holders; err != nil {
			t.Errorf("holder: %v", err)
		}
	}
	var got any
	invokeJSON(t, c, "parallel", map[string]string{"action": "echo"}, &got) // slots are free again
}

// TestIdleEnvironmentsAreBoundedAndEvicted checks that the least recently
// used idle environment makes room when the pool is full, and that idle
// environments go after --idle-ttl.
func TestIdleEnvironmentsAreBoundedAndEvicted(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{Args: []string{"--max-concurrency", "2", "--idle-ttl", "1s"}})
	c := srv.Lambda()
	for _, name := range []string{"cap-a", "cap-b", "cap-c"} {
		createTestFunction(t, c, name, fnOpts{})
		invokeJSON(t, c, name, map[string]string{"action": "echo"}, nil)
		if n := poolHealth(t, srv).Environments; n > 2 {
			t.Fatalf("after invoking %s the pool holds %d environments, limit 2", name, n)
		}
	}
	testutil.WaitFor(t, 10*time.Second, func() error {
		if n := poolHealth(t, srv).Environments; n != 0 {
			return fmt.Errorf("%d environments still alive past the idle TTL", n)
		}
		return nil
	})
}

// poolHealth reads the pool's counts from /healthz.
func poolHealth(t *testing.T, srv *testutil.Server) (p struct{ Environments, Idle, Busy int }) {
	t.Helper()
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct {
		Pool struct {
			Environments int `json:"environments"`
			Idle         int `json:"idle"`
			Busy         int `json:"busy"`
		} `json:"pool"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	p.Environments, p.Idle, p.Busy = h.Pool.Environments, h.Pool.Idle, h.Pool.Busy
	return p
}

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

func TestParallelEnvironmentsAndReservedConcurrency(t *testing.T) {
	srv := testutil.StartServer(t, testutil.Options{})
	c := srv.Lambda()
	createTestFunction(t, c, "parallel", fnOpts{})
	const n = 64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	ids := make(chan string, n)
	start := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("parallel"), Payload: []byte(`{"action":"sleep","n":100}`)})
			if err != nil {
				errs <- err
				return
			}
			if res.FunctionError != nil {
				errs <- fmt.Errorf("function error: %s", res.Payload)
				return
			}
			ids <- aws.ToString(res.ExecutedVersion)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent invoke: %v", err)
	}
	elapsed := time.Since(start)
	if len(ids) != n {
		t.Fatalf("%d of %d invocations succeeded", len(ids), n)
	}
	// Serial execution would take 6.4 s; parallel environments finish far sooner.
	if elapsed > 5*time.Second {
		t.Fatalf("64 invocations of 100 ms took %s: they did not run in parallel", elapsed)
	}

	if _, err := c.PutFunctionConcurrency(ctx(t), &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("parallel"), ReservedConcurrentExecutions: aws.Int32(2)}); err != nil {
		t.Fatalf("put concurrency: %v", err)
	}
	var ok, throttled int
	var mu sync.Mutex
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("parallel"), Payload: []byte(`{"action":"sleep","n":500}`)})
			mu.Lock()
			defer mu.Unlock()
			switch code := apiErrorCode(err); {
			case err == nil:
				ok++
			case code == "TooManyRequestsException":
				var tmr *types.TooManyRequestsException
				if !errors.As(err, &tmr) || tmr.Reason != types.ThrottleReasonReservedFunctionConcurrentInvocationLimitExceeded {
					t.Errorf("throttle without Lambda's reason: %v", err)
				}
				throttled++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok < 1 || ok > 2 || throttled != 8-ok {
		t.Fatalf("with reserved concurrency 2: %d succeeded, %d throttled", ok, throttled)
	}
}

// TestIdleEnvironmentsAreBoundedAndEvicted checks that the least recently
// used idle environment makes room when the pool is full, and that idle
// environments go after --idle-ttl.
func TestIdleEnvironmentsAreBoundedAndEvicted(t *testing.T) {
	srv := testutil.StartServer(t, testutil.Options{Args: []string{"--max-concurrency", "2", "--idle-ttl", "1s"}})
	c := srv.Lambda()
	for _, name := range []string{"cap-a", "cap-b", "cap-c"} {
		createTestFunction(t, c, name, fnOpts{})
		invokeJSON(t, c, name, map[string]string{"action": "echo"}, nil)
		if n := poolEnvironments(t, srv); n > 2 {
			t.Fatalf("after invoking %s the pool holds %d environments, limit 2", name, n)
		}
	}
	testutil.WaitFor(t, 10*time.Second, func() error {
		if n := poolEnvironments(t, srv); n != 0 {
			return fmt.Errorf("%d environments still alive past the idle TTL", n)
		}
		return nil
	})
}

func poolEnvironments(t *testing.T, srv *testutil.Server) int {
	t.Helper()
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct {
		Pool struct {
			Environments int `json:"environments"`
		} `json:"pool"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h.Pool.Environments
}

// Command testfn is the function the integration tests deploy: one
// aws-lambda-go binary whose behaviour the event picks, so that each test
// drives a real function through the real server.
//
// Actions: echo (default), env, write-tmp, read-tmp, start-counter,
// read-counter, sleep (ms), alloc (mb), exit (code), panic, error, big
// (bytes), version, wait-url (GET value and return the body), fail-url
// (GET value; fail when the body is "fail", else return it), invoke-event
// (queue an Event invocation of the function named by value with the AWS
// SDK, configured only from the environment), print (n lines "value
// 000000" to "value <n-1>" on stdout), flood (n MB of lines of value bytes,
// default 1024, on stdout, or until 1 s before the deadline; returns the
// bytes written). An
// event
// with "data" rows and no action is a remote-service batch: each row
// [n, args...] is answered [n, "UPPER(args)"]. Setting FAIL_INIT=1 makes
// the process exit before the handler starts; FAIL_INIT=post posts an
// init error instead.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/config"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Event selects the behaviour.
type Event struct {
	Action string  `json:"action"`
	Value  string  `json:"value"`
	N      int     `json:"n"`
	Echo   any     `json:"echo,omitempty"`
	Data   [][]any `json:"data,omitempty"`
}

var counter atomic.Int64
var counterStarted atomic.Bool

// codeVersion is replaced with -ldflags to tell builds apart.
var codeVersion = "v1"

func handle(ctx context.Context, e Event) (any, error) {
	lc, _ := lambdacontext.FromContext(ctx)
	fmt.Printf("action=%s request=%s\n", e.Action, lc.AwsRequestID)
	switch e.Action {
	case "", "echo":
		if e.Data != nil && e.Action == "" {
			return batchReply(e.Data), nil
		}
		return map[string]any{"echo": e.Echo, "requestId": lc.AwsRequestID, "arn": lc.InvokedFunctionArn, "version": os.Getenv("AWS_LAMBDA_FUNCTION_VERSION"), "code": codeVersion}, nil
	case "version":
		return codeVersion, nil
	case "env":
		env := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		wd, _ := os.Getwd()
		deadline, _ := ctx.Deadline()
		cc := map[string]any{}
		if lc.ClientContext.Custom != nil {
			cc["custom"] = lc.ClientContext.Custom
		}
		return map[string]any{"env": env, "uid": os.Getuid(), "cwd": wd, "remainingMs": time.Until(deadline).Milliseconds(), "clientContext": cc}, nil
	case "write-tmp":
		return "ok", os.WriteFile(filepath.Join(os.TempDir(), "updraft-test"), []byte(e.Value), 0o644)
	case "read-tmp":
		b, err := os.ReadFile(filepath.Join(os.TempDir(), "updraft-test"))
		return string(b), err
	case "write-task":
		return "written", os.WriteFile(filepath.Join(os.Getenv("LAMBDA_TASK_ROOT"), "x"), []byte("x"), 0o644)
	case "start-counter":
		if counterStarted.CompareAndSwap(false, true) {
			go func() {
				for {
					time.Sleep(time.Millisecond)
					counter.Add(1)
				}
			}()
		}
		time.Sleep(50 * time.Millisecond)
		return counter.Load(), nil
	case "read-counter":
		return counter.Load(), nil
	case "sleep":
		time.Sleep(time.Duration(e.N) * time.Millisecond)
		return "slept", nil
	case "alloc":
		var keep [][]byte
		for i := 0; i < e.N; i++ {
			b := make([]byte, 1<<20)
			for j := range b {
				b[j] = byte(j)
			}
			keep = append(keep, b)
		}
		return len(keep), nil
	case "exit":
		os.Exit(e.N)
	case "panic":
		panic("testfn panic")
	case "error":
		return nil, errors.New("testfn failed: " + e.Value)
	case "big":
		return strings.Repeat("x", e.N), nil
	case "print":
		w := bufio.NewWriter(os.Stdout)
		for i := range e.N {
			fmt.Fprintf(w, "%s %06d\n", e.Value, i)
		}
		return e.N, w.Flush()
	case "flood":
		size, _ := strconv.Atoi(e.Value)
		return flood(ctx, e.N<<20, max(size, 1024))

	case "fail-url":
		resp, err := http.Get(e.Value)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, err
		}
		if string(b) == "fail" {
			return nil, errors.New("testfn failed as told by " + e.Value)
		}
		return string(b), nil
	case "invoke-event":
		// Reach the platform the way a function's own AWS SDK does: from
		// the credentials and AWS_ENDPOINT_URL in the environment.
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, err
		}
		out, err := awslambda.NewFromConfig(cfg).Invoke(ctx, &awslambda.InvokeInput{
			FunctionName:   aws.String(e.Value),
			InvocationType: types.InvocationTypeEvent,
			Payload:        []byte(`{"action":"echo","echo":"from a function"}`),
		})
		if err != nil {
			return nil, err
		}
		id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
		return map[string]any{"status": out.StatusCode, "requestId": id}, nil
	case "wait-url":
		// Block on an HTTP server the test runs, so that the test decides
		// when the invocation ends (rendezvous of parallel invocations).
		resp, err := http.Get(e.Value)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	return nil, fmt.Errorf("unknown action %q", e.Action)
}

func main() {
	switch os.Getenv("FAIL_INIT") {
	case "1":
		fmt.Println("init failing")
		os.Exit(3)
	case "post":
		// Report an init error through the Runtime API, as a runtime
		// whose handler cannot load would.
		api := os.Getenv("AWS_LAMBDA_RUNTIME_API")
		postInitError(api)
		os.Exit(4)
	}
	lambda.Start(handle)
}

// flood writes n bytes of lines of size bytes to stdout in writes of at
// least 64 KiB, or as many as it can until a second before the
// invocation's deadline, and returns how many it wrote.
func flood(ctx context.Context, n, size int) (int, error) {
	line := []byte(strings.Repeat("f", size-1) + "\n")
	chunk := bytes.Repeat(line, max(1, 64<<10/size))
	stop := time.Now().Add(time.Hour)
	if d, ok := ctx.Deadline(); ok {
		stop = d.Add(-time.Second)
	}
	written := 0
	for written < n && time.Now().Before(stop) {
		m, err := os.Stdout.Write(chunk)
		written += m
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// batchReply answers a remote-service batch: one row per input row, in
// order, with the same row number.
func batchReply(rows [][]any) map[string]any {
	out := make([][]any, 0, len(rows))
	for _, row := range rows {
		if len(row) == 0 {
			continue
		}
		out = append(out, []any{row[0], strings.ToUpper(fmt.Sprint(row[1:]...))})
	}
	return map[string]any{"data": out}
}

package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/updraft/updraft/internal/testutil"
)

// TestFullDiskDegradesAndRecovers runs the server on a 128 MB tmpfs,
// accepts Event invocations that are still queued when a file fills the
// file system, and checks the server's answer to a full disk: every
// request that must write (Event invokes, CreateFunction) fails within
// two seconds with Lambda's ServiceException, sync invokes of a warm
// function keep working, /healthz says degraded with the reason and the
// write-failure metric counts. Once the file is deleted the server
// recovers without a restart: /healthz is ok again, a new Event runs, a
// function can be created, and every event accepted before the fault
// ran.
func TestFullDiskDegradesAndRecovers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=128m"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	// Registered before the server starts, so it runs after the server
	// stopped (cleanups run last-in first-out).
	t.Cleanup(func() {
		if err := syscall.Unmount(mnt, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	})
	srv := testutil.StartServer(t, testutil.Options{
		DataDir: filepath.Join(mnt, "data"),
		Args:    []string{"--zygotes", "0", "--async-retry-delay", "200ms"},
	})
	t.Cleanup(func() {
		if t.Failed() || testing.Verbose() {
			t.Logf("server output:\n%s", lastLines(srv.Output.String(), 60))
		}
	})
	c := srv.Lambda()
	noRetry := func(o *lambda.Options) { o.RetryMaxAttempts = 1 }

	createTestFunction(t, c, "warm", fnOpts{})
	invokeJSON(t, c, "warm", map[string]any{"action": "echo"}, nil)
	createTestFunction(t, c, "queued", fnOpts{timeout: 10})
	// Reserved concurrency 2 gives the function one async worker, so the
	// events behind a slow first one are still queued when the disk fills.
	if _, err := c.PutFunctionConcurrency(ctx(t), &lambda.PutFunctionConcurrencyInput{
		FunctionName: aws.String("queued"), ReservedConcurrentExecutions: aws.Int32(2),
	}); err != nil {
		t.Fatal(err)
	}
	before := []string{eventInvoke(t, c, "queued", map[string]any{"action": "sleep", "n": 2000})}
	for i := range 5 {
		before = append(before, eventInvoke(t, c, "queued", map[string]any{"action": "echo", "echo": fmt.Sprintf("before-%d", i)}))
	}

	filler := filepath.Join(mnt, "filler")
	fillDisk(t, filler)
	testutil.WaitFor(t, 5*time.Second, func() error {
		status, doc := healthz(t, srv)
		if status != 200 || doc["status"] != "degraded" {
			return fmt.Errorf("/healthz %d %v, want 200 degraded", status, doc)
		}
		return nil
	})
	status, doc := healthz(t, srv)
	reason, _ := doc["reason"].(string)
	if !strings.Contains(reason, "full") {
		t.Errorf("/healthz reason %q: want it to say the file system is full", reason)
	}
	t.Logf("/healthz while full: %d %v", status, doc)

	// Writes fail fast, in Lambda's shape. The file is topped up before
	// each: the server itself frees space now and then (a spool file, a
	// JetStream block), and a store that finds room again rightly takes
	// writes.
	for i := range 3 {
		fillDisk(t, filler)
		start := time.Now()
		_, err := c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("queued"), InvocationType: types.InvocationTypeEvent,
			Payload: []byte(`{"action":"echo"}`)}, noRetry)
		checkServiceException(t, fmt.Sprintf("Event invoke %d", i), err, time.Since(start))
	}
	// A small zip, so that the time measured is the server's answer,
	// not the signing and upload of a 9 MB one on a loaded machine.
	smallZip := testutil.ZipFiles(t, map[string]testutil.ZipEntry{"bootstrap": {Data: []byte("#!/bin/sh\nexit 1\n"), Mode: 0o755}})
	fillDisk(t, filler)
	start := time.Now()
	_, err := c.CreateFunction(ctx(t), &lambda.CreateFunctionInput{
		FunctionName: aws.String("refused"), Runtime: types.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Role: aws.String(testRole), Code: &types.FunctionCode{ZipFile: smallZip},
	}, noRetry)
	checkServiceException(t, "CreateFunction", err, time.Since(start))

	// Reads and sync invokes of a warm function need no write.
	for i := range 3 {
		var out map[string]any
		invokeJSON(t, c, "warm", map[string]any{"action": "echo", "echo": i}, &out)
		if out["echo"] != float64(i) {
			t.Fatalf("sync invoke while full: %v", out)
		}
	}
	if _, err := c.GetFunction(ctx(t), getFunctionInput("queued")); err != nil {
		t.Fatalf("GetFunction while full: %v", err)
	}
	fillDisk(t, filler)
	if n := metricSum(t, srv, "updraft_store_write_failures_total"); n < 4 {
		t.Errorf("updraft_store_write_failures_total = %v, want at least the 4 refused writes", n)
	}
	if v := metricSum(t, srv, "updraft_store_writable"); v != 0 {
		t.Errorf("updraft_store_writable = %v while full, want 0", v)
	}

	// Space returns: recovery without a restart.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freed := time.Now()
	testutil.WaitFor(t, 30*time.Second, func() error {
		status, doc := healthz(t, srv)
		if status != 200 || doc["status"] != "ok" {
			return fmt.Errorf("/healthz %d %v, want 200 ok", status, doc)
		}
		return nil
	})
	t.Logf("/healthz ok %s after the file was deleted", time.Since(freed).Round(time.Millisecond))
	after := eventInvoke(t, c, "queued", map[string]any{"action": "echo", "echo": "after"})
	for i, id := range append(before, after) {
		rec := waitRecord(t, srv, id, 90*time.Second)
		if rec.Status != "SUCCEEDED" {
			t.Fatalf("event %d (%s): %+v, want SUCCEEDED", i, id, rec)
		}
		var res map[string]any
		if i > 0 && (json.Unmarshal(rec.Result, &res) != nil || res["requestId"] != id) {
			t.Errorf("event %d (%s) result %s: want the function's echo of its request id", i, id, rec.Result)
		}
	}
	createTestFunction(t, c, "created-after", fnOpts{})
	invokeJSON(t, c, "created-after", map[string]any{"action": "echo"}, nil)
	if v := metricSum(t, srv, "updraft_store_writable"); v != 1 {
		t.Errorf("updraft_store_writable = %v after recovery, want 1", v)
	}
	if strings.Contains(srv.Output.String(), "panic") {
		t.Errorf("server output mentions a panic:\n%s", lastLines(srv.Output.String(), 40))
	}
}

// fillDisk appends to path until the file system is full.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for i := 0; i < 1<<18; i++ {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v", path, err)
			}
			return
		}
	}
	t.Fatalf("fill %s: the file system did not fill up", path)
}

// checkServiceException fails unless err is Lambda's ServiceException
// (500) and came within two seconds.
func checkServiceException(t *testing.T, what string, err error, took time.Duration) {
	t.Helper()
	var re *smithyhttp.ResponseError
	if err == nil || apiErrorCode(err) != "ServiceException" || !errors.As(err, &re) || re.HTTPStatusCode() != 500 {
		t.Errorf("%s on a full disk: %v, want ServiceException (500)", what, err)
	}
	if took > 2*time.Second {
		t.Errorf("%s on a full disk took %s, want an answer within 2 s", what, took)
	}
}

// healthz reads /healthz.
func healthz(t *testing.T, srv *testutil.Server) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatalf("/healthz: %v", err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("/healthz %d: %v: %s", resp.StatusCode, err, b)
	}
	return resp.StatusCode, doc
}

// metricSum sums the samples of a metric family on the metrics
// listener.
func metricSum(t *testing.T, srv *testutil.Server, name string) float64 {
	t.Helper()
	resp, err := http.Get(srv.MetricsURL)
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `(?:\{[^}]*\})? (\S+)$`)
	var sum float64
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatalf("metric %s: %v", name, err)
		}
		sum += v
	}
	return sum
}

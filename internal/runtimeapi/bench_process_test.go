package runtimeapi

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/testutil"
)

// These two benchmarks put the other side in a separate process, as in
// production, where the runtime is a child of updraft: a plain HTTP round
// trip to a child process is the honest floor for one hop of a warm invoke.
// Each reports p50 and p99 latencies (µs) besides ns/op; the target for
// Invoke is about 1.2 floor round trips at p50. Compare runs taken in the
// same minute: the build machines are shared and noisy.
//
//	go test -run '^$' -bench 'Process$' -count 5 ./internal/runtimeapi/

// echoHTTPHelper makes the test binary serve runEchoHTTPServer.
const echoHTTPHelper = "echo-http"

// runEchoHTTPServer is the child process of BenchmarkLoopbackRoundTripProcess:
// a net/http server that echoes request bodies. It prints its address on
// stdout and exits when stdin closes.
func runEchoHTTPServer() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo server:", err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})}
	_ = srv.Serve(ln)
	os.Exit(1)
}

// latencies collects per-iteration durations for percentile reporting.
type latencies []time.Duration

func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	slices.Sort(l)
	pct := func(p float64) float64 {
		return float64(l[int(float64(len(l)-1)*p)].Nanoseconds()) / 1e3
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

// BenchmarkLoopbackRoundTripProcess measures one plain net/http POST and
// echoed response between this process and a child process on a loopback
// keep-alive connection, with the same payload as the Invoke benchmarks.
func BenchmarkLoopbackRoundTripProcess(b *testing.B) {
	if testing.Short() {
		b.Skip("starts a child process")
	}
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+echoHTTPHelper)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = stdin.Close() // the child exits
		_ = cmd.Wait()
	})
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("read child address: %v", err)
	}
	url := "http://" + strings.TrimSpace(addr) + "/"

	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 2}
	b.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}
	payload := []byte(benchEvent)
	lat := make(latencies, 0, 1<<16)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		start := time.Now()
		resp, err := client.Post(url, "application/json", bytes.NewReader(payload))
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || len(body) != len(payload) {
			b.Fatalf("body %q, %v", body, err)
		}
		lat = append(lat, time.Since(start))
	}
	lat.report(b)
}

// BenchmarkInvokeLambdaGoProcess measures a warm Invoke with the real
// aws-lambda-go runtime client in a child process (./bench/echofn, built
// once per run), from Invoke's call to its return. Between invokes it waits
// for the runtime to park, as the pool does before freezing; that wait is
// not in the latency figures.
func BenchmarkInvokeLambdaGoProcess(b *testing.B) {
	if testing.Short() {
		b.Skip("builds and starts a child process")
	}
	bootstrap := buildEchoFn(b)
	s, err := New(Config{}, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bootstrap)
	cmd.Env = append(os.Environ(), "AWS_LAMBDA_RUNTIME_API="+s.Addr())
	var output testutil.SyncBuffer // the runtime logs its exit on Close; shown on failure
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	b.Cleanup(func() {
		// Let the last 202 go out and the runtime park, as the pool does
		// before freezing; then its next /next fails and it exits.
		select {
		case <-s.Parked():
		case <-time.After(5 * time.Second):
		}
		_ = s.Close()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	ctx, cancel := context.WithTimeout(b.Context(), 30*time.Second)
	defer cancel()
	if err := s.WaitInit(ctx); err != nil {
		b.Fatalf("WaitInit: %v; runtime output:\n%s", err, output.String())
	}
	payload := []byte(benchEvent)
	inv := &Invocation{
		RequestID:          "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
		Payload:            payload,
		InvokedFunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:bench",
		TraceID:            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
	}
	lat := make(latencies, 0, 1<<16)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		<-s.Parked()
		start := time.Now()
		resp, err := s.Invoke(ctx, inv)
		if err != nil {
			b.Fatalf("Invoke: %v; runtime output:\n%s", err, output.String())
		}
		lat = append(lat, time.Since(start))
		if len(resp.Payload) != len(payload) || resp.FunctionError {
			b.Fatalf("response %+v %q", resp, resp.Payload)
		}
	}
	lat.report(b)
}

// buildEchoFn builds ./bench/echofn into a temporary directory, the way a
// function's bootstrap is built for provided.al2023.
func buildEchoFn(tb testing.TB) string {
	tb.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		tb.Skipf("no go command to build the echo function: %v", err)
	}
	out := filepath.Join(tb.TempDir(), "bootstrap")
	cmd := exec.Command(gobin, "build", "-o", out, "github.com/updraft/updraft/bench/echofn")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build echofn: %v\n%s", err, msg)
	}
	return out
}

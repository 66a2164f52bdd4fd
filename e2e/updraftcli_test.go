package e2e

import (
	"context"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/testutil"
)

// updraftCLI runs the updraft client against srv.
func updraftCLI(t *testing.T, srv *testutil.Server, args ...string) (string, string, error) {
	t.Helper()
	bin := testutil.BuildBinary(t, "./cmd/updraft", "")
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(c, bin, append(args, "--endpoint-url", srv.URL)...)
	cmd.Env = srv.AWSEnv()
	cmd.Dir = testutil.ModuleRoot(t)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// TestExampleWithUpdraftCLI deploys examples/hello-go the way the README
// says, invokes it, reads its logs and checks the metrics it produced.
func TestExampleWithUpdraftCLI(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{})
	root := testutil.ModuleRoot(t)

	out, errOut, err := updraftCLI(t, srv, "function", "create", "hello", "--runtime", "provided.al2023",
		"--handler", "bootstrap", "--code", filepath.Join(root, "examples", "hello-go"))
	if err != nil || !strings.Contains(out, `"FunctionName": "hello"`) {
		t.Fatalf("function create: %v\n%s\n%s", err, out, errOut)
	}
	out, errOut, err = updraftCLI(t, srv, "invoke", "hello", "--payload", `{"name":"Ada"}`, "--log")
	if err != nil || !strings.Contains(out, "Hello, Ada!") {
		t.Fatalf("invoke: %v\n%s\n%s", err, out, errOut)
	}
	if !strings.Contains(errOut, "greeting Ada") || !strings.Contains(errOut, "REPORT RequestId:") {
		t.Fatalf("invoke --log did not print the tail:\n%s", errOut)
	}
	testutil.WaitFor(t, 10*time.Second, func() error {
		out, errOut, err = updraftCLI(t, srv, "logs", "hello")
		if err != nil {
			return err
		}
		if !strings.Contains(out, "greeting Ada") || !strings.Contains(out, "REPORT RequestId:") {
			return io.ErrUnexpectedEOF
		}
		return nil
	})
	out, errOut, err = updraftCLI(t, srv, "function", "get", "nope")
	if err == nil || !strings.Contains(errOut, "ResourceNotFoundException") {
		t.Fatalf("get of a missing function: %v\n%s\n%s", err, out, errOut)
	}

	resp, err := http.Get(srv.MetricsURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`lambda_invocations_total{function="hello",version="$LATEST"} 1`,
		`lambda_cold_starts_total{function="hello",version="$LATEST"} 1`,
		`lambda_duration_seconds_count{function="hello",version="$LATEST"} 1`,
		`lambda_concurrent_executions{function="hello"} 0`,
		`lambda_init_duration_seconds_count{function="hello",version="$LATEST"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestGracefulShutdown sends SIGTERM while an invocation runs: the caller
// still gets its answer and the server exits cleanly.
func TestGracefulShutdown(t *testing.T) {
	srv := testutil.StartServer(t, testutil.Options{})
	c := srv.Lambda()
	createTestFunction(t, c, "drain", fnOpts{timeout: 10})
	invokeJSON(t, c, "drain", map[string]string{"action": "echo"}, nil) // warm

	done := make(chan string, 1)
	go func() {
		res := invokeRaw(t, c, "drain", `{"action":"sleep","n":1500}`)
		done <- string(res.Payload)
	}()
	time.Sleep(300 * time.Millisecond)
	if err := srv.Cmd.Process.Signal(syscallSIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-done:
		if got != `"slept"` {
			t.Fatalf("in-flight invocation answered %s", got)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the in-flight invocation did not finish")
	}
	select {
	case <-srv.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not exit after SIGTERM")
	}
	if code := srv.Cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("server exit code %d\n%s", code, srv.Output.String())
	}
}

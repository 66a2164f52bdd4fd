package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/testutil"
)

// awsCLI runs the real aws CLI against srv and returns stdout; it fails
// the test on a non-zero exit unless wantFail is set.
func awsCLI(t *testing.T, srv *testutil.Server, wantFail bool, args ...string) (string, string) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	full := append([]string{"--endpoint-url", srv.URL, "--region", "us-east-1", "--output", "json"}, args...)
	cmd := exec.CommandContext(c, "aws", full...)
	cmd.Env = srv.AWSEnv()
	cmd.Dir = t.TempDir()
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if (err != nil) != wantFail {
		t.Fatalf("aws %s: err=%v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String()
}

func requireAWSCLI(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the aws CLI is not installed (.ci/run installs it)")
	}
}

// TestAWSCLIFlow drives a function's life with the commands Lambda users
// type, adding only --endpoint-url.
func TestAWSCLIFlow(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	srv := testutil.StartServer(t, testutil.Options{})
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "function.zip")
	if err := os.WriteFile(zipPath, testFunctionZip(t), 0o644); err != nil {
		t.Fatal(err)
	}

	out, _ := awsCLI(t, srv, false, "lambda", "create-function", "--function-name", "cli-flow",
		"--runtime", "provided.al2023", "--handler", "bootstrap", "--role", testRole,
		"--zip-file", "fileb://"+zipPath, "--timeout", "10", "--memory-size", "256")
	var created map[string]any
	if err := json.Unmarshal([]byte(out), &created); err != nil || created["FunctionName"] != "cli-flow" ||
		created["State"] != "Pending" || created["StateReasonCode"] != "Creating" || created["LastUpdateStatus"] != nil {
		t.Fatalf("create-function output: %s (%v)", out, err)
	}
	awsCLI(t, srv, false, "lambda", "wait", "function-active-v2", "--function-name", "cli-flow")

	outFile := filepath.Join(dir, "out.json")
	out, _ = awsCLI(t, srv, false, "lambda", "invoke", "--function-name", "cli-flow",
		"--payload", `{"action":"echo","echo":"from-cli"}`, "--log-type", "Tail", outFile)
	var meta struct {
		StatusCode      int
		LogResult       string
		ExecutedVersion string
		FunctionError   string
	}
	if err := json.Unmarshal([]byte(out), &meta); err != nil || meta.StatusCode != 200 || meta.FunctionError != "" {
		t.Fatalf("invoke output: %s (%v)", out, err)
	}
	answer, _ := os.ReadFile(outFile)
	var echo struct {
		Echo      string `json:"echo"`
		RequestID string `json:"requestId"`
	}
	if err := json.Unmarshal(answer, &echo); err != nil || echo.Echo != "from-cli" {
		t.Fatalf("out.json = %s (%v)", answer, err)
	}
	logs, _ := base64.StdEncoding.DecodeString(meta.LogResult)
	for _, want := range []string{"START RequestId: " + echo.RequestID + " Version: $LATEST", "END RequestId: " + echo.RequestID, "REPORT RequestId: " + echo.RequestID + "\tDuration: ", "action=echo request=" + echo.RequestID} {
		if !strings.Contains(string(logs), want) {
			t.Errorf("decoded log lacks %q:\n%s", want, logs)
		}
	}

	out, _ = awsCLI(t, srv, false, "lambda", "invoke", "--function-name", "cli-flow", "--invocation-type", "DryRun", outFile)
	if !strings.Contains(out, `"StatusCode": 204`) {
		t.Fatalf("dry run output: %s", out)
	}

	out, _ = awsCLI(t, srv, false, "lambda", "get-function", "--function-name", "cli-flow")
	if !strings.Contains(out, `"MemorySize": 256`) || !strings.Contains(out, `"Location"`) {
		t.Fatalf("get-function: %s", out)
	}
	out, _ = awsCLI(t, srv, false, "lambda", "list-functions")
	if !strings.Contains(out, `"FunctionName": "cli-flow"`) {
		t.Fatalf("list-functions: %s", out)
	}

	v2 := filepath.Join(dir, "v2.zip")
	if err := os.WriteFile(v2, testutil.FunctionZip(t, "./internal/testutil/testfn", "-X main.codeVersion=v2"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ = awsCLI(t, srv, false, "lambda", "update-function-code", "--function-name", "cli-flow", "--zip-file", "fileb://"+v2)
	if !strings.Contains(out, `"LastUpdateStatus": "InProgress"`) || !strings.Contains(out, `"State": "Active"`) {
		t.Fatalf("update-function-code: %s", out)
	}
	awsCLI(t, srv, false, "lambda", "wait", "function-updated-v2", "--function-name", "cli-flow")
	out, _ = awsCLI(t, srv, false, "lambda", "get-function-configuration", "--function-name", "cli-flow")
	if !strings.Contains(out, `"LastUpdateStatus": "Successful"`) {
		t.Fatalf("after wait function-updated-v2: %s", out)
	}
	awsCLI(t, srv, false, "lambda", "invoke", "--function-name", "cli-flow", "--payload", `{"action":"version"}`, outFile)
	if b, _ := os.ReadFile(outFile); string(b) != `"v2"` {
		t.Fatalf("after update-function-code the function answered %s, want \"v2\"", b)
	}

	out, _ = awsCLI(t, srv, false, "lambda", "publish-version", "--function-name", "cli-flow")
	if !strings.Contains(out, `"Version": "1"`) {
		t.Fatalf("publish-version: %s", out)
	}
	awsCLI(t, srv, false, "lambda", "create-alias", "--function-name", "cli-flow", "--name", "prod", "--function-version", "1")
	out, _ = awsCLI(t, srv, false, "lambda", "invoke", "--function-name", "cli-flow", "--qualifier", "prod", "--payload", `{}`, outFile)
	if !strings.Contains(out, `"ExecutedVersion": "1"`) {
		t.Fatalf("invoke by alias: %s", out)
	}

	awsCLI(t, srv, false, "lambda", "delete-function", "--function-name", "cli-flow")
	_, stderr := awsCLI(t, srv, true, "lambda", "get-function", "--function-name", "cli-flow")
	if !strings.Contains(stderr, "ResourceNotFoundException") {
		t.Fatalf("get-function after delete: %s", stderr)
	}
}

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/registry"
	"github.com/updraft/updraft/internal/testutil"
)

// TestFunctionStatesRefusals drives Lambda's 409s for a function that is
// still Pending and one whose update is in progress, with the aws CLI. The
// server's test hook (--test-hold-states) keeps a function whose
// description carries registry.HoldStateMarker in that state.
func TestFunctionStatesRefusals(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	srv := testutil.StartServer(t, testutil.Options{Args: []string{"--test-hold-states"}})
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "function.zip")
	if err := os.WriteFile(zipPath, testFunctionZip(t), 0o644); err != nil {
		t.Fatal(err)
	}
	outFile := filepath.Join(dir, "out.json")
	create := func(name, description string) {
		awsCLI(t, srv, false, "lambda", "create-function", "--function-name", name,
			"--runtime", "provided.al2023", "--handler", "bootstrap", "--role", testRole,
			"--zip-file", "fileb://"+zipPath, "--description", description)
	}
	wantConflict := func(stderr, msg string) {
		t.Helper()
		if !strings.Contains(stderr, "(ResourceConflictException)") || !strings.Contains(stderr, msg) {
			t.Fatalf("stderr %q, want ResourceConflictException %q", stderr, msg)
		}
	}
	const pending = "The operation cannot be performed at this time. The function is currently in the following state: Pending"

	// Held Pending: invoke and update are refused, get shows why.
	create("held-pending", "held "+registry.HoldStateMarker)
	out, _ := awsCLI(t, srv, false, "lambda", "get-function", "--function-name", "held-pending")
	var got struct{ Configuration map[string]any }
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Configuration["State"] != "Pending" ||
		got.Configuration["StateReason"] != "The function is being created." {
		t.Fatalf("get-function of a Pending function: %s", out)
	}
	_, stderr := awsCLI(t, srv, true, "lambda", "invoke", "--function-name", "held-pending", "--cli-read-timeout", "10", outFile)
	wantConflict(stderr, pending)
	_, stderr = awsCLI(t, srv, true, "lambda", "update-function-code", "--function-name", "held-pending", "--zip-file", "fileb://"+zipPath)
	wantConflict(stderr, pending)

	// Held update: a second update is refused; invocations run the
	// configuration from before the update.
	create("held-update", "plain")
	awsCLI(t, srv, false, "lambda", "wait", "function-active-v2", "--function-name", "held-update")
	out, _ = awsCLI(t, srv, false, "lambda", "update-function-configuration", "--function-name", "held-update",
		"--description", registry.HoldStateMarker, "--environment", "Variables={STAGE=new}")
	if !strings.Contains(out, `"LastUpdateStatus": "InProgress"`) {
		t.Fatalf("update-function-configuration: %s", out)
	}
	_, stderr = awsCLI(t, srv, true, "lambda", "update-function-code", "--function-name", "held-update", "--zip-file", "fileb://"+zipPath)
	wantConflict(stderr, "The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-east-1:000000000000:function:held-update")
	awsCLI(t, srv, false, "lambda", "invoke", "--function-name", "held-update", "--payload", `{"action":"env"}`, outFile)
	var env struct{ Env map[string]string }
	if b, _ := os.ReadFile(outFile); json.Unmarshal(b, &env) != nil || env.Env == nil || env.Env["STAGE"] != "" {
		t.Fatalf("an invocation during the update saw the new configuration (STAGE=%q): %s", env.Env["STAGE"], b)
	}
}

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/testutil"
)

// TestFunctionPolicyWithAWSCLI grants another account the right to
// invoke a function with `aws lambda add-permission`, reads the policy
// back, refuses a duplicate statement id, removes it again, and asks
// `updraft whoami` who the server's own key is.
func TestFunctionPolicyWithAWSCLI(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	srv := testutil.StartServer(t, testutil.Options{})
	zipPath := filepath.Join(t.TempDir(), "function.zip")
	if err := os.WriteFile(zipPath, testFunctionZip(t), 0o644); err != nil {
		t.Fatal(err)
	}
	awsCLI(t, srv, false, "lambda", "create-function", "--function-name", "f",
		"--runtime", "provided.al2023", "--handler", "bootstrap", "--role", testRole,
		"--zip-file", "fileb://"+zipPath)

	const fnARN = "arn:aws:lambda:us-east-1:000000000000:function:f"
	const stmt = `{"Sid":"s1","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"lambda:InvokeFunction","Resource":"` + fnARN + `"}`
	out, _ := awsCLI(t, srv, false, "lambda", "add-permission", "--function-name", "f", "--statement-id", "s1",
		"--action", "lambda:InvokeFunction", "--principal", "123456789012")
	var added struct{ Statement string }
	if err := json.Unmarshal([]byte(out), &added); err != nil || added.Statement != stmt {
		t.Fatalf("add-permission: %s (%v)", out, err)
	}

	out, _ = awsCLI(t, srv, false, "lambda", "get-policy", "--function-name", "f")
	var got struct{ Policy, RevisionId string }
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.RevisionId == "" ||
		got.Policy != `{"Version":"2012-10-17","Id":"default","Statement":[`+stmt+`]}` {
		t.Fatalf("get-policy: %s (%v)", out, err)
	}

	_, stderr := awsCLI(t, srv, true, "lambda", "add-permission", "--function-name", "f", "--statement-id", "s1",
		"--action", "lambda:InvokeFunction", "--principal", "s3.amazonaws.com")
	if !strings.Contains(stderr, "ResourceConflictException") || !strings.Contains(stderr, "The statement id (s1) provided already exists.") {
		t.Fatalf("duplicate statement id: %s", stderr)
	}

	awsCLI(t, srv, false, "lambda", "remove-permission", "--function-name", "f", "--statement-id", "s1")
	_, stderr = awsCLI(t, srv, true, "lambda", "get-policy", "--function-name", "f")
	if !strings.Contains(stderr, "ResourceNotFoundException") || !strings.Contains(stderr, "The resource you requested does not exist.") {
		t.Fatalf("get-policy after remove-permission: %s", stderr)
	}

	// A policy goes with its function.
	awsCLI(t, srv, false, "lambda", "add-permission", "--function-name", "f", "--statement-id", "s2",
		"--action", "lambda:InvokeFunction", "--principal", "s3.amazonaws.com", "--source-arn", "arn:aws:s3:::bucket")
	awsCLI(t, srv, false, "lambda", "delete-function", "--function-name", "f")
	awsCLI(t, srv, false, "lambda", "create-function", "--function-name", "f",
		"--runtime", "provided.al2023", "--handler", "bootstrap", "--role", testRole,
		"--zip-file", "fileb://"+zipPath)
	_, stderr = awsCLI(t, srv, true, "lambda", "get-policy", "--function-name", "f")
	if !strings.Contains(stderr, "ResourceNotFoundException") {
		t.Fatalf("get-policy of a re-created function: %s", stderr)
	}

	out, stderr, err := updraftCLI(t, srv, "whoami")
	if err != nil || !strings.Contains(out, "arn:aws:iam::000000000000:root") || !strings.Contains(out, "Account") {
		t.Fatalf("updraft whoami: %v\nstdout: %s\nstderr: %s", err, out, stderr)
	}
	out, stderr, err = updraftCLI(t, srv, "whoami", "--output", "json")
	var id struct{ UserId, Account, Arn string }
	if err != nil || json.Unmarshal([]byte(out), &id) != nil || id.Arn != "arn:aws:iam::000000000000:root" || id.Account != "000000000000" {
		t.Fatalf("updraft whoami --output json: %v\nstdout: %s\nstderr: %s", err, out, stderr)
	}
}

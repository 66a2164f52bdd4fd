package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/testutil"
)

// TestIAMAndSTSWithCLI manages identities with the aws iam and aws sts
// commands people type, adding only --endpoint-url.
func TestIAMAndSTSWithCLI(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	srv := testutil.StartServer(t, testutil.Options{})
	run := func(args ...string) map[string]any {
		t.Helper()
		out, _ := awsCLI(t, srv, false, args...)
		var v map[string]any
		if strings.TrimSpace(out) != "" {
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
		return v
	}
	fail := func(code string, args ...string) string {
		t.Helper()
		_, stderr := awsCLI(t, srv, true, args...)
		if !strings.Contains(stderr, code) {
			t.Fatalf("aws %s: stderr %s, want %s", strings.Join(args, " "), stderr, code)
		}
		return stderr
	}

	u := run("iam", "create-user", "--user-name", "ci")["User"].(map[string]any)
	if u["UserName"] != "ci" || u["Arn"] != "arn:aws:iam::000000000000:user/ci" || !strings.HasPrefix(u["UserId"].(string), "AIDA") {
		t.Fatalf("create-user: %v", u)
	}
	fail("EntityAlreadyExists", "iam", "create-user", "--user-name", "ci")
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*"}]}`
	run("iam", "put-user-policy", "--user-name", "ci", "--policy-name", "invoke", "--policy-document", policy)
	got := run("iam", "get-user-policy", "--user-name", "ci", "--policy-name", "invoke")
	if doc, _ := got["PolicyDocument"].(map[string]any); doc == nil || doc["Version"] != "2012-10-17" {
		t.Fatalf("get-user-policy (the CLI decodes the document): %v", got)
	}
	fail("MalformedPolicyDocument", "iam", "put-user-policy", "--user-name", "ci", "--policy-name", "bad", "--policy-document", "{not json")
	key := run("iam", "create-access-key", "--user-name", "ci")["AccessKey"].(map[string]any)
	if !strings.HasPrefix(key["AccessKeyId"].(string), "AKIA") || len(key["SecretAccessKey"].(string)) != 40 || key["Status"] != "Active" {
		t.Fatalf("create-access-key: %v", key)
	}
	users := run("iam", "list-users")["Users"].([]any)
	if len(users) != 1 || users[0].(map[string]any)["UserName"] != "ci" {
		t.Fatalf("list-users: %v", users)
	}
	if got := run("iam", "get-user", "--user-name", "ci")["User"].(map[string]any); got["UserId"] != u["UserId"] {
		t.Fatalf("get-user: %v", got)
	}
	stderr := fail("DeleteConflict", "iam", "delete-user", "--user-name", "ci")
	if !strings.Contains(stderr, "must delete access keys first") {
		t.Fatalf("delete-user: %s", stderr)
	}
	fail("NoSuchEntity", "iam", "get-user", "--user-name", "nobody")

	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	role := run("iam", "create-role", "--role-name", "fn-role", "--assume-role-policy-document", trust)["Role"].(map[string]any)
	if role["Arn"] != "arn:aws:iam::000000000000:role/fn-role" || role["MaxSessionDuration"] != float64(3600) {
		t.Fatalf("create-role: %v", role)
	}
	basic := "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
	awsCLI(t, srv, false, "iam", "attach-role-policy", "--role-name", "fn-role", "--policy-arn", basic)
	attached := run("iam", "list-attached-role-policies", "--role-name", "fn-role")["AttachedPolicies"].([]any)
	if len(attached) != 1 || attached[0].(map[string]any)["PolicyArn"] != basic {
		t.Fatalf("list-attached-role-policies: %v", attached)
	}

	p := run("iam", "create-policy", "--policy-name", "readers", "--policy-document", policy)["Policy"].(map[string]any)
	arn := p["Arn"].(string)
	if arn != "arn:aws:iam::000000000000:policy/readers" || p["DefaultVersionId"] != "v1" {
		t.Fatalf("create-policy: %v", p)
	}
	v := run("iam", "create-policy-version", "--policy-arn", arn, "--policy-document", policy, "--set-as-default")["PolicyVersion"].(map[string]any)
	if v["VersionId"] != "v2" || v["IsDefaultVersion"] != true {
		t.Fatalf("create-policy-version: %v", v)
	}
	vs := run("iam", "list-policy-versions", "--policy-arn", arn)["Versions"].([]any)
	if len(vs) != 2 || vs[0].(map[string]any)["VersionId"] != "v2" {
		t.Fatalf("list-policy-versions: %v", vs)
	}
	run("iam", "attach-role-policy", "--role-name", "fn-role", "--policy-arn", arn)
	att := run("iam", "list-attached-role-policies", "--role-name", "fn-role")["AttachedPolicies"].([]any)
	if len(att) == 0 || att[len(att)-1].(map[string]any)["PolicyArn"] != arn {
		t.Fatalf("list-attached-role-policies: %v", att)
	}

	id := run("sts", "get-caller-identity")
	if id["Account"] != "000000000000" || id["Arn"] != "arn:aws:iam::000000000000:root" || id["UserId"] != "000000000000" {
		t.Fatalf("get-caller-identity: %v", id)
	}
	// A trust policy naming only Lambda keeps even the root out, as on AWS.
	if stderr := fail("AccessDenied", "sts", "assume-role", "--role-arn", role["Arn"].(string), "--role-session-name", "build-1"); !strings.Contains(stderr, "is not authorized to perform: sts:AssumeRole") {
		t.Fatalf("assume-role of a role trusting only Lambda: %s", stderr)
	}
	run("iam", "update-assume-role-policy", "--role-name", "fn-role", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com","AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}]}`)
	ar := run("sts", "assume-role", "--role-arn", role["Arn"].(string), "--role-session-name", "build-1")
	creds := ar["Credentials"].(map[string]any)
	aru := ar["AssumedRoleUser"].(map[string]any)
	if !strings.HasPrefix(creds["AccessKeyId"].(string), "ASIA") || creds["SessionToken"] == "" ||
		aru["Arn"] != "arn:aws:sts::000000000000:assumed-role/fn-role/build-1" || aru["AssumedRoleId"] != role["RoleId"].(string)+":build-1" {
		t.Fatalf("assume-role: %v", ar)
	}
}

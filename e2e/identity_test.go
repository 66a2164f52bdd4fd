package e2e

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/testutil"
)

// cliKey is a key the aws CLI signs with.
type cliKey struct{ id, secret, token string }

// awsCLIAs runs the aws CLI against srv signed with key; it returns
// stdout, stderr and whether the command succeeded.
func awsCLIAs(t *testing.T, srv *testutil.Server, key cliKey, args ...string) (string, string, bool) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	full := append([]string{"--endpoint-url", srv.URL, "--region", "us-east-1", "--output", "json"}, args...)
	cmd := exec.CommandContext(c, "aws", full...)
	env := []string{}
	for _, kv := range srv.AWSEnv() {
		if !strings.HasPrefix(kv, "AWS_ACCESS_KEY_ID=") && !strings.HasPrefix(kv, "AWS_SECRET_ACCESS_KEY=") && !strings.HasPrefix(kv, "AWS_SESSION_TOKEN=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "AWS_ACCESS_KEY_ID="+key.id, "AWS_SECRET_ACCESS_KEY="+key.secret)
	if key.token != "" {
		cmd.Env = append(cmd.Env, "AWS_SESSION_TOKEN="+key.token)
	}
	cmd.Dir = t.TempDir()
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err == nil
}

// mustCLI runs the aws CLI as key and fails the test unless it succeeds
// (want true) or fails (want false); it returns stdout, or stderr on
// failure.
func mustCLI(t *testing.T, srv *testutil.Server, key cliKey, want bool, args ...string) string {
	t.Helper()
	out, errOut, ok := awsCLIAs(t, srv, key, args...)
	if ok != want {
		t.Fatalf("aws %s as %s: succeeded=%v, want %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), key.id, ok, want, out, errOut)
	}
	if !ok {
		return errOut
	}
	return out
}

// createUserKey creates an IAM user and an access key for it.
func createUserKey(t *testing.T, srv *testutil.Server, root cliKey, user string) cliKey {
	t.Helper()
	mustCLI(t, srv, root, true, "iam", "create-user", "--user-name", user)
	out := mustCLI(t, srv, root, true, "iam", "create-access-key", "--user-name", user)
	var k struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	if err := json.Unmarshal([]byte(out), &k); err != nil || k.AccessKey.AccessKeyId == "" {
		t.Fatalf("create-access-key: %s (%v)", out, err)
	}
	return cliKey{id: k.AccessKey.AccessKeyId, secret: k.AccessKey.SecretAccessKey}
}

// TestUsersAndPolicies is the story of a CI key: a user who may invoke and
// update app* functions and nothing else, with inline, managed and
// resource-based policies granting and taking back.
func TestUsersAndPolicies(t *testing.T) {
	requireAWSCLI(t)
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{})
	root := cliKey{id: srv.AccessKeyID, secret: srv.SecretAccessKey}
	c := srv.Lambda()
	createTestFunction(t, c, "app1", fnOpts{})
	createTestFunction(t, c, "other", fnOpts{})

	ci := createUserKey(t, srv, root, "ci")
	mustCLI(t, srv, root, true, "iam", "put-user-policy", "--user-name", "ci", "--policy-name", "deploy-app",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:InvokeFunction","lambda:UpdateFunctionCode"],"Resource":"arn:aws:lambda:*:*:function:app*"}]}`)
	out := filepath.Join(t.TempDir(), "out.json")
	mustCLI(t, srv, ci, true, "lambda", "invoke", "--function-name", "app1", out)
	denied := mustCLI(t, srv, ci, false, "lambda", "invoke", "--function-name", "other", out)
	want := "User: arn:aws:iam::000000000000:user/ci is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:000000000000:function:other because no identity-based policy allows the lambda:InvokeFunction action"
	if !strings.Contains(denied, "AccessDeniedException") || !strings.Contains(denied, want) {
		t.Errorf("invoke other as ci: %s\nwant AccessDeniedException: %s", denied, want)
	}
	if denied := mustCLI(t, srv, ci, false, "lambda", "delete-function", "--function-name", "app1"); !strings.Contains(denied, "AccessDeniedException") ||
		!strings.Contains(denied, "lambda:DeleteFunction on resource: arn:aws:lambda:us-east-1:000000000000:function:app1") {
		t.Errorf("delete-function as ci: %s", denied)
	}
	if who := mustCLI(t, srv, ci, true, "sts", "get-caller-identity"); !strings.Contains(who, "arn:aws:iam::000000000000:user/ci") {
		t.Errorf("get-caller-identity as ci: %s", who)
	}
	// Taking the inline policy away takes the permission away.
	mustCLI(t, srv, root, true, "iam", "delete-user-policy", "--user-name", "ci", "--policy-name", "deploy-app")
	mustCLI(t, srv, ci, false, "lambda", "invoke", "--function-name", "app1", out)
	// The same with a customer managed policy, attached then detached.
	pol := mustCLI(t, srv, root, true, "iam", "create-policy", "--policy-name", "invoke-app",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:*:*:function:app*"}]}`)
	var created struct{ Policy struct{ Arn string } }
	if err := json.Unmarshal([]byte(pol), &created); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, srv, root, true, "iam", "attach-user-policy", "--user-name", "ci", "--policy-arn", created.Policy.Arn)
	mustCLI(t, srv, ci, true, "lambda", "invoke", "--function-name", "app1", out)
	mustCLI(t, srv, root, true, "iam", "detach-user-policy", "--user-name", "ci", "--policy-arn", created.Policy.Arn)
	mustCLI(t, srv, ci, false, "lambda", "invoke", "--function-name", "app1", out)

	// An explicit Deny beats an AWS managed policy's Allow.
	ops := createUserKey(t, srv, root, "ops")
	mustCLI(t, srv, root, true, "iam", "attach-user-policy", "--user-name", "ops", "--policy-arn", "arn:aws:iam::aws:policy/AWSLambda_FullAccess")
	mustCLI(t, srv, ops, true, "lambda", "list-functions")
	mustCLI(t, srv, root, true, "iam", "put-user-policy", "--user-name", "ops", "--policy-name", "no-deletes",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"lambda:DeleteFunction","Resource":"*"}]}`)
	if denied := mustCLI(t, srv, ops, false, "lambda", "delete-function", "--function-name", "other"); !strings.Contains(denied, "with an explicit deny in an identity-based policy") {
		t.Errorf("delete-function with an explicit deny: %s", denied)
	}
	mustCLI(t, srv, ops, true, "lambda", "get-function", "--function-name", "other")

	// NotAction and a condition on aws:SourceIp.
	net := createUserKey(t, srv, root, "net")
	mustCLI(t, srv, root, true, "iam", "put-user-policy", "--user-name", "net", "--policy-name", "from-loopback",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}}]}`)
	mustCLI(t, srv, net, true, "lambda", "list-functions")
	mustCLI(t, srv, net, false, "iam", "list-users")
	mustCLI(t, srv, root, true, "iam", "put-user-policy", "--user-name", "net", "--policy-name", "from-loopback",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`)
	mustCLI(t, srv, net, false, "lambda", "list-functions")

	// A malformed document is refused with IAM's error.
	if bad := mustCLI(t, srv, root, false, "iam", "put-user-policy", "--user-name", "net", "--policy-name", "bad",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:*"}]}`); !strings.Contains(bad, "MalformedPolicyDocument") {
		t.Errorf("a policy without Resource: %s", bad)
	}

	// A function's resource-based policy lets a user with no policy invoke it.
	partner := createUserKey(t, srv, root, "partner")
	mustCLI(t, srv, partner, false, "lambda", "invoke", "--function-name", "other", out)
	mustCLI(t, srv, root, true, "lambda", "add-permission", "--function-name", "other", "--statement-id", "partner",
		"--action", "lambda:InvokeFunction", "--principal", "arn:aws:iam::000000000000:user/partner")
	mustCLI(t, srv, partner, true, "lambda", "invoke", "--function-name", "other", out)
	mustCLI(t, srv, partner, false, "lambda", "invoke", "--function-name", "app1", out)

	// AssumeRole needs the role's trust policy to name the caller.
	mustCLI(t, srv, root, true, "iam", "put-user-policy", "--user-name", "partner", "--policy-name", "assume",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
	lambdaTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	mustCLI(t, srv, root, true, "iam", "create-role", "--role-name", "reader", "--assume-role-policy-document", lambdaTrust)
	roleARN := "arn:aws:iam::000000000000:role/reader"
	if denied := mustCLI(t, srv, partner, false, "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "s1"); !strings.Contains(denied, "AccessDenied") {
		t.Errorf("assume-role without trust: %s", denied)
	}
	mustCLI(t, srv, root, true, "iam", "update-assume-role-policy", "--role-name", "reader", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/partner"},"Action":"sts:AssumeRole"}]}`)
	mustCLI(t, srv, root, true, "iam", "put-role-policy", "--role-name", "reader", "--policy-name", "list",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:ListFunctions","Resource":"*"}]}`)
	assumed := mustCLI(t, srv, partner, true, "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "s1")
	var sess struct {
		Credentials struct{ AccessKeyId, SecretAccessKey, SessionToken string }
	}
	if err := json.Unmarshal([]byte(assumed), &sess); err != nil || !strings.HasPrefix(sess.Credentials.AccessKeyId, "ASIA") {
		t.Fatalf("assume-role: %s (%v)", assumed, err)
	}
	session := cliKey{sess.Credentials.AccessKeyId, sess.Credentials.SecretAccessKey, sess.Credentials.SessionToken}
	if who := mustCLI(t, srv, session, true, "sts", "get-caller-identity"); !strings.Contains(who, "assumed-role/reader/s1") {
		t.Errorf("get-caller-identity of the session: %s", who)
	}
	mustCLI(t, srv, session, true, "lambda", "list-functions")
	mustCLI(t, srv, session, false, "lambda", "invoke", "--function-name", "other", out)
}

// TestFunctionCredentials: an environment's key is a session of its role,
// never the root's, can do what the role allows and nothing more, and dies
// with the environment.
func TestFunctionCredentials(t *testing.T) {
	requireAWSCLI(t)
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{})
	root := cliKey{id: srv.AccessKeyID, secret: srv.SecretAccessKey}
	c := srv.Lambda()
	createTestFunction(t, c, "target", fnOpts{})
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	mustCLI(t, srv, root, true, "iam", "create-role", "--role-name", "invoker", "--assume-role-policy-document", trust)
	mustCLI(t, srv, root, true, "iam", "put-role-policy", "--role-name", "invoker", "--policy-name", "invoke-target",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:000000000000:function:target"}]}`)
	zip := testutil.FunctionZip(t, "./internal/testutil/probefn", "")
	for name, role := range map[string]string{"scoped": "arn:aws:iam::000000000000:role/invoker", "tutorial": testRole} {
		if _, err := c.CreateFunction(ctx(t), &lambda.CreateFunctionInput{
			FunctionName: aws.String(name), Runtime: types.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
			Role: aws.String(role), Code: &types.FunctionCode{ZipFile: zip}, Timeout: aws.Int32(30),
		}); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	expect := func(fn, call string, ok bool, code string) {
		t.Helper()
		r := probe(t, c, fn, "sdk", call, 0)
		if r.OK != ok || (!ok && code != "" && r.Value != code) {
			t.Errorf("%s: %s: %+v, want ok=%v %s", fn, call, r, ok, code)
		}
	}
	expect("scoped", "Invoke:target", true, "")
	expect("scoped", "ListFunctions", false, "AccessDeniedException")
	expect("scoped", "GetFunction:target", false, "AccessDeniedException")
	expect("scoped", "DeleteFunction:target", false, "AccessDeniedException")
	expect("tutorial", "InvokeEvent:target", true, "")
	expect("tutorial", "ListFunctions", false, "AccessDeniedException")

	creds := probe(t, c, "scoped", "env-creds", "", 0).Lines
	if len(creds) != 3 || creds[0] == srv.AccessKeyID || !strings.HasPrefix(creds[0], "ASIA") || creds[2] == "" {
		t.Fatalf("the environment's credentials: %v (root %s)", creds, srv.AccessKeyID)
	}
	stolen := lambda.New(lambda.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(creds[0], creds[1], creds[2])})
	if _, err := stolen.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("target")}); err != nil {
		t.Fatalf("the environment's credentials outside it, while it lives: %v", err)
	}
	// Deleting the function ends its environments, and their credentials.
	if _, err := c.DeleteFunction(ctx(t), &lambda.DeleteFunctionInput{FunctionName: aws.String("scoped")}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, func() error {
		_, err := stolen.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("target")})
		if err == nil {
			return errString("a session token of an ended environment still works")
		}
		if code := apiErrorCode(err); code != "UnrecognizedClientException" {
			return errString("refused with " + code + ": " + err.Error())
		}
		return nil
	})
}

type errString string

func (e errString) Error() string { return string(e) }

// TestUnknownRolesRefuse: with --unknown-roles refuse, a role that names
// no role defined here is refused as AWS refuses it.
func TestUnknownRolesRefuse(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{Args: []string{"--unknown-roles", "refuse"}})
	_, err := srv.Lambda().CreateFunction(ctx(t), &lambda.CreateFunctionInput{
		FunctionName: aws.String("f"), Runtime: types.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Role: aws.String(testRole), Code: &types.FunctionCode{ZipFile: testFunctionZip(t)},
	})
	if code := apiErrorCode(err); code != "InvalidParameterValueException" || !strings.Contains(err.Error(), "The role defined for the function cannot be assumed by Lambda.") {
		t.Fatalf("create with an undefined role: %v", err)
	}
}

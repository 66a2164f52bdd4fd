package auth

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// awsCLI runs the real aws CLI (v1, botocore) against the test server with
// only the given credentials configured, and returns its combined output.
func awsCLI(t *testing.T, srv *testServer, creds Credentials, args ...string) (string, error) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping the aws CLI test (about 1 s per command)")
	}
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not on PATH; install awscli v1 to run the botocore signing test")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	dir := t.TempDir()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--endpoint-url", srv.URL, "--region", "us-east-1"}, args...)...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env,
		"AWS_ACCESS_KEY_ID="+creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey,
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_MAX_ATTEMPTS=1",
		"AWS_PAGER=",
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("aws %s: timed out after 20s: %s", strings.Join(args, " "), out.String())
	}
	return out.String(), err
}

// awsInvoke runs "aws lambda invoke" with a raw JSON payload. AWS CLI v2
// needs --cli-binary-format raw-in-base64-out for that; v1 sends --payload
// raw already and rejects the flag as unknown, so it is dropped for v1.
func awsInvoke(t *testing.T, srv *testServer, creds Credentials, fn, payload string) (string, error) {
	t.Helper()
	outFile := filepath.Join(t.TempDir(), "out.json")
	args := []string{"lambda", "invoke", "--function-name", fn, "--payload", payload}
	out, err := awsCLI(t, srv, creds, append(args, "--cli-binary-format", "raw-in-base64-out", outFile)...)
	if err != nil && strings.Contains(out, "Unknown options: --cli-binary-format") {
		t.Log("this aws CLI (v1) has no --cli-binary-format; it sends --payload raw without it")
		out, err = awsCLI(t, srv, creds, append(args, outFile)...)
	}
	return out, err
}

func TestAWSCLIRequestsVerify(t *testing.T) {
	srv := newTestServer(t)
	creds := testCreds()

	t.Run("list-functions verifies", func(t *testing.T) {
		out, err := awsCLI(t, srv, creds, "lambda", "list-functions")
		o := srv.next(t)
		if err != nil {
			t.Fatalf("aws lambda list-functions: %v\n%s", err, out)
		}
		if o.Err != nil || o.AccessKey != creds.AccessKeyID {
			t.Fatalf("outcome = %+v, want verified as %s", o, creds.AccessKeyID)
		}
	})
	t.Run("list-functions with a page size and version filter in the query verifies", func(t *testing.T) {
		out, err := awsCLI(t, srv, creds, "lambda", "list-functions", "--function-version", "ALL", "--page-size", "5")
		o := srv.next(t)
		if err != nil {
			t.Fatalf("aws lambda list-functions: %v\n%s", err, out)
		}
		if o.Err != nil {
			t.Fatalf("verification failed: %v", o.Err)
		}
	})
	t.Run("invoke of a qualified name verifies and keeps the payload", func(t *testing.T) {
		out, err := awsInvoke(t, srv, creds, "my-fn:prod", `{"a":1}`)
		o := srv.next(t)
		if err != nil {
			t.Fatalf("aws lambda invoke: %v\n%s", err, out)
		}
		if o.Err != nil {
			t.Fatalf("verification failed: %v", o.Err)
		}
		if string(o.Body) != `{"a":1}` {
			t.Errorf("handler read payload %q, want {\"a\":1}", o.Body)
		}
		if o.Path != "/2015-03-31/functions/my-fn%3Aprod/invocations" {
			t.Errorf("handler saw path %q", o.Path)
		}
	})
	t.Run("get-function with the $LATEST qualifier verifies", func(t *testing.T) {
		out, err := awsCLI(t, srv, creds, "lambda", "get-function", "--function-name", "my-fn", "--qualifier", "$LATEST")
		o := srv.next(t)
		if err != nil {
			t.Fatalf("aws lambda get-function: %v\n%s", err, out)
		}
		if o.Err != nil {
			t.Fatalf("verification failed: %v", o.Err)
		}
	})
	t.Run("a wrong secret fails with InvalidSignatureException", func(t *testing.T) {
		bad := Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: "wrong" + creds.SecretAccessKey[5:]}
		out, err := awsInvoke(t, srv, bad, "my-fn:prod", `{"a":1}`)
		o := srv.next(t)
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("aws lambda invoke with a wrong secret: err = %v, want a non-zero exit\n%s", err, out)
		}
		wantAuthError(t, nil, nil, o.Err, TypeInvalidSignature)
		// The CLI parsed our error shape: it names the type and message.
		if !strings.Contains(out, "(InvalidSignatureException)") || !strings.Contains(out, "The request signature we calculated") {
			t.Errorf("aws output does not report InvalidSignatureException:\n%s", out)
		}
	})
	t.Run("an unknown key fails with UnrecognizedClientException", func(t *testing.T) {
		bad := Credentials{AccessKeyID: "AKIANOTKNOWN00000000", SecretAccessKey: creds.SecretAccessKey}
		out, err := awsCLI(t, srv, bad, "lambda", "list-functions")
		o := srv.next(t)
		if err == nil {
			t.Fatalf("aws lambda list-functions with an unknown key succeeded\n%s", out)
		}
		wantAuthError(t, nil, nil, o.Err, TypeUnrecognizedClient)
		if !strings.Contains(out, "(UnrecognizedClientException)") {
			t.Errorf("aws output does not report UnrecognizedClientException:\n%s", out)
		}
	})
}

// botocoreSign is a Python program that signs one request with botocore's
// SigV4Auth (the signer behind the aws CLI) for any service, and sends it.
const botocoreSign = `
import os, sys, urllib.request, urllib.error
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
method, url, service, region, body = sys.argv[1:6]
req = AWSRequest(method=method, url=url, data=body.encode() if body else None,
                 headers={"Content-Type": "application/json"})
SigV4Auth(Credentials(os.environ["TEST_AKID"], os.environ["TEST_SECRET"]), service, region).add_auth(req)
p = req.prepare()
r = urllib.request.Request(p.url, data=p.body, headers=dict(p.headers), method=method)
try:
    print(urllib.request.urlopen(r, timeout=15).status)
except urllib.error.HTTPError as e:
    print(e.code)
`

func TestBotocoreSignedRequestsVerify(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the botocore signing test (starts Python per request)")
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not on PATH; needed to sign with botocore")
	}
	if out, err := exec.CommandContext(t.Context(), py, "-c", "import botocore").CombinedOutput(); err != nil {
		t.Skipf("botocore not importable (install awscli v1): %v %s", err, out)
	}
	srv := newTestServer(t)
	tests := []struct {
		name, method, target, service, region, body string
	}{
		{name: "an execute-api POST with an encoded colon and query", method: "POST", target: "/prod/items/a%3Ab?x=1&y=a%20b",
			service: "execute-api", region: "us-east-1", body: `{"k":"v"}`},
		{name: "an execute-api GET in another region", method: "GET", target: "/prod/hello", service: "execute-api", region: "eu-central-1"},
		{name: "a lambda GET with an encoded $LATEST", method: "GET", target: "/2015-03-31/functions/my-fn%3A%24LATEST/configuration",
			service: "lambda", region: "us-east-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name+" verifies", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, py, "-c", botocoreSign, tc.method, srv.URL+tc.target, tc.service, tc.region, tc.body)
			cmd.Env = append(os.Environ(), "TEST_AKID="+testCreds().AccessKeyID, "TEST_SECRET="+testCreds().SecretAccessKey)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("botocore signer: %v\n%s", err, out) // it never reached the server
			}
			o := srv.next(t)
			if o.Err != nil {
				t.Fatalf("verification failed: %v (client saw %s)", o.Err, out)
			}
			if o.Scope.Service != tc.service || o.Scope.Region != tc.region {
				t.Errorf("scope = %+v, want %s/%s", o.Scope, tc.service, tc.region)
			}
			if string(o.Body) != tc.body {
				t.Errorf("handler read %q, want %q", o.Body, tc.body)
			}
		})
	}
}

package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/updraft/updraft/internal/testutil"
)

func TestRequestsMustBeSigned(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{})

	resp, err := http.Get(srv.URL + "/2015-03-31/functions/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" || body["Message"] == "" {
		t.Fatalf("unsigned request: %d %s %v", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body)
	}

	for _, tc := range []struct {
		name, key, secret, wantCode string
	}{
		{"wrong secret", srv.AccessKeyID, "not-the-secret", "InvalidSignatureException"},
		{"unknown key", "AKIAUNKNOWNKEY000000", srv.SecretAccessKey, "UnrecognizedClientException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := lambda.New(lambda.Options{
				Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
				Credentials: credentials.NewStaticCredentialsProvider(tc.key, tc.secret, ""),
			})
			_, err := c.ListFunctions(ctx(t), &lambda.ListFunctionsInput{})
			if code := apiErrorCode(err); code != tc.wantCode {
				t.Fatalf("error %v (code %q), want %s", err, code, tc.wantCode)
			}
		})
	}

	// The health endpoint stays open for probes and says how the server runs.
	h, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Body.Close()
	var health map[string]any
	_ = json.NewDecoder(h.Body).Decode(&health)
	if h.StatusCode != 200 || health["isolation"] == nil || health["store"] == nil {
		t.Fatalf("healthz: %d %v", h.StatusCode, health)
	}
	if !strings.Contains(srv.Output.String(), "AWS_ACCESS_KEY_ID") {
		t.Fatalf("the banner does not tell users which credentials to use:\n%s", srv.Output.String())
	}
}

func TestRequestsMustBeSignedForTheRegionAndService(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{})
	send := func(t *testing.T, service, region, method, path, contentType string, body []byte) (int, http.Header, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		sum := sha256.Sum256(body)
		creds := aws.Credentials{AccessKeyID: srv.AccessKeyID, SecretAccessKey: srv.SecretAccessKey}
		if err := v4.NewSigner().SignHTTP(ctx(t), creds, req, hex.EncodeToString(sum[:]), service, region, time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	const form = "application/x-www-form-urlencoded"
	for _, tc := range []struct {
		name, service, region, method, path, contentType, body string
		wantStatus                                             int
		wantText                                               string // in the body
	}{
		{name: "lambda in another region", service: "lambda", region: "eu-west-1", method: "GET", path: "/2015-03-31/functions/",
			wantStatus: 403, wantText: "Credential should be scoped to a valid region. "},
		{name: "execute-api on a Lambda path", service: "execute-api", region: "us-east-1", method: "GET", path: "/2015-03-31/functions/",
			wantStatus: 403, wantText: "Credential should be scoped to correct service: 'lambda'. "},
		{name: "lambda on the HTTP proxy", service: "lambda", region: "us-east-1", method: "GET", path: "/updraft/v1/http/nobody/x",
			wantStatus: 403, wantText: "Credential should be scoped to correct service: 'execute-api'. "},
		{name: "an IAM form signed for sts", service: "sts", region: "us-east-1", method: "POST", path: "/", contentType: form,
			body: "Action=ListUsers&Version=2010-05-08", wantStatus: 403, wantText: "<Code>SignatureDoesNotMatch</Code><Message>Credential should be scoped to correct service: &#39;iam&#39;. "},
		{name: "an STS form signed for sts in the global region", service: "sts", region: "us-east-1", method: "POST", path: "/", contentType: form,
			body: "Action=GetCallerIdentity&Version=2011-06-15", wantStatus: 200, wantText: "GetCallerIdentityResult"},
		{name: "an IAM form signed for iam", service: "iam", region: "us-east-1", method: "POST", path: "/", contentType: form,
			body: "Action=ListUsers&Version=2010-05-08", wantStatus: 200, wantText: "ListUsersResult"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := send(t, tc.service, tc.region, tc.method, tc.path, tc.contentType, []byte(tc.body))
			if status != tc.wantStatus || !strings.Contains(body, tc.wantText) {
				t.Fatalf("%d %s, want %d with %q", status, body, tc.wantStatus, tc.wantText)
			}
		})
	}
}

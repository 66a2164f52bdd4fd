package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/updraft/updraft/internal/testutil"
)

func TestRequestsMustBeSigned(t *testing.T) {
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

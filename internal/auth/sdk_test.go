package auth

import (
	"bytes"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// TestLambdaSDKClientRequestsVerify drives the real aws-sdk-go-v2 Lambda
// client, so the paths, query strings and headers are exactly what the SDK
// serializes, not what a test author thinks it does.
func TestLambdaSDKClientRequestsVerify(t *testing.T) {
	srv := newTestServer(t)
	client := func(c Credentials, region string) *lambda.Client {
		return lambda.New(lambda.Options{
			Region:           region,
			BaseEndpoint:     aws.String(srv.URL),
			Credentials:      credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, ""),
			RetryMaxAttempts: 1,
			HTTPClient:       srv.Client(),
		})
	}
	good := client(testCreds(), "us-east-1")
	payload := []byte(`{"a":1}`)
	tests := []struct {
		name     string
		call     func(*lambda.Client) error
		wantBody []byte
		wantPath string
	}{
		{
			name: "ListFunctions with MaxItems",
			call: func(c *lambda.Client) error {
				_, err := c.ListFunctions(t.Context(), &lambda.ListFunctionsInput{MaxItems: aws.Int32(5)})
				return err
			},
		},
		{
			name: "Invoke of a name with a qualifier suffix",
			call: func(c *lambda.Client) error {
				_, err := c.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("my-fn:prod"), Payload: payload})
				return err
			},
			wantBody: payload,
			wantPath: "/2015-03-31/functions/my-fn%3Aprod/invocations",
		},
		{
			name: "Invoke with Qualifier $LATEST",
			call: func(c *lambda.Client) error {
				_, err := c.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("my-fn"), Qualifier: aws.String("$LATEST"), Payload: payload})
				return err
			},
			wantBody: payload,
		},
		{
			name: "GetFunction by full ARN",
			call: func(c *lambda.Client) error {
				_, err := c.GetFunction(t.Context(), &lambda.GetFunctionInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:123456789012:function:my-fn:prod")})
				return err
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name+" verifies", func(t *testing.T) {
			err := tc.call(good)
			o := srv.next(t)
			if err != nil {
				t.Fatalf("call: %v (verification: %v)", err, o.Err)
			}
			if o.Err != nil {
				t.Fatalf("verification failed: %v", o.Err)
			}
			if tc.wantBody != nil && !bytes.Equal(o.Body, tc.wantBody) {
				t.Errorf("handler read %q, want %q", o.Body, tc.wantBody)
			}
			if tc.wantPath != "" && o.Path != tc.wantPath {
				t.Errorf("handler saw path %q, want %q", o.Path, tc.wantPath)
			}
		})
	}
	t.Run("a client in another region verifies", func(t *testing.T) {
		err := tests[0].call(client(testCreds(), "ap-southeast-2"))
		o := srv.next(t)
		if err != nil || o.Err != nil || o.Scope.Region != "ap-southeast-2" {
			t.Fatalf("call err %v, outcome %+v; want verified for ap-southeast-2", err, o)
		}
	})
	t.Run("a client with a wrong secret is refused", func(t *testing.T) {
		bad := testCreds()
		bad.SecretAccessKey = "not-the-secret"
		err := tests[1].call(client(bad, "us-east-1"))
		o := srv.next(t)
		if err == nil {
			t.Fatal("call with a wrong secret succeeded")
		}
		wantAuthError(t, nil, nil, o.Err, TypeInvalidSignature)
	})
}

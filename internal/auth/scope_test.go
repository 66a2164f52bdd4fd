package auth

import (
	"net/http"
	"strings"
	"testing"
)

func TestVerifyChecksTheCredentialScope(t *testing.T) {
	// The server is in eu-west-1; "/" stands for IAM and STS, which SDKs
	// sign for us-east-1 too, every other path for Lambda.
	srv := newTestServer(t, WithScope("eu-west-1", func(r *http.Request) Allowed {
		if r.URL.Path == "/" {
			return Allowed{Services: []string{"iam", "sts"}, Regions: []string{"us-east-1"}}
		}
		return Allowed{Services: []string{"lambda"}}
	}))
	tests := []struct {
		name            string
		target          string
		service, region string
		wantMessage     string // "" = accepted
	}{
		{name: "lambda in the server's region is accepted", target: "/2015-03-31/functions/", service: "lambda", region: "eu-west-1"},
		{name: "lambda in another region is refused", target: "/2015-03-31/functions/", service: "lambda", region: "us-east-1",
			wantMessage: "Credential should be scoped to a valid region. "},
		{name: "another service on a Lambda path is refused", target: "/2015-03-31/functions/", service: "execute-api", region: "eu-west-1",
			wantMessage: "Credential should be scoped to correct service: 'lambda'. "},
		{name: "sts in us-east-1 is accepted", target: "/", service: "sts", region: "us-east-1"},
		{name: "iam in the server's region is accepted", target: "/", service: "iam", region: "eu-west-1"},
		{name: "iam in a third region is refused", target: "/", service: "iam", region: "ap-south-1",
			wantMessage: "Credential should be scoped to a valid region. "},
		{name: "lambda on the IAM and STS path is refused naming iam", target: "/", service: "lambda", region: "eu-west-1",
			wantMessage: "Credential should be scoped to correct service: 'iam'. "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := "GET"
			if tc.target == "/" {
				method = "POST"
			}
			req := newRequest(t, method, srv.URL, tc.target, nil)
			sign(t, req, nil, signOpts{service: tc.service, region: tc.region})
			resp, body, o := srv.do(t, req)
			if tc.wantMessage == "" {
				if o.Err != nil {
					t.Fatalf("verification failed: %v", o.Err)
				}
				if o.Scope.Service != tc.service || o.Scope.Region != tc.region {
					t.Errorf("scope = %+v, want %s/%s", o.Scope, tc.service, tc.region)
				}
				return
			}
			ae := wantAuthError(t, resp, body, o.Err, TypeInvalidSignature)
			if ae.Message != tc.wantMessage {
				t.Errorf("message = %q, want %q", ae.Message, tc.wantMessage)
			}
			if strings.Contains(string(body), "want") {
				t.Errorf("the internal cause leaked into the response: %s", body)
			}
		})
	}
}

func TestNewRejectsAScopeWithoutARegion(t *testing.T) {
	if _, err := New([]Credentials{testCreds()}, WithScope("", func(*http.Request) Allowed { return Allowed{} })); err == nil {
		t.Fatal("New accepted WithScope with an empty region")
	}
	if _, err := New([]Credentials{testCreds()}, WithSpoolBudget(0)); err == nil {
		t.Fatal("New accepted a zero spool budget")
	}
	if _, err := New([]Credentials{testCreds()}, WithMaxBodyBytes(2<<20), WithSpoolBudget(1<<20)); err == nil {
		t.Fatal("New accepted a spool budget smaller than the largest body")
	}
}

package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/api"
	"github.com/updraft/updraft/internal/fnpolicy"
	"github.com/updraft/updraft/internal/lambdaerr"
)

// fakePolicies records what the API passed to the policy service.
type fakePolicies struct{ calls []string }

func (f *fakePolicies) AddPermission(_ context.Context, name, qualifier string, req *fnpolicy.AddPermissionRequest) (*fnpolicy.AddPermissionResponse, error) {
	f.calls = append(f.calls, "add "+name+" "+qualifier+" "+*req.StatementId+" "+*req.Principal)
	if *req.StatementId == "dup" {
		return nil, lambdaerr.ResourceConflict("The statement id (dup) provided already exists. Please provide a new statement id, or remove the existing statement.")
	}
	return &fnpolicy.AddPermissionResponse{Statement: `{"Sid":"` + *req.StatementId + `"}`}, nil
}

func (f *fakePolicies) RemovePermission(_ context.Context, name, qualifier, sid, revisionID string) error {
	f.calls = append(f.calls, "remove "+name+" "+qualifier+" "+sid+" "+revisionID)
	return nil
}

func (f *fakePolicies) GetPolicy(_ context.Context, name, qualifier string) (*fnpolicy.GetPolicyResponse, error) {
	f.calls = append(f.calls, "get "+name+" "+qualifier)
	return &fnpolicy.GetPolicyResponse{Policy: "{}", RevisionId: "r1"}, nil
}

func (f *fakePolicies) Forget(_ context.Context, name, qualifier string) error {
	f.calls = append(f.calls, "forget "+name+" "+qualifier)
	return nil
}

func TestPolicyRoutes(t *testing.T) {
	fake := &fakePolicies{}
	srv := httptest.NewServer(api.New(api.Deps{Logger: slog.New(slog.DiscardHandler), Policies: fake}))
	t.Cleanup(srv.Close)
	tests := []struct {
		name, method, path, body string
		status                   int
		wantBody, wantCall       string
	}{
		{"AddPermission answers 201 with the statement", "POST", "/2015-03-31/functions/f/policy?Qualifier=prod",
			`{"StatementId":"s1","Action":"lambda:InvokeFunction","Principal":"123456789012"}`, 201, `{"Statement":"{\"Sid\":\"s1\"}"}`, "add f prod s1 123456789012"},
		{"a duplicate statement id is the service's 409", "POST", "/2015-03-31/functions/f/policy",
			`{"StatementId":"dup","Action":"lambda:InvokeFunction","Principal":"*"}`, 409, `"Type":"User"`, "add f  dup *"},
		{"GetPolicy answers the policy and its revision", "GET", "/2015-03-31/functions/f/policy?Qualifier=1",
			"", 200, `{"Policy":"{}","RevisionId":"r1"}`, "get f 1"},
		{"RemovePermission answers 204 and passes the revision", "DELETE", "/2015-03-31/functions/f/policy/s1?Qualifier=prod&RevisionId=r1",
			"", 204, "", "remove f prod s1 r1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.wantBody) {
				t.Fatalf("%d %s, want %d with %s", resp.StatusCode, b, tc.status, tc.wantBody)
			}
			if last := fake.calls[len(fake.calls)-1]; last != tc.wantCall {
				t.Fatalf("service called with %q, want %q", last, tc.wantCall)
			}
		})
	}
}

func TestPolicyRoutesWithoutTheService(t *testing.T) {
	srv := httptest.NewServer(api.New(api.Deps{Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/2015-03-31/functions/f/policy")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", resp.StatusCode)
	}
}

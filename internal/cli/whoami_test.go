package cli

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// fakeSTS answers GetCallerIdentity as STS does (query protocol, XML).
func fakeSTS(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/" || !strings.Contains(string(body), "Action=GetCallerIdentity") ||
			!strings.Contains(r.Header.Get("Authorization"), "/sts/aws4_request") {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::123456789012:root</Arn>
    <UserId>123456789012</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestWhoami(t *testing.T) {
	srv := fakeSTS(t)
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "prints account, user id and ARN as a table", args: []string{"whoami"},
			wantStdout: "Account  123456789012\nUserId   123456789012\nArn      arn:aws:iam::123456789012:root\n"},
		{name: "prints JSON in the aws CLI's order with --output json", args: []string{"whoami", "--output", "json"},
			wantStdout: "{\n    \"UserId\": \"123456789012\",\n    \"Account\": \"123456789012\",\n    \"Arn\": \"arn:aws:iam::123456789012:root\"\n}\n"},
		{name: "refuses an unknown output format", args: []string{"whoami", "--output", "yaml"},
			wantCode: 1, wantStderr: `updraft: --output "yaml": want text or json`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := runCLI(t, srv.URL, tc.args...)
			if res.code != tc.wantCode || res.stdout != tc.wantStdout || !strings.Contains(res.stderr, tc.wantStderr) {
				t.Fatalf("exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
			}
		})
	}
}

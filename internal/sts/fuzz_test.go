package sts

import (
	"context"
	"encoding/xml"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/updraft/updraft/internal/iam"
	"github.com/updraft/updraft/internal/testutil/storetest"
)

// errorCount is a slog handler that counts Error records.
type errorCount struct {
	mu   sync.Mutex
	msgs []string
}

func (l *errorCount) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelError }
func (l *errorCount) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.msgs = append(l.msgs, r.Message)
	l.mu.Unlock()
	return nil
}
func (l *errorCount) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *errorCount) WithGroup(string) slog.Handler      { return l }

// FuzzQueryAPI posts fuzzed forms to STS over a real identity store with
// one role: whatever the form (durations, session names, tags, policies,
// indexed lists), the answer is a success or a client error in
// well-formed XML, never a 5xx or an Error line in the log.
func FuzzQueryAPI(f *testing.F) {
	errs := &errorCount{}
	logger := slog.New(errs)
	st := storetest.Open(f, f.TempDir(), logger)
	ids, err := iam.New(f.Context(), st.IAM(), iam.Config{AccountID: "000000000000", RootAccessKeyID: "AKIAROOTROOTROOTROOT", RootSecretAccessKey: "rootsecretrootsecretrootsecretrootsecret"},
		iam.Deps{Logger: logger, Validate: func(iam.PolicyKind, string) error { return nil }})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = ids.Close() })
	if _, err := ids.CreateRole(f.Context(), iam.RoleInput{RoleName: "fn", AssumeRolePolicyDocument: `{"Version":"2012-10-17","Statement":[]}`}); err != nil {
		f.Fatal(err)
	}
	h, err := NewHandler(Deps{Identities: ids, Logger: logger, MayAssume: func(iam.Principal, iam.Role) bool { return true }})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		"Action=GetCallerIdentity",
		"Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Ffn&RoleSessionName=build&DurationSeconds=900",
		"Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Ffn&RoleSessionName=b&Tags.member.1.Key=k&Tags.member.1.Value=v&TransitiveTagKeys.member.1=k&Policy=%7B%7D&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2Fx&ExternalId=e&SourceIdentity=s",
		"Action=AssumeRole&RoleArn=fn&RoleSessionName=&DurationSeconds=99999999999999999999",
		"Action=Nope",
	} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, form string, asUser bool) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form+"&Version="+APIVersion))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		p := ids.Root()
		if asUser {
			p = iam.Principal{Type: iam.PrincipalUser, ARN: "arn:aws:iam::000000000000:user/ci", Account: "000000000000", UserID: "AIDAEXAMPLEEXAMPLE123", Name: "ci"}
		}
		req = req.WithContext(iam.WithPrincipal(context.Background(), p))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		errs.mu.Lock()
		logged := errs.msgs
		errs.msgs = nil
		errs.mu.Unlock()
		if len(logged) > 0 || rec.Code >= 500 {
			t.Fatalf("%q: %d %s; logged %q", form, rec.Code, rec.Body, logged)
		}
		var doc struct {
			XMLName xml.Name
			Code    string `xml:"Error>Code"`
		}
		if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.XMLName.Space != Namespace {
			t.Fatalf("%q: answer %s is not STS XML: %v", form, rec.Body, err)
		}
		if rec.Code >= 400 && doc.Code == "" {
			t.Fatalf("%q: %d without an error code: %s", form, rec.Code, rec.Body)
		}
	})
}

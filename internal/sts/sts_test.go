package sts

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/iam"
	"github.com/updraft/updraft/internal/testutil"
)

// fakeIdentities has one role, "fn" with a 2-hour maximum.
type fakeIdentities struct{ issued []time.Duration }

var fnRole = iam.Role{RoleName: "fn", RoleID: "AROAFAKEFAKEFAKEFAKE1", ARN: "arn:aws:iam::000000000000:role/fn", Path: "/", MaxSessionDuration: 7200}

func (f *fakeIdentities) Role(arn string) (iam.Role, bool) { return fnRole, arn == fnRole.ARN }
func (f *fakeIdentities) IssueSession(role iam.Role, name string, ttl time.Duration, _ ...iam.SessionOption) (iam.Credentials, error) {
	f.issued = append(f.issued, ttl)
	return iam.Credentials{AccessKeyID: "ASIAFAKEFAKEFAKEFAKE", SecretAccessKey: "s", SessionToken: "tok",
		Expiration: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}, nil
}
func (f *fakeIdentities) SessionPrincipal(role iam.Role, name string) iam.Principal {
	return iam.Principal{UserID: role.RoleID + ":" + name, ARN: "arn:aws:sts::000000000000:assumed-role/" + role.RoleName + "/" + name}
}

func post(t *testing.T, h http.Handler, p iam.Principal, form url.Values) (int, string) {
	t.Helper()
	form.Set("Version", APIVersion)
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req = req.WithContext(iam.WithPrincipal(context.Background(), p))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, regexp.MustCompile(`<RequestId>[^<]*</`).ReplaceAllString(rec.Body.String(), "<RequestId>X</")
}

func TestSTS(t *testing.T) {
	ids := &fakeIdentities{}
	var allow bool
	h, err := NewHandler(Deps{Identities: ids, Logger: testutil.Logger(t, 0),
		MayAssume: func(caller iam.Principal, role iam.Role) bool { return allow }})
	if err != nil {
		t.Fatal(err)
	}
	root := iam.RootPrincipal("000000000000")
	user := iam.Principal{Type: iam.PrincipalUser, ARN: "arn:aws:iam::000000000000:user/ci", Account: "000000000000", UserID: "AIDAEXAMPLEEXAMPLE123", Name: "ci"}
	assume := url.Values{"Action": {"AssumeRole"}, "RoleArn": {fnRole.ARN}, "RoleSessionName": {"build"}}
	tests := []struct {
		name   string
		allow  bool
		caller iam.Principal
		form   url.Values
		status int
		want   string
	}{
		{"root's identity", false, root, url.Values{"Action": {"GetCallerIdentity"}}, 200,
			`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><UserId>000000000000</UserId><Account>000000000000</Account><Arn>arn:aws:iam::000000000000:root</Arn></GetCallerIdentityResult><ResponseMetadata><RequestId>X</RequestId></ResponseMetadata></GetCallerIdentityResponse>`},
		{"a user's identity", false, user, url.Values{"Action": {"GetCallerIdentity"}}, 200,
			`<UserId>AIDAEXAMPLEEXAMPLE123</UserId><Account>000000000000</Account><Arn>arn:aws:iam::000000000000:user/ci</Arn>`},
		{"assume refused", false, user, assume, 403,
			`<Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::000000000000:user/ci is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::000000000000:role/fn</Message></Error>`},
		{"a session name too short", true, user, url.Values{"Action": {"AssumeRole"}, "RoleArn": {"arn:aws:iam::000000000000:role/nope"}, "RoleSessionName": {"b"}}, 400,
			`<Code>ValidationError</Code>`},
		{"an unknown role", true, user, url.Values{"Action": {"AssumeRole"}, "RoleArn": {"arn:aws:iam::000000000000:role/nope"}, "RoleSessionName": {"bb"}}, 403,
			`<Code>AccessDenied</Code>`},
		{"assume allowed", true, user, assume, 200,
			`<AssumeRoleResult><Credentials><AccessKeyId>ASIAFAKEFAKEFAKEFAKE</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>tok</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROAFAKEFAKEFAKEFAKE1:build</AssumedRoleId><Arn>arn:aws:sts::000000000000:assumed-role/fn/build</Arn></AssumedRoleUser></AssumeRoleResult>`},
		{"past the role's maximum", true, user, url.Values{"Action": {"AssumeRole"}, "RoleArn": {fnRole.ARN}, "RoleSessionName": {"bb"}, "DurationSeconds": {"7201"}}, 400,
			`<Message>The requested DurationSeconds exceeds the MaxSessionDuration set for this role.</Message>`},
		{"below STS's minimum", true, user, url.Values{"Action": {"AssumeRole"}, "RoleArn": {fnRole.ARN}, "RoleSessionName": {"bb"}, "DurationSeconds": {"899"}}, 400,
			`<Code>ValidationError</Code>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			allow = tc.allow
			status, body := post(t, h, tc.caller, tc.form)
			if status != tc.status || !strings.Contains(body, tc.want) {
				t.Fatalf("status %d (want %d)\n%s\nwant it to contain\n%s", status, tc.status, body, tc.want)
			}
		})
	}
	if len(ids.issued) != 1 || ids.issued[0] != time.Hour {
		t.Errorf("issued %v, want one session of an hour", ids.issued)
	}
}

package iam

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/updraft/updraft/internal/awsquery"
)

// errorRecords is a slog handler that keeps the messages of Error records.
type errorRecords struct {
	mu   sync.Mutex
	msgs []string
}

func (l *errorRecords) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelError }
func (l *errorRecords) Handle(_ context.Context, r slog.Record) error {
	s := r.Message
	r.Attrs(func(a slog.Attr) bool { s += " " + a.String(); return true })
	l.mu.Lock()
	l.msgs = append(l.msgs, s)
	l.mu.Unlock()
	return nil
}
func (l *errorRecords) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *errorRecords) WithGroup(string) slog.Handler      { return l }
func (l *errorRecords) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.msgs
	l.msgs = nil
	return m
}

// FuzzQueryAPI posts fuzzed forms to every IAM action, as the root and as
// a user, over a real identity store: the answer is a success or a client
// error (status under 500) in well-formed XML with IAM's namespace, never
// an internal failure or an Error line in the log. Seeds are forms as
// botocore sends them, indexed lists and all.
func FuzzQueryAPI(f *testing.F) {
	errs := &errorRecords{}
	logger := slog.New(errs)
	st := newTestStore(f)
	s, err := New(f.Context(), st.IAM(), Config{AccountID: testAccount, RootAccessKeyID: testRootKey, RootSecretAccessKey: testRootSec},
		Deps{Logger: logger, Validate: jsonValidator, AWSPolicies: fakeCatalogue{}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	h := NewHandler(s, logger)
	actions := slices.Sorted(func(yield func(string) bool) {
		for a := range h.(*awsquery.Service).Actions {
			if !yield(a) {
				return
			}
		}
	})
	user := Principal{Type: PrincipalUser, ARN: "arn:aws:iam::000000000000:user/ci", Account: testAccount, UserID: "AIDAEXAMPLEEXAMPLE123", Name: "ci"}
	post := func(action, params string, asUser bool) *httptest.ResponseRecorder {
		body := "Action=" + url.QueryEscape(action) + "&Version=" + APIVersion
		if params != "" {
			body += "&" + params
		}
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		p := s.Root()
		if asUser {
			p = user
		}
		req = req.WithContext(WithPrincipal(context.Background(), p))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, setup := range []url.Values{
		{"Action": {"CreateUser"}, "UserName": {"ci"}},
		{"Action": {"CreateRole"}, "RoleName": {"fn"}, "AssumeRolePolicyDocument": {trustLambda}},
		{"Action": {"CreatePolicy"}, "PolicyName": {"rw"}, "PolicyDocument": {allowAll}},
	} {
		a := setup.Get("Action")
		setup.Del("Action")
		if rec := post(a, setup.Encode(), false); rec.Code != http.StatusOK {
			f.Fatalf("setup %s: %d %s", a, rec.Code, rec.Body)
		}
	}
	index := func(a string) uint8 { return uint8(slices.Index(actions, a)) }
	for _, seed := range []struct {
		action string
		form   url.Values
	}{
		{"CreateUser", url.Values{"UserName": {"u2"}, "Path": {"/team/"}, "Tags.member.1.Key": {"k"}, "Tags.member.1.Value": {"v"}, "PermissionsBoundary": {"arn:aws:iam::000000000000:policy/rw"}}},
		{"GetUser", url.Values{"UserName": {"ci"}}},
		{"ListUsers", url.Values{"PathPrefix": {"/"}, "MaxItems": {"1"}, "Marker": {"x"}}},
		{"CreateAccessKey", url.Values{"UserName": {"ci"}}},
		{"UpdateAccessKey", url.Values{"UserName": {"ci"}, "AccessKeyId": {"AKIAEXAMPLEEXAMPLE12"}, "Status": {"Inactive"}}},
		{"CreateRole", url.Values{"RoleName": {"r2"}, "AssumeRolePolicyDocument": {trustLambda}, "MaxSessionDuration": {"3600"}, "Description": {"d"}}},
		{"UpdateAssumeRolePolicy", url.Values{"RoleName": {"fn"}, "PolicyDocument": {`{"Version":"2012-10-17","Statement":[]}`}}},
		{"PutRolePolicy", url.Values{"RoleName": {"fn"}, "PolicyName": {"p"}, "PolicyDocument": {allowAll}}},
		{"GetRolePolicy", url.Values{"RoleName": {"fn"}, "PolicyName": {"p"}}},
		{"PutUserPolicy", url.Values{"UserName": {"ci"}, "PolicyName": {"p"}, "PolicyDocument": {`{`}}},
		{"AttachRolePolicy", url.Values{"RoleName": {"fn"}, "PolicyArn": {lambdaBasic}}},
		{"AttachUserPolicy", url.Values{"UserName": {"ci"}, "PolicyArn": {"arn:aws:iam::000000000000:policy/rw"}}},
		{"ListAttachedRolePolicies", url.Values{"RoleName": {"fn"}, "PathPrefix": {"/service-role/"}}},
		{"CreatePolicyVersion", url.Values{"PolicyArn": {"arn:aws:iam::000000000000:policy/rw"}, "PolicyDocument": {allowAll}, "SetAsDefault": {"true"}}},
		{"GetPolicyVersion", url.Values{"PolicyArn": {"arn:aws:iam::000000000000:policy/rw"}, "VersionId": {"v1"}}},
		{"SetDefaultPolicyVersion", url.Values{"PolicyArn": {"arn:aws:iam::000000000000:policy/rw"}, "VersionId": {"v9"}}},
		{"ListPolicies", url.Values{"Scope": {"Local"}, "OnlyAttached": {"true"}, "MaxItems": {"1000"}}},
		{"DeleteRole", url.Values{"RoleName": {"fn"}}},
	} {
		f.Add(index(seed.action), seed.form.Encode(), false)
	}
	f.Add(index("CreateAccessKey"), "", true)
	f.Fuzz(func(t *testing.T, action uint8, params string, asUser bool) {
		a := actions[int(action)%len(actions)]
		rec := post(a, params, asUser)
		if logged := errs.take(); len(logged) > 0 {
			t.Fatalf("%s %q: logged %q", a, params, logged)
		}
		if rec.Code >= 500 {
			t.Fatalf("%s %q: %d %s", a, params, rec.Code, rec.Body)
		}
		checkXML(t, rec.Body.String(), rec.Code)
	})
}

// checkXML fails unless body is one well-formed XML document in IAM's
// namespace, an ErrorResponse with a Code when status is an error.
func checkXML(t *testing.T, body string, status int) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(body))
	var root *xml.StartElement
	var code string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("response is not XML (%v): %s", err, body)
		}
		if se, ok := tok.(xml.StartElement); ok && root == nil {
			root = &se
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "Code" {
			var c string
			if err := dec.DecodeElement(&c, &se); err != nil {
				t.Fatalf("Code: %v", err)
			}
			code = c
		}
	}
	if root == nil || root.Name.Space != Namespace {
		t.Fatalf("root element %v: %s", root, body)
	}
	if status >= 400 && (root.Name.Local != "ErrorResponse" || code == "") {
		t.Fatalf("error %d without an error code: %s", status, body)
	}
}

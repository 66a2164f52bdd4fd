package awsquery

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestParseLists(t *testing.T) {
	body := "Action=CreateUser&Version=2010-05-08&UserName=ci" +
		"&Tags.member.1.Key=team&Tags.member.1.Value=infra&Tags.member.2.Key=env&Tags.member.2.Value=" +
		"&Names.member.1=a&Names.member.2=b&Names.member.4=d"
	req, err := ParseForm("", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if req.Action != "CreateUser" || req.Version != "2010-05-08" || req.Get("UserName") != "ci" {
		t.Fatalf("parsed %+v", req)
	}
	tags, err := req.Tags("Tags")
	if err != nil {
		t.Fatal(err)
	}
	if want := []Tag{{"team", "infra"}, {"env", ""}}; !reflect.DeepEqual(tags, want) {
		t.Errorf("tags = %v, want %v", tags, want)
	}
	if got := req.List("Names"); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("list stops at the first gap: got %v", got)
	}
	if _, err := ParseForm("", []byte("Tags.member.1.Value=x")); err != nil {
		t.Fatal(err)
	}
	r2, _ := ParseForm("", []byte("Tags.member.1.Value=x"))
	if _, err := r2.Tags("Tags"); err == nil {
		t.Error("a tag without a key was accepted")
	}
}

func TestVersionOf(t *testing.T) {
	tests := []struct{ query, body, want string }{
		{"", "Action=GetCallerIdentity&Version=2011-06-15", "2011-06-15"},
		{"Version=2010-05-08", "Action=ListUsers", "2010-05-08"},
		{"", `{"StreamName":"x"}`, ""},
		{"", "Version=%zz", ""},
	}
	for _, tc := range tests {
		if got := VersionOf(tc.query, []byte(tc.body)); got != tc.want {
			t.Errorf("VersionOf(%q, %q) = %q, want %q", tc.query, tc.body, got, tc.want)
		}
	}
}

func TestServiceDocuments(t *testing.T) {
	type result struct {
		User struct {
			UserName string `xml:"UserName"`
		} `xml:"User"`
		Names Members[string] `xml:"Names"`
	}
	svc := &Service{
		Namespace: "https://iam.amazonaws.com/doc/2010-05-08/",
		Version:   "2010-05-08",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Actions: map[string]Action{
			"GetUser": func(_ context.Context, r *Request) (any, error) {
				var res result
				res.User.UserName = r.Get("UserName")
				return &res, nil
			},
			"DeleteUser": func(context.Context, *Request) (any, error) { return nil, nil },
			"Fail": func(context.Context, *Request) (any, error) {
				return nil, Errorf(404, "NoSuchEntity", "The user with name <ci> cannot be found.")
			},
			"Crash": func(context.Context, *Request) (any, error) { return nil, errors.New("disk on fire") },
		},
	}
	tests := []struct {
		name, form string
		status     int
		want       []string
	}{
		{"a result is wrapped in ActionResult", "Action=GetUser&Version=2010-05-08&UserName=ci", 200, []string{
			`<GetUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetUserResult><User><UserName>ci</UserName></User><Names></Names></GetUserResult><ResponseMetadata><RequestId>`}},
		{"no result has only metadata", "Action=DeleteUser&Version=2010-05-08", 200, []string{
			`<DeleteUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata><RequestId>`}},
		{"a client error is escaped", "Action=Fail&Version=2010-05-08", 404, []string{
			`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The user with name &lt;ci&gt; cannot be found.</Message></Error><RequestId>`}},
		{"an internal error hides its cause", "Action=Crash&Version=2010-05-08", 500, []string{`<Type>Receiver</Type><Code>ServiceFailure</Code>`}},
		{"an unknown action", "Action=Nope&Version=2010-05-08", 400, []string{`<Code>InvalidAction</Code><Message>Could not find operation Nope for version 2010-05-08</Message>`}},
		{"a wrong version", "Action=GetUser&Version=2011-06-15", 400, []string{`<Code>InvalidAction</Code>`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			svc.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Errorf("status %d, want %d", rec.Code, tc.status)
			}
			for _, w := range tc.want {
				if !strings.Contains(rec.Body.String(), w) {
					t.Errorf("body %s\nlacks %s", rec.Body, w)
				}
			}
			if strings.Contains(rec.Body.String(), "disk on fire") {
				t.Error("internal cause leaked")
			}
		})
	}
}

// FuzzParseForm feeds any query string and body to the decoder and the
// list readers: they may refuse, never panic or loop.
func FuzzParseForm(f *testing.F) {
	f.Add("", "Action=CreateUser&Version=2010-05-08&Tags.member.1.Key=a&Tags.member.1.Value=b")
	f.Add("Version=2011-06-15", "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx")
	f.Add("%", "a=%zz&&=")
	f.Fuzz(func(t *testing.T, query, body string) {
		_ = VersionOf(query, []byte(body))
		req, err := ParseForm(query, []byte(body))
		if err != nil {
			return
		}
		_ = req.List("Names")
		_, _ = req.Tags("Tags")
		_, _ = req.Int("MaxItems", 100)
		if _, err := url.ParseQuery(body); err == nil && req.Params == nil {
			t.Fatal("nil params for a valid form")
		}
	})
}

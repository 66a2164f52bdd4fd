package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// testCreds is the pair the test servers accept.
func testCreds() Credentials {
	return Credentials{AccessKeyID: "AKIAUPDRAFTTEST00001", SecretAccessKey: "uPdRaFt/TeSt+SeCrEt/0123456789abcdefghij"}
}

// outcome is what the test server saw for one request.
type outcome struct {
	Err       error  // verification error, nil if the handler ran
	AccessKey string // from the context, when the handler ran
	Scope     Scope
	Body      []byte // the body as the handler read it
	Path      string // r.URL.EscapedPath() as the handler saw it
}

// testServer is an httptest server on 127.0.0.1 whose handler sits behind
// the verifier middleware and records every outcome.
type testServer struct {
	*httptest.Server
	outcomes chan outcome
}

func newTestServer(t *testing.T, opts ...Option) *testServer {
	t.Helper()
	ts := &testServer{outcomes: make(chan outcome, 64)}
	opts = append([]Option{WithErrorHandler(func(w http.ResponseWriter, _ *http.Request, err error) {
		ts.outcomes <- outcome{Err: err}
		WriteError(w, err)
	})}, opts...)
	v, err := New([]Credentials{testCreds()}, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts.Server = httptest.NewServer(v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("handler: read body: %v", err)
		}
		key, _ := AccessKeyFromContext(r.Context())
		s, _ := ScopeFromContext(r.Context())
		ts.outcomes <- outcome{AccessKey: key, Scope: s, Body: body, Path: r.URL.EscapedPath()}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/invocations"):
			_, _ = w.Write([]byte(`{"ok":true}`))
		case strings.HasSuffix(r.URL.Path, "/functions/"):
			_, _ = w.Write([]byte(`{"Functions":[]}`))
		default:
			_, _ = w.Write([]byte(`{}`))
		}
	})))
	t.Cleanup(ts.Close)
	return ts
}

// next returns the outcome of the request just made.
func (ts *testServer) next(t *testing.T) outcome {
	t.Helper()
	select {
	case o := <-ts.outcomes:
		return o
	case <-time.After(10 * time.Second):
		t.Fatal("no request reached the test server")
		return outcome{}
	}
}

// do sends req and returns the response (body read) and the outcome.
func (ts *testServer) do(t *testing.T, req *http.Request) (*http.Response, []byte, outcome) {
	t.Helper()
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	return resp, body, ts.next(t)
}

// newRequest builds a client request to base+target with body.
func newRequest(t *testing.T, method, base, target string, body []byte) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, base+target, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	return req
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// signOpts describes how sign signs a request.
type signOpts struct {
	creds       Credentials
	service     string // default "lambda"
	region      string // default "us-east-1"
	at          time.Time
	payloadHash string // default: SHA-256 of body
}

// sign signs req with aws-sdk-go-v2's SigV4 signer.
func sign(t *testing.T, req *http.Request, body []byte, o signOpts) {
	t.Helper()
	if o.creds == (Credentials{}) {
		o.creds = testCreds()
	}
	if o.service == "" {
		o.service = "lambda"
	}
	if o.region == "" {
		o.region = "us-east-1"
	}
	if o.at.IsZero() {
		o.at = time.Now()
	}
	if o.payloadHash == "" {
		o.payloadHash = sha256Hex(body)
	}
	creds := aws.Credentials{AccessKeyID: o.creds.AccessKeyID, SecretAccessKey: o.creds.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, o.payloadHash, o.service, o.region, o.at); err != nil {
		t.Fatalf("SignHTTP: %v", err)
	}
}

// wantAuthError checks that err is an *Error of type typ and that the
// response carries it in Lambda's wire shape.
func wantAuthError(t *testing.T, resp *http.Response, body []byte, err error, typ string) *Error {
	t.Helper()
	var ae *Error
	if !errors.As(err, &ae) {
		t.Fatalf("verification error = %v, want an *auth.Error of type %s", err, typ)
	}
	if ae.Type != typ {
		t.Fatalf("error type = %s (%q), want %s", ae.Type, ae.Message, typ)
	}
	if resp == nil {
		return ae
	}
	if resp.StatusCode != ae.Status {
		t.Errorf("status = %d, want %d", resp.StatusCode, ae.Status)
	}
	if got := resp.Header.Get("X-Amzn-ErrorType"); got != typ {
		t.Errorf("X-Amzn-ErrorType = %q, want %q", got, typ)
	}
	var eb struct{ Type, Message string }
	if err := json.Unmarshal(body, &eb); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	if eb.Message != ae.Message || eb.Type != ae.Kind() {
		t.Errorf("error body = %+v, want Type %q Message %q", eb, ae.Kind(), ae.Message)
	}
	return ae
}

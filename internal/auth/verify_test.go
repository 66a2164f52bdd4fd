package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

func TestVerifyAcceptsRequestsSignedByTheGoSDK(t *testing.T) {
	srv := newTestServer(t)
	invokeBody := []byte(`{"a":1}`)
	tests := []struct {
		name        string
		method      string
		target      string
		body        []byte
		header      http.Header
		service     string
		region      string
		payloadHash string
		wantPath    string // as the handler sees it; "" = don't check
	}{
		{name: "list functions with an empty body", method: "GET", target: "/2015-03-31/functions/"},
		{name: "list functions with query Qualifier and MaxItems", method: "GET", target: "/2015-03-31/functions/?Qualifier=1&MaxItems=5"},
		{name: "invoke with a qualifier after an encoded colon", method: "POST", target: "/2015-03-31/functions/my-fn%3Aprod/invocations", body: invokeBody,
			wantPath: "/2015-03-31/functions/my-fn%3Aprod/invocations"},
		{name: "invoke with a raw colon and $LATEST in the path", method: "POST", target: "/2015-03-31/functions/my-fn:$LATEST/invocations", body: invokeBody},
		{name: "invoke with an encoded $LATEST qualifier in the query", method: "POST", target: "/2015-03-31/functions/my-fn/invocations?Qualifier=%24LATEST", body: invokeBody},
		{name: "get function by ARN", method: "GET", target: "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn/configuration?Qualifier=%24LATEST"},
		{name: "query values with spaces, slashes and repeats", method: "GET", target: "/2015-03-31/functions/?Marker=a%20b%2Fc&MaxItems=5&MaxItems=1&Empty="},
		{name: "signed invocation headers", method: "POST", target: "/2015-03-31/functions/my-fn/invocations", body: invokeBody,
			header: http.Header{"X-Amz-Invocation-Type": {"Event"}, "X-Amz-Log-Type": {"Tail"}, "Content-Type": {"application/json"}}},
		{name: "stated payload hash in a content hash header", method: "PUT", target: "/2015-03-31/functions/my-fn/code", body: []byte(`{"ZipFile":"UEsDBA=="}`),
			header: http.Header{"X-Amz-Content-Sha256": {sha256Hex([]byte(`{"ZipFile":"UEsDBA=="}`))}}},
		{name: "execute-api service in another region", method: "POST", target: "/prod/hello?name=x", body: []byte("hi"),
			service: "execute-api", region: "eu-west-2"},
		{name: "a path with a double slash", method: "GET", target: "/2015-03-31//functions/"},
		// Found by FuzzVerifySDKSigned: the Go SDK keeps a tab inside a
		// header value where botocore turns it into a space.
		{name: "a signed header value with a tab inside", method: "POST", target: "/2015-03-31/functions/my-fn/invocations", body: invokeBody,
			header: http.Header{"X-Custom": {"tab\tinside  and  spaces"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := newRequest(t, tc.method, srv.URL, tc.target, tc.body)
			for k, vs := range tc.header {
				req.Header[k] = vs
			}
			sign(t, req, tc.body, signOpts{service: tc.service, region: tc.region, payloadHash: tc.payloadHash})
			resp, body, o := srv.do(t, req)
			if o.Err != nil {
				t.Fatalf("verification failed: %v (response %d %s)", o.Err, resp.StatusCode, body)
			}
			if o.AccessKey != testCreds().AccessKeyID {
				t.Errorf("AccessKeyFromContext = %q, want %q", o.AccessKey, testCreds().AccessKeyID)
			}
			wantService, wantRegion := tc.service, tc.region
			if wantService == "" {
				wantService, wantRegion = "lambda", "us-east-1"
			}
			if o.Scope.Service != wantService || o.Scope.Region != wantRegion {
				t.Errorf("scope = %+v, want service %s region %s", o.Scope, wantService, wantRegion)
			}
			if !bytes.Equal(o.Body, tc.body) {
				t.Errorf("handler read body %q, want %q", o.Body, tc.body)
			}
			if tc.wantPath != "" && o.Path != tc.wantPath {
				t.Errorf("handler saw path %q, want %q", o.Path, tc.wantPath)
			}
		})
	}
}

func TestVerifyRejectsBadRequests(t *testing.T) {
	srv := newTestServer(t)
	body := []byte(`{"a":1}`)
	const target = "/2015-03-31/functions/my-fn%3Aprod/invocations?Qualifier=1&MaxItems=5"
	tests := []struct {
		name string
		// prepare builds, signs and then alters the request.
		prepare     func(t *testing.T) *http.Request
		wantType    string
		wantMessage string // prefix; "" = don't check
	}{
		{
			name: "a tampered body of the same length",
			prepare: func(t *testing.T) *http.Request {
				req := newRequest(t, "POST", srv.URL, target, body)
				sign(t, req, body, signOpts{})
				req.Body = io.NopCloser(strings.NewReader(`{"a":2}`))
				return req
			},
			wantType:    TypeInvalidSignature,
			wantMessage: msgSignatureMismatch,
		},
		{
			// Every AWS service but S3 hashes the body itself; a payload
			// signed as UNSIGNED-PAYLOAD does not match there, stated or not.
			name: "an unsigned payload without a content hash header",
			prepare: func(t *testing.T) *http.Request {
				req := newRequest(t, "POST", srv.URL, target, body)
				sign(t, req, body, signOpts{payloadHash: unsignedPayload})
				return req
			},
			wantType:    TypeInvalidSignature,
			wantMessage: msgSignatureMismatch,
		},
		{
			name: "an unsigned payload stated in a content hash header",
			prepare: func(t *testing.T) *http.Request {
				req := newRequest(t, "POST", srv.URL, target, body)
				req.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
				sign(t, req, body, signOpts{payloadHash: unsignedPayload})
				return req
			},
			wantType:    TypeInvalidSignature,
			wantMessage: msgSignatureMismatch,
		},
		{
			name: "a tampered path",
			prepare: func(t *testing.T) *http.Request {
				req := newRequest(t, "POST", srv.URL, target, body)
				sign(t, req, body, signOpts{})
				req.URL.Path, req.URL.RawPath = "/2015-03-31/functions/other:prod/invocations", "/2015-03-31/functions/other%3Aprod/invocations"
				return req
			},
			wantType: TypeInvalidSignature,
		},
		{
			name: "a path spelled differently on the wire",
			prepare: func(t *testing.T) *http.Request {
				req := newRequest(t, "POST", srv.URL, target, body)
				sign(t, req, body, signOpts{})
				req.URL.RawPath = "" // sends my-fn:prod instead of my-fn%3Aprod
				return req
			},
			wantType: TypeInvalidSignature,
		},
		{
			name: "a tampered query",
			prepare: func(t *testing.T) *http.Request {
				req := newRequest(t, "POST", srv.URL, target, body)
				sign(t, req, body, signOpts{})
				req.URL.RawQuery = strings.Replace(req.URL.RawQuery, "Qualifier=1", "Qualifier=2", 1)
				return req
			},
			wantType: TypeInvalidSignature,
		},
		{
			name: "an added query parameter",
			prepare: func(t *testing.T) *http.Request {
				req := newRequest(t, "POST", srv.URL, target, body)
				sign(t, req, body, signOpts{})
				req.URL.RawQuery += "&Extra=1"
				return req
			},
			wantType: TypeInvalidSignature,
		},
		{
			name: "a tampered signed header",
			prepare: func(t *testing.T) *http.Request {
				req := newRequest(t, "POST", srv.URL, target, body)
				req.Header.Set("X-Amz-Invocation-Type", "Event")
				sign(t, req, body, signOpts{})
				req.Header.Set("X-Amz-Invocation-Type", "RequestResponse")
				return req
			},
			wantType: TypeInvalidSignature,
		},
		{
			name: "a changed method",
			prepare: func(t *testing.T) *http.Request {
				req := newRequest(t, "POST", srv.URL, target, body)
				sign(t, req, body, signOpts{})
				req.Method = "PUT"
				return req
			},
			wantType: TypeInvalidSignature,
		},
		{
			name: "a wrong secret",
			prepare: func(t *testing.T) *http.Request {
				req := newRequest(t, "POST", srv.URL, target, body)
				sign(t, req, body, signOpts{creds: Credentials{AccessKeyID: testCreds().AccessKeyID, SecretAccessKey: "wrong"}})
				return req
			},
			wantType:    TypeInvalidSignature,
			wantMessage: msgSignatureMismatch,
		},
		{
			name: "an unknown access key",
			prepare: func(t *testing.T) *http.Request {
				req := newRequest(t, "POST", srv.URL, target, body)
				sign(t, req, body, signOpts{creds: Credentials{AccessKeyID: "AKIANOTKNOWN00000000", SecretAccessKey: testCreds().SecretAccessKey}})
				return req
			},
			wantType:    TypeUnrecognizedClient,
			wantMessage: msgUnrecognized,
		},
		{
			name: "no Authorization header",
			prepare: func(t *testing.T) *http.Request {
				return newRequest(t, "POST", srv.URL, target, body)
			},
			wantType:    TypeMissingAuthenticationToken,
			wantMessage: msgMissingToken,
		},
		{
			name: "a signing time 20 minutes ago",
			prepare: func(t *testing.T) *http.Request {
				req := newRequest(t, "POST", srv.URL, target, body)
				sign(t, req, body, signOpts{at: time.Now().Add(-20 * time.Minute)})
				return req
			},
			wantType:    TypeInvalidSignature,
			wantMessage: "Signature expired: ",
		},
		{
			name: "a signing time 20 minutes ahead",
			prepare: func(t *testing.T) *http.Request {
				req := newRequest(t, "POST", srv.URL, target, body)
				sign(t, req, body, signOpts{at: time.Now().Add(20 * time.Minute)})
				return req
			},
			wantType:    TypeInvalidSignature,
			wantMessage: "Signature not yet current: ",
		},
		{
			name: "a stated payload hash that the body does not match",
			prepare: func(t *testing.T) *http.Request {
				req := newRequest(t, "POST", srv.URL, target, body)
				req.Header.Set("X-Amz-Content-Sha256", sha256Hex(body))
				sign(t, req, body, signOpts{})
				req.Body = io.NopCloser(strings.NewReader(`{"a":2}`))
				return req
			},
			wantType: TypeInvalidSignature,
		},
		{
			name: "a streaming payload",
			prepare: func(t *testing.T) *http.Request {
				req := newRequest(t, "POST", srv.URL, target, body)
				req.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
				sign(t, req, body, signOpts{payloadHash: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"})
				return req
			},
			wantType: TypeIncompleteSignature,
		},
		{
			name: "a malformed Authorization header",
			prepare: func(t *testing.T) *http.Request {
				req := newRequest(t, "POST", srv.URL, target, body)
				req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIA/20240101/us-east-1/lambda/aws4_request")
				req.Header.Set("X-Amz-Date", time.Now().UTC().Format(timeFormat))
				return req
			},
			wantType:    TypeIncompleteSignature,
			wantMessage: "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter.",
		},
		{
			name: "a credential scope date that is not the signing date",
			prepare: func(t *testing.T) *http.Request {
				req := newRequest(t, "POST", srv.URL, target, body)
				sign(t, req, body, signOpts{})
				req.Header.Set("X-Amz-Date", time.Now().UTC().Add(48*time.Hour).Format(timeFormat))
				return req
			},
			wantType:    TypeInvalidSignature,
			wantMessage: "Date in Credential scope does not match",
		},
		{
			name: "both a header and a presigned query",
			prepare: func(t *testing.T) *http.Request {
				req := newRequest(t, "POST", srv.URL, target+"&X-Amz-Algorithm=AWS4-HMAC-SHA256", body)
				sign(t, req, body, signOpts{})
				return req
			},
			wantType: TypeIncompleteSignature,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, rbody, o := srv.do(t, tc.prepare(t))
			ae := wantAuthError(t, resp, rbody, o.Err, tc.wantType)
			if !strings.HasPrefix(ae.Message, tc.wantMessage) {
				t.Errorf("message = %q, want prefix %q", ae.Message, tc.wantMessage)
			}
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("status = %d, want 403", resp.StatusCode)
			}
		})
	}
}

func TestVerifyAcceptsPresignedURLs(t *testing.T) {
	srv := newTestServer(t)
	creds := aws.Credentials{AccessKeyID: testCreds().AccessKeyID, SecretAccessKey: testCreds().SecretAccessKey}
	presign := func(t *testing.T, target string, at time.Time, expires string) string {
		t.Helper()
		req := newRequest(t, "GET", srv.URL, target, nil)
		if expires != "" {
			q := req.URL.Query()
			q.Set("X-Amz-Expires", expires)
			req.URL.RawQuery = q.Encode()
		}
		u, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, unsignedPayload, "lambda", "us-west-2", at)
		if err != nil {
			t.Fatalf("PresignHTTP: %v", err)
		}
		return u
	}
	get := func(t *testing.T, u string) (*http.Response, []byte, outcome) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), "GET", u, nil)
		if err != nil {
			t.Fatal(err)
		}
		return srv.do(t, req)
	}

	t.Run("a fresh presigned URL verifies", func(t *testing.T) {
		_, _, o := get(t, presign(t, "/2015-03-31/functions/my-fn%3Aprod/configuration?Qualifier=1", time.Now(), "300"))
		if o.Err != nil {
			t.Fatalf("verification failed: %v", o.Err)
		}
		if o.Scope.Region != "us-west-2" {
			t.Errorf("region = %q, want us-west-2", o.Scope.Region)
		}
	})
	t.Run("a presigned URL without X-Amz-Expires verifies within the skew", func(t *testing.T) {
		_, _, o := get(t, presign(t, "/2015-03-31/functions/", time.Now(), ""))
		if o.Err != nil {
			t.Fatalf("verification failed: %v", o.Err)
		}
	})
	t.Run("an old presigned URL still within X-Amz-Expires verifies", func(t *testing.T) {
		_, _, o := get(t, presign(t, "/2015-03-31/functions/", time.Now().Add(-time.Hour), "7200"))
		if o.Err != nil {
			t.Fatalf("verification failed: %v", o.Err)
		}
	})
	t.Run("an expired presigned URL fails", func(t *testing.T) {
		resp, body, o := get(t, presign(t, "/2015-03-31/functions/", time.Now().Add(-2*time.Minute), "60"))
		ae := wantAuthError(t, resp, body, o.Err, TypeInvalidSignature)
		if !strings.HasPrefix(ae.Message, "Signature expired") {
			t.Errorf("message = %q, want Signature expired", ae.Message)
		}
	})
	t.Run("a presigned URL with a tampered query fails", func(t *testing.T) {
		u := presign(t, "/2015-03-31/functions/?MaxItems=5", time.Now(), "300")
		resp, body, o := get(t, strings.Replace(u, "MaxItems=5", "MaxItems=50", 1))
		wantAuthError(t, resp, body, o.Err, TypeInvalidSignature)
	})
	t.Run("a presigned URL with a wrong signature fails", func(t *testing.T) {
		u, err := url.Parse(presign(t, "/2015-03-31/functions/", time.Now(), "300"))
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("X-Amz-Signature", strings.Repeat("0", 64))
		u.RawQuery = q.Encode()
		resp, body, o := get(t, u.String())
		wantAuthError(t, resp, body, o.Err, TypeInvalidSignature)
	})
}

// TestVerifyKnownAnswer checks the verifier against the worked example in
// the IAM User Guide ("Examples of the complete Signature Version 4 signing
// process"), independently of any SDK.
func TestVerifyKnownAnswer(t *testing.T) {
	at := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	v, err := New([]Credentials{{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}},
		WithClock(func() time.Time { return at }))
	if err != nil {
		t.Fatal(err)
	}
	newReq := func(sig string) *http.Request {
		r := httptest.NewRequest("GET", "/?Param2=value2&Param1=value1", nil)
		r.Host = "example.amazonaws.com"
		r.Header.Set("X-Amz-Date", "20150830T123600Z")
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "+
			"SignedHeaders=host;x-amz-date, Signature="+sig)
		return r
	}
	// aws-sig-v4-test-suite get-vanilla-query-order-key-case.
	if err := v.Verify(newReq("b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")); err != nil {
		t.Errorf("known-good signature: %v", err)
	}
	err = v.Verify(newReq("b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2501"))
	if !errors.Is(err, &Error{Type: TypeInvalidSignature}) {
		t.Errorf("altered signature: err = %v, want InvalidSignatureException", err)
	}
}

func TestVerifyClockSkewBoundary(t *testing.T) {
	signedAt := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		now     time.Time
		wantErr bool
	}{
		{name: "14m59s after signing passes", now: signedAt.Add(14*time.Minute + 59*time.Second)},
		{name: "15m01s after signing fails", now: signedAt.Add(15*time.Minute + time.Second), wantErr: true},
		{name: "14m59s before signing passes", now: signedAt.Add(-14*time.Minute - 59*time.Second)},
		{name: "15m01s before signing fails", now: signedAt.Add(-15*time.Minute - time.Second), wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := New([]Credentials{testCreds()}, WithClock(func() time.Time { return tc.now }))
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", "http://localhost:9000/2015-03-31/functions/", nil)
			sign(t, r, nil, signOpts{at: signedAt})
			err = v.Verify(r)
			if tc.wantErr != (err != nil) {
				t.Fatalf("Verify = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr && !errors.Is(err, &Error{Type: TypeInvalidSignature}) {
				t.Errorf("err = %v, want InvalidSignatureException", err)
			}
		})
	}
}

func TestVerifyKeepsLargeBodiesReadable(t *testing.T) {
	spool := t.TempDir()
	srv := newTestServer(t, WithMemoryBodyBytes(64<<10), WithSpoolDir(spool), WithMaxBodyBytes(4<<20))
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	tests := []struct {
		name    string
		body    []byte
		chunked bool
	}{
		{name: "a body kept in memory", body: big[:1000]},
		{name: "a body spooled to disk", body: big},
		{name: "a chunked body spooled to disk", body: big, chunked: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := newRequest(t, "PUT", srv.URL, "/2015-03-31/functions/my-fn/code", tc.body)
			if tc.chunked {
				req.Body = io.NopCloser(bytes.NewReader(tc.body))
				req.ContentLength = -1
				req.GetBody = nil
			}
			sign(t, req, tc.body, signOpts{})
			_, _, o := srv.do(t, req)
			if o.Err != nil {
				t.Fatalf("verification failed: %v", o.Err)
			}
			if sha256.Sum256(o.Body) != sha256.Sum256(tc.body) {
				t.Errorf("handler read %d bytes that differ from the %d sent", len(o.Body), len(tc.body))
			}
			entries, err := os.ReadDir(spool)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 0 {
				t.Errorf("spool directory still holds %d files after the request", len(entries))
			}
		})
	}
}

func TestVerifyRejectsBodiesOverTheLimit(t *testing.T) {
	srv := newTestServer(t, WithMaxBodyBytes(1000), WithSpoolDir(t.TempDir()))
	body := bytes.Repeat([]byte("x"), 1001)
	for _, chunked := range []bool{false, true} {
		name := "with a Content-Length"
		if chunked {
			name = "with a chunked body"
		}
		t.Run(name, func(t *testing.T) {
			req := newRequest(t, "PUT", srv.URL, "/2015-03-31/functions/my-fn/code", body)
			if chunked {
				req.Body = io.NopCloser(bytes.NewReader(body))
				req.ContentLength = -1
				req.GetBody = nil
			}
			sign(t, req, body, signOpts{})
			resp, rbody, o := srv.do(t, req)
			wantAuthError(t, resp, rbody, o.Err, TypeRequestTooLarge)
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("status = %d, want 413", resp.StatusCode)
			}
		})
	}
}

func TestNewRejectsBadConfiguration(t *testing.T) {
	tests := []struct {
		name  string
		creds []Credentials
		opts  []Option
	}{
		{name: "no credentials"},
		{name: "a credential without a secret", creds: []Credentials{{AccessKeyID: "AKIA1"}}},
		{name: "one key with two secrets", creds: []Credentials{{"AKIA1", "a"}, {"AKIA1", "b"}}},
		{name: "a zero max skew", creds: []Credentials{testCreds()}, opts: []Option{WithMaxSkew(0)}},
		{name: "a zero body limit", creds: []Credentials{testCreds()}, opts: []Option{WithMaxBodyBytes(0)}},
		{name: "a nil clock", creds: []Credentials{testCreds()}, opts: []Option{WithClock(nil)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.creds, tc.opts...); err == nil {
				t.Fatal("New succeeded, want an error")
			}
		})
	}
}

func TestWriteErrorRendersLambdaShape(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantType   string
		wantBody   string
	}{
		{
			name: "missing token", err: errMissingToken(), wantStatus: 403, wantType: TypeMissingAuthenticationToken,
			wantBody: `{"Type":"User","Message":"Missing Authentication Token"}`,
		},
		{
			name: "unknown key", err: errUnrecognized("AKIAX"), wantStatus: 403, wantType: TypeUnrecognizedClient,
			wantBody: `{"Type":"User","Message":"The security token included in the request is invalid."}`,
		},
		{
			name: "bad signature with an internal cause", err: errSignature(errors.New("canonical request secret-detail")),
			wantStatus: 403, wantType: TypeInvalidSignature,
			wantBody: `{"Type":"User","Message":"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}`,
		},
		{
			name: "a wrapped auth error", err: errors.Join(errors.New("context"), errMissingToken()), wantStatus: 403,
			wantType: TypeMissingAuthenticationToken, wantBody: `{"Type":"User","Message":"Missing Authentication Token"}`,
		},
		{
			name: "any other error hides its text", err: errors.New("disk on fire"), wantStatus: 500, wantType: TypeService,
			wantBody: `{"Type":"Service","Message":"An internal error occurred."}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			WriteError(w, tc.err)
			if w.Code != tc.wantStatus {
				t.Errorf("status = %d, want %d", w.Code, tc.wantStatus)
			}
			if got := w.Header().Get("X-Amzn-ErrorType"); got != tc.wantType {
				t.Errorf("X-Amzn-ErrorType = %q, want %q", got, tc.wantType)
			}
			if got := w.Header().Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
			if got := w.Body.String(); got != tc.wantBody {
				t.Errorf("body = %s\nwant   %s", got, tc.wantBody)
			}
		})
	}
}

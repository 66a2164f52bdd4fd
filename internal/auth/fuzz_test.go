package auth

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// fuzzNow is the fixed clock of the fuzz targets, so that a corpus entry
// gives the same answer on every run.
var fuzzNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fuzzVerifier accepts testCreds with the clock at fuzzNow and small body
// limits, so that a fuzzed Content-Length costs nothing.
func fuzzVerifier(t *testing.T) *Verifier {
	t.Helper()
	v, err := New([]Credentials{testCreds()},
		WithClock(func() time.Time { return fuzzNow }),
		WithMaxBodyBytes(1<<20), WithSpoolBudget(1<<20), WithMemoryBodyBytes(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// overTheWire writes req as a client would send it and reads it back as
// the server gets it, so RequestURI, Host and the headers are the wire's.
func overTheWire(t *testing.T, req *http.Request) *http.Request {
	t.Helper()
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatalf("write request: %v", err)
	}
	got, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		t.Fatalf("read back %q: %v", buf.Bytes(), err)
	}
	return got
}

// FuzzParsePresigned checks the presigned query parser: it never panics,
// every refusal is a 403 IncompleteSignatureException, and what it accepts
// is well formed and parses the same once written back into a query.
func FuzzParsePresigned(f *testing.F) {
	for _, s := range []string{
		"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA1%2F20260301%2Fus-east-1%2Flambda%2Faws4_request&X-Amz-Date=20260301T120000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=" + goodSig,
		"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a/20260301/r/s/aws4_request&X-Amz-Date=x&X-Amz-SignedHeaders=host;x-amz-date&X-Amz-Signature=" + goodSig,
		"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=-1",
		"X-Amz-Expires=604801&X-Amz-Expires=1",
		"X-Amz-Signature=&X-Amz-Signature=",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, _ := url.ParseQuery(raw) // the verifier ignores malformed pairs too
		a, date, expires, err := parsePresigned(q)
		if err != nil {
			var ae *Error
			if !errors.As(err, &ae) || ae.Type != TypeIncompleteSignature || ae.Status != http.StatusForbidden || ae.Message == "" {
				t.Fatalf("parse(%q): error %v is not a 403 IncompleteSignatureException", raw, err)
			}
			return
		}
		c := a.Credential
		if c.AccessKeyID == "" || c.Region == "" || c.Service == "" || !isDigits(c.Date, 8) || !isHex(a.Signature, 64) {
			t.Fatalf("parse(%q) accepted %+v", raw, a)
		}
		if expires < 0 || expires > maxPresignExpires {
			t.Fatalf("parse(%q) accepted X-Amz-Expires %d", raw, expires)
		}
		again := url.Values{
			queryAlgorithm:     {algorithm},
			queryCredential:    {c.AccessKeyID + "/" + c.scope()},
			queryDate:          {date},
			querySignedHeaders: {a.SignedHeaders},
			querySignature:     {a.Signature},
		}
		if q.Has(queryExpires) {
			again.Set(queryExpires, q.Get(queryExpires))
		}
		b, date2, expires2, err := parsePresigned(again)
		if err != nil || b != a || date2 != date || expires2 != expires {
			t.Fatalf("round trip of %q: got %+v %q %d, %v; want %+v %q %d", again.Encode(), b, date2, expires2, err, a, date, expires)
		}
	})
}

// FuzzVerifySDKSigned signs requests with aws-sdk-go-v2's signer, the way
// an SDK client builds them (path labels escaped, query from url.Values,
// header values as given), sends them through net/http's wire format and
// checks that the verifier accepts every one, header-signed and presigned,
// and refuses the same request once its body, a query value or a signed
// header is changed.
func FuzzVerifySDKSigned(f *testing.F) {
	f.Add(false, "POST", "my-fn:prod", "Qualifier", "$LATEST", "X-Amz-Invocation-Type", "Event", []byte(`{"a":1}`))
	f.Add(false, "GET", "arn:aws:lambda:us-east-1:123456789012:function:f", "Marker", "a b/c+d", "X-Amz-Log-Type", "Tail", []byte(nil))
	f.Add(true, "GET", "f", "MaxItems", "5", "X-Amz-Client-Context", "eyJjdXN0b20iOnt9fQ==", []byte(nil))
	f.Add(false, "PUT", "ünïcode fn", "k", "~!*'()", "Content-Type", "application/json;  charset=utf-8", []byte("x"))
	f.Add(false, "DELETE", "a/../b", "", "", "X-Custom", "  two  spaces  ", []byte(nil))
	f.Add(false, "POST", "f", "", "", "X-Custom", "tab\tinside", []byte("{}"))
	f.Fuzz(func(t *testing.T, presign bool, method, name, qk, qv, hk, hv string, body []byte) {
		if !isToken(hk) || !validHeaderValue(hv) || !validMethod(method) {
			t.Skip("not a request an HTTP client can send")
		}
		if presign {
			body = nil // a presigned URL is fetched without a body
		}
		q := url.Values{}
		if qk != "" {
			q.Set(qk, qv)
		}
		if presign && (strings.HasPrefix(http.CanonicalHeaderKey(qk), "X-Amz-") || strings.EqualFold(hk, "authorization")) {
			t.Skip("the query names a presigning parameter")
		}
		if strings.EqualFold(hk, "authorization") || strings.HasPrefix(strings.ToLower(hk), "x-amz-") && !strings.HasPrefix(strings.ToLower(hk), "x-amz-invocation") &&
			!strings.HasPrefix(strings.ToLower(hk), "x-amz-log") && !strings.HasPrefix(strings.ToLower(hk), "x-amz-client") {
			t.Skip("the header is one the signer writes")
		}
		switch http.CanonicalHeaderKey(hk) {
		case "Host", "Content-Length", "Transfer-Encoding", "Connection", "Expect", "Te", "Trailer", "Upgrade", "User-Agent", "Proxy-Connection", "Keep-Alive":
			t.Skip("net/http writes this header itself")
		}
		target := "http://lambda.test:9321/2015-03-31/functions/" + escapeLabel(name) + "/invocations"
		if len(q) > 0 {
			target += "?" + q.Encode()
		}
		req, err := http.NewRequestWithContext(context.Background(), method, target, bytes.NewReader(body))
		if err != nil {
			t.Skipf("not a request: %v", err)
		}
		if len(body) == 0 {
			req.Body, req.ContentLength = http.NoBody, 0
		}
		req.Header.Set(hk, hv)
		creds := aws.Credentials{AccessKeyID: testCreds().AccessKeyID, SecretAccessKey: testCreds().SecretAccessKey}
		signer := v4.NewSigner()
		signedAt := fuzzNow.Add(-time.Minute)
		if presign {
			u, hdr, err := signer.PresignHTTP(context.Background(), creds, req, unsignedPayload, "lambda", "us-east-1", signedAt)
			if err != nil {
				t.Fatalf("PresignHTTP: %v", err)
			}
			if req, err = http.NewRequestWithContext(context.Background(), method, u, http.NoBody); err != nil {
				t.Fatalf("presigned URL %q: %v", u, err)
			}
			req.Header = hdr.Clone()
			req.Header.Del("Host")
		} else if err := signer.SignHTTP(context.Background(), creds, req, sha256Hex(body), "lambda", "us-east-1", signedAt); err != nil {
			t.Fatalf("SignHTTP: %v", err)
		}
		var wire bytes.Buffer
		if err := req.Write(&wire); err != nil {
			t.Fatalf("write request: %v", err)
		}
		v := fuzzVerifier(t)
		verify := func(raw []byte) error {
			t.Helper()
			got, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
			if err != nil {
				t.Fatalf("read back %q: %v", raw, err)
			}
			err = v.Verify(got)
			if c, ok := got.Body.(io.Closer); ok {
				_ = c.Close()
			}
			return err
		}
		if err := verify(wire.Bytes()); err != nil {
			t.Fatalf("SDK-signed request refused: %v\n%s", err, wire.Bytes())
		}
		// Change one byte the signature covers: the body, else the
		// query value or the signed header.
		raw := wire.Bytes()
		var tampered []byte
		switch head, rest, _ := bytes.Cut(raw, []byte("\r\n\r\n")); {
		case len(rest) > 0:
			tampered = append(append(append([]byte(nil), head...), "\r\n\r\n"...), rest...)
			tampered[len(tampered)-1] ^= 1
		default:
			tampered = bytes.Replace(raw, []byte(" HTTP/1.1"), []byte("&zz=1 HTTP/1.1"), 1)
			if !strings.Contains(string(raw[:bytes.IndexByte(raw, '\n')]), "?") {
				tampered = bytes.Replace(raw, []byte(" HTTP/1.1"), []byte("?zz=1 HTTP/1.1"), 1)
			}
		}
		err = verify(tampered)
		var ae *Error
		if !errors.As(err, &ae) || ae.Status != http.StatusForbidden {
			t.Fatalf("tampered request: error %v, want a 403\n%s", err, tampered)
		}
	})
}

// FuzzVerifyRaw feeds the verifier whatever request net/http parses from
// the input: it must never panic, and every refusal must be an [*Error]
// with a status, never an internal failure, since the body is in memory.
func FuzzVerifyRaw(f *testing.F) {
	sig := "AWS4-HMAC-SHA256 Credential=" + testCreds().AccessKeyID + "/20260301/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + goodSig
	for _, s := range []string{
		"POST /2015-03-31/functions/f/invocations HTTP/1.1\r\nHost: h\r\nX-Amz-Date: 20260301T120000Z\r\nAuthorization: " + sig + "\r\nContent-Length: 2\r\n\r\n{}",
		"GET /2015-03-31/functions/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + testCreds().AccessKeyID + "%2F20260301%2Fus-east-1%2Flambda%2Faws4_request&X-Amz-Date=20260301T120000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=" + goodSig + " HTTP/1.1\r\nHost: h\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h:80\r\nDate: Sun, 01 Mar 2026 12:00:00 GMT\r\nX-Amz-Content-Sha256: UNSIGNED-PAYLOAD\r\nAuthorization: " + sig + "\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
		"GET http://h/a/../b HTTP/1.1\r\nHost: h\r\nAuthorization: x\r\nAuthorization: y\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			t.Skip("net/http refuses it before any handler")
		}
		v := fuzzVerifier(t)
		err = v.Verify(req)
		if c, ok := req.Body.(io.Closer); ok {
			_ = c.Close()
		}
		if err == nil {
			return // a guessed signature: possible in principle, harmless
		}
		var ae *Error
		if !errors.As(err, &ae) {
			// A truncated body is the client's fault too, but net/http
			// reports it as a read error: that is the one wrapped error
			// allowed, and only when the body really was cut short.
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return
			}
			t.Fatalf("Verify: %v is not an *auth.Error", err)
		}
		if ae.Status < 400 || ae.Status >= 600 || ae.Type == "" || ae.Message == "" {
			t.Fatalf("Verify: %+v", ae)
		}
		if ae.Status >= 500 && ae.Type != TypeSlowDown {
			t.Fatalf("Verify: server error %+v for a request in memory", ae)
		}
	})
}

// validMethod reports whether m is a method net/http will send.
func validMethod(m string) bool {
	return isToken(m)
}

// validHeaderValue reports whether net/http will send v as a header value:
// no control characters but tab.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// escapeLabel escapes a path label as the SDK's REST serializer does
// (httpbinding.EscapePath with "/" encoded): everything but unreserved
// characters is percent-encoded.
func escapeLabel(s string) string {
	return encodeQueryComponent(s)
}

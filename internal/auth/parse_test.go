package auth

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

const goodSig = "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"

func TestParseAuthorization(t *testing.T) {
	tests := []struct {
		name    string
		header  string
		want    authorization
		wantErr string // message prefix of an IncompleteSignatureException; "" = success
	}{
		{
			name:   "botocore's form with comma-space separators",
			header: "AWS4-HMAC-SHA256 Credential=AKIA1/20260301/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + goodSig,
			want: authorization{Credential: credential{"AKIA1", "20260301", "us-east-1", "lambda"},
				SignedHeaders: "host;x-amz-date", Signature: goodSig},
		},
		{
			name:   "no spaces and components in another order",
			header: "AWS4-HMAC-SHA256 Signature=" + goodSig + ",SignedHeaders=content-type;host,Credential=AKIA1/20260301/eu-west-2/execute-api/aws4_request",
			want: authorization{Credential: credential{"AKIA1", "20260301", "eu-west-2", "execute-api"},
				SignedHeaders: "content-type;host", Signature: goodSig},
		},
		{
			// The AWS SDK for JavaScript v3 over HTTP/2 signs :authority in
			// place of host.
			name:   "HTTP/2's :authority in place of host",
			header: "AWS4-HMAC-SHA256 Credential=AKIA1/20260301/us-east-1/kinesis/aws4_request, SignedHeaders=:authority;content-type;x-amz-date, Signature=" + goodSig,
			want: authorization{Credential: credential{"AKIA1", "20260301", "us-east-1", "kinesis"},
				SignedHeaders: ":authority;content-type;x-amz-date", Signature: goodSig},
		},
		{name: "a pseudo-header other than :authority", header: "AWS4-HMAC-SHA256 Credential=AKIA1/20260301/us-east-1/lambda/aws4_request, SignedHeaders=host;:path, Signature=" + goodSig,
			wantErr: "SignedHeaders contains an invalid header name"},
		{name: "another scheme", header: "Bearer abc", wantErr: "Unsupported AWS 'algorithm'"},
		{name: "SigV2", header: "AWS AKIA1:sig", wantErr: "Unsupported AWS 'algorithm'"},
		{name: "a missing signature", header: "AWS4-HMAC-SHA256 Credential=AKIA1/20260301/us-east-1/lambda/aws4_request, SignedHeaders=host",
			wantErr: "Authorization header requires 'Signature' parameter."},
		{name: "a duplicate component", header: "AWS4-HMAC-SHA256 Credential=a/20260301/r/s/aws4_request, Credential=b/20260301/r/s/aws4_request, SignedHeaders=host, Signature=" + goodSig,
			wantErr: "Authorization header has a duplicate 'Credential' parameter."},
		{name: "a credential with four parts", header: "AWS4-HMAC-SHA256 Credential=AKIA1/20260301/us-east-1/aws4_request, SignedHeaders=host, Signature=" + goodSig,
			wantErr: "Credential must have exactly 5 slash-delimited elements"},
		{name: "a wrong terminator", header: "AWS4-HMAC-SHA256 Credential=AKIA1/20260301/us-east-1/lambda/aws5_request, SignedHeaders=host, Signature=" + goodSig,
			wantErr: "Credential should be scoped with a valid terminator"},
		{name: "a bad scope date", header: "AWS4-HMAC-SHA256 Credential=AKIA1/2026-03-01/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=" + goodSig,
			wantErr: "Credential date must be in YYYYMMDD form"},
		{name: "host not signed", header: "AWS4-HMAC-SHA256 Credential=AKIA1/20260301/us-east-1/lambda/aws4_request, SignedHeaders=x-amz-date, Signature=" + goodSig,
			wantErr: "'Host' must be a 'SignedHeader'"},
		{name: "an empty signed header name", header: "AWS4-HMAC-SHA256 Credential=AKIA1/20260301/us-east-1/lambda/aws4_request, SignedHeaders=host;;x, Signature=" + goodSig,
			wantErr: "SignedHeaders contains an invalid header name"},
		{name: "a short signature", header: "AWS4-HMAC-SHA256 Credential=AKIA1/20260301/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=abc",
			wantErr: "Signature must be 64 hexadecimal characters."},
		{name: "a component without '='", header: "AWS4-HMAC-SHA256 Credential", wantErr: "Authorization header has a malformed component"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseAuthorization(tc.header)
			if tc.wantErr != "" {
				var ae *Error
				if !errors.As(err, &ae) || ae.Type != TypeIncompleteSignature {
					t.Fatalf("err = %v, want IncompleteSignatureException", err)
				}
				if !strings.HasPrefix(ae.Message, tc.wantErr) {
					t.Fatalf("message = %q, want prefix %q", ae.Message, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got != tc.want {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParsePresigned(t *testing.T) {
	base := url.Values{
		"X-Amz-Algorithm":     {"AWS4-HMAC-SHA256"},
		"X-Amz-Credential":    {"AKIA1/20260301/us-east-1/lambda/aws4_request"},
		"X-Amz-Date":          {"20260301T120000Z"},
		"X-Amz-SignedHeaders": {"host"},
		"X-Amz-Signature":     {goodSig},
	}
	with := func(k string, v ...string) url.Values {
		q := url.Values{}
		for kk, vv := range base {
			q[kk] = vv
		}
		if v == nil {
			delete(q, k)
		} else {
			q[k] = v
		}
		return q
	}
	tests := []struct {
		name        string
		q           url.Values
		wantExpires int64
		wantErr     bool
	}{
		{name: "all parameters without X-Amz-Expires", q: base},
		{name: "with X-Amz-Expires", q: with("X-Amz-Expires", "900"), wantExpires: 900},
		{name: "X-Amz-Expires over a week", q: with("X-Amz-Expires", "604801"), wantErr: true},
		{name: "a negative X-Amz-Expires", q: with("X-Amz-Expires", "-1"), wantErr: true},
		{name: "no X-Amz-Date", q: with("X-Amz-Date"), wantErr: true},
		{name: "two signatures", q: with("X-Amz-Signature", goodSig, goodSig), wantErr: true},
		{name: "another algorithm", q: with("X-Amz-Algorithm", "AWS4-ECDSA-P256-SHA256"), wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, date, exp, err := parsePresigned(tc.q)
			if tc.wantErr {
				if !errors.Is(err, &Error{Type: TypeIncompleteSignature}) {
					t.Fatalf("err = %v, want IncompleteSignatureException", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if a.Credential.Service != "lambda" || date != "20260301T120000Z" || exp != tc.wantExpires {
				t.Fatalf("got %+v date %s expires %d", a, date, exp)
			}
		})
	}
}

func TestCanonicalURIs(t *testing.T) {
	tests := []struct {
		name, raw, service string
		want               []string
	}{
		{name: "an encoded colon is encoded again", raw: "/2015-03-31/functions/my-fn%3Aprod/invocations", service: "lambda",
			want: []string{"/2015-03-31/functions/my-fn%253Aprod/invocations", "/2015-03-31/functions/my-fn%3Aprod/invocations"}},
		{name: "raw $ and : are encoded once, or taken as sent (curl)", raw: "/2015-03-31/functions/my-fn:$LATEST", service: "lambda",
			want: []string{"/2015-03-31/functions/my-fn%3A%24LATEST", "/2015-03-31/functions/my-fn:$LATEST"}},
		{name: "an empty path is /", raw: "", service: "lambda", want: []string{"/"}},
		{name: "double slashes get botocore's spelling second", raw: "/a//b/./c/../d", service: "execute-api",
			want: []string{"/a//b/./c/../d", "/a/b/d"}},
		{name: "s3 signs the path as sent", raw: "/bucket/a%3Ab", service: "s3", want: []string{"/bucket/a%3Ab"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := canonicalURIs(tc.raw, tc.service)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCanonicalQueries(t *testing.T) {
	tests := []struct {
		name, raw, skip string
		want            []string
	}{
		{name: "pairs are sorted by name", raw: "Qualifier=1&MaxItems=5", want: []string{"MaxItems=5&Qualifier=1"}},
		{name: "repeated names are sorted by value", raw: "a=2&a=1&b=", want: []string{"a=1&a=2&b="}},
		{name: "a name without a value gets '='", raw: "versions", want: []string{"versions="}},
		{name: "$ is encoded and '+' means a space", raw: "Qualifier=$LATEST&q=a+b", want: []string{"Qualifier=%24LATEST&q=a%20b", "Qualifier=$LATEST&q=a+b"}},
		{name: "sorting happens after encoding", raw: "k=a-b&k=a%2Fb", want: []string{"k=a%2Fb&k=a-b"}},
		{name: "the presigned signature is left out", raw: "X-Amz-Signature=abc&a=1", skip: "X-Amz-Signature", want: []string{"a=1"}},
		{name: "an empty query", raw: "", want: []string{""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := canonicalQueries(tc.raw, tc.skip)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// FuzzParseAuthorization checks that the header parser never panics, that
// whatever it accepts is well formed, and that formatting an accepted header
// and parsing it again gives the same result.
func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		"AWS4-HMAC-SHA256 Credential=AKIA1/20260301/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + goodSig,
		"AWS4-HMAC-SHA256 Signature=" + goodSig + ",SignedHeaders=host,Credential=a/20260301/r/execute-api/aws4_request",
		"AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=, Signature=",
		"AWS4-HMAC-SHA256 ,,,=,==",
		"AWS4-HMAC-SHA256",
		"Bearer x",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err != nil {
			var ae *Error
			if !errors.As(err, &ae) || ae.Type != TypeIncompleteSignature || ae.Status != 403 || ae.Message == "" {
				t.Fatalf("parse(%q): error %v is not a 403 IncompleteSignatureException", h, err)
			}
			return
		}
		c := a.Credential
		if c.AccessKeyID == "" || c.Region == "" || c.Service == "" || !isDigits(c.Date, 8) {
			t.Fatalf("parse(%q) accepted an incomplete credential %+v", h, c)
		}
		if !isHex(a.Signature, 64) {
			t.Fatalf("parse(%q) accepted signature %q", h, a.Signature)
		}
		hasHost := false
		for _, n := range a.headerNames() {
			if !isToken(n) {
				t.Fatalf("parse(%q) accepted header name %q", h, n)
			}
			hasHost = hasHost || strings.EqualFold(n, "host")
		}
		if !hasHost {
			t.Fatalf("parse(%q) accepted SignedHeaders without host", h)
		}
		again, err := parseAuthorization(a.String())
		if err != nil || again != a {
			t.Fatalf("round trip of %q: got %+v, %v; want %+v", a.String(), again, err, a)
		}
	})
}

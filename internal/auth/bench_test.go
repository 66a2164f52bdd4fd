package auth

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// BenchmarkVerify is the server's cost of checking one signed warm
// invoke: header parsing, the canonical request, the signature and the
// body hash.
func BenchmarkVerify(b *testing.B) {
	v, err := New([]Credentials{testCreds()})
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"hello":"world"}`)
	const u = "http://127.0.0.1:9321/2015-03-31/functions/echo/invocations"
	signed, err := http.NewRequest("POST", u, bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	signed.Header.Set("Content-Type", "application/json")
	signed.Header.Set(headerContentHash, sha256Hex(body))
	c := testCreds()
	creds := aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, signed, sha256Hex(body), "lambda", "us-east-1", time.Now()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		r, _ := http.NewRequest("POST", u, bytes.NewReader(body))
		r.Header = signed.Header.Clone()
		r.Host = "127.0.0.1:9321"
		if err := v.Verify(r); err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
}

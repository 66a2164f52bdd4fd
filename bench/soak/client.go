package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The credentials the soak gives the server (UPDRAFT_ACCESS_KEY_ID and
// UPDRAFT_SECRET_ACCESS_KEY) and signs every request with.
const (
	accessKeyID     = "AKIAUPDRAFTSOAK00001"
	secretAccessKey = "updraft-soak-secret-key-0123456789abcdefgh"
	region          = "us-east-1"
)

// api signs requests to the server with SigV4, as the AWS SDKs do: the
// payload hash goes into the signature but not into a header, so the
// server reads the body (spooling a large one) before it can verify.
type api struct {
	base   string // http://127.0.0.1:PORT, fixed across restarts
	http   *http.Client
	signer *v4.Signer
	creds  aws.Credentials
}

func newAPI(base string, timeout time.Duration) *api {
	return &api{
		base: base,
		http: &http.Client{Timeout: timeout, Transport: &http.Transport{
			MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second,
		}},
		signer: v4.NewSigner(),
		creds:  aws.Credentials{AccessKeyID: accessKeyID, SecretAccessKey: secretAccessKey},
	}
}

// response is a read answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// String shortens the answer for error messages.
func (r *response) String() string {
	b := string(r.body)
	if len(b) > 300 {
		b = b[:300] + "..."
	}
	return fmt.Sprintf("%d %s", r.status, strings.TrimSpace(b))
}

// do sends one signed request for service and reads the whole answer.
func (a *api) do(ctx context.Context, method, path, service string, header http.Header, body []byte) (*response, error) {
	req, err := a.signed(ctx, method, path, service, header, body)
	if err != nil {
		return nil, err
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// signed builds a request for body and signs it.
func (a *api) signed(ctx context.Context, method, path, service string, header http.Header, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256(body)
	if err := a.signer.SignHTTP(ctx, a.creds, req, hex.EncodeToString(sum[:]), service, region, time.Now()); err != nil {
		return nil, fmt.Errorf("sign %s %s: %w", method, path, err)
	}
	return req, nil
}

// kinesis calls a Kinesis operation (JSON protocol on POST /).
func (a *api) kinesis(ctx context.Context, op string, body []byte) (*response, error) {
	h := http.Header{}
	h.Set("X-Amz-Target", "Kinesis_20131202."+op)
	h.Set("Content-Type", "application/x-amz-json-1.1")
	return a.do(ctx, http.MethodPost, "/", "kinesis", h, body)
}

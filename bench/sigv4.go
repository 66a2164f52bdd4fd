package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The root key the signed server is started with.
const (
	benchRootKey    = "AKIAUPDRAFTBENCH0001"
	benchRootSecret = "updraft-bench-secret-key-0123456789abcdef"
)

// signer signs requests as one key.
type signer struct {
	creds aws.Credentials
	s     *v4.Signer
}

func newSigner(id, secret string) *signer {
	return &signer{creds: aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, s: v4.NewSigner()}
}

// do sends a signed request for service and returns the status and body.
func (sg *signer) do(c *http.Client, method, u, service, contentType string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	if err := sg.s.SignHTTP(context.Background(), sg.creds, req, hash, service, "us-east-1", time.Now()); err != nil {
		return 0, nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 && resp.Header.Get("X-Amz-Function-Error") != "" {
		return resp.StatusCode, b, fmt.Errorf("function error %q", resp.Header.Get("X-Amz-Function-Error"))
	}
	return resp.StatusCode, b, err
}

// iamCall runs one IAM query action as the signer.
func (sg *signer) iamCall(c *http.Client, base string, params url.Values) ([]byte, error) {
	params.Set("Version", "2010-05-08")
	status, b, err := sg.do(c, "POST", base+"/", "iam", "application/x-www-form-urlencoded", []byte(params.Encode()))
	if err == nil && status != 200 {
		err = fmt.Errorf("iam %s: %d %s", params.Get("Action"), status, b)
	}
	return b, err
}

// signedSetup starts a server with SigV4 on, deploys the echo function
// there and creates an IAM user allowed to invoke it, whose key the
// signed measurements use: authentication through the identity store and
// an evaluated policy, as a CI job's calls are.
func signedSetup(c *http.Client, bin, dataDir string, echo fnSpec) (base string, user *signer, stop func(), err error) {
	cmd := exec.Command(bin, "server", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "warn")
	cmd.Env = append(cmd.Environ(), "UPDRAFT_ACCESS_KEY_ID="+benchRootKey, "UPDRAFT_SECRET_ACCESS_KEY="+benchRootSecret)
	p, err := startProcess(cmd, "updraft listening on ")
	if err != nil {
		return "", nil, nil, err
	}
	base, stop = p.url, p.stop
	fail := func(err error) (string, *signer, func(), error) {
		stop()
		return "", nil, nil, err
	}
	root := newSigner(benchRootKey, benchRootSecret)
	create, _ := createFunctionBody("echo", echo)
	if status, b, err := root.do(c, "POST", base+"/2015-03-31/functions", "lambda", "application/json", create); err != nil || status != 201 {
		return fail(fmt.Errorf("signed create: %d %s %v", status, b, err))
	}
	if _, err := root.iamCall(c, base, url.Values{"Action": {"CreateUser"}, "UserName": {"bench"}}); err != nil {
		return fail(err)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:*:*:function:echo*"},` +
		`{"Effect":"Deny","Action":"lambda:DeleteFunction","Resource":"*"}]}`
	if _, err := root.iamCall(c, base, url.Values{"Action": {"PutUserPolicy"}, "UserName": {"bench"}, "PolicyName": {"invoke"}, "PolicyDocument": {doc}}); err != nil {
		return fail(err)
	}
	b, err := root.iamCall(c, base, url.Values{"Action": {"CreateAccessKey"}, "UserName": {"bench"}})
	if err != nil {
		return fail(err)
	}
	var key struct {
		ID     string `xml:"CreateAccessKeyResult>AccessKey>AccessKeyId"`
		Secret string `xml:"CreateAccessKeyResult>AccessKey>SecretAccessKey"`
	}
	if err := xml.Unmarshal(b, &key); err != nil || key.ID == "" {
		return fail(fmt.Errorf("create access key: %s (%v)", b, err))
	}
	return base, newSigner(key.ID, key.Secret), stop, nil
}

// signedHeaders signs one invoke of payload and returns its headers. A
// SigV4 signature stays valid for 15 minutes and has no nonce, so a round
// replays it: the figure is the server's cost of verifying and
// authorising, not the client's of signing (a few µs the SDKs pay too).
func (sg *signer) signedHeaders(method, u, service string, payload []byte) (http.Header, error) {
	req, err := http.NewRequest(method, u, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(payload)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	if err := sg.s.SignHTTP(context.Background(), sg.creds, req, hash, service, "us-east-1", time.Now()); err != nil {
		return nil, err
	}
	return req.Header, nil
}

// signedLatency measures the p50 of n sequential invokes signed by sg;
// failures go to errs. ok is false when none succeeded.
func signedLatency(c *http.Client, sg *signer, invokeURL string, payload []byte, n int, errs *errCount) (p50 time.Duration, ok bool) {
	h, err := sg.signedHeaders("POST", invokeURL, "lambda", payload)
	if err != nil {
		errs.add(err)
		return 0, false
	}
	d := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		req, err := http.NewRequest("POST", invokeURL, bytes.NewReader(payload))
		if err != nil {
			errs.add(err)
			continue
		}
		req.Header = h.Clone()
		resp, err := c.Do(req)
		if err != nil {
			errs.add(fmt.Errorf("signed invoke after %s: %w", time.Since(start).Round(time.Microsecond), err))
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Function-Error") != "" {
			errs.add(fmt.Errorf("signed invoke: %d function error %q: %s", resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"), snippet(b)))
			continue
		}
		d = append(d, time.Since(start))
	}
	if len(d) == 0 {
		return 0, false
	}
	p50, _ = percentiles(d)
	return p50, true
}

// authRounds compares warm p50 with --auth none (the series' floor) and
// with SigV4 as an IAM user, in interleaved rounds of perRound invokes.
func authRounds(c *http.Client, noneURL string, user *signer, signedURL string, payload []byte, rounds, perRound int, s *series, noneErrs, signedErrs *errCount) {
	for r := range rounds {
		var p, q time.Duration
		var pok, qok bool
		none := func() { p, _, pok = latency(c, noneURL, payload, perRound, noneErrs) }
		signed := func() { q, qok = signedLatency(c, user, signedURL, payload, perRound, signedErrs) }
		if floorFirst(r) {
			none()
			signed()
		} else {
			signed()
			none()
		}
		if pok && qok {
			s.add(float64(p), float64(q))
		}
	}
}

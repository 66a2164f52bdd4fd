package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// credentialVars are every variable ResolveCredentials reads.
var credentialVars = []string{
	"UPDRAFT_ACCESS_KEY_ID", "UPDRAFT_SECRET_ACCESS_KEY",
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
}

// clearEnv blanks the variables this package reads, so that the machine's
// own environment cannot leak into a test.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, k := range append(credentialVars, "UPDRAFT_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL",
		"UPDRAFT_REGION", "AWS_REGION", "AWS_DEFAULT_REGION", "UPDRAFT_DATA_DIR") {
		t.Setenv(k, "")
	}
}

func writeCredentialsFile(t *testing.T, dir, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, CredentialsFileName), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestResolveCredentials(t *testing.T) {
	const fileJSON = `{"AccessKeyId":"FILEKEY","SecretAccessKey":"filesecret"}` // as internal/auth writes it
	tests := []struct {
		name       string
		env        map[string]string
		file       string // credentials.json content; "" means no file
		wantKey    string
		wantToken  string
		wantSource string // "file" means the credentials file's path
		wantErr    string
		wantNoCred bool
	}{
		{
			name:       "updraft variables win over aws variables and the file",
			env:        map[string]string{"UPDRAFT_ACCESS_KEY_ID": "UPKEY", "UPDRAFT_SECRET_ACCESS_KEY": "s", "AWS_ACCESS_KEY_ID": "AWSKEY", "AWS_SECRET_ACCESS_KEY": "s"},
			file:       fileJSON,
			wantKey:    "UPKEY",
			wantSource: "UPDRAFT_ACCESS_KEY_ID",
		},
		{
			name:       "aws variables win over the file and bring the session token",
			env:        map[string]string{"AWS_ACCESS_KEY_ID": "AWSKEY", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "tok"},
			file:       fileJSON,
			wantKey:    "AWSKEY",
			wantToken:  "tok",
			wantSource: "AWS_ACCESS_KEY_ID",
		},
		{
			name:       "the file is used when the environment has nothing",
			file:       fileJSON,
			wantKey:    "FILEKEY",
			wantSource: "file",
		},
		{
			name:       "the AccessKeyID spelling reads too",
			file:       `{"AccessKeyID":"UPPER","SecretAccessKey":"s"}`,
			wantKey:    "UPPER",
			wantSource: "file",
		},
		{
			name:    "half a pair in the environment is an error, not a fallback",
			env:     map[string]string{"AWS_ACCESS_KEY_ID": "AWSKEY"},
			file:    fileJSON,
			wantErr: "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not",
		},
		{
			name:    "a secret without a key id is an error too",
			env:     map[string]string{"UPDRAFT_SECRET_ACCESS_KEY": "s"},
			wantErr: "UPDRAFT_SECRET_ACCESS_KEY is set but UPDRAFT_ACCESS_KEY_ID is not",
		},
		{
			name:       "no environment and no file tells the user what to export",
			wantErr:    "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
			wantNoCred: true,
		},
		{
			name:    "a malformed file names the file",
			file:    `{"AccessKeyID":`,
			wantErr: CredentialsFileName,
		},
		{
			name:    "a file with an empty secret is refused",
			file:    `{"AccessKeyID":"K","SecretAccessKey":""}`,
			wantErr: "must both be set",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			dir := t.TempDir()
			if tc.file != "" {
				writeCredentialsFile(t, dir, tc.file)
			}
			creds, source, err := ResolveCredentials(dir, nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				if got := errors.Is(err, ErrNoCredentials); got != tc.wantNoCred {
					t.Fatalf("errors.Is(err, ErrNoCredentials) = %v, want %v", got, tc.wantNoCred)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if creds.AccessKeyID != tc.wantKey || creds.SessionToken != tc.wantToken {
				t.Errorf("got key %q token %q, want %q %q", creds.AccessKeyID, creds.SessionToken, tc.wantKey, tc.wantToken)
			}
			wantSource := tc.wantSource
			if wantSource == "file" {
				wantSource = filepath.Join(dir, CredentialsFileName)
			}
			if source != wantSource {
				t.Errorf("source = %q, want %q", source, wantSource)
			}
		})
	}
}

func TestNewResolvesEndpointRegionAndDataDir(t *testing.T) {
	dataDir := t.TempDir()
	writeCredentialsFile(t, dataDir, `{"AccessKeyID":"K","SecretAccessKey":"S"}`)
	endpointDir := t.TempDir()
	writeCredentialsFile(t, endpointDir, `{"AccessKeyID":"K","SecretAccessKey":"S"}`)
	if err := os.WriteFile(filepath.Join(endpointDir, EndpointFileName), []byte("http://127.0.0.1:40001\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		opts         Options
		env          map[string]string
		wantEndpoint string
		wantRegion   string
		wantErr      string
	}{
		{
			name:         "defaults apply when nothing is set",
			opts:         Options{DataDir: dataDir},
			wantEndpoint: DefaultEndpointURL,
			wantRegion:   DefaultRegion,
		},
		{
			name:         "options win over the environment",
			opts:         Options{EndpointURL: "http://10.0.0.1:1/", Region: "eu-west-1", DataDir: dataDir},
			env:          map[string]string{"UPDRAFT_ENDPOINT_URL": "http://a:1", "AWS_REGION": "us-west-2"},
			wantEndpoint: "http://10.0.0.1:1",
			wantRegion:   "eu-west-1",
		},
		{
			name:         "UPDRAFT_ENDPOINT_URL wins over the aws variables",
			opts:         Options{DataDir: dataDir},
			env:          map[string]string{"UPDRAFT_ENDPOINT_URL": "http://u:1", "AWS_ENDPOINT_URL_LAMBDA": "http://l:1", "AWS_ENDPOINT_URL": "http://g:1"},
			wantEndpoint: "http://u:1",
			wantRegion:   DefaultRegion,
		},
		{
			name:         "the lambda-specific aws endpoint wins over the general one",
			opts:         Options{DataDir: dataDir},
			env:          map[string]string{"AWS_ENDPOINT_URL_LAMBDA": "http://l:1", "AWS_ENDPOINT_URL": "http://g:1", "AWS_DEFAULT_REGION": "ap-south-1"},
			wantEndpoint: "http://l:1",
			wantRegion:   "ap-south-1",
		},
		{
			name:       "AWS_REGION wins over AWS_DEFAULT_REGION",
			opts:       Options{DataDir: dataDir},
			env:        map[string]string{"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "ap-south-1"},
			wantRegion: "us-west-2", wantEndpoint: DefaultEndpointURL,
		},
		{
			name:         "the server's endpoint file wins over the default",
			opts:         Options{DataDir: endpointDir},
			wantEndpoint: "http://127.0.0.1:40001",
			wantRegion:   DefaultRegion,
		},
		{
			name:         "the environment wins over the server's endpoint file",
			opts:         Options{DataDir: endpointDir},
			env:          map[string]string{"AWS_ENDPOINT_URL": "http://g:1"},
			wantEndpoint: "http://g:1",
			wantRegion:   DefaultRegion,
		},
		{
			name:         "the data dir comes from UPDRAFT_DATA_DIR",
			env:          map[string]string{"UPDRAFT_DATA_DIR": dataDir},
			wantEndpoint: DefaultEndpointURL,
			wantRegion:   DefaultRegion,
		},
		{
			name:    "an endpoint without a scheme is refused",
			opts:    Options{EndpointURL: "127.0.0.1:9321", DataDir: dataDir},
			wantErr: "want http://HOST:PORT",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := tc.env
			tc.opts.Getenv = func(k string) string { return env[k] }
			c, err := New(tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Endpoint() != tc.wantEndpoint || c.Region() != tc.wantRegion {
				t.Errorf("got %s %s, want %s %s", c.Endpoint(), c.Region(), tc.wantEndpoint, tc.wantRegion)
			}
		})
	}
}

func TestNewUsesTheDefaultDataDir(t *testing.T) {
	clearEnv(t)
	xdg := t.TempDir()
	t.Setenv("XDG_DATA_HOME", xdg)
	if err := os.MkdirAll(filepath.Join(xdg, "updraft"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeCredentialsFile(t, filepath.Join(xdg, "updraft"), `{"AccessKeyID":"XDGKEY","SecretAccessKey":"S"}`)
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(xdg, "updraft", CredentialsFileName); c.CredentialSource() != want {
		t.Errorf("credentials from %q, want %q", c.CredentialSource(), want)
	}
}

// newTestClient returns a client for srv with fixed credentials.
func newTestClient(t *testing.T, srv *httptest.Server) *Client {
	t.Helper()
	env := map[string]string{"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret"}
	c, err := New(Options{
		EndpointURL: srv.URL,
		Region:      "us-east-1",
		DataDir:     t.TempDir(),
		HTTPClient:  srv.Client(),
		Getenv:      func(k string) string { return env[k] },
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// verifySignature re-signs the request the server received, with the
// signed headers and signing time it carries, and compares the results.
func verifySignature(r *http.Request, body []byte, secret string) error {
	auth := r.Header.Get("Authorization")
	_, signed, ok := strings.Cut(auth, "SignedHeaders=")
	if !ok {
		return errors.New("no SignedHeaders in Authorization: " + auth)
	}
	signed, _, _ = strings.Cut(signed, ",")
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return err
	}
	req, err := http.NewRequest(r.Method, "http://"+r.Host+r.RequestURI, nil)
	if err != nil {
		return err
	}
	for _, h := range strings.Split(signed, ";") {
		if h != "host" {
			req.Header.Set(h, r.Header.Get(h))
		}
	}
	req.ContentLength = r.ContentLength
	_, cred, _ := strings.Cut(auth, "Credential=")
	cred, _, _ = strings.Cut(cred, ",")
	scope := strings.Split(cred, "/") // AKID/date/region/service/aws4_request
	if len(scope) != 5 {
		return errors.New("malformed Credential in Authorization: " + auth)
	}
	hash := sha256Hex(body)
	creds := aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hash, scope[3], scope[2], when); err != nil {
		return err
	}
	if got := req.Header.Get("Authorization"); got != auth {
		return errors.New("signature mismatch:\n got  " + auth + "\n want " + got)
	}
	return nil
}

func TestDoSignsRequests(t *testing.T) {
	var verr atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := verifySignature(r, body, "secret"); err != nil {
			verr.Store(err)
		}
		service := "lambda" // the HTTP proxy and async batch paths stand in for API Gateway
		if strings.HasPrefix(r.URL.Path, "/updraft/v1/http/") || strings.HasPrefix(r.URL.Path, "/updraft/v1/async/") {
			service = "execute-api"
		}
		if !strings.Contains(r.Header.Get("Authorization"), "Credential=AKIDTEST/") ||
			!strings.Contains(r.Header.Get("Authorization"), "/us-east-1/"+service+"/aws4_request") {
			verr.Store(errors.New("bad credential scope: " + r.Header.Get("Authorization")))
		}
		w.Write([]byte(r.Method + " " + r.URL.Path + "?" + r.URL.RawQuery + " " + string(body)))
	}))
	defer srv.Close()
	c := newTestClient(t, srv)
	tests := []struct {
		name, method, path string
		body               io.Reader
		want               string
	}{
		{"a GET with a query", http.MethodGet, "/updraft/v1/functions/f/logs?follow=true&limit=5", nil, "GET /updraft/v1/functions/f/logs?follow=true&limit=5 "},
		{"a POST with a body", http.MethodPost, "/updraft/v1/x", strings.NewReader(`{"a":1}`), `POST /updraft/v1/x? {"a":1}`},
		{"an HTTP proxy request signed for execute-api", http.MethodGet, "/updraft/v1/http/web/a", nil, "GET /updraft/v1/http/web/a? "},
		{"an async batch signed for execute-api", http.MethodPost, "/updraft/v1/async/rows", strings.NewReader(`{"data":[]}`), `POST /updraft/v1/async/rows? {"data":[]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := c.Do(t.Context(), tc.method, tc.path, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if string(got) != tc.want {
				t.Errorf("server saw %q, want %q", got, tc.want)
			}
			if err, _ := verr.Load().(error); err != nil {
				t.Fatal(err)
			}
		})
	}
	if _, err := c.Do(t.Context(), http.MethodGet, "http://elsewhere/x", nil); err == nil {
		t.Error("Do accepted an absolute URL; want an error")
	}
}

func TestDoDecodesLambdaErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		errorType string
		body      string
		wantCode  string
		wantMsg   string
		wantFault smithy.ErrorFault
	}{
		{"the type comes from the header", 404, "ResourceNotFoundException", `{"Type":"User","Message":"Function not found: f"}`,
			"ResourceNotFoundException", "Function not found: f", smithy.FaultClient},
		{"a url suffix on the header is dropped", 429, "TooManyRequestsException:http://internal.amazon.com/x", `{"Type":"User","message":"Rate exceeded"}`,
			"TooManyRequestsException", "Rate exceeded", smithy.FaultClient},
		{"without a header the status names the error", 500, "", `oops`,
			"InternalServerError", "oops", smithy.FaultServer},
		{"a Service body type is a server fault", 400, "ServiceException", `{"Type":"Service","Message":"boom"}`,
			"ServiceException", "boom", smithy.FaultServer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.errorType != "" {
					w.Header().Set("X-Amzn-ErrorType", tc.errorType)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			_, err := newTestClient(t, srv).Do(t.Context(), http.MethodGet, "/updraft/v1/functions/f/logs", nil)
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want a smithy.APIError", err)
			}
			if apiErr.ErrorCode() != tc.wantCode || apiErr.ErrorMessage() != tc.wantMsg || apiErr.ErrorFault() != tc.wantFault {
				t.Errorf("got %s / %q / %v, want %s / %q / %v", apiErr.ErrorCode(), apiErr.ErrorMessage(), apiErr.ErrorFault(),
					tc.wantCode, tc.wantMsg, tc.wantFault)
			}
		})
	}
}

func TestInvokeIsNotRetried(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("X-Amzn-ErrorType", "TooManyRequestsException")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"Type":"User","Message":"Rate exceeded","Reason":"ReservedFunctionConcurrentInvocationLimitExceeded"}`)
	}))
	defer srv.Close()
	c := newTestClient(t, srv)
	_, err := c.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("f")})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "TooManyRequestsException" {
		t.Fatalf("err = %v, want TooManyRequestsException", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("server saw %d invoke requests, want 1", n)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestRetryPolicyFailsFastOnlyWhenRefused(t *testing.T) {
	r := retry.NewStandard(failFastWhenRefused)
	refused := &url.Error{Op: "Post", URL: "http://127.0.0.1:1", Err: &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"a refused connection is not retried", &smithyhttp.RequestSendError{Err: refused}, false},
		{"a reset connection is still retried", &smithyhttp.RequestSendError{Err: &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}}, true},
		{"a throttle is still retried", &smithy.GenericAPIError{Code: "TooManyRequestsException"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.IsErrorRetryable(tc.err); got != tc.want {
				t.Errorf("IsErrorRetryable = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestTrustsTheGeneratedCAOfAnHTTPSEndpoint: a server started with
// --tls-self-signed leaves its CA in the data dir; the client trusts it
// beside AWS_CA_BUNDLE, and without it the certificate is refused.
func TestTrustsTheGeneratedCAOfAnHTTPSEndpoint(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"Functions":[]}`)
	}))
	defer srv.Close()
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	env := map[string]string{"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_CA_BUNDLE": "/etc/ssl/certs/ca-certificates.crt"}
	if _, err := os.Stat(env["AWS_CA_BUNDLE"]); err != nil {
		delete(env, "AWS_CA_BUNDLE")
	}
	list := func(dataDir string) error {
		c, err := New(Options{EndpointURL: srv.URL, DataDir: dataDir, Getenv: func(k string) string { return env[k] }})
		if err != nil {
			return err
		}
		_, err = c.Lambda.ListFunctions(context.Background(), &lambda.ListFunctionsInput{}, NoRetry)
		return err
	}
	if err := list(t.TempDir()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the CA: %v, want a certificate error", err)
	}
	dataDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dataDir, CAFileName), caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := list(dataDir); err != nil {
		t.Errorf("with the data dir's CA: %v", err)
	}
}

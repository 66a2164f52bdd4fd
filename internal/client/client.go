// Package client builds the SDK client that the updraft command line uses
// to talk to an updraft server, the way the aws CLI would: an
// aws-sdk-go-v2 Lambda client pointed at the server's endpoint, signing
// with SigV4 (service "lambda"), an STS client on the same endpoint
// (service "sts", for `updraft whoami`), plus a signed plain-HTTP helper, [Client.Do],
// for updraft's own endpoints under /updraft/v1/ that the SDK knows nothing
// about (function logs, invocation records).
//
// [New] resolves everything once from [Options], the environment and the
// server's data directory; a [Client] is then immutable and safe for
// concurrent use. Where each setting comes from, first match wins:
//
//   - endpoint: Options.EndpointURL, UPDRAFT_ENDPOINT_URL,
//     AWS_ENDPOINT_URL_LAMBDA, AWS_ENDPOINT_URL, the URL the server wrote to
//     <data dir>/endpoint when it started (so a server on a port the OS
//     picked is found), then http://127.0.0.1:9321;
//   - region: Options.Region, UPDRAFT_REGION, AWS_REGION,
//     AWS_DEFAULT_REGION, then us-east-1;
//   - credentials: UPDRAFT_ACCESS_KEY_ID/UPDRAFT_SECRET_ACCESS_KEY (the pair
//     the server itself is started with), AWS_ACCESS_KEY_ID/
//     AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN), then the pair the
//     server generated in <data dir>/credentials.json, else an error naming
//     what to export ([ErrNoCredentials]);
//   - trusted CAs: the system roots, plus the PEM file AWS_CA_BUNDLE
//     names, plus, for an https endpoint, the CA a server started with
//     --tls-self-signed generated in <data dir>/api-ca.pem, if present;
//   - data dir: Options.DataDir, UPDRAFT_DATA_DIR, then the server's default
//     ([config.DefaultDataDir]).
//
// The package reads the environment only through Options.Getenv, so tests
// and embedding programs can supply their own.
package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/updraft/updraft/internal/config"
)

// DefaultEndpointURL is where `updraft server` listens unless told otherwise.
const DefaultEndpointURL = "http://127.0.0.1:9321"

// DefaultRegion is the region used when neither a flag nor the environment
// names one. It must match the server's --region only if the server checks
// the region in the SigV4 credential scope.
const DefaultRegion = "us-east-1"

// SigningService is the SigV4 service name updraft verifies, as Lambda does.
const SigningService = "lambda"

// Options says which server to talk to and how. The zero value is usable:
// every empty field is filled from the environment or a default (see the
// package documentation for the order).
type Options struct {
	// EndpointURL is the server's base URL, such as http://127.0.0.1:9321.
	EndpointURL string
	// Region is used in the SigV4 credential scope.
	Region string
	// DataDir is the server's data directory, where it keeps the generated
	// credentials.json.
	DataDir string
	// HTTPClient sends every request, SDK and [Client.Do] alike; nil means
	// a plain *http.Client without an overall timeout, so that followed
	// log streams may stay open.
	HTTPClient *http.Client
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(key string) string
}

// Client talks to one updraft server. Create it with [New].
type Client struct {
	// Lambda is the SDK client for the Lambda REST API. Never nil.
	Lambda *lambda.Client
	// STS is the SDK client for STS's query API (GetCallerIdentity),
	// which the server answers on the same endpoint. Never nil.
	STS *sts.Client

	endpoint   *url.URL
	region     string
	creds      aws.Credentials
	credSource string
	httpClient *http.Client
	signer     *v4.Signer
}

// New resolves endpoint, region and credentials and builds the client. It
// fails, before any request is sent, when the endpoint is malformed or no
// credentials can be found.
func New(opts Options) (*Client, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	dataDir := firstNonEmpty(opts.DataDir, getenv("UPDRAFT_DATA_DIR"), config.DefaultDataDir())
	raw := firstNonEmpty(opts.EndpointURL, getenv("UPDRAFT_ENDPOINT_URL"),
		getenv("AWS_ENDPOINT_URL_LAMBDA"), getenv("AWS_ENDPOINT_URL"), endpointFromDataDir(dataDir), DefaultEndpointURL)
	endpoint, err := parseEndpoint(raw)
	if err != nil {
		return nil, err
	}
	region := firstNonEmpty(opts.Region, getenv("UPDRAFT_REGION"), getenv("AWS_REGION"),
		getenv("AWS_DEFAULT_REGION"), DefaultRegion)
	creds, source, err := ResolveCredentials(dataDir, getenv)
	if err != nil {
		return nil, err
	}
	httpClient := opts.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{}
		roots, err := trustedRoots(dataDir, endpoint, getenv)
		if err != nil {
			return nil, err
		}
		if roots != nil {
			t := http.DefaultTransport.(*http.Transport).Clone()
			t.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
			httpClient.Transport = t
		}
	}
	c := &Client{
		endpoint:   endpoint,
		region:     region,
		creds:      creds,
		credSource: source,
		httpClient: httpClient,
		signer:     v4.NewSigner(),
	}
	c.Lambda = lambda.New(lambda.Options{
		AppID:        "updraft-cli",
		BaseEndpoint: aws.String(endpoint.String()),
		Region:       region,
		Credentials:  staticCredentials(creds),
		HTTPClient:   httpClient,
		Retryer:      retry.NewStandard(failFastWhenRefused),
	})
	c.STS = sts.New(sts.Options{
		AppID:        "updraft-cli",
		BaseEndpoint: aws.String(endpoint.String()),
		Region:       region,
		Credentials:  staticCredentials(creds),
		HTTPClient:   httpClient,
		Retryer:      retry.NewStandard(failFastWhenRefused),
	})
	return c, nil
}

// Endpoint is the server's base URL, without a trailing slash.
func (c *Client) Endpoint() string { return c.endpoint.String() }

// Region is the region requests are signed for.
func (c *Client) Region() string { return c.region }

// CredentialSource says where the credentials came from, for messages:
// an environment variable name or the credentials file's path.
func (c *Client) CredentialSource() string { return c.credSource }

// failFastWhenRefused keeps the SDK's standard retry policy (throttles,
// 5xx, dropped connections) except for a refused connection: that means no
// server is listening, and retrying it with backoff only makes the user
// wait five seconds for the same answer.
func failFastWhenRefused(o *retry.StandardOptions) {
	refused := retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return aws.FalseTernary
		}
		return aws.UnknownTernary
	})
	o.Retryables = append([]retry.IsErrorRetryable{refused}, o.Retryables...)
}

// NoRetry is a per-operation option that makes the SDK send a request
// once: an invoke that failed or was throttled is reported at once instead
// of being retried behind the user's back (and a function with side
// effects is not run twice).
func NoRetry(o *lambda.Options) { o.RetryMaxAttempts = 1 }

// Invoke calls the Lambda Invoke operation once, without the SDK's retries
// (see [NoRetry]); other operations keep the SDK's default retry policy.
func (c *Client) Invoke(ctx context.Context, in *lambda.InvokeInput) (*lambda.InvokeOutput, error) {
	out, err := c.Lambda.Invoke(ctx, in, NoRetry)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", aws.ToString(in.FunctionName), err)
	}
	return out, nil
}

// EndpointFileName is the file in the server's data directory where the
// server writes the URL it listens on, one line, each time it starts.
const EndpointFileName = "endpoint"

// endpointFromDataDir reads <dataDir>/endpoint, or returns "" when there is
// none: the file is a hint, and the default applies without it.
func endpointFromDataDir(dataDir string) string {
	data, err := os.ReadFile(filepath.Join(dataDir, EndpointFileName))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// CAFileName is the CA a server started with --tls-self-signed generates
// in its data directory and verifies its API certificate with.
const CAFileName = "api-ca.pem"

// trustedRoots returns the system roots plus the CA bundle named by
// AWS_CA_BUNDLE and, for an https endpoint, the CA in <dataDir>/api-ca.pem,
// or nil when there is neither.
func trustedRoots(dataDir string, endpoint *url.URL, getenv func(string) string) (*x509.CertPool, error) {
	var paths []string
	if p := strings.TrimSpace(getenv("AWS_CA_BUNDLE")); p != "" {
		paths = append(paths, p)
	}
	if endpoint.Scheme == "https" {
		if p := filepath.Join(dataDir, CAFileName); fileExists(p) {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return nil, nil
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	for _, p := range paths {
		pem, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("client: CA bundle: %w", err)
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client: CA bundle %s: no PEM certificate in it", p)
		}
	}
	return roots, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func parseEndpoint(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: endpoint URL %q: want http://HOST:PORT or https://HOST:PORT", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("client: endpoint URL %q: must not have a query or fragment", raw)
	}
	return u, nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

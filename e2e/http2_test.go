package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/updraft/updraft/internal/testutil"
)

// TestHTTP2 speaks HTTP/2 to the main listener, without TLS (h2c with
// prior knowledge) and over TLS (ALPN h2), and checks that signed SDK
// calls of three services work over it, many at once on one connection.
func TestHTTP2(t *testing.T) {
	t.Run("h2c", func(t *testing.T) {
		t.Parallel()
		srv := testutil.StartServer(t, testutil.Options{})
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		checkHTTP2(t, srv, &http.Client{Transport: &http.Transport{Protocols: &p}})
	})
	t.Run("TLS", func(t *testing.T) {
		t.Parallel()
		srv := testutil.StartServer(t, testutil.Options{Args: []string{"--tls-self-signed"}})
		pem, err := os.ReadFile(srv.CABundle)
		if err != nil {
			t.Fatal(err)
		}
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(pem)
		var p http.Protocols
		p.SetHTTP2(true)
		checkHTTP2(t, srv, &http.Client{Transport: &http.Transport{Protocols: &p, TLSClientConfig: &tls.Config{RootCAs: roots}}})
	})
	t.Run("cap", func(t *testing.T) {
		// Idle HTTP/2 connections are idle to the connection cap: with
		// more of them open than the cap, a new client is still served.
		t.Parallel()
		srv := testutil.StartServer(t, testutil.Options{Args: []string{"--max-connections", "4"}})
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		for i := range 12 {
			tr := &http.Transport{Protocols: &p}
			t.Cleanup(tr.CloseIdleConnections)
			resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/healthz")
			if err != nil {
				t.Fatalf("connection %d: %v", i, err)
			}
			resp.Body.Close()
			if resp.ProtoMajor != 2 || resp.StatusCode != 200 {
				t.Fatalf("connection %d: %s %d, want HTTP/2.0 200", i, resp.Proto, resp.StatusCode)
			}
		}
		start := time.Now()
		tr := &http.Transport{Protocols: &p}
		defer tr.CloseIdleConnections()
		lc := lambda.New(lambda.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), HTTPClient: &http.Client{Transport: tr}, RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.SecretAccessKey, "")})
		if _, err := lc.ListFunctions(ctx(t), &lambda.ListFunctionsInput{}); err != nil {
			t.Fatalf("a signed request with 12 idle HTTP/2 connections open at a cap of 4: %v", err)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("the request took %s, want under 1s (an overflow connection waited)", took)
		}
	})
}

func checkHTTP2(t *testing.T, srv *testutil.Server, hc *http.Client) {
	resp, err := hc.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz over HTTP/2: %v", err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.StatusCode != 200 {
		t.Fatalf("GET /healthz: %s %d, want HTTP/2.0 200", resp.Proto, resp.StatusCode)
	}
	creds := credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.SecretAccessKey, "")
	lc := lambda.New(lambda.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: creds, HTTPClient: hc, RetryMaxAttempts: 1})
	sc := sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: creds, HTTPClient: hc, RetryMaxAttempts: 1})
	cx := ctx(t)
	q, err := sc.CreateQueue(cx, &sqs.CreateQueueInput{QueueName: aws.String("h2")})
	if err != nil {
		t.Fatalf("CreateQueue over HTTP/2: %v", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for range 20 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := sc.SendMessage(cx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("m")})
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := lc.ListFunctions(cx, &lambda.ListFunctionsInput{})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a concurrent call over HTTP/2: %v", err)
		}
	}
	qa, err := sc.GetQueueAttributes(cx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages"}})
	if err != nil || qa.Attributes["ApproximateNumberOfMessages"] != "20" {
		t.Fatalf("GetQueueAttributes: %v, %v", qa, err)
	}
	// A bad signature is still refused over HTTP/2.
	bad := lambda.New(lambda.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), HTTPClient: hc, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKeyID, "wrong-secret", "")})
	if _, err := bad.ListFunctions(cx, &lambda.ListFunctionsInput{}); apiErrorCode(err) != "InvalidSignatureException" {
		t.Fatalf("a wrongly signed call over HTTP/2: %v", err)
	}
}

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/updraft/updraft/internal/testutil"
)

// TestTLSSelfSigned starts a server with a generated CA and talks to it
// the way its users would: the aws CLI with --ca-bundle, the updraft CLI
// finding the endpoint and CA in the data dir. Metrics are served on
// their own listener and not on the API.
func TestTLSSelfSigned(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	srv := testutil.StartServer(t, testutil.Options{Args: []string{"--tls-self-signed"}})
	if !strings.HasPrefix(srv.URL, "https://") || srv.CABundle == "" {
		t.Fatalf("URL %q CA %q, want https and a CA in the banner\n%s", srv.URL, srv.CABundle, srv.Output.String())
	}
	for _, f := range []string{"api-ca-key.pem", "api-server-key.pem"} {
		fi, err := os.Stat(filepath.Join(srv.DataDir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", f, err, fi.Mode())
		}
	}
	if b, _ := os.ReadFile(filepath.Join(srv.DataDir, "endpoint")); strings.TrimSpace(string(b)) != srv.URL {
		t.Errorf("endpoint file holds %q, want %q", b, srv.URL)
	}

	out, _ := awsCLI(t, srv, false, "lambda", "list-functions", "--ca-bundle", srv.CABundle)
	if !strings.Contains(out, `"Functions"`) {
		t.Fatalf("list-functions over TLS printed %s", out)
	}
	_, errOut := awsCLI(t, srv, true, "lambda", "list-functions")
	if !strings.Contains(errOut, "SSL") && !strings.Contains(errOut, "certificate") {
		t.Errorf("list-functions without the CA: stderr %s, want a certificate error", errOut)
	}

	// The updraft CLI reads the https endpoint and the CA from the data dir.
	bin := testutil.BuildBinary(t, "./cmd/updraft", "")
	cmd := exec.CommandContext(testutil.Context(t, time.Minute), bin, "whoami")
	cmd.Env = append(srv.AWSEnv(), "UPDRAFT_DATA_DIR="+srv.DataDir)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("updraft whoami over TLS: %v\n%s", err, b)
	}

	resp, err := http.Get(srv.MetricsURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "go_goroutines") {
		t.Errorf("metrics listener: %d %.200s", resp.StatusCode, body)
	}
	c := srv.HTTPClient()
	for path, want := range map[string]int{"/healthz": http.StatusOK, "/metrics": http.StatusForbidden} {
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || strings.Contains(string(body), "go_goroutines") {
			t.Errorf("unsigned GET %s on the API: %d %.200s, want %d", path, resp.StatusCode, body, want)
		}
	}
}

// nonLoopbackIP returns an IPv4 address of this machine that is not
// loopback, or skips the test.
func nonLoopbackIP(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skipf("no interface addresses: %v", err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() && !ipn.IP.IsLinkLocalUnicast() {
			return ipn.IP.String()
		}
	}
	t.Skip("this machine has no non-loopback IPv4 address")
	return ""
}

// TestPlainHTTPBeyondLoopbackNeedsInsecureHTTP: the server refuses to
// serve plain HTTP on a network address unless told to, and warns when
// told.
func TestPlainHTTPBeyondLoopbackNeedsInsecureHTTP(t *testing.T) {
	t.Parallel()
	ip := nonLoopbackIP(t)
	bin := testutil.BuildBinary(t, "./cmd/updraft", "")
	cmd := exec.CommandContext(testutil.Context(t, time.Minute), bin, "server", "--listen", ip+":0",
		"--metrics-listen", "off", "--data-dir", t.TempDir())
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--insecure-http") || !strings.Contains(string(out), "not a loopback address") {
		t.Fatalf("plain HTTP on %s: err %v, output:\n%s\nwant a refusal naming --insecure-http", ip, err, out)
	}

	srv := testutil.StartServer(t, testutil.Options{Args: []string{"--listen", ip + ":0", "--insecure-http"}})
	if !strings.HasPrefix(srv.URL, "http://"+ip+":") || !strings.Contains(srv.Output.String(), "WARNING: --insecure-http") {
		t.Fatalf("URL %s; output:\n%s\nwant plain HTTP on %s and a warning", srv.URL, srv.Output.String(), ip)
	}
}

// TestIdleConnectionsDoNotLockOut opens 2,000 connections that send
// nothing, or one request and then idle, to a server capped at 1,000;
// a signed request is still answered within a second.
func TestIdleConnectionsDoNotLockOut(t *testing.T) {
	const idle = 2000
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur < idle+500 {
		lim.Cur = min(lim.Max, idle+1000)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < idle+500 {
			t.Skipf("cannot raise the open-file limit to %d: %v", idle+500, err)
		}
	}
	srv := testutil.StartServer(t, testutil.Options{Args: []string{"--max-connections", "1000"}})
	addr := strings.TrimPrefix(srv.URL, "http://")
	conns := make([]net.Conn, 0, idle)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for i := range idle {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
		if i%10 == 0 { // a keep-alive connection left idle after a request
			c.SetDeadline(time.Now().Add(5 * time.Second))
			fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				// Closed at the cap before it was served: the client
				// would retry; this test only needs it open or gone.
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := srv.Lambda().ListFunctions(ctx, &lambda.ListFunctionsInput{}); err != nil {
		t.Fatalf("signed request with %d idle connections open: %v", idle, err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("signed request took %s with %d idle connections open, want under 1s", took, idle)
	}
}

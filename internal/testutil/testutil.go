// Package testutil is the integration-test harness: it builds the real
// updraft binary and test functions, starts servers on loopback ports the
// OS picks with a data dir in t.TempDir(), and hands tests a base URL,
// credentials and an aws-sdk-go-v2 Lambda client. Everything it starts is
// stopped by t.Cleanup. It also holds the helpers that packages' own tests
// share: a logger to t.Log, polling, and a goroutine-leak check for
// TestMain. It imports no package of this module, so that any package's
// tests may use it; storetest, beside it, opens embedded stores.
package testutil

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// ModuleRoot returns the repository root (the directory of go.mod).
func ModuleRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testutil: cannot locate source")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

var (
	buildMu    sync.Mutex
	buildCache = map[string]string{}
	buildDir   string
)

// BuildBinary builds a Go main package of this module (path relative to
// the module root, e.g. "./cmd/updraft") once per test process, for linux
// without cgo, with optional ldflags, and returns the binary's path.
func BuildBinary(t testing.TB, pkg string, ldflags string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	key := pkg + "|" + ldflags
	if p, ok := buildCache[key]; ok {
		return p
	}
	if buildDir == "" {
		d, err := os.MkdirTemp("", "updraft-test-bin-")
		if err != nil {
			t.Fatalf("testutil: %v", err)
		}
		_ = os.Chmod(d, 0o755)
		buildDir = d
	}
	out := filepath.Join(buildDir, fmt.Sprintf("bin%d", len(buildCache)))
	args := []string{"build", "-o", out}
	if ldflags != "" {
		args = append(args, "-ldflags", ldflags)
	}
	args = append(args, pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = ModuleRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("testutil: go build %s: %v\n%s", pkg, err, b)
	}
	buildCache[key] = out
	return out
}

// RemoveBuiltBinaries deletes what BuildBinary built in this test process.
// A TestMain calls it after m.Run: the binaries outlive single tests, and
// left behind they fill the temporary directory run after run.
func RemoveBuiltBinaries() {
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	buildDir = ""
	buildCache = map[string]string{}
}

// FunctionZip builds the Go function package pkg as `bootstrap` and
// returns a deployment zip holding it. The zip is made once per pkg and
// ldflags in a test process; each call gets its own copy.
func FunctionZip(t testing.TB, pkg string, ldflags string) []byte {
	t.Helper()
	key := pkg + "|" + ldflags
	zipMu.Lock()
	defer zipMu.Unlock()
	if z, ok := zipCache[key]; ok {
		return bytes.Clone(z)
	}
	bin := BuildBinary(t, pkg, ldflags)
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatalf("testutil: %v", err)
	}
	z := ZipFiles(t, map[string]ZipEntry{"bootstrap": {Data: data, Mode: 0o755}})
	zipCache[key] = z
	return bytes.Clone(z)
}

var (
	zipMu    sync.Mutex
	zipCache = map[string][]byte{} // FunctionZip's zips by pkg|ldflags
)

// bigZip is the size of file data from which ZipFiles deflates in a
// child process: under the race detector (the tests run with -race)
// compress/flate is instrumented, and the 19 MB test function took 10 to
// 45 seconds to deflate on a loaded 2-core machine, against about one in
// the uninstrumented internal/testutil/zipcmd.
const bigZip = 1 << 20

// ZipEntry is one file of a zip made by ZipFiles.
type ZipEntry struct {
	Data []byte
	Mode os.FileMode
}

// ZipFiles makes a zip archive in memory, each file deflated.
func ZipFiles(t testing.TB, files map[string]ZipEntry) []byte {
	t.Helper()
	size := 0
	for _, f := range files {
		size += len(f.Data)
	}
	if size >= bigZip {
		return zipInChild(t, files)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, f := range files {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		h.SetMode(entryMode(f))
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatalf("testutil: zip: %v", err)
		}
		if _, err := w.Write(f.Data); err != nil {
			t.Fatalf("testutil: zip: %v", err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatalf("testutil: zip: %v", err)
	}
	return buf.Bytes()
}

// entryMode is f's mode, 0644 when unset.
func entryMode(f ZipEntry) os.FileMode {
	if f.Mode == 0 {
		return 0o644
	}
	return f.Mode
}

// zipInChild makes the archive ZipFiles would with zipcmd: the files go
// to it as a tar stream, the zip comes back on its stdout.
func zipInChild(t testing.TB, files map[string]ZipEntry) []byte {
	t.Helper()
	return zipCmd(t, func(tw *tar.Writer) error {
		for name, f := range files {
			h := &tar.Header{Name: name, Mode: int64(entryMode(f)), Size: int64(len(f.Data)), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
			if err := tw.WriteHeader(h); err != nil {
				return fmt.Errorf("tar %s: %w", name, err)
			}
			if _, err := tw.Write(f.Data); err != nil {
				return fmt.Errorf("tar %s: %w", name, err)
			}
		}
		return nil
	})
}

// ZipZeros returns a zip holding one file, name, of size zero bytes,
// deflated: a zip bomb when size is large (300 MB deflate to about
// 300 KB). It is made in zipcmd, as ZipFiles makes large archives.
func ZipZeros(t testing.TB, name string, size int64) []byte {
	t.Helper()
	return zipCmd(t, func(tw *tar.Writer) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return fmt.Errorf("tar %s: %w", name, err)
		}
		chunk := make([]byte, 1<<20)
		for left := size; left > 0; left -= int64(len(chunk)) {
			if _, err := tw.Write(chunk[:min(left, int64(len(chunk)))]); err != nil {
				return fmt.Errorf("tar %s: %w", name, err)
			}
		}
		return nil
	})
}

// zipCmd runs zipcmd, streams it the tar archive that write makes and
// returns the zip it prints.
func zipCmd(t testing.TB, write func(*tar.Writer) error) []byte {
	t.Helper()
	bin := BuildBinary(t, "./internal/testutil/zipcmd", "")
	var out, stderr bytes.Buffer
	cmd := exec.Command(bin)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("testutil: zipcmd: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("testutil: zipcmd: %v", err)
	}
	tw := tar.NewWriter(stdin)
	werr := write(tw)
	if werr == nil {
		werr = tw.Close()
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil || werr != nil {
		t.Fatalf("testutil: zipcmd: %v %v\n%s", werr, err, stderr.String())
	}
	return out.Bytes()
}

// Server is a running updraft process.
type Server struct {
	URL string
	// MetricsURL is the /metrics URL of the metrics listener ("" when
	// the test turned it off).
	MetricsURL string
	// CABundle is the generated CA the server's certificate verifies
	// with under --tls-self-signed, else "".
	CABundle        string
	DataDir         string
	AccessKeyID     string
	SecretAccessKey string
	Cmd             *exec.Cmd
	// Output holds everything the process printed so far.
	Output *SyncBuffer
	done   chan struct{}
}

// Options configure StartServer.
type Options struct {
	// Args are extra server flags, e.g. "--auth", "none".
	Args []string
	// DataDir, when set, is reused (restart tests); otherwise a temp dir.
	DataDir string
	// Env adds environment variables.
	Env []string
}

// StartServer builds and starts `updraft server` on 127.0.0.1:0 and
// waits until it listens. The server is stopped (SIGTERM, then SIGKILL)
// when the test ends.
func StartServer(t testing.TB, opts Options) *Server {
	t.Helper()
	return StartServers(t, opts)[0]
}

// StartServers starts one server per Options at once and waits until
// every one listens: the nodes of a cluster, none of which is ready
// before a majority of them is up.
func StartServers(t testing.TB, opts ...Options) []*Server {
	t.Helper()
	bin := BuildBinary(t, "./cmd/updraft", "")
	servers := make([]*Server, len(opts))
	ready := make([]chan [3]string, len(opts))
	for i, o := range opts {
		servers[i], ready[i] = launch(t, bin, o)
	}
	deadline := time.After(60 * time.Second)
	for i, s := range servers {
		select {
		case got := <-ready[i]:
			s.URL, s.MetricsURL, s.CABundle = got[0], got[1], got[2]
		case <-s.done:
			t.Fatalf("testutil: server exited early:\n%s", s.Output.String())
		case <-deadline:
			t.Fatalf("testutil: server did not start within 60s:\n%s", s.Output.String())
		}
	}
	return servers
}

// launch starts one server process and returns it with the channel its
// URL, metrics URL and CA bundle arrive on once it listens.
func launch(t testing.TB, bin string, opts Options) (*Server, chan [3]string) {
	t.Helper()
	dataDir := opts.DataDir
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	// Sparse /tmp images: tests start many environments at once, often
	// with the data dir on a tmpfs, where reserving 512 MB each would
	// take memory (the isolation tests ask for reserved explicitly).
	args := append([]string{"server", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
		"--data-dir", dataDir, "--ephemeral-storage", "sparse"}, opts.Args...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "UPDRAFT_ACCESS_KEY_ID=AKIAUPDRAFTTEST00001", "UPDRAFT_SECRET_ACCESS_KEY=updraft-test-secret-key-0123456789abcdefg")
	cmd.Env = append(cmd.Env, opts.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &SyncBuffer{}
	pr, pw := io.Pipe()
	cmd.Stdout = io.MultiWriter(out, pw)
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatalf("testutil: start server: %v", err)
	}
	s := &Server{DataDir: dataDir, Cmd: cmd, Output: out, done: make(chan struct{}),
		AccessKeyID: "AKIAUPDRAFTTEST00001", SecretAccessKey: "updraft-test-secret-key-0123456789abcdefg"}
	go func() {
		_ = cmd.Wait()
		pw.Close()
		close(s.done)
	}()
	// The banner prints the metrics and CA lines before the one that
	// says the server listens.
	urlCh := make(chan [3]string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		var metricsURL, caBundle string
		for sc.Scan() {
			line := sc.Text()
			if u, ok := strings.CutPrefix(line, "metrics: "); ok && strings.HasPrefix(u, "http") {
				metricsURL = strings.TrimSpace(u)
			}
			if ca, ok := strings.CutPrefix(line, "TLS CA: "); ok {
				caBundle, _, _ = strings.Cut(ca, " ")
			}
			if u, ok := strings.CutPrefix(line, "updraft listening on "); ok {
				urlCh <- [3]string{strings.TrimSpace(u), metricsURL, caBundle}
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	t.Cleanup(func() { s.Stop(t) })
	return s, urlCh
}

// Stop sends SIGTERM and waits up to 30 s, then SIGKILLs the process group.
func (s *Server) Stop(t testing.TB) {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		t.Logf("testutil: server ignored SIGTERM for 30s; killing\n%s", s.Output.String())
		_ = syscall.Kill(-s.Cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

// Kill sends SIGKILL to the server process only (environments it started
// are left to its successor or reaped by the OS).
func (s *Server) Kill() {
	_ = s.Cmd.Process.Kill()
	<-s.done
}

// Done is closed when the process has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// Lambda returns an aws-sdk-go-v2 Lambda client for the server, with
// retries off so that tests see every error.
func (s *Server) Lambda() *lambda.Client {
	return lambda.New(lambda.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       s.HTTPClient(),
	})
}

// HTTPClient returns an HTTP client that trusts the server's generated
// CA, if it has one.
func (s *Server) HTTPClient() *http.Client {
	if s.CABundle == "" {
		return &http.Client{}
	}
	pem, err := os.ReadFile(s.CABundle)
	if err != nil {
		panic(fmt.Sprintf("testutil: read %s: %v", s.CABundle, err))
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: roots}
	return &http.Client{Transport: t}
}

// AWSEnv is the environment for running the aws CLI against the server.
func (s *Server) AWSEnv() []string {
	return append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+s.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+s.SecretAccessKey,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
	)
}

// SyncBuffer is a goroutine-safe bytes.Buffer.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns the contents.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// WaitFor polls cond every 20 ms until it returns nil or timeout passes.
func WaitFor(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for {
		if err = cond(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testutil: condition not met within %s: %v", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Context returns a context bounded by d and cancelled with the test.
func Context(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

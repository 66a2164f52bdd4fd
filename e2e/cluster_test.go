package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/updraft/updraft/internal/testutil"
)

var joinLine = regexp.MustCompile(`(?m)^other nodes can join with: updraft server (.*)$`)

// joinArgs waits for the join command a node prints and returns its
// flags (the test's paths hold no spaces, so no quoting to undo).
func joinArgs(t *testing.T, s *testutil.Server) []string {
	t.Helper()
	var m []string
	testutil.WaitFor(t, 10*time.Second, func() error {
		if m = joinLine.FindStringSubmatch(s.Output.String()); m == nil {
			return fmt.Errorf("the node did not print how to join it:\n%s", s.Output.String())
		}
		return nil
	})
	return strings.Fields(m[1])
}

// flagValue returns the value after flag in args, "" if absent.
func flagValue(args []string, flag string) string {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// TestTwoNodesShareOneStore starts one server exposing its embedded NATS
// and a second joining it with the printed command (URL and credentials):
// a function created on one is invoked on the other, which fetches the
// code from the shared object store.
func TestTwoNodesShareOneStore(t *testing.T) {
	t.Parallel()
	a := testutil.StartServer(t, testutil.Options{Args: []string{"--nats-listen", "127.0.0.1:0"}})
	join := joinArgs(t, a)
	if flagValue(join, "--nats-creds") != filepath.Join(a.DataDir, "nats.creds") {
		t.Fatalf("join command %q does not pass the generated credentials", join)
	}
	b := testutil.StartServer(t, testutil.Options{Args: join})

	createTestFunction(t, a.Lambda(), "shared", fnOpts{})
	var got map[string]any
	testutil.WaitFor(t, 10*time.Second, func() error {
		_, err := b.Lambda().GetFunction(ctx(t), getFunctionInput("shared"))
		return err
	})
	invokeJSON(t, b.Lambda(), "shared", map[string]any{"action": "echo", "echo": "across nodes"}, &got)
	if got["echo"] != "across nodes" {
		t.Fatalf("second node answered %v", got)
	}
}

// TestNATSListenerRequiresCredentials: a NATS client without credentials
// is refused by --nats-listen, one with the generated key connects, and
// a joiner without --nats-creds fails with a message that names it. The
// data dir, created 0755 beforehand, is tightened to 0700.
func TestNATSListenerRequiresCredentials(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	a := testutil.StartServer(t, testutil.Options{DataDir: dataDir, Args: []string{"--nats-listen", "127.0.0.1:0"}})
	fi, err := os.Stat(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o700 {
		t.Fatalf("data dir mode %#o after start, want 0700", m)
	}
	if !strings.Contains(a.Output.String(), "tightened to 0700") {
		t.Errorf("no log line says the data dir was tightened:\n%s", a.Output.String())
	}
	join := joinArgs(t, a)
	url, creds := flagValue(join, "--nats-url"), flagValue(join, "--nats-creds")
	if !strings.HasPrefix(url, "nats://127.0.0.1:") || flagValue(join, "--nats-ca") != "" {
		t.Fatalf("loopback join command %q: want a plain nats:// URL and no CA", join)
	}
	cfi, err := os.Stat(creds)
	if err != nil || cfi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file %s: %v, %v; want mode 0600", creds, cfi, err)
	}

	if nc, err := nats.Connect(url, nats.MaxReconnects(0)); err == nil {
		nc.Close()
		t.Fatal("a NATS client without credentials connected")
	} else if !strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
		t.Fatalf("connect without credentials: %v, want an authorization violation", err)
	}
	auth, err := nats.NkeyOptionFromSeed(creds)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(url, auth)
	if err != nil {
		t.Fatalf("connect with the generated credentials: %v", err)
	}
	defer nc.Close()
	kv, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.KeyValue("updraft-functions"); err != nil {
		t.Fatalf("the authenticated client cannot see the functions bucket: %v", err)
	}

	bin := testutil.BuildBinary(t, "./cmd/updraft", "")
	b, err := exec.CommandContext(testutil.Context(t, time.Minute), bin, "server",
		"--listen", "127.0.0.1:0", "--metrics-listen", "off", "--data-dir", t.TempDir(), "--nats-url", url).CombinedOutput()
	out := string(b)
	if err == nil || !strings.Contains(out, "--nats-creds") {
		t.Fatalf("a joiner without credentials: %v\n%s\nwant a failure naming --nats-creds", err, out)
	}
}

// TestTwoNodesJoinOverGeneratedTLS exposes the first node's NATS on a
// non-loopback address of this machine: it generates a CA and requires
// TLS, prints a tls:// join command with the credentials and the CA, and
// a second node joined with it sees the first node's functions.
func TestTwoNodesJoinOverGeneratedTLS(t *testing.T) {
	t.Parallel()
	ip := nonLoopbackIPv4(t)
	a := testutil.StartServer(t, testutil.Options{Args: []string{"--nats-listen", ip + ":0"}})
	join := joinArgs(t, a)
	if !strings.HasPrefix(flagValue(join, "--nats-url"), "tls://"+ip+":") ||
		flagValue(join, "--nats-ca") != filepath.Join(a.DataDir, "nats-ca.pem") {
		t.Fatalf("join command %q: want tls:// and the generated CA", join)
	}
	for _, key := range []string{"nats-ca-key.pem", "nats-server-key.pem", "nats.creds"} {
		fi, err := os.Stat(filepath.Join(a.DataDir, key))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, %v; want mode 0600", key, fi, err)
		}
	}
	b := testutil.StartServer(t, testutil.Options{Args: join})
	createTestFunction(t, a.Lambda(), "overtls", fnOpts{})
	testutil.WaitFor(t, 10*time.Second, func() error {
		_, err := b.Lambda().GetFunction(ctx(t), getFunctionInput("overtls"))
		return err
	})
}

// nonLoopbackIPv4 returns an IPv4 address of this machine off loopback,
// or skips the test.
func nonLoopbackIPv4(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skipf("interface addresses: %v", err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() && !ipn.IP.IsLinkLocalUnicast() {
			return ipn.IP.String()
		}
	}
	t.Skip("no non-loopback IPv4 address on this machine")
	return ""
}

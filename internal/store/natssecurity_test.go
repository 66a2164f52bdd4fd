package store

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/updraft/updraft/internal/config"
	"github.com/updraft/updraft/internal/testutil"
)

// modeOf returns the permission bits of path.
func modeOf(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestCredsAreGeneratedOnceWithMode0600(t *testing.T) {
	dir := t.TempDir()
	path, pub, created, err := loadOrCreateCreds(dir)
	if err != nil || !created {
		t.Fatalf("first loadOrCreateCreds = created %v, %v", created, err)
	}
	if path != filepath.Join(dir, CredsFile) || !strings.HasPrefix(pub, "U") {
		t.Fatalf("path %q, public key %q", path, pub)
	}
	if m := modeOf(t, path); m != 0o600 {
		t.Fatalf("%s has mode %#o, want 0600", path, m)
	}
	_, pub2, created, err := loadOrCreateCreds(dir)
	if err != nil || created || pub2 != pub {
		t.Fatalf("second loadOrCreateCreds = %q created %v, %v; want the same key reused", pub2, created, err)
	}
	if _, err := credsOption(path); err != nil {
		t.Fatalf("credsOption on the generated file: %v", err)
	}

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := loadOrCreateCreds(dir); err == nil || !strings.Contains(err.Error(), "want 0600") {
		t.Fatalf("a world-readable creds file was accepted: %v", err)
	}
}

func TestTLSIsGeneratedOnceAndReissuedFromTheSameCA(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	g, err := ensureTLS(dir, []string{"localhost", "127.0.0.1", "node1.example"}, now)
	if err != nil || !g.Issued {
		t.Fatalf("first ensureTLS = %+v, %v", g, err)
	}
	for _, tc := range []struct {
		file string
		mode os.FileMode
	}{
		{g.CAKeyFile, 0o600},
		{g.KeyFile, 0o600},
		{g.CAFile, 0o644},
		{g.CertFile, 0o644},
	} {
		if m := modeOf(t, tc.file); m != tc.mode {
			t.Errorf("%s has mode %#o, want %#o", tc.file, m, tc.mode)
		}
	}
	caPEM, _ := os.ReadFile(g.CAFile)
	certPEM, _ := os.ReadFile(g.CertFile)

	again, err := ensureTLS(dir, []string{"localhost", "node1.example"}, now.Add(time.Hour))
	if err != nil || again.Issued {
		t.Fatalf("second ensureTLS = %+v, %v; want the certificate reused", again, err)
	}
	if b, _ := os.ReadFile(g.CertFile); string(b) != string(certPEM) {
		t.Fatal("the server certificate changed although it was reusable")
	}

	tests := []struct {
		name  string
		hosts []string
		at    time.Time
	}{
		{"a host the certificate does not name reissues it", []string{"10.1.2.3"}, now},
		{"a certificate near its end is reissued", []string{"localhost"}, now.Add(2*365*24*time.Hour - 15*24*time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := ensureTLS(dir, tc.hosts, tc.at)
			if err != nil || !g.Issued {
				t.Fatalf("ensureTLS = %+v, %v; want a new certificate", g, err)
			}
			if b, _ := os.ReadFile(g.CAFile); string(b) != string(caPEM) {
				t.Fatal("the CA changed: joiners holding the old one could no longer verify")
			}
			verifyServerCert(t, g, tc.hosts[0], tc.at)
			if m := modeOf(t, g.KeyFile); m != 0o600 {
				t.Fatalf("reissued key has mode %#o", m)
			}
		})
	}
}

// verifyServerCert checks that the certificate of g verifies for host
// against the CA of g alone.
func verifyServerCert(t *testing.T, g generatedTLS, host string, at time.Time) {
	t.Helper()
	caPEM, _ := os.ReadFile(g.CAFile)
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("CA file holds no certificate")
	}
	certPEM, _ := os.ReadFile(g.CertFile)
	block, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: host, CurrentTime: at}); err != nil {
		t.Fatalf("server certificate does not verify for %s: %v", host, err)
	}
}

func TestCertHostsCoverTheListener(t *testing.T) {
	if h := certHosts("10.0.0.7"); !contains(h, "10.0.0.7") || !contains(h, "127.0.0.1") {
		t.Errorf("certHosts(10.0.0.7) = %v", h)
	}
	name, err := os.Hostname()
	if err != nil {
		t.Skip("no host name")
	}
	if h := certHosts("0.0.0.0"); !contains(h, name) {
		t.Errorf("certHosts(0.0.0.0) = %v, want the host name %s", h, name)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestListenerRequiresCredentials(t *testing.T) {
	dir := t.TempDir()
	a := openEmbedded(t, config.Store{DataDir: dir, NatsListen: "127.0.0.1:0", Replicas: 1})
	j := a.Join()
	if !strings.HasPrefix(j.URL, "nats://127.0.0.1:") || j.TLS || j.CAFile != "" {
		t.Fatalf("loopback listener without a certificate: join %+v, want plain nats://", j)
	}
	if j.CredsFile != filepath.Join(dir, CredsFile) {
		t.Fatalf("join creds %q", j.CredsFile)
	}

	nc, err := nats.Connect(j.URL, nats.MaxReconnects(0))
	if err == nil {
		nc.Close()
		t.Fatal("a client without credentials connected")
	}
	if !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("connect without credentials: %v, want an authorization violation", err)
	}

	_, err = Open(t.Context(), config.Store{NatsURL: j.URL, Replicas: 1}, testutil.Logger(t, slog.LevelDebug))
	if err == nil || !strings.Contains(err.Error(), "--nats-creds") {
		t.Fatalf("Open without credentials: %v, want a hint at --nats-creds", err)
	}

	auth, err := nats.NkeyOptionFromSeed(j.CredsFile)
	if err != nil {
		t.Fatal(err)
	}
	nc, err = nats.Connect(j.URL, auth)
	if err != nil {
		t.Fatalf("connect with the generated credentials: %v", err)
	}
	nc.Close()

	// The store reopens on the same key: a joiner's copy keeps working.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(j.CredsFile)
	again := openEmbedded(t, config.Store{DataDir: dir, NatsListen: "127.0.0.1:0", Replicas: 1})
	if after, _ := os.ReadFile(again.Join().CredsFile); string(after) != string(before) {
		t.Fatal("the credentials changed on restart")
	}
}

// TestTLSListenerOnLoopback forces TLS on a loopback listener with
// --nats-tls-cert (a certificate from the generator), and joins it as
// a node does: tls:// URL, the creds file and the CA.
func TestTLSListenerOnLoopback(t *testing.T) {
	certDir := t.TempDir()
	g, err := ensureTLS(certDir, certHosts("127.0.0.1"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a := openEmbedded(t, config.Store{DataDir: dir, NatsListen: "127.0.0.1:0", Replicas: 1,
		NatsTLSCert: g.CertFile, NatsTLSKey: g.KeyFile})
	j := a.Join()
	if !strings.HasPrefix(j.URL, "tls://127.0.0.1:") || !j.TLS || !j.OwnCert || j.CAFile != "" {
		t.Fatalf("join %+v, want tls:// with an own certificate and no generated CA", j)
	}
	if _, err := os.Stat(filepath.Join(dir, CAFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a CA was generated although --nats-tls-cert was given: %v", err)
	}
	if err := a.Healthy(t.Context()); err != nil {
		t.Fatalf("the in-process connection does not work under TLS: %v", err)
	}

	logger := testutil.Logger(t, slog.LevelDebug)
	_, err = Open(t.Context(), config.Store{NatsURL: j.URL, NatsCreds: j.CredsFile, Replicas: 1}, logger)
	if err == nil || !strings.Contains(err.Error(), "--nats-ca") {
		t.Fatalf("Open without the CA: %v, want a hint at --nats-ca", err)
	}
	nc, err := nats.Connect(strings.Replace(j.URL, "tls://", "nats://", 1), nats.RootCAs(g.CAFile), nats.MaxReconnects(0))
	if err == nil {
		nc.Close()
		t.Fatal("a client with the CA but without credentials connected")
	}

	b, err := Open(t.Context(), config.Store{NatsURL: j.URL, NatsCreds: j.CredsFile, NatsCA: g.CAFile, Replicas: 1}, logger)
	if err != nil {
		t.Fatalf("Open with credentials and CA: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	if _, err := b.Conn().TLSConnectionState(); err != nil {
		t.Fatalf("the joined connection is not TLS: %v", err)
	}
	if _, err := a.Functions().Put(t.Context(), "fn.a", []byte("from a")); err != nil {
		t.Fatal(err)
	}
	e, err := b.Functions().Get(t.Context(), "fn.a")
	if err != nil || string(e.Value()) != "from a" {
		t.Fatalf("b sees %v, %v", e, err)
	}
}

// TestGeneratedTLSOffLoopback exposes the embedded NATS on a
// non-loopback address of this machine: TLS from a generated CA is
// required, and a joiner with the printed flags connects.
func TestGeneratedTLSOffLoopback(t *testing.T) {
	ip := nonLoopbackIPv4(t)
	dir := t.TempDir()
	a := openEmbedded(t, config.Store{DataDir: dir, NatsListen: ip + ":0", Replicas: 1})
	j := a.Join()
	if !strings.HasPrefix(j.URL, "tls://"+ip+":") || j.CAFile != filepath.Join(dir, CAFile) || j.OwnCert {
		t.Fatalf("join %+v, want tls:// and the generated CA", j)
	}
	for _, f := range []string{"nats-ca-key.pem", "nats-server-key.pem", CredsFile} {
		if m := modeOf(t, filepath.Join(dir, f)); m != 0o600 {
			t.Errorf("%s has mode %#o, want 0600", f, m)
		}
	}
	auth, err := nats.NkeyOptionFromSeed(j.CredsFile)
	if err != nil {
		t.Fatal(err)
	}
	plain := strings.Replace(j.URL, "tls://", "nats://", 1)
	if nc, err := nats.Connect(plain, auth, nats.MaxReconnects(0), nats.Secure(nil)); err == nil {
		nc.Close()
		t.Fatal("a client that does not trust the generated CA connected")
	}
	b, err := Open(t.Context(), config.Store{NatsURL: j.URL, NatsCreds: j.CredsFile, NatsCA: j.CAFile, Replicas: 1},
		testutil.Logger(t, slog.LevelDebug))
	if err != nil {
		t.Fatalf("join with the printed flags: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	if err := b.Healthy(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// nonLoopbackIPv4 returns an address of this machine off loopback, or
// skips the test.
func nonLoopbackIPv4(t *testing.T) string {
	t.Helper()
	for _, h := range certHosts("0.0.0.0") {
		if ip := net.ParseIP(h); ip != nil && ip.To4() != nil && !ip.IsLoopback() {
			return h
		}
	}
	t.Skip("no non-loopback IPv4 address on this machine")
	return ""
}

// Package certgen generates, in a data directory, a private certificate
// authority and a server certificate it issues, for the listeners that
// serve TLS without a certificate of their own (the NATS listener, the
// API with --tls-self-signed). The CA is created once and kept (clients
// keep a copy of it); the server certificate is reissued from it when the
// names it must cover change or it nears expiry. Keys are ECDSA P-256,
// mode 0600, never overwritten in place; certificates are 0644.
package certgen

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

const (
	// caValidity is the generated CA's lifetime: joiners keep a copy of
	// it, so it should outlive the node.
	caValidity = 20 * 365 * 24 * time.Hour
	// serverValidity is the lifetime of a server certificate issued by
	// the generated CA; it is reissued from the same CA, without any
	// joiner noticing, once less than serverRenewBefore remains.
	serverValidity    = 2 * 365 * 24 * time.Hour
	serverRenewBefore = 30 * 24 * time.Hour
)

// Generated holds the paths of a generated CA and the server
// certificate it issued.
type Generated struct {
	CAFile, CAKeyFile, CertFile, KeyFile string
	// Issued reports whether the server certificate was (re)issued now
	// rather than reused from an earlier start.
	Issued bool
}

// Ensure makes sure dir holds a CA and a server certificate for hosts
// (names or IP addresses) valid at now: both are generated on first use
// and reused after. The server certificate is reissued from the same CA
// when it does not cover every host, expires within serverRenewBefore,
// or was not issued by the CA. The files are named for prefix
// ([Paths]); name goes into the certificates' common names ("updraft
// NATS" gives "updraft NATS CA" and "updraft NATS server").
func Ensure(dir, prefix, name string, hosts []string, now time.Time) (Generated, error) {
	return ensure(dir, dir, prefix, name, hosts, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, now)
}

// EnsurePeer is Ensure for the members of a cluster that authenticate
// one another with certificates from one shared CA: the CA is kept in
// caDir (generated there when missing; every member holds a copy of it
// and its key), the member's certificate in certDir, valid both to serve
// and to dial (server and client authentication).
func EnsurePeer(caDir, certDir, prefix, name string, hosts []string, now time.Time) (Generated, error) {
	return ensure(caDir, certDir, prefix, name, hosts,
		[]x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, now)
}

func ensure(caDir, certDir, prefix, name string, hosts []string, usages []x509.ExtKeyUsage, now time.Time) (Generated, error) {
	g := Paths(certDir, prefix)
	ca := Paths(caDir, prefix)
	g.CAFile, g.CAKeyFile = ca.CAFile, ca.CAKeyFile
	caCert, caKey, err := loadOrCreateCA(g.CAFile, g.CAKeyFile, name, now)
	if err != nil {
		return Generated{}, err
	}
	if serverCertUsable(g.CertFile, g.KeyFile, caCert, hosts, usages, now) {
		return g, nil
	}
	if err := issueServerCert(g.CertFile, g.KeyFile, name, caCert, caKey, hosts, usages, now); err != nil {
		return Generated{}, err
	}
	g.Issued = true
	return g, nil
}

// Paths returns where Ensure keeps the files for prefix in dir:
// <prefix>-ca.pem, <prefix>-ca-key.pem, <prefix>-server.pem and
// <prefix>-server-key.pem. Issued is false.
func Paths(dir, prefix string) Generated {
	return Generated{
		CAFile:    filepath.Join(dir, prefix+"-ca.pem"),
		CAKeyFile: filepath.Join(dir, prefix+"-ca-key.pem"),
		CertFile:  filepath.Join(dir, prefix+"-server.pem"),
		KeyFile:   filepath.Join(dir, prefix+"-server-key.pem"),
	}
}

// loadOrCreateCA reads the CA at certPath and keyPath, or generates one
// when neither file exists.
func loadOrCreateCA(certPath, keyPath, name string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cert, key, err := readPair(certPath, keyPath)
	if err == nil {
		if !cert.IsCA {
			return nil, nil, fmt.Errorf("certgen: %s is not a CA certificate", certPath)
		}
		return cert, key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	_, cerr := os.Stat(certPath)
	_, kerr := os.Stat(keyPath)
	if cerr == nil || kerr == nil {
		return nil, nil, fmt.Errorf("certgen: %s and %s: one is missing; restore it, or remove both to generate a new CA (its clients then need the new %s)", certPath, keyPath, filepath.Base(certPath))
	}
	key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("certgen: generate CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name + " CA", Organization: []string{"updraft"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("certgen: create CA certificate: %w", err)
	}
	if err := writePair(certPath, keyPath, der, key); err != nil {
		return nil, nil, err
	}
	cert, err = x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("certgen: parse CA certificate: %w", err)
	}
	return cert, key, nil
}

// serverCertUsable reports whether the server certificate on disk can be
// served again: readable, issued by ca, valid for every host for at least
// serverRenewBefore.
func serverCertUsable(certPath, keyPath string, ca *x509.Certificate, hosts []string, usages []x509.ExtKeyUsage, now time.Time) bool {
	cert, _, err := readPair(certPath, keyPath)
	if err != nil || cert.CheckSignatureFrom(ca) != nil {
		return false
	}
	for _, u := range usages {
		if !slices.Contains(cert.ExtKeyUsage, u) {
			return false
		}
	}
	if now.Before(cert.NotBefore) || now.Add(serverRenewBefore).After(cert.NotAfter) {
		return false
	}
	for _, h := range hosts {
		if cert.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

// issueServerCert writes a new key and a certificate for hosts signed by
// the CA, replacing any previous pair.
func issueServerCert(certPath, keyPath, name string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, hosts []string, usages []x509.ExtKeyUsage, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("certgen: generate server key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: name + " server", Organization: []string{"updraft"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(serverValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  usages,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if !slices.Contains(tmpl.DNSNames, h) {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("certgen: create server certificate: %w", err)
	}
	for _, p := range []string{certPath, keyPath} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("certgen: replace %s: %w", p, err)
		}
	}
	return writePair(certPath, keyPath, der, key)
}

// readPair reads a PEM certificate and its ECDSA key, refusing a key that
// others may read.
func readPair(certPath, keyPath string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	fi, err := os.Stat(keyPath)
	if err != nil {
		return nil, nil, fmt.Errorf("certgen: read %s: %w", keyPath, err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, nil, fmt.Errorf("certgen: %s has mode %#o, want 0600 (chmod 600 %s)", keyPath, perm, keyPath)
	}
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, nil, fmt.Errorf("certgen: load %s: %w", certPath, err)
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("certgen: %s: not an ECDSA key", keyPath)
	}
	return pair.Leaf, key, nil
}

// writePair writes a certificate (0644) and its key (0600) as PEM. The
// key is written first, exclusively, so two processes never mix pairs.
func writePair(certPath, keyPath string, der []byte, key *ecdsa.PrivateKey) error {
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("certgen: encode key: %w", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	defer wipe(keyPEM)
	won, err := createExclusive(keyPath, keyPEM)
	if err != nil {
		return fmt.Errorf("certgen: write %s: %w", keyPath, err)
	}
	if !won {
		return fmt.Errorf("certgen: %s appeared while generating it: another updraft may be starting on this data dir", keyPath)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	tmp := certPath + ".tmp"
	if err := os.WriteFile(tmp, certPEM, 0o644); err != nil {
		return fmt.Errorf("certgen: write %s: %w", certPath, err)
	}
	if err := os.Rename(tmp, certPath); err != nil {
		return fmt.Errorf("certgen: write %s: %w", certPath, err)
	}
	return nil
}

// serial returns a random 128-bit certificate serial number.
func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil { // crypto/rand does not fail on Linux
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}

// Hosts lists the names and addresses a server certificate for a
// listener on host must cover: the host itself, or, when it binds every
// interface, this machine's name and addresses; loopback always.
func Hosts(host string) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	add := func(h string) {
		if h != "" && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsUnspecified() {
		add(host)
		return hosts
	}
	if name, err := os.Hostname(); err == nil {
		add(name)
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLinkLocalUnicast() {
				add(ipn.IP.String())
			}
		}
	}
	return hosts
}

// ServerConfig loads the certificate a listener serves, TLS 1.2 or later.
func ServerConfig(certFile, keyFile string) (*tls.Config, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("certgen: tls certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

// PeerConfig is the mutual TLS of a cluster member: it presents the
// certificate of g when accepting and when dialing, and requires and
// verifies the other side's against g's CA only, TLS 1.2 or later.
func PeerConfig(g Generated) (*tls.Config, error) {
	tc, err := ServerConfig(g.CertFile, g.KeyFile)
	if err != nil {
		return nil, err
	}
	pem, err := os.ReadFile(g.CAFile)
	if err != nil {
		return nil, fmt.Errorf("certgen: read CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("certgen: %s holds no PEM certificate", g.CAFile)
	}
	tc.RootCAs, tc.ClientCAs = pool, pool
	tc.ClientAuth = tls.RequireAndVerifyClientCert
	return tc, nil
}

// createExclusive writes data to a new file at path with mode 0600. It
// reports false, and writes nothing, when the file already exists.
func createExclusive(path string, data []byte) (bool, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return false, err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return false, err
	}
	return true, nil
}

// wipe overwrites a secret held in memory once it is no longer needed.
func wipe(b []byte) {
	for i := range b {
		b[i] = 'x'
	}
}

package store

import (
	"crypto/tls"
	"time"

	"github.com/updraft/updraft/internal/certgen"
)

// Files of the certificate authority a node generates, in the data dir,
// when it exposes its NATS on a non-loopback address without
// --nats-tls-cert (see [certgen.Ensure]). Joining nodes verify the server
// with a copy of CAFile (--nats-ca). Keys are mode 0600; certificates 0644.
const (
	CAFile     = natsPrefix + "-ca.pem"
	natsPrefix = "nats"
)

// generatedTLS holds the paths of the generated CA and server certificate.
type generatedTLS = certgen.Generated

// ensureTLS makes sure dataDir holds the NATS CA and a server certificate
// for hosts valid at now.
func ensureTLS(dataDir string, hosts []string, now time.Time) (generatedTLS, error) {
	return certgen.Ensure(dataDir, natsPrefix, "updraft NATS", hosts, now)
}

// certHosts lists the names a server certificate for host must cover.
func certHosts(host string) []string { return certgen.Hosts(host) }

// tlsConfig is crypto/tls's Config.
type tlsConfig = tls.Config

// peerTLS returns the mutual TLS of a cluster member (certgen.EnsurePeer)
// and the CA file.
func peerTLS(caDir, certDir, prefix, name string, hosts []string, now time.Time) (*tls.Config, string, error) {
	g, err := certgen.EnsurePeer(caDir, certDir, prefix, name, hosts, now)
	if err != nil {
		return nil, "", err
	}
	tc, err := certgen.PeerConfig(g)
	return tc, g.CAFile, err
}

// serverTLSConfig loads the certificate a listener serves.
func serverTLSConfig(certFile, keyFile string) (*tls.Config, error) {
	return certgen.ServerConfig(certFile, keyFile)
}

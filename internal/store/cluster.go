package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/updraft/updraft/internal/config"
)

// Files a clustered node keeps in its data dir.
const (
	// NodeNameFile holds the node's generated NATS server name. JetStream
	// derives a server's Raft peer id from its name, so the name must
	// survive restarts: a node that came back under a new name would be a
	// stranger to every Raft group it was in.
	NodeNameFile = "node-name"
	// ClusterKeyFile is the default file of the routes' shared secret.
	ClusterKeyFile = "cluster.key"
	// clusterPrefix names the generated route CA and certificate files
	// (cluster-ca.pem, cluster-ca-key.pem, cluster-server.pem, ...).
	clusterPrefix = "cluster"
	// routeUser is the user name routes authenticate with; the secret
	// is the password.
	routeUser = "updraft-route"
	// clusterFormTimeout bounds how long Open waits for JetStream to
	// elect a meta leader: a majority of the --join nodes must be up.
	clusterFormTimeout = 2 * time.Minute
	// clusterAPITimeout is the JetStream API deadline of a clustered
	// store (stream and consumer creation and updates) when the caller's
	// context has none.
	clusterAPITimeout = time.Minute
	// maxAutoReplicas caps the automatic replica count.
	maxAutoReplicas = 3
)

// clusterKeyHeader precedes the secret in a generated key file.
const clusterKeyHeader = `# updraft cluster key: the shared secret NATS routes between the nodes of one
# updraft cluster authenticate with. Copy it (mode 0600) to every node
# before its first start; pass it with --cluster-key or keep it as
# <data-dir>/cluster.key.
`

// loadOrCreateNodeName returns the node name kept in dataDir, generating
// one from the host name and a random suffix on first start.
func loadOrCreateNodeName(dataDir string) (string, error) {
	path := filepath.Join(dataDir, NodeNameFile)
	b, err := os.ReadFile(path)
	if err == nil {
		if name := strings.TrimSpace(string(b)); name != "" {
			return name, nil
		}
		return "", fmt.Errorf("store: %s is empty: remove it to generate a new node name (the node then joins as a new peer)", path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("store: read node name: %w", err)
	}
	host, _ := os.Hostname()
	host = strings.NewReplacer(".", "-", " ", "-", "*", "-", ">", "-").Replace(host)
	if host == "" {
		host = "updraft"
	}
	var r [4]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("store: generate node name: %w", err)
	}
	name := fmt.Sprintf("%s-%x", host, r)
	won, err := createExclusive(path, []byte(name+"\n"))
	if err != nil {
		return "", fmt.Errorf("store: write %s: %w", path, err)
	}
	if !won {
		return loadOrCreateNodeName(dataDir)
	}
	return name, nil
}

// loadOrCreateClusterKey returns the routes' secret from path, generating
// the file (mode 0600) when it is the default one and missing. A file
// that others may read is refused.
func loadOrCreateClusterKey(path string, mayCreate bool) (secret string, created bool, err error) {
	secret, err = readClusterKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) || !mayCreate {
		return secret, false, err
	}
	var r [32]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", false, fmt.Errorf("store: generate cluster key: %w", err)
	}
	won, err := createExclusive(path, []byte(clusterKeyHeader+base64.RawURLEncoding.EncodeToString(r[:])+"\n"))
	if err != nil {
		return "", false, fmt.Errorf("store: write %s: %w", path, err)
	}
	secret, err = readClusterKey(path)
	return secret, won, err
}

// readClusterKey reads the secret: the first line that is not a comment.
func readClusterKey(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("store: cluster key: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("store: cluster key %s has mode %#o, want 0600 (chmod 600 %s)", path, perm, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("store: cluster key: %w", err)
	}
	defer wipe(b)
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(line) < 16 {
			return "", fmt.Errorf("store: cluster key %s: the secret is shorter than 16 characters", path)
		}
		return line, nil
	}
	return "", fmt.Errorf("store: cluster key %s holds no secret", path)
}

// configureCluster sets the embedded server's cluster (route) options:
// the listener, the seed routes with the shared secret, and TLS when the
// listener is off loopback.
func (s *Store) configureCluster(opts *server.Options, cfg config.Store) error {
	name := cfg.NodeName
	if name == "" {
		var err error
		if name, err = loadOrCreateNodeName(cfg.DataDir); err != nil {
			return err
		}
	}
	keyPath, mayCreate := cfg.ClusterKey, false
	if keyPath == "" {
		keyPath, mayCreate = filepath.Join(cfg.DataDir, ClusterKeyFile), true
	}
	secret, created, err := loadOrCreateClusterKey(keyPath, mayCreate)
	if err != nil {
		return err
	}
	if created {
		s.logger.Warn("generated the cluster key: copy it to every other node before its first start (--cluster-key)", "file", keyPath)
	}
	host, port, err := splitListen(cfg.ClusterListen)
	if err != nil {
		return fmt.Errorf("store: --cluster-listen: %w", err)
	}
	opts.ServerName = name
	opts.Cluster = server.ClusterOpts{
		Name:        cfg.ClusterName,
		Host:        host,
		Port:        port,
		Username:    routeUser,
		Password:    secret,
		AuthTimeout: 5,
		// Routes to nodes that are down are retried forever: a node
		// that comes back is routed to again.
		ConnectRetries: -1,
	}
	for _, seed := range cfg.Join {
		u := &url.URL{Scheme: "nats-route", Host: seed, User: url.UserPassword(routeUser, secret)}
		opts.Routes = append(opts.Routes, u)
	}
	s.cluster = clusterInfo{name: cfg.ClusterName, node: name, keyFile: keyPath, listen: cfg.ClusterListen}
	if !config.IsLoopback(cfg.ClusterListen) {
		tc, caFile, err := routeTLS(filepath.Dir(keyPath), cfg.DataDir, host, time.Now())
		if err != nil {
			return err
		}
		opts.Cluster.TLSConfig = tc
		opts.Cluster.TLSTimeout = 5
		s.cluster.caFile = caFile
	}
	return nil
}

// clusterInfo is what a clustered store knows of its own configuration.
type clusterInfo struct {
	name, node, keyFile, listen, caFile string
}

// clustered reports whether the embedded server is a cluster member.
func (s *Store) clustered() bool { return s.cluster.node != "" }

// waitForCluster waits until JetStream's meta group has a leader; it
// logs what it waits for every few seconds. nats-server's Raft counts the
// vote of a peer with an empty log only when every expected peer votes,
// so a new cluster elects its first leader once every --join node is up;
// later a majority suffices.
func (s *Store) waitForCluster(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, clusterFormTimeout)
	defer cancel()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	lastLog := time.Now()
	for {
		if s.metaLeader() != "" {
			return nil
		}
		if time.Since(lastLog) > 5*time.Second {
			lastLog = time.Now()
			s.logger.Info("waiting for the JetStream cluster to elect a leader: a new cluster's first election needs every --join node up, later ones a majority",
				"routes", s.ns.NumRoutes())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("store: no JetStream cluster leader after %s (routes up: %d): start every --join node (a new cluster) or a majority (a cluster that has had a leader), with the same --cluster-name and cluster key", clusterFormTimeout, s.ns.NumRoutes())
		case <-t.C:
		}
	}
}

// awaitClusterAPI waits until the JetStream API answers: a request sent
// as a meta leader is being elected, or just after, can go unanswered, so
// it asks again with short deadlines, for up to clusterFormTimeout.
func (s *Store) awaitClusterAPI(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, clusterFormTimeout)
	defer cancel()
	for {
		actx, acancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := s.raw.AccountInfo(actx)
		acancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("store: the JetStream cluster does not answer (leader %q): %w", s.metaLeader(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// metaLeader returns the server name of the JetStream meta leader, ""
// while there is none.
func (s *Store) metaLeader() string {
	if s.ns == nil {
		return ""
	}
	jsi, err := s.ns.Jsz(&server.JSzOptions{})
	if err != nil || jsi.Meta == nil {
		return ""
	}
	return jsi.Meta.Leader
}

// clusterSize is the number of servers in JetStream's meta group that
// have been seen, the leader included, offline ones too (a node that is
// down is still a member); 1 when not clustered. It is not the size the
// group expects from --join (a node listed but never started holds no
// replica, and counting it would make creating a stream fail for want of
// peers).
func (s *Store) clusterSize() int {
	if !s.clustered() {
		return 1
	}
	jsi, err := s.ns.Jsz(&server.JSzOptions{})
	if err != nil || jsi.Meta == nil {
		return 1
	}
	n := 1
	for _, p := range jsi.Meta.Replicas {
		if p != nil && !strings.HasPrefix(p.Name, "Server name unknown") {
			n++
		}
	}
	return n
}

// routeTLS returns the routes' mutual TLS: a certificate for this node
// issued by the cluster CA kept beside the cluster key (generated there
// when missing; copied to each node with the key), presented both when
// accepting and when dialing a route, and verified against the same CA.
func routeTLS(caDir, dataDir, host string, now time.Time) (*tlsConfig, string, error) {
	return peerTLS(caDir, dataDir, clusterPrefix, "updraft cluster", certHosts(host), now)
}

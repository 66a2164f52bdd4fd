package store

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/config"
	"github.com/updraft/updraft/internal/metrics"
)

// Modes reported by [Store.Mode].
const (
	ModeEmbedded = "embedded"
	ModeExternal = "external"
)

const (
	// readyTimeout bounds how long Open waits for the embedded server to
	// accept connections and for the first connection to an external one.
	readyTimeout = 10 * time.Second
	// drainTimeout bounds Close's drain of the connection.
	drainTimeout = 5 * time.Second
	// healthTimeout bounds one JetStream round trip in Healthy.
	healthTimeout = 2 * time.Second
	// defaultWriteTimeout is the write deadline when config.Store leaves
	// WriteTimeout at 0.
	defaultWriteTimeout = 5 * time.Second
)

// Store is an open JetStream: an embedded server or a connection to an
// external one, plus handles to every object updraft defines. All methods
// are safe for concurrent use.
type Store struct {
	logger    *slog.Logger
	mode      string
	clientURL string
	join      Join
	// replicas is the replica count objects are created with; with
	// autoReplicas it rises as the cluster grows (replicas.go).
	replicas     atomic.Int32
	autoReplicas bool
	cluster      clusterInfo // zero unless the embedded server is clustered

	ns     *server.Server  // embedded server; nil in external mode
	nsOpts *server.Options // the embedded server's options; nil in external mode
	nc     *nats.Conn
	// js is the gated JetStream context handed out (see gate.go); raw is
	// the same context without the gate, for the probe.
	js  jetstream.JetStream
	raw jetstream.JetStream

	// health says whether writes go through; the monitor goroutine
	// (stopped by Close through stopMonitor, awaited on monitorDone)
	// keeps it current.
	health       *health
	dataDir      string
	minFreeMB    int
	writeTimeout time.Duration
	probeKV      jetstream.KeyValue // ungated; nil until ensureObjects
	stopMonitor  context.CancelFunc
	monitorDone  chan struct{}

	// kvs and objs are filled by ensureObjects in Open and read-only after.
	kvs  map[string]jetstream.KeyValue
	objs map[string]jetstream.ObjectStore

	closed    chan struct{} // closed by the connection's ClosedHandler
	closeOnce sync.Once
	closeErr  error
}

// Option configures Open.
type Option func(*openOptions)

type openOptions struct {
	metrics *metrics.Store
}

// WithMetrics counts failed store writes and reports whether the store is
// writable on m.
func WithMetrics(m *metrics.Store) Option {
	return func(o *openOptions) { o.metrics = m }
}

// Open starts or connects to JetStream as cfg says and makes sure every
// object exists with cfg.Replicas replicas. With cfg.NatsURL empty it
// starts an embedded server storing under <cfg.DataDir>/jetstream,
// listening on cfg.NatsListen if set and on no network port otherwise.
// Every write through the store's handles has a deadline
// (cfg.WriteTimeout) and passes the write gate (gate.go). The caller must
// Close the store.
func Open(ctx context.Context, cfg config.Store, logger *slog.Logger, opts ...Option) (*Store, error) {
	var oo openOptions
	for _, o := range opts {
		o(&oo)
	}
	s := &Store{
		logger:       logger.With("component", "store"),
		kvs:          make(map[string]jetstream.KeyValue),
		objs:         make(map[string]jetstream.ObjectStore),
		closed:       make(chan struct{}),
		dataDir:      cfg.DataDir,
		minFreeMB:    cfg.MinFreeMB,
		writeTimeout: cfg.WriteTimeout,
	}
	if s.writeTimeout <= 0 {
		s.writeTimeout = defaultWriteTimeout
	}
	s.health = newHealth(s.logger, oo.metrics)
	replicas := max(cfg.Replicas, 1)
	var err error
	if cfg.NatsURL == "" {
		s.mode = ModeEmbedded
		if replicas > 1 && cfg.ClusterListen == "" {
			s.logger.Warn("embedded JetStream is a single server: using 1 replica", "replicas", replicas)
			replicas = 1
		}
		err = s.startEmbedded(ctx, cfg)
		if err == nil && s.clustered() {
			err = s.waitForCluster(ctx)
		}
	} else {
		s.mode = ModeExternal
		err = s.connectExternal(ctx, cfg)
	}
	if err != nil {
		s.shutdown()
		return nil, err
	}
	// Deadlines for every write: requests whose context has none get
	// the write timeout, and so do asynchronous publishes (without it a
	// publish nats-server never answers, as it does not once a file
	// store failed a write, is awaited forever).
	apiTimeout := s.writeTimeout
	if s.clustered() {
		// Creating a replicated stream or consumer forms a Raft group
		// across nodes and takes seconds on a busy machine; publishes
		// keep the write timeout.
		apiTimeout = max(apiTimeout, clusterAPITimeout)
	}
	s.raw, err = jetstream.New(s.nc,
		jetstream.WithDefaultTimeout(apiTimeout),
		jetstream.WithPublishAsyncTimeout(s.writeTimeout),
		jetstream.WithPublishAsyncErrHandler(s.health.observeAsync))
	if err != nil {
		s.shutdown()
		return nil, fmt.Errorf("store: jetstream context: %w", err)
	}
	s.js = gatedJS{JetStream: s.raw, h: s.health, clustered: s.clustered()}
	if err := s.requireJetStream(ctx); err != nil {
		s.shutdown()
		return nil, err
	}
	if s.clustered() && cfg.Replicas == 0 {
		s.autoReplicas = true
		replicas = min(maxAutoReplicas, s.clusterSize())
	}
	s.replicas.Store(int32(replicas))
	if s.nc.MaxPayload() < MinMaxPayload {
		s.logger.Warn("the NATS server's max_payload is below what async payloads and results need; set max_payload to 8MB",
			"max_payload", s.nc.MaxPayload(), "want", MinMaxPayload)
	}
	if err := s.ensureObjectsRetrying(ctx, replicas); err != nil {
		s.shutdown()
		return nil, err
	}
	mctx, stop := context.WithCancel(context.Background())
	s.stopMonitor, s.monitorDone = stop, make(chan struct{})
	go func() {
		defer close(s.monitorDone)
		var wg sync.WaitGroup
		if s.autoReplicas {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.raiseReplicas(mctx)
			}()
		}
		s.monitor(mctx)
		wg.Wait()
	}()
	s.logger.Info("store open", "mode", s.mode, "replicas", replicas, "client_url", s.clientURL,
		"cluster", s.cluster.name, "node", s.cluster.node)
	return s, nil
}

// startEmbedded starts an in-process nats-server with JetStream and
// connects to it without a socket.
func (s *Store) startEmbedded(ctx context.Context, cfg config.Store) error {
	if cfg.DataDir == "" {
		return errors.New("store: embedded mode needs a data directory")
	}
	storeDir := filepath.Join(cfg.DataDir, "jetstream")
	if err := os.MkdirAll(storeDir, 0o700); err != nil {
		return fmt.Errorf("store: create %s: %w", storeDir, err)
	}
	opts := &server.Options{
		ServerName: "updraft",
		JetStream:  true,
		StoreDir:   storeDir,
		DontListen: true,
		NoSigs:     true,
		// Async events (1 MB plus headers) and invocation results (up to
		// the 6 MB response limit) travel as single messages.
		MaxPayload: MinMaxPayload,
		// The server's own store limit is set, not left to nats-server's
		// default of 75% of the space free at start: that default counts
		// every stream's byte limit (each function's log stream, each queue's 1 GiB)
		// as reserved, so a small data dir refused to start and a 2 GB one
		// refused a second queue. The limits are caps, not reservations;
		// the free space itself is watched (monitor.go).
		JetStreamMaxStore: server.JetStreamMaxStoreDefault,
		// The HTTP monitor and leafnode ports stay off; the cluster port
		// too unless configureCluster opens it.
	}
	if cfg.ClusterListen != "" {
		if err := s.configureCluster(opts, cfg); err != nil {
			return err
		}
	}
	var inProcess []nats.Option
	listen, implicit := cfg.NatsListen, false
	if listen == "" && cfg.ClusterListen != "" {
		// nats-server starts routing only once its client listener is
		// up, so a cluster member needs one: on loopback, on a port of
		// the OS's choosing, with the same credentials as --nats-listen.
		// It is not advertised (no join line, no client URLs gossiped).
		listen, implicit = "127.0.0.1:0", true
	}
	if listen != "" {
		host, port, err := splitListen(listen)
		if err != nil {
			return err
		}
		opts.DontListen = false
		opts.Host = host
		opts.Port = port
		// Anyone who reaches the port could read and rewrite every
		// record: the listener requires the user key, and TLS off
		// loopback, so that the key's signature and the data do not
		// cross the network in the clear.
		credsPath, pub, created, err := loadOrCreateCreds(cfg.DataDir)
		if err != nil {
			return err
		}
		if created {
			s.logger.Info("generated the NATS user key joiners need", "file", credsPath)
		}
		opts.Nkeys = []*server.NkeyUser{{Nkey: pub}}
		auth, err := credsOption(credsPath)
		if err != nil {
			return err
		}
		inProcess = append(inProcess, auth)
		s.join.CredsFile = credsPath
		lcfg := cfg
		lcfg.NatsListen = listen
		if err := s.listenerTLS(opts, lcfg, host); err != nil {
			return err
		}
	}
	if implicit {
		opts.Cluster.NoAdvertise = true
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("store: new embedded server: %w", err)
	}
	ns.SetLoggerV2(&natsLogger{logger: s.logger, onError: s.health.serverError}, false, false, false)
	s.ns, s.nsOpts = ns, opts
	ns.Start()
	wait := readyTimeout
	if s.clustered() {
		// A clustered server's start recovers its Raft groups before it
		// listens, slow on a loaded machine.
		wait = clusterFormTimeout
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		wait = time.Until(dl)
	}
	if !ns.ReadyForConnections(wait) {
		return fmt.Errorf("store: embedded server in %s not ready after %s (is --cluster-listen's or --nats-listen's port taken? see the nats-server errors above)", storeDir, wait)
	}
	if !ns.JetStreamEnabled() {
		return fmt.Errorf("store: embedded server in %s started without JetStream", storeDir)
	}
	if cfg.NatsListen != "" {
		s.clientURL = advertisedURL(opts.Host, ns.Addr(), s.join.TLS)
		s.join.URL = s.clientURL
	} else if implicit {
		s.join = Join{}
	}
	// The server's own connection needs no network, nor TLS: nats-server
	// lets an in-process client stay plain. It authenticates like any.
	// Its handshake gets the start-up's time, not nats.go's 2 s default,
	// which a loaded machine exceeded ("read pipe: i/o timeout").
	inProcess = append(inProcess, nats.InProcessServer(ns), nats.Timeout(max(wait, 2*time.Second)))
	nc, err := nats.Connect("", s.connOptions(inProcess...)...)
	if err != nil {
		return fmt.Errorf("store: connect to embedded server: %w", err)
	}
	s.nc = nc
	return nil
}

// listenerTLS sets the listener's TLS: the certificate of cfg when
// given, else one from a CA generated in the data dir when the listener
// is not loopback; a loopback listener without a certificate stays plain.
func (s *Store) listenerTLS(opts *server.Options, cfg config.Store, host string) error {
	certFile, keyFile := cfg.NatsTLSCert, cfg.NatsTLSKey
	if certFile == "" {
		if config.IsLoopback(cfg.NatsListen) {
			return nil
		}
		g, err := ensureTLS(cfg.DataDir, certHosts(host), time.Now())
		if err != nil {
			return err
		}
		if g.Issued {
			s.logger.Info("issued the NATS server certificate", "file", g.CertFile, "ca", g.CAFile)
		}
		certFile, keyFile = g.CertFile, g.KeyFile
		s.join.CAFile = g.CAFile
	}
	tc, err := serverTLSConfig(certFile, keyFile)
	if err != nil {
		return err
	}
	opts.TLSConfig = tc
	opts.TLSTimeout = 5 // seconds, for a handshake over a slow link
	s.join.TLS = true
	s.join.OwnCert = cfg.NatsTLSCert != ""
	return nil
}

// connectExternal connects to an external NATS cluster. The first
// connection is bounded by readyTimeout; after that the client reconnects
// forever.
func (s *Store) connectExternal(ctx context.Context, cfg config.Store) error {
	timeout := readyTimeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl)
	}
	extra := []nats.Option{
		nats.Timeout(timeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
	}
	if cfg.NatsCreds != "" {
		auth, err := credsOption(cfg.NatsCreds)
		if err != nil {
			return err
		}
		extra = append(extra, auth)
	}
	if cfg.NatsCA != "" {
		extra = append(extra, nats.RootCAs(cfg.NatsCA))
	}
	shown := redactURL(cfg.NatsURL)
	nc, err := nats.Connect(cfg.NatsURL, s.connOptions(extra...)...)
	if err != nil {
		return fmt.Errorf("store: connect to %s: %w%s", shown, err, connectHint(err, cfg))
	}
	s.nc = nc
	s.clientURL = shown
	s.join = Join{URL: cfg.NatsURL, CredsFile: cfg.NatsCreds, CAFile: cfg.NatsCA}
	if _, err := nc.TLSConnectionState(); err != nil && !config.IsLoopback(nc.ConnectedAddr()) {
		s.logger.Warn("the connection to NATS is not encrypted: records cross the network in the clear; use a TLS server (tls://)",
			"url", shown)
	}
	return nil
}

// connectHint says which flag a failed connection most likely lacks.
func connectHint(err error, cfg config.Store) string {
	var unknownCA x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	switch {
	case errors.Is(err, nats.ErrAuthorization) && cfg.NatsCreds == "":
		return " (the server requires credentials: pass --nats-creds with the joined node's " + CredsFile + ")"
	case errors.Is(err, nats.ErrAuthorization):
		return " (the server refused --nats-creds " + cfg.NatsCreds + ")"
	case errors.As(err, &unknownCA) && cfg.NatsCA == "":
		return " (the server's certificate is from an unknown CA: pass --nats-ca with the joined node's " + CAFile + ")"
	case errors.As(err, &unknownCA), errors.As(err, &invalid):
		return " (the server's certificate does not verify against --nats-ca " + cfg.NatsCA + ")"
	case errors.As(err, &hostname):
		return " (the server's certificate does not name the host of --nats-url)"
	}
	return ""
}

// redactURL hides the password of a URL with user information, for logs.
func redactURL(raw string) string {
	var out []string
	for _, one := range strings.Split(raw, ",") {
		u, err := url.Parse(strings.TrimSpace(one))
		if err != nil || u.User == nil {
			out = append(out, one)
			continue
		}
		out = append(out, u.Redacted())
	}
	return strings.Join(out, ",")
}

// connOptions returns the options every connection uses, plus extra.
func (s *Store) connOptions(extra ...nats.Option) []nats.Option {
	return append([]nats.Option{
		nats.Name("updraft"),
		nats.DrainTimeout(drainTimeout),
		nats.ClosedHandler(func(*nats.Conn) { close(s.closed) }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				s.logger.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			s.logger.Info("nats reconnected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			s.logger.Warn("nats async error", "err", err)
		}),
	}, extra...)
}

// requireJetStream fails unless the account has JetStream.
func (s *Store) requireJetStream(ctx context.Context) error {
	if s.clustered() {
		return s.awaitClusterAPI(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if _, err := s.js.AccountInfo(ctx); err != nil {
		return fmt.Errorf("store: JetStream unavailable (is the server started with -js?): %w", err)
	}
	return nil
}

// splitListen parses host:port for the embedded listener; port 0 picks a
// free port.
func splitListen(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("store: nats listen address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("store: nats listen address %q: bad port", addr)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	if host == "" {
		host = "0.0.0.0"
	}
	return host, port, nil
}

// advertisedURL is the URL other nodes dial to reach the embedded
// listener: the configured host, or this machine's name when the listener
// binds every interface. With TLS the scheme is tls://, which makes the
// joining client insist on TLS rather than follow what the server
// announces (a server in the middle could announce none).
func advertisedURL(host string, addr net.Addr, withTLS bool) string {
	port := 0
	if ta, ok := addr.(*net.TCPAddr); ok {
		port = ta.Port
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if name, err := os.Hostname(); err == nil && name != "" {
			host = name
		}
	}
	scheme := "nats://"
	if withTLS {
		scheme = "tls://"
	}
	return scheme + net.JoinHostPort(host, strconv.Itoa(port))
}

// MinMaxPayload is the message size updraft needs from NATS: a 6 MB
// invocation result in a record, with room for its JSON.
const MinMaxPayload = 8 << 20

// Replicas is the replica count objects are created with.
func (s *Store) Replicas() int { return int(s.replicas.Load()) }

// JetStream returns the JetStream context.
func (s *Store) JetStream() jetstream.JetStream { return s.js }

// Conn returns the NATS connection.
func (s *Store) Conn() *nats.Conn { return s.nc }

// Functions returns the KV bucket of functions, versions and aliases.
func (s *Store) Functions() jetstream.KeyValue { return s.kvs[BucketFunctions] }

// IAM returns the KV bucket of identities (internal/iam owns its layout).
func (s *Store) IAM() jetstream.KeyValue { return s.kvs[BucketIAM] }

// Code returns the object store of code zips.
func (s *Store) Code() jetstream.ObjectStore { return s.objs[BucketCode] }

// CodeHolds returns the KV bucket of code zips' upload and pruning marks.
func (s *Store) CodeHolds() jetstream.KeyValue { return s.kvs[BucketCodeHolds] }

// CodeIndex returns the KV bucket listing the stored code zips.
func (s *Store) CodeIndex() jetstream.KeyValue { return s.kvs[BucketCodeIndex] }

// KeyValue returns the KV bucket with the given name, one of those
// declared in objects.go; nil for any other name.
func (s *Store) KeyValue(bucket string) jetstream.KeyValue { return s.kvs[bucket] }

// ObjectStore returns the object store with the given name, one of those
// declared in objects.go; nil for any other name.
func (s *Store) ObjectStore(bucket string) jetstream.ObjectStore { return s.objs[bucket] }

// Mode returns ModeEmbedded or ModeExternal.
func (s *Store) Mode() string { return s.mode }

// ClientURL returns the NATS URL other updraft nodes use to join this
// store: the embedded listener's address when config.Store.NatsListen is
// set, the external URL in external mode, and "" for an embedded server
// without a listener.
func (s *Store) ClientURL() string { return s.clientURL }

// Join tells another node how to join this store: the flags of
// `updraft server` that reach the same JetStream.
type Join struct {
	// URL is the --nats-url to dial; "" for an embedded server without
	// a listener (nothing to join).
	URL string
	// CredsFile is the --nats-creds file: this node's generated
	// CredsFile for an embedded listener, else the file it connected with.
	CredsFile string
	// CAFile is the --nats-ca file: the CA generated for the listener,
	// else the file this node connected with; "" when the listener is
	// plain or serves a certificate of its own (OwnCert).
	CAFile string
	// TLS reports that the embedded listener requires TLS.
	TLS bool
	// OwnCert reports that the listener serves --nats-tls-cert, whose CA
	// joiners must already trust or pass with --nats-ca.
	OwnCert bool
}

// Args returns the join flags, file paths made absolute.
func (j Join) Args() []string {
	if j.URL == "" {
		return nil
	}
	args := []string{"--nats-url", j.URL}
	if j.CredsFile != "" {
		args = append(args, "--nats-creds", absPath(j.CredsFile))
	}
	if j.CAFile != "" {
		args = append(args, "--nats-ca", absPath(j.CAFile))
	}
	return args
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// Join returns how another node joins this store.
func (s *Store) Join() Join { return s.join }

// Healthy reports whether JetStream answers: the embedded server is
// running, the connection is up and an account-info round trip succeeds.
func (s *Store) Healthy(ctx context.Context) error {
	if s.ns != nil && !s.ns.Running() {
		return errors.New("store: embedded server not running")
	}
	if st := s.nc.Status(); st != nats.CONNECTED {
		return fmt.Errorf("store: nats connection %s", st)
	}
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	if _, err := s.js.AccountInfo(ctx); err != nil {
		return fmt.Errorf("store: jetstream account info: %w", err)
	}
	return nil
}

// Close stops the monitor, drains the connection and shuts the embedded
// server down. It is idempotent; later calls return the first call's
// result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.stopMonitor != nil {
			s.stopMonitor()
			<-s.monitorDone
		}
		s.closeErr = s.shutdown()
		s.logger.Info("store closed", "mode", s.mode)
	})
	return s.closeErr
}

// shutdown drains the connection (bounded) and stops the server.
func (s *Store) shutdown() error {
	var err error
	if s.nc != nil {
		if derr := s.nc.Drain(); derr != nil && !errors.Is(derr, nats.ErrConnectionClosed) {
			err = fmt.Errorf("store: drain: %w", derr)
			s.nc.Close()
		}
		select {
		case <-s.closed:
		case <-time.After(drainTimeout + time.Second):
			s.nc.Close()
		}
	}
	if s.ns != nil {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
	}
	return err
}

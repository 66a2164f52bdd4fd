package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/config"
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
)

// Store is an open JetStream: an embedded server or a connection to an
// external one, plus handles to every object updraft defines. All methods
// are safe for concurrent use.
type Store struct {
	logger    *slog.Logger
	mode      string
	clientURL string
	replicas  int

	ns *server.Server // embedded server; nil in external mode
	nc *nats.Conn
	js jetstream.JetStream

	// kvs and objs are filled by ensureObjects in Open and read-only after.
	kvs  map[string]jetstream.KeyValue
	objs map[string]jetstream.ObjectStore

	closed    chan struct{} // closed by the connection's ClosedHandler
	closeOnce sync.Once
	closeErr  error
}

// Open starts or connects to JetStream as cfg says and makes sure every
// object exists with cfg.Replicas replicas. With cfg.NatsURL empty it
// starts an embedded server storing under <cfg.DataDir>/jetstream,
// listening on cfg.NatsListen if set and on no network port otherwise.
// The caller must Close the store.
func Open(ctx context.Context, cfg config.Store, logger *slog.Logger) (*Store, error) {
	s := &Store{
		logger: logger.With("component", "store"),
		kvs:    make(map[string]jetstream.KeyValue),
		objs:   make(map[string]jetstream.ObjectStore),
		closed: make(chan struct{}),
	}
	replicas := max(cfg.Replicas, 1)
	var err error
	if cfg.NatsURL == "" {
		s.mode = ModeEmbedded
		if replicas > 1 {
			s.logger.Warn("embedded JetStream is a single server: using 1 replica", "replicas", replicas)
			replicas = 1
		}
		err = s.startEmbedded(ctx, cfg)
	} else {
		s.mode = ModeExternal
		err = s.connectExternal(ctx, cfg)
	}
	if err != nil {
		s.shutdown()
		return nil, err
	}
	s.js, err = jetstream.New(s.nc)
	if err != nil {
		s.shutdown()
		return nil, fmt.Errorf("store: jetstream context: %w", err)
	}
	if err := s.requireJetStream(ctx); err != nil {
		s.shutdown()
		return nil, err
	}
	s.replicas = replicas
	if s.nc.MaxPayload() < MinMaxPayload {
		s.logger.Warn("the NATS server's max_payload is below what async payloads and results need; set max_payload to 8MB",
			"max_payload", s.nc.MaxPayload(), "want", MinMaxPayload)
	}
	if err := s.ensureObjects(ctx, replicas); err != nil {
		s.shutdown()
		return nil, err
	}
	s.logger.Info("store open", "mode", s.mode, "replicas", replicas, "client_url", s.clientURL)
	return s, nil
}

// startEmbedded starts an in-process nats-server with JetStream and
// connects to it without a socket.
func (s *Store) startEmbedded(ctx context.Context, cfg config.Store) error {
	if cfg.DataDir == "" {
		return errors.New("store: embedded mode needs a data directory")
	}
	storeDir := filepath.Join(cfg.DataDir, "jetstream")
	if err := os.MkdirAll(storeDir, 0o755); err != nil {
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
		// The HTTP monitor, cluster and leafnode ports stay off.
	}
	if cfg.NatsListen != "" {
		host, port, err := splitListen(cfg.NatsListen)
		if err != nil {
			return err
		}
		opts.DontListen = false
		opts.Host = host
		opts.Port = port
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("store: new embedded server: %w", err)
	}
	ns.SetLoggerV2(&natsLogger{logger: s.logger}, false, false, false)
	s.ns = ns
	ns.Start()
	wait := readyTimeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		wait = time.Until(dl)
	}
	if !ns.ReadyForConnections(wait) {
		return fmt.Errorf("store: embedded server in %s not ready after %s", storeDir, wait)
	}
	if !ns.JetStreamEnabled() {
		return fmt.Errorf("store: embedded server in %s started without JetStream", storeDir)
	}
	if cfg.NatsListen != "" {
		s.clientURL = advertisedURL(opts.Host, ns.Addr())
	}
	nc, err := nats.Connect("", s.connOptions(nats.InProcessServer(ns))...)
	if err != nil {
		return fmt.Errorf("store: connect to embedded server: %w", err)
	}
	s.nc = nc
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
	nc, err := nats.Connect(cfg.NatsURL, s.connOptions(
		nats.Timeout(timeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
	)...)
	if err != nil {
		return fmt.Errorf("store: connect to %s: %w", cfg.NatsURL, err)
	}
	s.nc = nc
	s.clientURL = cfg.NatsURL
	return nil
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
// binds every interface.
func advertisedURL(host string, addr net.Addr) string {
	port := 0
	if ta, ok := addr.(*net.TCPAddr); ok {
		port = ta.Port
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if name, err := os.Hostname(); err == nil && name != "" {
			host = name
		}
	}
	return "nats://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// MinMaxPayload is the message size updraft needs from NATS: a 6 MB
// invocation result in a record, with room for its JSON.
const MinMaxPayload = 8 << 20

// Replicas is the replica count objects are created with.
func (s *Store) Replicas() int { return s.replicas }

// JetStream returns the JetStream context.
func (s *Store) JetStream() jetstream.JetStream { return s.js }

// Conn returns the NATS connection.
func (s *Store) Conn() *nats.Conn { return s.nc }

// Functions returns the KV bucket of functions, versions and aliases.
func (s *Store) Functions() jetstream.KeyValue { return s.kvs[BucketFunctions] }

// Code returns the object store of code zips.
func (s *Store) Code() jetstream.ObjectStore { return s.objs[BucketCode] }

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

// Close drains the connection and shuts the embedded server down. It is
// idempotent; later calls return the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
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

// Package config holds updraft's configuration: one struct nested by area,
// its documented defaults, binding to command-line flags with UPDRAFT_*
// environment equivalents, and validation that reports every problem at
// once. It is read once at start-up and passed down as values; no other
// package reads the environment.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Auth modes.
const (
	AuthSigV4 = "sigv4"
	AuthNone  = "none"
)

// Config is the whole server configuration.
type Config struct {
	Server  Server
	Store   Store
	Pool    Pool
	Sandbox Sandbox
	Async   Async
	Queue   Queue
	Tables  Tables
	Logs    Logs
	Log     Log

	// envErrs report UPDRAFT_* values BindServerFlags could not parse,
	// unless the command line set the flag; Validate runs them.
	envErrs []func() error
}

// Server configures the HTTP listener and identity.
type Server struct {
	// Listen is the API address, host:port.
	Listen string
	// TLSCert and TLSKey, set together, are the PEM certificate and key
	// the API listener serves.
	TLSCert string
	TLSKey  string
	// TLSSelfSigned has the API listener serve a certificate issued by a
	// CA generated in the data dir (api-ca.pem, which clients pass as
	// --ca-bundle or AWS_CA_BUNDLE); excludes TLSCert.
	TLSSelfSigned bool
	// InsecureHTTP allows plain HTTP on a non-loopback Listen (or
	// MetricsListen); without it such a listener is refused.
	InsecureHTTP bool
	// MaxConnections caps the API's open connections; 0 means
	// min(10000, RLIMIT_NOFILE/2). At the cap the longest-idle
	// connections are closed first.
	MaxConnections int
	// AuthSpoolMaxMB bounds, in MiB, the request bodies all requests may
	// hold (in memory and spooled to <DataDir>/spool) before their
	// signatures are verified; at least 67 (a largest CreateFunction
	// body). A request that would exceed it gets 503 SlowDown.
	AuthSpoolMaxMB int
	// MetricsListen is the address of the Prometheus /metrics listener,
	// plain HTTP; "off" disables it. The API listener does not serve
	// /metrics.
	MetricsListen string
	// Region and AccountID appear in ARNs and the function environment.
	Region    string
	AccountID string
	// Auth is "sigv4" (default) or "none"; none is refused unless every
	// listener is on loopback.
	Auth string
	// AccessKeyID and SecretAccessKey, when both set, are the credentials
	// clients sign with; otherwise a pair is generated in the data dir.
	AccessKeyID     string
	SecretAccessKey string
	// ShutdownGrace bounds how long in-flight work may run after SIGTERM.
	ShutdownGrace time.Duration
	// DebugListen, when set, serves Go's pprof handlers on this loopback
	// address for profiling.
	DebugListen string
	// TestHoldStates is a test hook (a hidden flag): functions whose
	// Description contains registry.HoldStateMarker stay Pending or
	// InProgress, so tests can see the refusals of those states.
	TestHoldStates bool
	// Procs is how many CPUs the server's own goroutines run on at once
	// (GOMAXPROCS); 0 means half of those it may use, at least one,
	// unless the GOMAXPROCS environment variable is set.
	Procs int
	// UnknownRoles is what functions whose role names no role defined
	// here may do: "allow" (the data plane) or "refuse" (CreateFunction
	// refuses such a role, as AWS does).
	UnknownRoles string
}

// Store configures JetStream.
type Store struct {
	// DataDir holds the embedded JetStream, unpacked code and credentials.
	DataDir string
	// NatsURL, when set, uses an external NATS (JetStream) instead of the
	// embedded server.
	NatsURL string
	// NatsListen, when set, exposes the embedded NATS on this address so
	// another updraft process can join with --nats-url. The listener
	// always requires the user key kept in <DataDir>/nats.creds, and TLS
	// unless the address is loopback.
	NatsListen string
	// NatsTLSCert and NatsTLSKey, set together and only with NatsListen,
	// are the PEM certificate and key the listener serves. Unset, a
	// non-loopback listener serves a certificate from a CA generated in
	// the data dir, and a loopback one is plain.
	NatsTLSCert string
	NatsTLSKey  string
	// NatsCreds, only with NatsURL, is the credentials file the
	// connection authenticates with: the nkey seed file an updraft node
	// generates (nats.creds), or a NATS .creds file (user JWT and seed).
	NatsCreds string
	// NatsCA, only with NatsURL, is a PEM file of the CA certificates
	// the NATS server's certificate is verified against, in place of the
	// system roots.
	NatsCA string
	// Replicas is the replica count of every JetStream object; 0 (the
	// default) means automatic: min(3, the nodes of the embedded NATS
	// cluster), raised as nodes join, and 1 with an external NATS.
	Replicas int
	// ClusterListen, when set, is the address of the embedded NATS's
	// cluster (route) listener: the nodes started with it and Join form
	// one NATS cluster with JetStream in clustered mode.
	ClusterListen string
	// Join lists the cluster addresses (host:port) of the cluster's
	// nodes, this one's may be included (nats-server skips a route to
	// itself). At least one other node is needed: JetStream elects a new
	// cluster's first meta leader once every node listed is up, and later
	// ones with a majority.
	Join []string
	// ClusterName names the NATS cluster; every node must give the same.
	ClusterName string
	// NodeName is this node's NATS server name, unique in the cluster
	// and stable across restarts (JetStream's Raft peer id is derived from
	// it). Empty: the name kept in <DataDir>/node-name, generated on the
	// first start.
	NodeName string
	// ClusterKey is the file holding the routes' shared secret, the
	// same on every node. Empty: <DataDir>/cluster.key, generated (mode
	// 0600) on the first start when missing, to be copied to the other
	// nodes before their first start.
	ClusterKey string
	// CodePruneGrace is how long a code or layer zip that no function
	// version or layer version references stays in the object store
	// before it is deleted. It covers an upload on another node and the
	// nodes' views catching up; see internal/registry's prune.go.
	CodePruneGrace time.Duration
	// WriteTimeout bounds every store write (publish, KV put, object
	// put) that names no shorter deadline; a write that takes longer
	// fails and marks the store unable to write until a probe succeeds.
	WriteTimeout time.Duration
	// MinFreeMB is the free space, in MiB, the embedded store keeps on
	// the data dir's file system: below it (or below 5% of the file
	// system's size, when that is smaller) the store refuses writes
	// before JetStream runs out of space. 0 refuses only at 0 bytes free.
	MinFreeMB int
}

// DefaultNodeSDKDir is where `make node-sdk` installs the AWS SDK for
// JavaScript v3 for nodejs functions.
const DefaultNodeSDKDir = "/usr/local/lib/updraft/nodejs"

// Pool configures execution environments.
type Pool struct {
	// IdleTTL is how long a warm environment may sit unused before eviction.
	IdleTTL time.Duration
	// MaxEnvironments caps busy environments across all functions (the
	// account concurrency limit); past it invokes get 429.
	MaxEnvironments int
	// InitTimeout is the init-phase budget (Lambda: 10 s).
	InitTimeout time.Duration
	// FreezeDelay is how long a parked runtime stays thawed before it is
	// frozen; see pool.Config.
	FreezeDelay time.Duration
	// NodeSDKDir holds the AWS SDK for JavaScript v3 that nodejs*
	// functions may import without shipping it, as Lambda's runtimes
	// include it: its node_modules follows the layers' on NODE_PATH.
	// It must be under /usr, which full isolation shows the sandbox.
	NodeSDKDir string
}

// Sandbox configures process isolation.
type Sandbox struct {
	// Isolation is "auto" (best available), "full" or "basic".
	Isolation string
	// Zygotes is how many pre-started sandbox inits full isolation keeps
	// ready for cold starts; 0 starts every sandbox on demand.
	Zygotes int
	// RuntimeTemplates keeps managed runtimes (Python) started in
	// pre-started sandboxes, waiting for their function (full isolation
	// with zygotes only); false starts them anew on every cold start.
	RuntimeTemplates bool
	// FunctionNetwork is what full-isolation functions reach: "auto"
	// (egress where slirp4netns is installed, else isolated), "egress" or
	// "isolated".
	FunctionNetwork string
	// EgressAllow is a comma-separated list of CIDRs that egress mode may
	// reach although they are private.
	EgressAllow string
	// EphemeralStorage is how full isolation backs each /tmp: "reserved"
	// (the configured size reserved on disk when the environment is
	// created) or "sparse" (allocated as written).
	EphemeralStorage string
}

// EgressAllowPrefixes parses EgressAllow.
func (s Sandbox) EgressAllowPrefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s.EgressAllow, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			if a, aerr := netip.ParseAddr(f); aerr == nil && a.Is4() {
				p = netip.PrefixFrom(a, 32)
			} else {
				return nil, fmt.Errorf("--function-egress-allow %q: want IPv4 CIDRs such as 10.1.0.0/16", f)
			}
		}
		if !p.Addr().Is4() {
			return nil, fmt.Errorf("--function-egress-allow %q: only IPv4 ranges are routed", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Tables configures the DynamoDB-compatible tables.
type Tables struct {
	// TTLInterval is how often expired TTL items are swept (DynamoDB
	// takes up to days; tests use seconds).
	TTLInterval time.Duration
}

// Async configures asynchronous invocation.
type Async struct {
	// MaxPayloadBytes is the Event payload limit (Lambda: 1 MB).
	MaxPayloadBytes int
	// RetryDelay is the first retry delay after a function error; it
	// doubles after each attempt (Lambda: about one minute).
	RetryDelay time.Duration
	// RecordTTL is how long invocation records and batch results are kept.
	RecordTTL time.Duration
	// AckWait is how long an event a worker holds may go without a sign
	// of life (a running event's worker sends one every third of it)
	// before JetStream hands it to another worker: after a node dies, the
	// events it held run elsewhere this much later.
	AckWait time.Duration
	// ReleaseAfter is how long a function's async workers and JetStream
	// consumer stay after its last event; a function without events has
	// neither.
	ReleaseAfter time.Duration
}

// Queue configures the built-in queues.
type Queue struct {
	// VisibilityTimeout is how long a message fetched by an event source
	// mapping stays invisible before it is delivered again, and how long
	// a failed batch waits (SQS's default: 30 s).
	VisibilityTimeout time.Duration
}

// Logs configures function logs: each function has its own log stream
// with this budget, so that no function's output evicts another's.
type Logs struct {
	// FunctionMaxBytes is the most bytes of log a function keeps; past
	// it the function's oldest records are dropped. At least 1 MiB.
	FunctionMaxBytes int
	// FunctionMaxMessages is the most stored messages a function keeps
	// (a message is up to 64 KiB of lines written together); past it the
	// function's oldest are dropped. At least 100.
	FunctionMaxMessages int
	// MaxAge is how long a function's log records are kept at most.
	MaxAge time.Duration
	// BufferBytes bounds the function output the server holds in memory
	// waiting to be stored, all functions together; one function may
	// hold a quarter of it. Lines past it are dropped and counted. At
	// least 4 MiB.
	BufferBytes int
}

// Bounds of Logs.
const (
	minLogsFunctionMaxBytes    = 1 << 20
	minLogsFunctionMaxMessages = 100
	minLogsBufferBytes         = 4 << 20
)

// Log configures the server's own logs (not function logs).
type Log struct {
	// Level is debug, info, warn or error.
	Level string
	// Format is text or json.
	Format string
}

// Default returns the documented defaults.
func Default() Config {
	return Config{
		Server: Server{
			Listen:         "127.0.0.1:9321",
			MetricsListen:  "127.0.0.1:9322",
			AuthSpoolMaxMB: 256,
			Region:         "us-east-1",
			AccountID:      "000000000000",
			Auth:           AuthSigV4,
			UnknownRoles:   "allow",
			ShutdownGrace:  30 * time.Second,
		},
		Store: Store{
			DataDir:        DefaultDataDir(),
			ClusterName:    "updraft",
			CodePruneGrace: 15 * time.Minute,
			WriteTimeout:   5 * time.Second,
			MinFreeMB:      64,
		},
		Pool: Pool{
			IdleTTL:         10 * time.Minute,
			MaxEnvironments: 1000,
			InitTimeout:     10 * time.Second,
			FreezeDelay:     2 * time.Millisecond,
			NodeSDKDir:      DefaultNodeSDKDir,
		},
		Sandbox: Sandbox{Isolation: "auto", Zygotes: 2, RuntimeTemplates: true, FunctionNetwork: "auto", EphemeralStorage: "reserved"},
		Async: Async{
			MaxPayloadBytes: 1 << 20,
			RetryDelay:      time.Minute,
			RecordTTL:       12 * time.Hour,
			ReleaseAfter:    5 * time.Minute,
			AckWait:         30 * time.Second,
		},
		Queue:  Queue{VisibilityTimeout: 30 * time.Second},
		Tables: Tables{TTLInterval: time.Minute},
		Logs: Logs{
			FunctionMaxBytes:    64 << 20,
			FunctionMaxMessages: 100_000,
			MaxAge:              7 * 24 * time.Hour,
			BufferBytes:         16 << 20,
		},
		Log: Log{Level: "info", Format: "text"},
	}
}

// DefaultDataDir is $XDG_DATA_HOME/updraft, else ~/.local/share/updraft,
// else ./.updraft.
func DefaultDataDir() string {
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "updraft")
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		return filepath.Join(home, ".local", "share", "updraft")
	}
	return ".updraft"
}

// BindServerFlags registers the server's flags on fs with defaults taken
// from cfg, overridden by UPDRAFT_* environment variables (flags win over
// the environment, which wins over defaults). A malformed number or
// duration in the environment is reported by Validate unless the flag is
// given.
func BindServerFlags(fs *pflag.FlagSet, cfg *Config) {
	str := func(p *string, name, env, usage string) {
		fs.StringVar(p, name, envString(env, *p), usage+" (env "+env+")")
	}
	bad := func(name string, err error) {
		cfg.envErrs = append(cfg.envErrs, func() error {
			if fs.Changed(name) {
				return nil
			}
			return err
		})
	}
	dur := func(p *time.Duration, name, env, usage string) {
		d, err := envDuration(env, *p)
		if err != nil {
			bad(name, err)
		}
		fs.DurationVar(p, name, d, usage+" (env "+env+")")
	}
	boolean := func(p *bool, name, env, usage string) {
		b, err := envBool(env, *p)
		if err != nil {
			bad(name, err)
		}
		fs.BoolVar(p, name, b, usage+" (env "+env+")")
	}
	list := func(p *[]string, name, env, usage string) {
		def := *p
		if v := envString(env, ""); v != "" {
			def = splitList(v)
		}
		fs.StringSliceVar(p, name, def, usage+" (env "+env+")")
	}
	num := func(p *int, name, env, usage string) {
		n, err := envInt(env, *p)
		if err != nil {
			bad(name, err)
		}
		fs.IntVar(p, name, n, usage+" (env "+env+")")
	}
	str(&cfg.Server.Listen, "listen", "UPDRAFT_LISTEN", "API listen address")
	str(&cfg.Server.TLSCert, "tls-cert", "UPDRAFT_TLS_CERT", "PEM certificate (chain) the API listener serves over TLS")
	str(&cfg.Server.TLSKey, "tls-key", "UPDRAFT_TLS_KEY", "PEM private key of --tls-cert")
	boolean(&cfg.Server.TLSSelfSigned, "tls-self-signed", "UPDRAFT_TLS_SELF_SIGNED", "serve TLS with a certificate from a CA generated in the data dir (clients pass <data-dir>/api-ca.pem as --ca-bundle or AWS_CA_BUNDLE)")
	boolean(&cfg.Server.InsecureHTTP, "insecure-http", "UPDRAFT_INSECURE_HTTP", "allow plain HTTP on a non-loopback --listen or --metrics-listen (credentials and code then cross the network in clear)")
	num(&cfg.Server.MaxConnections, "max-connections", "UPDRAFT_MAX_CONNECTIONS", "cap on open API connections; the longest-idle are closed first at the cap (0 = min(10000, open-file limit/2))")
	num(&cfg.Server.AuthSpoolMaxMB, "auth-spool-max-mb", "UPDRAFT_AUTH_SPOOL_MAX_MB", "MiB of request bodies held, all requests together, before their signatures are verified (at least 67); beyond it 503 SlowDown")
	str(&cfg.Server.MetricsListen, "metrics-listen", "UPDRAFT_METRICS_LISTEN", "address of the Prometheus /metrics listener (plain HTTP), or off")
	str(&cfg.Store.DataDir, "data-dir", "UPDRAFT_DATA_DIR", "data directory (embedded JetStream, code cache, credentials)")
	str(&cfg.Store.NatsURL, "nats-url", "UPDRAFT_NATS_URL", "use an external NATS JetStream instead of the embedded one")
	str(&cfg.Store.NatsListen, "nats-listen", "UPDRAFT_NATS_LISTEN", "expose the embedded NATS on this address so other nodes can join (credentials always, TLS unless loopback)")
	str(&cfg.Store.NatsTLSCert, "nats-tls-cert", "UPDRAFT_NATS_TLS_CERT", "PEM certificate the --nats-listen listener serves (default: generated from a CA in the data dir when not loopback)")
	str(&cfg.Store.NatsTLSKey, "nats-tls-key", "UPDRAFT_NATS_TLS_KEY", "PEM private key of --nats-tls-cert")
	str(&cfg.Store.NatsCreds, "nats-creds", "UPDRAFT_NATS_CREDS", "credentials file for --nats-url: another node's nats.creds or a NATS .creds file")
	str(&cfg.Store.NatsCA, "nats-ca", "UPDRAFT_NATS_CA", "PEM CA file that verifies the --nats-url server's certificate (e.g. another node's nats-ca.pem)")
	num(&cfg.Store.Replicas, "replicas", "UPDRAFT_REPLICAS", "JetStream replica count of every stream, bucket and object store; 0 = min(3, nodes of the embedded cluster), raised as nodes join (1 with --nats-url)")
	str(&cfg.Store.ClusterListen, "cluster-listen", "UPDRAFT_CLUSTER_LISTEN", "address of the embedded NATS's cluster route listener; with --join, the nodes form one NATS cluster with replicated JetStream")
	list(&cfg.Store.Join, "join", "UPDRAFT_JOIN", "comma-separated cluster addresses (host:port of --cluster-listen) of the cluster's nodes, this one's may be included")
	str(&cfg.Store.ClusterName, "cluster-name", "UPDRAFT_CLUSTER_NAME", "NATS cluster name, the same on every node")
	str(&cfg.Store.NodeName, "node-name", "UPDRAFT_NODE_NAME", "this node's name in the cluster, unique and stable (default: generated once and kept in <data-dir>/node-name)")
	str(&cfg.Store.ClusterKey, "cluster-key", "UPDRAFT_CLUSTER_KEY", "file with the routes' shared secret, the same on every node (default: <data-dir>/cluster.key, generated when missing; copy it to the other nodes)")
	dur(&cfg.Store.CodePruneGrace, "code-prune-grace", "UPDRAFT_CODE_PRUNE_GRACE", "how long a code or layer zip no version references stays in the store before it is deleted")
	dur(&cfg.Store.WriteTimeout, "store-write-timeout", "UPDRAFT_STORE_WRITE_TIMEOUT", "deadline of every store write; a write that misses it fails with a 5xx and the store is reported degraded until a probe write succeeds")
	num(&cfg.Store.MinFreeMB, "store-min-free-mb", "UPDRAFT_STORE_MIN_FREE_MB", "free MiB the embedded store keeps on the data dir's file system (at most 5% of its size): below it writes are refused and /healthz says degraded")
	num(&cfg.Server.Procs, "procs", "UPDRAFT_PROCS", "CPUs the server's own goroutines use at once (GOMAXPROCS); 0 = half the CPUs, at least 1")
	str(&cfg.Server.DebugListen, "debug-listen", "UPDRAFT_DEBUG_LISTEN", "serve Go pprof profiles on this loopback address")
	boolean(&cfg.Server.TestHoldStates, "test-hold-states", "UPDRAFT_TEST_HOLD_STATES", "test hook: functions whose description contains [updraft-test:hold-state] never leave Pending/InProgress")
	_ = fs.MarkHidden("test-hold-states")
	str(&cfg.Server.Region, "region", "UPDRAFT_REGION", "region shown in ARNs and AWS_REGION")
	str(&cfg.Server.AccountID, "account-id", "UPDRAFT_ACCOUNT_ID", "12-digit account id shown in ARNs")
	str(&cfg.Server.UnknownRoles, "unknown-roles", "UPDRAFT_UNKNOWN_ROLES", "functions whose role names no role defined here: allow (they may use the data plane: invoke, queues, streams, tables, workflows) or refuse (CreateFunction refuses them, as AWS does)")
	str(&cfg.Server.Auth, "auth", "UPDRAFT_AUTH", "request authentication: sigv4 or none (none only on loopback)")
	dur(&cfg.Server.ShutdownGrace, "shutdown-grace", "UPDRAFT_SHUTDOWN_GRACE", "how long in-flight invocations may finish on shutdown")
	dur(&cfg.Pool.FreezeDelay, "freeze-delay", "UPDRAFT_FREEZE_DELAY", "how long an idle environment stays thawed before it is frozen")
	str(&cfg.Pool.NodeSDKDir, "node-sdk-dir", "UPDRAFT_NODE_SDK_DIR", "directory under /usr whose node_modules (npm install --prefix DIR @aws-sdk/client-...) nodejs functions may import, after their own and their layers'; empty for none")
	dur(&cfg.Pool.IdleTTL, "idle-ttl", "UPDRAFT_IDLE_TTL", "evict an execution environment after this long unused")
	num(&cfg.Pool.MaxEnvironments, "max-concurrency", "UPDRAFT_MAX_CONCURRENCY", "account concurrency limit (busy environments across all functions)")
	num(&cfg.Sandbox.Zygotes, "zygotes", "UPDRAFT_ZYGOTES", "pre-started sandboxes kept ready for cold starts (full isolation); 0 = none")
	boolean(&cfg.Sandbox.RuntimeTemplates, "runtime-templates", "UPDRAFT_RUNTIME_TEMPLATES", "keep Python runtimes started in pre-started sandboxes, handed a function on its cold start (full isolation with --zygotes > 0; elsewhere they start anew)")
	str(&cfg.Sandbox.Isolation, "isolation", "UPDRAFT_ISOLATION", "isolation level: auto, full or basic")
	str(&cfg.Sandbox.FunctionNetwork, "function-network", "UPDRAFT_FUNCTION_NETWORK", "what functions reach under full isolation: egress (outbound through a user-mode stack, never the host or private ranges), isolated (nothing), or auto (egress where slirp4netns is installed)")
	str(&cfg.Sandbox.EphemeralStorage, "ephemeral-storage", "UPDRAFT_EPHEMERAL_STORAGE", "how full isolation backs each function's /tmp: reserved (its whole EphemeralStorage size reserved on disk at creation) or sparse (disk taken as written; functions share the data dir's free space)")
	str(&cfg.Sandbox.EgressAllow, "function-egress-allow", "UPDRAFT_FUNCTION_EGRESS_ALLOW", "comma-separated private IPv4 CIDRs that egress mode may reach")
	num(&cfg.Async.MaxPayloadBytes, "async-max-payload", "UPDRAFT_ASYNC_MAX_PAYLOAD", "Event invocation payload limit in bytes")
	dur(&cfg.Async.RetryDelay, "async-retry-delay", "UPDRAFT_ASYNC_RETRY_DELAY", "first retry delay after an async function error (doubles after)")
	dur(&cfg.Async.AckWait, "async-ack-wait", "UPDRAFT_ASYNC_ACK_WAIT", "how long an Event held by a worker may go without a sign of life before another worker, on any node, takes it (the delay before the events of a node that died run elsewhere)")
	dur(&cfg.Async.ReleaseAfter, "async-release-after", "UPDRAFT_ASYNC_RELEASE_AFTER", "stop a function's async workers and drop its consumer after this long without events")
	dur(&cfg.Async.RecordTTL, "record-ttl", "UPDRAFT_RECORD_TTL", "how long async invocation records and batch results are kept")
	dur(&cfg.Tables.TTLInterval, "table-ttl-interval", "UPDRAFT_TABLE_TTL_INTERVAL", "how often expired DynamoDB TTL items are swept")
	dur(&cfg.Queue.VisibilityTimeout, "queue-visibility-timeout", "UPDRAFT_QUEUE_VISIBILITY_TIMEOUT", "how long a queue message taken by an event source mapping stays invisible (and a failed batch waits)")
	num(&cfg.Logs.FunctionMaxBytes, "logs-function-max-bytes", "UPDRAFT_LOGS_FUNCTION_MAX_BYTES", "bytes of log each function keeps; past it that function's oldest records are dropped (at least 1 MiB)")
	num(&cfg.Logs.FunctionMaxMessages, "logs-function-max-messages", "UPDRAFT_LOGS_FUNCTION_MAX_MESSAGES", "stored log messages (up to 64 KiB of lines each) each function keeps; past it that function's oldest are dropped")
	dur(&cfg.Logs.MaxAge, "logs-max-age", "UPDRAFT_LOGS_MAX_AGE", "how long function log records are kept")
	num(&cfg.Logs.BufferBytes, "logs-buffer-bytes", "UPDRAFT_LOGS_BUFFER_BYTES", "function output held in memory waiting to be stored, all functions (one may use a quarter); lines past it are dropped and counted (at least 4 MiB)")
	str(&cfg.Log.Level, "log-level", "UPDRAFT_LOG_LEVEL", "server log level: debug, info, warn, error")
	str(&cfg.Log.Format, "log-format", "UPDRAFT_LOG_FORMAT", "server log format: text or json")
	cfg.Server.AccessKeyID = os.Getenv("UPDRAFT_ACCESS_KEY_ID")
	cfg.Server.SecretAccessKey = os.Getenv("UPDRAFT_SECRET_ACCESS_KEY")
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func envString(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

// envDuration and envInt return def, and an error for Validate, when the
// variable is set but malformed.
func envDuration(key string, def time.Duration) (time.Duration, error) {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return def, fmt.Errorf("%s %q: want a duration such as 30s or 10m", key, v)
		}
		return d, nil
	}
	return def, nil
}

func envBool(key string, def bool) (bool, error) {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return def, fmt.Errorf("%s %q: want true or false", key, v)
		}
		return b, nil
	}
	return def, nil
}

func envInt(key string, def int) (int, error) {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return def, fmt.Errorf("%s %q: want a whole number", key, v)
		}
		return n, nil
	}
	return def, nil
}

// Validate reports every problem with cfg at once.
func (c Config) Validate() error {
	var errs []error
	for _, check := range c.envErrs {
		if err := check(); err != nil {
			errs = append(errs, err)
		}
	}
	if _, _, err := net.SplitHostPort(c.Server.Listen); err != nil {
		errs = append(errs, fmt.Errorf("--listen %q: %w", c.Server.Listen, err))
	}
	errs = append(errs, c.Server.validateListeners()...)
	switch c.Server.Auth {
	case AuthSigV4:
	case AuthNone:
		if !IsLoopback(c.Server.Listen) {
			errs = append(errs, fmt.Errorf("--auth none is refused: --listen %s is not a loopback address", c.Server.Listen))
		}
		if c.Store.NatsListen != "" && !IsLoopback(c.Store.NatsListen) {
			errs = append(errs, fmt.Errorf("--auth none is refused: --nats-listen %s is not a loopback address", c.Store.NatsListen))
		}
		if c.Store.ClusterListen != "" && !IsLoopback(c.Store.ClusterListen) {
			errs = append(errs, fmt.Errorf("--auth none is refused: --cluster-listen %s is not a loopback address", c.Store.ClusterListen))
		}
	default:
		errs = append(errs, fmt.Errorf("--auth %q: want sigv4 or none", c.Server.Auth))
	}
	if c.Server.DebugListen != "" && !IsLoopback(c.Server.DebugListen) {
		errs = append(errs, fmt.Errorf("--debug-listen %s: profiles are served on loopback only", c.Server.DebugListen))
	}
	if (c.Server.AccessKeyID == "") != (c.Server.SecretAccessKey == "") {
		errs = append(errs, errors.New("UPDRAFT_ACCESS_KEY_ID and UPDRAFT_SECRET_ACCESS_KEY must be set together"))
	}
	if len(c.Server.AccountID) != 12 || strings.Trim(c.Server.AccountID, "0123456789") != "" {
		errs = append(errs, fmt.Errorf("--account-id %q: want 12 digits", c.Server.AccountID))
	}
	if c.Server.Region == "" || strings.ContainsAny(c.Server.Region, " :/") {
		errs = append(errs, fmt.Errorf("--region %q: want a region name such as us-east-1", c.Server.Region))
	}
	if c.Store.DataDir == "" {
		errs = append(errs, errors.New("--data-dir must not be empty"))
	}
	if c.Store.WriteTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--store-write-timeout %s: want a positive duration", c.Store.WriteTimeout))
	}
	if c.Store.MinFreeMB < 0 {
		errs = append(errs, fmt.Errorf("--store-min-free-mb %d: want 0 or more", c.Store.MinFreeMB))
	}
	if c.Store.NatsListen != "" {
		if _, _, err := net.SplitHostPort(c.Store.NatsListen); err != nil {
			errs = append(errs, fmt.Errorf("--nats-listen %q: %w", c.Store.NatsListen, err))
		}
		if c.Store.NatsURL != "" {
			errs = append(errs, errors.New("--nats-listen and --nats-url exclude each other: only the embedded server can listen"))
		}
	}
	errs = append(errs, c.Store.validateNatsSecurity()...)
	if c.Store.Replicas < 0 || c.Store.Replicas > 5 {
		errs = append(errs, fmt.Errorf("--replicas %d: want 1 to 5, or 0 for automatic", c.Store.Replicas))
	}
	errs = append(errs, c.Store.validateCluster()...)
	if c.Store.CodePruneGrace <= 0 {
		errs = append(errs, fmt.Errorf("--code-prune-grace %s: want a positive duration", c.Store.CodePruneGrace))
	}
	if c.Server.Procs < 0 {
		errs = append(errs, fmt.Errorf("--procs %d: want 0 (default) or more", c.Server.Procs))
	}
	if c.Pool.MaxEnvironments < 1 {
		errs = append(errs, fmt.Errorf("--max-concurrency %d: want at least 1", c.Pool.MaxEnvironments))
	}
	if d := c.Pool.NodeSDKDir; d != "" && (!filepath.IsAbs(d) || !strings.HasPrefix(filepath.Clean(d)+"/", "/usr/")) {
		errs = append(errs, fmt.Errorf("--node-sdk-dir %q: want a directory under /usr, which functions see (or empty)", d))
	}
	if c.Tables.TTLInterval <= 0 {
		errs = append(errs, fmt.Errorf("--table-ttl-interval %s: want a positive duration", c.Tables.TTLInterval))
	}
	if c.Pool.IdleTTL <= 0 {
		errs = append(errs, fmt.Errorf("--idle-ttl %s: want a positive duration", c.Pool.IdleTTL))
	}
	if c.Sandbox.Zygotes < 0 || c.Sandbox.Zygotes > 64 {
		errs = append(errs, fmt.Errorf("--zygotes %d: want 0 to 64", c.Sandbox.Zygotes))
	}
	switch c.Sandbox.Isolation {
	case "auto", "full", "basic":
	default:
		errs = append(errs, fmt.Errorf("--isolation %q: want auto, full or basic", c.Sandbox.Isolation))
	}
	switch c.Server.UnknownRoles {
	case "allow", "refuse":
	default:
		errs = append(errs, fmt.Errorf("--unknown-roles %q: want allow or refuse", c.Server.UnknownRoles))
	}
	switch c.Sandbox.FunctionNetwork {
	case "auto", "egress", "isolated":
	default:
		errs = append(errs, fmt.Errorf("--function-network %q: want auto, egress or isolated", c.Sandbox.FunctionNetwork))
	}
	switch c.Sandbox.EphemeralStorage {
	case "reserved", "sparse":
	default:
		errs = append(errs, fmt.Errorf("--ephemeral-storage %q: want reserved or sparse", c.Sandbox.EphemeralStorage))
	}
	if _, err := c.Sandbox.EgressAllowPrefixes(); err != nil {
		errs = append(errs, err)
	}
	if c.Async.MaxPayloadBytes < 1 {
		errs = append(errs, fmt.Errorf("--async-max-payload %d: want a positive size", c.Async.MaxPayloadBytes))
	}
	if c.Async.RetryDelay <= 0 {
		errs = append(errs, fmt.Errorf("--async-retry-delay %s: want a positive duration", c.Async.RetryDelay))
	}
	if c.Async.AckWait < time.Second {
		errs = append(errs, fmt.Errorf("--async-ack-wait %s: want at least 1s", c.Async.AckWait))
	}
	if c.Async.ReleaseAfter < time.Second {
		errs = append(errs, fmt.Errorf("--async-release-after %s: want at least 1s", c.Async.ReleaseAfter))
	}
	if c.Queue.VisibilityTimeout < time.Second || c.Queue.VisibilityTimeout > 12*time.Hour {
		errs = append(errs, fmt.Errorf("--queue-visibility-timeout %s: want 1s to 12h (SQS's range)", c.Queue.VisibilityTimeout))
	}
	errs = append(errs, c.Logs.validate()...)
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.Log.Level))
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("--log-format %q: want text or json", c.Log.Format))
	}
	return errors.Join(errs...)
}

// TLS reports whether the API listener serves TLS.
func (s Server) TLS() bool { return s.TLSCert != "" || s.TLSSelfSigned }

// MetricsEnabled reports whether the metrics listener runs.
func (s Server) MetricsEnabled() bool { return s.MetricsListen != "" && s.MetricsListen != "off" }

// validateListeners checks the API's TLS files, that plain HTTP beyond
// loopback was asked for, the connection cap and the metrics listener.
func (s Server) validateListeners() []error {
	var errs []error
	if (s.TLSCert == "") != (s.TLSKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key must be given together"))
	}
	if s.TLSSelfSigned && s.TLSCert != "" {
		errs = append(errs, errors.New("--tls-self-signed and --tls-cert exclude each other"))
	}
	for _, f := range []struct{ flag, path string }{{"--tls-cert", s.TLSCert}, {"--tls-key", s.TLSKey}} {
		if f.path == "" {
			continue
		}
		if fi, err := os.Stat(f.path); err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", f.flag, f.path, err))
		} else if fi.IsDir() {
			errs = append(errs, fmt.Errorf("%s %s: is a directory, want a file", f.flag, f.path))
		}
	}
	// --auth none off loopback is refused on its own account.
	if _, _, err := net.SplitHostPort(s.Listen); err == nil && s.Auth != AuthNone && !s.TLS() && !s.InsecureHTTP && !IsLoopback(s.Listen) {
		errs = append(errs, fmt.Errorf("--listen %s is not a loopback address: serve TLS (--tls-cert and --tls-key, or --tls-self-signed), or pass --insecure-http to accept plain HTTP on the network", s.Listen))
	}
	if s.AuthSpoolMaxMB < 67 {
		errs = append(errs, fmt.Errorf("--auth-spool-max-mb %d: want at least 67, the largest request body (a 50 MB zip, base64-encoded in CreateFunction)", s.AuthSpoolMaxMB))
	}
	if s.MaxConnections < 0 {
		errs = append(errs, fmt.Errorf("--max-connections %d: want 0 (default) or more", s.MaxConnections))
	}
	if s.MetricsEnabled() {
		if _, _, err := net.SplitHostPort(s.MetricsListen); err != nil {
			errs = append(errs, fmt.Errorf("--metrics-listen %q: %w (or off)", s.MetricsListen, err))
		} else if !s.InsecureHTTP && !IsLoopback(s.MetricsListen) {
			errs = append(errs, fmt.Errorf("--metrics-listen %s is not a loopback address: metrics name every function and are served as plain HTTP; pass --insecure-http to expose them on the network", s.MetricsListen))
		}
	}
	return errs
}

// validateNatsSecurity checks the credential and TLS files of the NATS
// listener and of an external connection.
func (s Store) validateNatsSecurity() []error {
	var errs []error
	if (s.NatsTLSCert == "") != (s.NatsTLSKey == "") {
		errs = append(errs, errors.New("--nats-tls-cert and --nats-tls-key must be given together"))
	}
	if (s.NatsTLSCert != "" || s.NatsTLSKey != "") && s.NatsListen == "" {
		errs = append(errs, errors.New("--nats-tls-cert and --nats-tls-key configure the embedded listener: they need --nats-listen"))
	}
	if s.NatsCreds != "" && s.NatsURL == "" {
		errs = append(errs, errors.New("--nats-creds authenticates a --nats-url connection: it needs --nats-url"))
	}
	if s.NatsCA != "" && s.NatsURL == "" {
		errs = append(errs, errors.New("--nats-ca verifies a --nats-url server: it needs --nats-url"))
	}
	for _, f := range []struct{ flag, path string }{
		{"--nats-tls-cert", s.NatsTLSCert}, {"--nats-tls-key", s.NatsTLSKey},
		{"--nats-creds", s.NatsCreds}, {"--nats-ca", s.NatsCA},
	} {
		if f.path == "" {
			continue
		}
		if fi, err := os.Stat(f.path); err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", f.flag, f.path, err))
		} else if fi.IsDir() {
			errs = append(errs, fmt.Errorf("%s %s: is a directory, want a file", f.flag, f.path))
		}
	}
	return errs
}

// validateCluster checks the embedded cluster's flags.
func (s Store) validateCluster() []error {
	var errs []error
	if s.ClusterListen == "" {
		if len(s.Join) > 0 {
			errs = append(errs, errors.New("--join needs --cluster-listen: a node joins the cluster with its own route listener"))
		}
		return errs
	}
	if _, _, err := net.SplitHostPort(s.ClusterListen); err != nil {
		errs = append(errs, fmt.Errorf("--cluster-listen %q: %w", s.ClusterListen, err))
	}
	if s.NatsURL != "" {
		errs = append(errs, errors.New("--cluster-listen and --nats-url exclude each other: an external NATS is clustered by its own configuration"))
	}
	if len(s.Join) == 0 {
		errs = append(errs, errors.New("--cluster-listen needs --join with the other nodes' cluster addresses"))
	}
	for _, j := range s.Join {
		if _, port, err := net.SplitHostPort(j); err != nil {
			errs = append(errs, fmt.Errorf("--join %q: %w", j, err))
		} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			errs = append(errs, fmt.Errorf("--join %q: want host:port with a port from 1 to 65535", j))
		}
	}
	if s.ClusterName == "" || strings.ContainsAny(s.ClusterName, " \t.*>") {
		errs = append(errs, fmt.Errorf("--cluster-name %q: want a name without spaces, dots or wildcards", s.ClusterName))
	}
	if strings.ContainsAny(s.NodeName, " \t.*>") {
		errs = append(errs, fmt.Errorf("--node-name %q: want a name without spaces, dots or wildcards", s.NodeName))
	}
	if s.ClusterKey != "" {
		if fi, err := os.Stat(s.ClusterKey); err != nil {
			errs = append(errs, fmt.Errorf("--cluster-key %s: %w", s.ClusterKey, err))
		} else if fi.IsDir() {
			errs = append(errs, fmt.Errorf("--cluster-key %s: is a directory, want a file", s.ClusterKey))
		}
	}
	return errs
}

// IsLoopback reports whether a host:port address binds only loopback.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validate reports the problems of the function log settings.
func (l Logs) validate() []error {
	var errs []error
	if l.FunctionMaxBytes < minLogsFunctionMaxBytes {
		errs = append(errs, fmt.Errorf("--logs-function-max-bytes %d: want at least %d (1 MiB)", l.FunctionMaxBytes, minLogsFunctionMaxBytes))
	}
	if l.FunctionMaxMessages < minLogsFunctionMaxMessages {
		errs = append(errs, fmt.Errorf("--logs-function-max-messages %d: want at least %d", l.FunctionMaxMessages, minLogsFunctionMaxMessages))
	}
	if l.MaxAge < time.Minute {
		errs = append(errs, fmt.Errorf("--logs-max-age %s: want at least 1m", l.MaxAge))
	}
	if l.BufferBytes < minLogsBufferBytes {
		errs = append(errs, fmt.Errorf("--logs-buffer-bytes %d: want at least %d (4 MiB)", l.BufferBytes, minLogsBufferBytes))
	}
	return errs
}

package config

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// validConfig is the defaults with a fixed data dir, so that the result
// does not depend on the machine's home directory.
func validConfig() Config {
	c := Default()
	c.Store.DataDir = "/var/lib/updraft"
	return c
}

// problems splits a Validate error into its messages; nil for no error.
func problems(err error) []string {
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

func TestValidate(t *testing.T) {
	files := t.TempDir()
	pem := files + "/file.pem"
	if err := os.WriteFile(pem, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   []string
	}{
		{
			name:   "the defaults are valid",
			mutate: func(c *Config) {},
		},
		{
			name:   "auth none on a loopback listener is accepted",
			mutate: func(c *Config) { c.Server.Auth = AuthNone; c.Server.Listen = "127.0.0.1:0" },
		},
		{
			name: "auth none on localhost with NATS on IPv6 loopback is accepted",
			mutate: func(c *Config) {
				c.Server.Auth = AuthNone
				c.Server.Listen = "localhost:9321"
				c.Store.NatsListen = "[::1]:4222"
			},
		},
		{
			name: "function log budgets too small to hold a long line are refused",
			mutate: func(c *Config) {
				c.Logs = Logs{FunctionMaxBytes: 1000, FunctionMaxMessages: 10, MaxAge: time.Second, BufferBytes: 1 << 20}
			},
			want: []string{
				"--logs-function-max-bytes 1000: want at least 1048576 (1 MiB)",
				"--logs-function-max-messages 10: want at least 100",
				"--logs-max-age 1s: want at least 1m",
				"--logs-buffer-bytes 1048576: want at least 4194304 (4 MiB)",
			},
		},
		{
			name:   "a listen address without a port is refused",
			mutate: func(c *Config) { c.Server.Listen = "localhost" },
			want:   []string{`--listen "localhost": address localhost: missing port in address`},
		},
		{
			name:   "plain HTTP on every interface is refused",
			mutate: func(c *Config) { c.Server.Listen = "0.0.0.0:9321" },
			want:   []string{"--listen 0.0.0.0:9321 is not a loopback address: serve TLS (--tls-cert and --tls-key, or --tls-self-signed), or pass --insecure-http to accept plain HTTP on the network"},
		},
		{
			name:   "plain HTTP on every interface is accepted with --insecure-http",
			mutate: func(c *Config) { c.Server.Listen = "0.0.0.0:9321"; c.Server.InsecureHTTP = true },
		},
		{
			name:   "TLS on every interface needs no --insecure-http",
			mutate: func(c *Config) { c.Server.Listen = "0.0.0.0:9321"; c.Server.TLSSelfSigned = true },
		},
		{
			name: "a certificate without its key, or with the generated one, is refused",
			mutate: func(c *Config) {
				c.Server.TLSCert = os.Args[0]
				c.Server.TLSSelfSigned = true
			},
			want: []string{"--tls-cert and --tls-key must be given together", "--tls-self-signed and --tls-cert exclude each other"},
		},
		{
			name:   "metrics off loopback are refused without --insecure-http",
			mutate: func(c *Config) { c.Server.MetricsListen = "0.0.0.0:9322" },
			want:   []string{"--metrics-listen 0.0.0.0:9322 is not a loopback address: metrics name every function and are served as plain HTTP; pass --insecure-http to expose them on the network"},
		},
		{
			name:   "metrics can be turned off",
			mutate: func(c *Config) { c.Server.MetricsListen = "off" },
		},
		{
			name:   "auth none on every interface is refused",
			mutate: func(c *Config) { c.Server.Auth = AuthNone; c.Server.Listen = "0.0.0.0:9321" },
			want:   []string{"--auth none is refused: --listen 0.0.0.0:9321 is not a loopback address"},
		},
		{
			name:   "auth none on an empty host (every interface) is refused",
			mutate: func(c *Config) { c.Server.Auth = AuthNone; c.Server.Listen = ":9321" },
			want:   []string{"--auth none is refused: --listen :9321 is not a loopback address"},
		},
		{
			name: "auth none with NATS exposed on every interface is refused",
			mutate: func(c *Config) {
				c.Server.Auth = AuthNone
				c.Store.NatsListen = "0.0.0.0:4222"
			},
			want: []string{"--auth none is refused: --nats-listen 0.0.0.0:4222 is not a loopback address"},
		},
		{
			name:   "sigv4 with NATS exposed on every interface is accepted",
			mutate: func(c *Config) { c.Store.NatsListen = "0.0.0.0:4222" },
		},
		{
			name:   "an unknown auth mode is refused",
			mutate: func(c *Config) { c.Server.Auth = "basic" },
			want:   []string{`--auth "basic": want sigv4 or none`},
		},
		{
			name:   "auth modes are case-sensitive",
			mutate: func(c *Config) { c.Server.Auth = "SigV4" },
			want:   []string{`--auth "SigV4": want sigv4 or none`},
		},
		{
			name:   "a debug listener on loopback is accepted",
			mutate: func(c *Config) { c.Server.DebugListen = "127.0.0.1:6060" },
		},
		{
			name:   "a debug listener off loopback is refused",
			mutate: func(c *Config) { c.Server.DebugListen = "0.0.0.0:6060" },
			want:   []string{"--debug-listen 0.0.0.0:6060: profiles are served on loopback only"},
		},
		{
			name:   "a debug listener without a port is refused",
			mutate: func(c *Config) { c.Server.DebugListen = "127.0.0.1" },
			want:   []string{"--debug-listen 127.0.0.1: profiles are served on loopback only"},
		},
		{
			name:   "an access key id without a secret is refused",
			mutate: func(c *Config) { c.Server.AccessKeyID = "AKIDEXAMPLE" },
			want:   []string{"UPDRAFT_ACCESS_KEY_ID and UPDRAFT_SECRET_ACCESS_KEY must be set together"},
		},
		{
			name:   "a secret without an access key id is refused",
			mutate: func(c *Config) { c.Server.SecretAccessKey = "secret" },
			want:   []string{"UPDRAFT_ACCESS_KEY_ID and UPDRAFT_SECRET_ACCESS_KEY must be set together"},
		},
		{
			name: "an access key id with its secret is accepted",
			mutate: func(c *Config) {
				c.Server.AccessKeyID = "AKIDEXAMPLE"
				c.Server.SecretAccessKey = "secret"
			},
		},
		{
			name:   "an account id of 11 digits is refused",
			mutate: func(c *Config) { c.Server.AccountID = "12345678901" },
			want:   []string{`--account-id "12345678901": want 12 digits`},
		},
		{
			name:   "an account id of 13 digits is refused",
			mutate: func(c *Config) { c.Server.AccountID = "1234567890123" },
			want:   []string{`--account-id "1234567890123": want 12 digits`},
		},
		{
			name:   "an account id with a letter is refused",
			mutate: func(c *Config) { c.Server.AccountID = "12345678901a" },
			want:   []string{`--account-id "12345678901a": want 12 digits`},
		},
		{
			name:   "a 12-digit account id is accepted",
			mutate: func(c *Config) { c.Server.AccountID = "123456789012" },
		},
		{
			name:   "an empty region is refused",
			mutate: func(c *Config) { c.Server.Region = "" },
			want:   []string{`--region "": want a region name such as us-east-1`},
		},
		{
			name:   "a region with a colon is refused (it would break ARNs)",
			mutate: func(c *Config) { c.Server.Region = "us-east-1:x" },
			want:   []string{`--region "us-east-1:x": want a region name such as us-east-1`},
		},
		{
			name:   "a region with a space is refused",
			mutate: func(c *Config) { c.Server.Region = "us east" },
			want:   []string{`--region "us east": want a region name such as us-east-1`},
		},
		{
			name:   "a region with a slash is refused",
			mutate: func(c *Config) { c.Server.Region = "eu/west" },
			want:   []string{`--region "eu/west": want a region name such as us-east-1`},
		},
		{
			name:   "an empty data dir is refused",
			mutate: func(c *Config) { c.Store.DataDir = "" },
			want:   []string{"--data-dir must not be empty"},
		},
		{
			name:   "a NATS listen address without a port is refused",
			mutate: func(c *Config) { c.Store.NatsListen = "nats" },
			want:   []string{`--nats-listen "nats": address nats: missing port in address`},
		},
		{
			name: "a NATS listen address with an external NATS URL is refused",
			mutate: func(c *Config) {
				c.Store.NatsListen = "127.0.0.1:4222"
				c.Store.NatsURL = "nats://10.0.0.1:4222"
			},
			want: []string{"--nats-listen and --nats-url exclude each other: only the embedded server can listen"},
		},
		{
			name: "a NATS listener with a certificate and key is accepted",
			mutate: func(c *Config) {
				c.Store.NatsListen = "0.0.0.0:4222"
				c.Store.NatsTLSCert, c.Store.NatsTLSKey = pem, pem
			},
		},
		{
			name: "a NATS certificate without its key is refused",
			mutate: func(c *Config) {
				c.Store.NatsListen = "0.0.0.0:4222"
				c.Store.NatsTLSCert = pem
			},
			want: []string{"--nats-tls-cert and --nats-tls-key must be given together"},
		},
		{
			name:   "a NATS certificate without a listener is refused",
			mutate: func(c *Config) { c.Store.NatsTLSCert, c.Store.NatsTLSKey = pem, pem },
			want:   []string{"--nats-tls-cert and --nats-tls-key configure the embedded listener: they need --nats-listen"},
		},
		{
			name: "an external NATS URL with credentials and a CA is accepted",
			mutate: func(c *Config) {
				c.Store.NatsURL = "tls://10.0.0.1:4222"
				c.Store.NatsCreds, c.Store.NatsCA = pem, pem
			},
		},
		{
			name:   "NATS credentials and a CA without a NATS URL are refused",
			mutate: func(c *Config) { c.Store.NatsCreds, c.Store.NatsCA = pem, pem },
			want: []string{
				"--nats-creds authenticates a --nats-url connection: it needs --nats-url",
				"--nats-ca verifies a --nats-url server: it needs --nats-url",
			},
		},
		{
			name: "missing NATS credential and CA files are refused",
			mutate: func(c *Config) {
				c.Store.NatsURL = "tls://10.0.0.1:4222"
				c.Store.NatsCreds, c.Store.NatsCA = files+"/none.creds", files
			},
			want: []string{
				"--nats-creds " + files + "/none.creds: stat " + files + "/none.creds: no such file or directory",
				"--nats-ca " + files + ": is a directory, want a file",
			},
		},
		{
			name:   "an external NATS URL alone is accepted",
			mutate: func(c *Config) { c.Store.NatsURL = "nats://10.0.0.1:4222" },
		},
		{
			name:   "negative replicas are refused",
			mutate: func(c *Config) { c.Store.Replicas = -1 },
			want:   []string{"--replicas -1: want 1 to 5, or 0 for automatic"},
		},
		{
			name:   "zero replicas (automatic) are accepted",
			mutate: func(c *Config) { c.Store.Replicas = 0 },
		},
		{
			name: "a cluster listener with seeds is accepted",
			mutate: func(c *Config) {
				c.Store.ClusterListen = "127.0.0.1:6222"
				c.Store.Join = []string{"10.0.0.2:6222", "10.0.0.3:6222"}
			},
		},
		{
			name:   "a cluster listener without seeds is refused",
			mutate: func(c *Config) { c.Store.ClusterListen = "127.0.0.1:6222" },
			want:   []string{"--cluster-listen needs --join with the other nodes' cluster addresses"},
		},
		{
			name:   "seeds without a cluster listener are refused",
			mutate: func(c *Config) { c.Store.Join = []string{"10.0.0.2:6222"} },
			want:   []string{"--join needs --cluster-listen: a node joins the cluster with its own route listener"},
		},
		{
			name: "bad cluster flags are refused",
			mutate: func(c *Config) {
				c.Store.ClusterListen = "6222"
				c.Store.Join = []string{"10.0.0.2", "h:0"}
				c.Store.ClusterName = "a.b"
				c.Store.NodeName = "n 1"
				c.Store.NatsURL = "nats://10.0.0.1:4222"
			},
			want: []string{
				`--cluster-listen "6222": address 6222: missing port in address`,
				"--cluster-listen and --nats-url exclude each other: an external NATS is clustered by its own configuration",
				`--join "10.0.0.2": address 10.0.0.2: missing port in address`,
				`--join "h:0": want host:port with a port from 1 to 65535`,
				`--cluster-name "a.b": want a name without spaces, dots or wildcards`,
				`--node-name "n 1": want a name without spaces, dots or wildcards`,
			},
		},
		{
			name: "auth none with a cluster listener off loopback is refused",
			mutate: func(c *Config) {
				c.Server.Auth = AuthNone
				c.Store.ClusterListen = "10.0.0.1:6222"
				c.Store.Join = []string{"10.0.0.2:6222"}
			},
			want: []string{"--auth none is refused: --cluster-listen 10.0.0.1:6222 is not a loopback address"},
		},
		{
			name:   "six replicas are refused",
			mutate: func(c *Config) { c.Store.Replicas = 6 },
			want:   []string{"--replicas 6: want 1 to 5, or 0 for automatic"},
		},
		{
			name:   "five replicas are accepted",
			mutate: func(c *Config) { c.Store.Replicas = 5 },
		},
		{
			name:   "a concurrency limit of zero is refused",
			mutate: func(c *Config) { c.Pool.MaxEnvironments = 0 },
			want:   []string{"--max-concurrency 0: want at least 1"},
		},
		{
			name:   "a concurrency limit of one is accepted",
			mutate: func(c *Config) { c.Pool.MaxEnvironments = 1 },
		},
		{
			name:   "a Node SDK dir outside /usr is refused: the sandbox would not show it",
			mutate: func(c *Config) { c.Pool.NodeSDKDir = "/opt/sdk" },
			want:   []string{`--node-sdk-dir "/opt/sdk": want a directory under /usr, which functions see (or empty)`},
		},
		{
			name:   "a relative Node SDK dir is refused",
			mutate: func(c *Config) { c.Pool.NodeSDKDir = "usr/lib/sdk" },
			want:   []string{`--node-sdk-dir "usr/lib/sdk": want a directory under /usr, which functions see (or empty)`},
		},
		{
			name:   "no Node SDK dir is accepted",
			mutate: func(c *Config) { c.Pool.NodeSDKDir = "" },
		},
		{
			name:   "a zero idle TTL is refused",
			mutate: func(c *Config) { c.Pool.IdleTTL = 0 },
			want:   []string{"--idle-ttl 0s: want a positive duration"},
		},
		{
			name:   "a negative idle TTL is refused",
			mutate: func(c *Config) { c.Pool.IdleTTL = -time.Second },
			want:   []string{"--idle-ttl -1s: want a positive duration"},
		},
		{
			name:   "a zero code prune grace is refused",
			mutate: func(c *Config) { c.Store.CodePruneGrace = 0 },
			want:   []string{"--code-prune-grace 0s: want a positive duration"},
		},
		{
			name:   "a short code prune grace is accepted",
			mutate: func(c *Config) { c.Store.CodePruneGrace = time.Second },
		},
		{
			name:   "an unknown isolation level is refused",
			mutate: func(c *Config) { c.Sandbox.Isolation = "none" },
			want:   []string{`--isolation "none": want auto, full or basic`},
		},
		{
			name:   "basic isolation is accepted",
			mutate: func(c *Config) { c.Sandbox.Isolation = "basic" },
		},
		{
			name:   "full isolation is accepted",
			mutate: func(c *Config) { c.Sandbox.Isolation = "full" },
		},
		{
			name:   "a zero async payload limit is refused",
			mutate: func(c *Config) { c.Async.MaxPayloadBytes = 0 },
			want:   []string{"--async-max-payload 0: want a positive size"},
		},
		{
			name:   "a zero async retry delay is refused",
			mutate: func(c *Config) { c.Async.RetryDelay = 0 },
			want:   []string{"--async-retry-delay 0s: want a positive duration"},
		},
		{
			name:   "an async release period under a second is refused",
			mutate: func(c *Config) { c.Async.ReleaseAfter = 500 * time.Millisecond },
			want:   []string{"--async-release-after 500ms: want at least 1s"},
		},
		{
			name:   "an unknown log level is refused",
			mutate: func(c *Config) { c.Log.Level = "trace" },
			want:   []string{`--log-level "trace": want debug, info, warn or error`},
		},
		{
			name:   "each documented log level is accepted",
			mutate: func(c *Config) { c.Log.Level = "debug" },
		},
		{
			name:   "an unknown log format is refused",
			mutate: func(c *Config) { c.Log.Format = "xml" },
			want:   []string{`--log-format "xml": want text or json`},
		},
		{
			name:   "the json log format is accepted",
			mutate: func(c *Config) { c.Log.Format = "json" },
		},
		{
			name: "a listen address without a port under auth none reports both problems",
			mutate: func(c *Config) {
				c.Server.Auth = AuthNone
				c.Server.Listen = "localhost"
			},
			want: []string{
				`--listen "localhost": address localhost: missing port in address`,
				"--auth none is refused: --listen localhost is not a loopback address",
			},
		},
		{
			name: "every problem is reported at once, in a stable order",
			mutate: func(c *Config) {
				c.Server.Listen = "0.0.0.0"
				c.Server.Auth = "token"
				c.Server.DebugListen = "10.0.0.1:6060"
				c.Server.AccessKeyID = "AKIDEXAMPLE"
				c.Server.AccountID = "42"
				c.Server.Region = ""
				c.Store.DataDir = ""
				c.Store.NatsListen = "nats"
				c.Store.NatsURL = "nats://10.0.0.1:4222"
				c.Store.Replicas = 9
				c.Pool.MaxEnvironments = -1
				c.Pool.IdleTTL = 0
				c.Sandbox.Isolation = ""
				c.Async.MaxPayloadBytes = -5
				c.Async.RetryDelay = -time.Minute
				c.Log.Level = ""
				c.Log.Format = "yaml"
			},
			want: []string{
				`--listen "0.0.0.0": address 0.0.0.0: missing port in address`,
				`--auth "token": want sigv4 or none`,
				"--debug-listen 10.0.0.1:6060: profiles are served on loopback only",
				"UPDRAFT_ACCESS_KEY_ID and UPDRAFT_SECRET_ACCESS_KEY must be set together",
				`--account-id "42": want 12 digits`,
				`--region "": want a region name such as us-east-1`,
				"--data-dir must not be empty",
				`--nats-listen "nats": address nats: missing port in address`,
				"--nats-listen and --nats-url exclude each other: only the embedded server can listen",
				"--replicas 9: want 1 to 5, or 0 for automatic",
				"--max-concurrency -1: want at least 1",
				"--idle-ttl 0s: want a positive duration",
				`--isolation "": want auto, full or basic`,
				"--async-max-payload -5: want a positive size",
				"--async-retry-delay -1m0s: want a positive duration",
				`--log-level "": want debug, info, warn or error`,
				`--log-format "yaml": want text or json`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.mutate(&c)
			got := problems(c.Validate())
			if !slices.Equal(got, tc.want) {
				t.Errorf("Validate problems:\n got  %q\n want %q", got, tc.want)
			}
		})
	}
}

func TestDefault(t *testing.T) {
	c := Default()
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", c.Server.Listen, "127.0.0.1:9321"},
		{"region", c.Server.Region, "us-east-1"},
		{"account id", c.Server.AccountID, "000000000000"},
		{"auth", c.Server.Auth, AuthSigV4},
		{"shutdown grace", c.Server.ShutdownGrace, 30 * time.Second},
		{"replicas (automatic)", c.Store.Replicas, 0},
		{"cluster name", c.Store.ClusterName, "updraft"},
		{"code prune grace", c.Store.CodePruneGrace, 15 * time.Minute},
		{"idle ttl", c.Pool.IdleTTL, 10 * time.Minute},
		{"max environments", c.Pool.MaxEnvironments, 1000},
		{"init timeout", c.Pool.InitTimeout, 10 * time.Second},
		{"isolation", c.Sandbox.Isolation, "auto"},
		{"async max payload", c.Async.MaxPayloadBytes, 1 << 20},
		{"async retry delay", c.Async.RetryDelay, time.Minute},
		{"record ttl", c.Async.RecordTTL, 12 * time.Hour},
		{"async release after", c.Async.ReleaseAfter, 5 * time.Minute},
		{"function log bytes", c.Logs.FunctionMaxBytes, 64 << 20},
		{"function log messages", c.Logs.FunctionMaxMessages, 100_000},
		{"function log age", c.Logs.MaxAge, 7 * 24 * time.Hour},
		{"function log buffer", c.Logs.BufferBytes, 16 << 20},
		{"log level", c.Log.Level, "info"},
		{"log format", c.Log.Format, "text"},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("Default %s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
}

func TestDefaultDataDir(t *testing.T) {
	t.Run("XDG_DATA_HOME wins", func(t *testing.T) {
		t.Setenv("XDG_DATA_HOME", "/xdg")
		t.Setenv("HOME", "/home/someone")
		if got, want := DefaultDataDir(), "/xdg/updraft"; got != want {
			t.Errorf("DefaultDataDir() = %q, want %q", got, want)
		}
	})
	t.Run("else the home directory", func(t *testing.T) {
		t.Setenv("XDG_DATA_HOME", "")
		t.Setenv("HOME", "/home/someone")
		if got, want := DefaultDataDir(), "/home/someone/.local/share/updraft"; got != want {
			t.Errorf("DefaultDataDir() = %q, want %q", got, want)
		}
	})
}

// binding is one flag of BindServerFlags with its environment variable, a
// value to set and how to read the field it fills.
type binding struct {
	flag, env string
	value     string // a valid value different from the default
	other     string // another valid value, for the flag-beats-env case
	get       func(c *Config) string
}

var bindings = []binding{
	{"listen", "UPDRAFT_LISTEN", "127.0.0.1:1", "127.0.0.1:2", func(c *Config) string { return c.Server.Listen }},
	{"data-dir", "UPDRAFT_DATA_DIR", "/env/data", "/flag/data", func(c *Config) string { return c.Store.DataDir }},
	{"nats-url", "UPDRAFT_NATS_URL", "nats://a:4222", "nats://b:4222", func(c *Config) string { return c.Store.NatsURL }},
	{"nats-listen", "UPDRAFT_NATS_LISTEN", "127.0.0.1:4222", "127.0.0.1:4223", func(c *Config) string { return c.Store.NatsListen }},
	{"nats-tls-cert", "UPDRAFT_NATS_TLS_CERT", "/env/cert.pem", "/flag/cert.pem", func(c *Config) string { return c.Store.NatsTLSCert }},
	{"nats-tls-key", "UPDRAFT_NATS_TLS_KEY", "/env/key.pem", "/flag/key.pem", func(c *Config) string { return c.Store.NatsTLSKey }},
	{"nats-creds", "UPDRAFT_NATS_CREDS", "/env/nats.creds", "/flag/nats.creds", func(c *Config) string { return c.Store.NatsCreds }},
	{"nats-ca", "UPDRAFT_NATS_CA", "/env/ca.pem", "/flag/ca.pem", func(c *Config) string { return c.Store.NatsCA }},
	{"replicas", "UPDRAFT_REPLICAS", "3", "5", func(c *Config) string { return fmt.Sprint(c.Store.Replicas) }},
	{"code-prune-grace", "UPDRAFT_CODE_PRUNE_GRACE", "2s", "1h0m0s", func(c *Config) string { return c.Store.CodePruneGrace.String() }},
	{"debug-listen", "UPDRAFT_DEBUG_LISTEN", "127.0.0.1:6060", "127.0.0.1:6061", func(c *Config) string { return c.Server.DebugListen }},
	{"region", "UPDRAFT_REGION", "eu-west-1", "ap-south-1", func(c *Config) string { return c.Server.Region }},
	{"account-id", "UPDRAFT_ACCOUNT_ID", "111111111111", "222222222222", func(c *Config) string { return c.Server.AccountID }},
	{"auth", "UPDRAFT_AUTH", "none", "sigv4", func(c *Config) string { return c.Server.Auth }},
	{"shutdown-grace", "UPDRAFT_SHUTDOWN_GRACE", "5s", "1m0s", func(c *Config) string { return c.Server.ShutdownGrace.String() }},
	{"freeze-delay", "UPDRAFT_FREEZE_DELAY", "10ms", "0s", func(c *Config) string { return c.Pool.FreezeDelay.String() }},
	{"node-sdk-dir", "UPDRAFT_NODE_SDK_DIR", "/usr/lib/env-sdk", "/usr/lib/flag-sdk", func(c *Config) string { return c.Pool.NodeSDKDir }},
	{"idle-ttl", "UPDRAFT_IDLE_TTL", "1m0s", "2h0m0s", func(c *Config) string { return c.Pool.IdleTTL.String() }},
	{"max-concurrency", "UPDRAFT_MAX_CONCURRENCY", "10", "20", func(c *Config) string { return fmt.Sprint(c.Pool.MaxEnvironments) }},
	{"isolation", "UPDRAFT_ISOLATION", "basic", "full", func(c *Config) string { return c.Sandbox.Isolation }},
	{"async-max-payload", "UPDRAFT_ASYNC_MAX_PAYLOAD", "262144", "524288", func(c *Config) string { return fmt.Sprint(c.Async.MaxPayloadBytes) }},
	{"async-retry-delay", "UPDRAFT_ASYNC_RETRY_DELAY", "2s", "3s", func(c *Config) string { return c.Async.RetryDelay.String() }},
	{"async-release-after", "UPDRAFT_ASYNC_RELEASE_AFTER", "2s", "1m0s", func(c *Config) string { return c.Async.ReleaseAfter.String() }},
	{"record-ttl", "UPDRAFT_RECORD_TTL", "1h0m0s", "24h0m0s", func(c *Config) string { return c.Async.RecordTTL.String() }},
	{"queue-visibility-timeout", "UPDRAFT_QUEUE_VISIBILITY_TIMEOUT", "2s", "1m0s", func(c *Config) string { return c.Queue.VisibilityTimeout.String() }},
	{"logs-function-max-bytes", "UPDRAFT_LOGS_FUNCTION_MAX_BYTES", "2097152", "4194304", func(c *Config) string { return fmt.Sprint(c.Logs.FunctionMaxBytes) }},
	{"logs-function-max-messages", "UPDRAFT_LOGS_FUNCTION_MAX_MESSAGES", "500", "1000", func(c *Config) string { return fmt.Sprint(c.Logs.FunctionMaxMessages) }},
	{"logs-max-age", "UPDRAFT_LOGS_MAX_AGE", "1h0m0s", "24h0m0s", func(c *Config) string { return c.Logs.MaxAge.String() }},
	{"logs-buffer-bytes", "UPDRAFT_LOGS_BUFFER_BYTES", "8388608", "33554432", func(c *Config) string { return fmt.Sprint(c.Logs.BufferBytes) }},
	{"log-level", "UPDRAFT_LOG_LEVEL", "debug", "error", func(c *Config) string { return c.Log.Level }},
	{"log-format", "UPDRAFT_LOG_FORMAT", "json", "text", func(c *Config) string { return c.Log.Format }},
}

// clearEnv unsets every UPDRAFT_* variable for the test; t.Setenv
// restores them afterwards.
func clearEnv(t *testing.T) {
	t.Helper()
	keys := []string{"UPDRAFT_ACCESS_KEY_ID", "UPDRAFT_SECRET_ACCESS_KEY"}
	for _, b := range bindings {
		keys = append(keys, b.env)
	}
	for _, k := range keys {
		t.Setenv(k, "")
		if err := os.Unsetenv(k); err != nil {
			t.Fatal(err)
		}
	}
}

// bind registers the server flags on a fresh FlagSet over the defaults and
// parses args.
func bind(t *testing.T, args ...string) Config {
	t.Helper()
	cfg := Default()
	fs := pflag.NewFlagSet("server", pflag.ContinueOnError)
	BindServerFlags(fs, &cfg)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("Parse(%q): %v", args, err)
	}
	return cfg
}

func TestBindServerFlagsPrecedence(t *testing.T) {
	def := Default()
	for _, b := range bindings {
		t.Run(b.flag, func(t *testing.T) {
			if b.get(&def) == b.value || b.value == b.other {
				t.Fatalf("test values of --%s must differ from the default %q and each other", b.flag, b.get(&def))
			}
			t.Run("the default applies without env or flag", func(t *testing.T) {
				clearEnv(t)
				cfg := bind(t)
				if got, want := b.get(&cfg), b.get(&def); got != want {
					t.Errorf("--%s = %q, want the default %q", b.flag, got, want)
				}
			})
			t.Run("the environment overrides the default", func(t *testing.T) {
				clearEnv(t)
				t.Setenv(b.env, b.value)
				cfg := bind(t)
				if got := b.get(&cfg); got != b.value {
					t.Errorf("with %s=%s: --%s = %q, want %q", b.env, b.value, b.flag, got, b.value)
				}
			})
			t.Run("an empty environment value keeps the default", func(t *testing.T) {
				clearEnv(t)
				t.Setenv(b.env, "")
				cfg := bind(t)
				if got, want := b.get(&cfg), b.get(&def); got != want {
					t.Errorf("with %s empty: --%s = %q, want the default %q", b.env, b.flag, got, want)
				}
			})
			t.Run("the flag overrides the environment", func(t *testing.T) {
				clearEnv(t)
				t.Setenv(b.env, b.value)
				cfg := bind(t, "--"+b.flag+"="+b.other)
				if got := b.get(&cfg); got != b.other {
					t.Errorf("with %s=%s and --%s=%s: got %q, want the flag's %q", b.env, b.value, b.flag, b.other, got, b.other)
				}
			})
			t.Run("the usage names the environment variable", func(t *testing.T) {
				clearEnv(t)
				cfg := Default()
				fs := pflag.NewFlagSet("server", pflag.ContinueOnError)
				BindServerFlags(fs, &cfg)
				f := fs.Lookup(b.flag)
				if f == nil {
					t.Fatalf("flag --%s is not registered", b.flag)
				}
				if want := "(env " + b.env + ")"; !strings.HasSuffix(f.Usage, want) {
					t.Errorf("usage of --%s = %q, want it to end in %q", b.flag, f.Usage, want)
				}
			})
		})
	}
}

func TestBindServerFlagsCredentialsComeFromTheEnvironmentOnly(t *testing.T) {
	clearEnv(t)
	t.Setenv("UPDRAFT_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("UPDRAFT_SECRET_ACCESS_KEY", "wJalrXUtnFEMI")
	cfg := Default()
	fs := pflag.NewFlagSet("server", pflag.ContinueOnError)
	BindServerFlags(fs, &cfg)
	if cfg.Server.AccessKeyID != "AKIDEXAMPLE" || cfg.Server.SecretAccessKey != "wJalrXUtnFEMI" {
		t.Errorf("credentials = %q/%q, want AKIDEXAMPLE/wJalrXUtnFEMI", cfg.Server.AccessKeyID, cfg.Server.SecretAccessKey)
	}
	for _, name := range []string{"access-key-id", "secret-access-key"} {
		if fs.Lookup(name) != nil {
			t.Errorf("--%s is registered; secrets must not be taken on the command line", name)
		}
	}
}

func TestBindServerFlagsRejectsBadFlagValues(t *testing.T) {
	clearEnv(t)
	for _, args := range [][]string{
		{"--replicas=three"},
		{"--idle-ttl=10"},
		{"--max-concurrency=1.5"},
	} {
		cfg := Default()
		fs := pflag.NewFlagSet("server", pflag.ContinueOnError)
		fs.SetOutput(new(strings.Builder))
		BindServerFlags(fs, &cfg)
		if err := fs.Parse(args); err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", args)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:9321", true},
		{"127.0.0.1:0", true},
		{"127.8.9.10:80", true},
		{"[::1]:9321", true},
		{"localhost:9321", true},
		{"[::ffff:127.0.0.1]:80", true},
		{"0.0.0.0:9321", false},
		{"[::]:9321", false},
		{":9321", false},
		{"10.0.0.1:9321", false},
		{"192.168.1.10:80", false},
		{"example.com:80", false},
		{"localhost.example.com:80", false},
		{"127.0.0.1", false}, // no port: not a listen address
		{"localhost", false},
		{"", false},
		{"[::1]", false},
	}
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			if got := IsLoopback(tc.addr); got != tc.want {
				t.Errorf("IsLoopback(%q) = %v, want %v", tc.addr, got, tc.want)
			}
		})
	}
}

// A malformed UPDRAFT_* number or duration must not be dropped silently
// (leaving the default in force) nor half-read ("3x" as 3): Validate
// reports it beside every other problem, as a bad flag value is refused.
func TestBindServerFlagsReportsMalformedEnvironmentValues(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{
			name: "well-formed values are accepted",
			env:  map[string]string{"UPDRAFT_REPLICAS": "3", "UPDRAFT_IDLE_TTL": "90s", "UPDRAFT_MAX_CONCURRENCY": "-1"},
			want: []string{"--max-concurrency -1: want at least 1"},
		},
		{
			name: "a duration without a unit is refused",
			env:  map[string]string{"UPDRAFT_IDLE_TTL": "10"},
			want: []string{`UPDRAFT_IDLE_TTL "10": want a duration such as 30s or 10m`},
		},
		{
			name: "a number with trailing garbage is refused, not read as its prefix",
			env:  map[string]string{"UPDRAFT_REPLICAS": "3x"},
			want: []string{`UPDRAFT_REPLICAS "3x": want a whole number`},
		},
		{
			name: "a fractional number is refused, not truncated",
			env:  map[string]string{"UPDRAFT_ASYNC_MAX_PAYLOAD": "12.5"},
			want: []string{`UPDRAFT_ASYNC_MAX_PAYLOAD "12.5": want a whole number`},
		},
		{
			name: "two numbers separated by a space are refused",
			env:  map[string]string{"UPDRAFT_MAX_CONCURRENCY": "10 20"},
			want: []string{`UPDRAFT_MAX_CONCURRENCY "10 20": want a whole number`},
		},
		{
			name: "environment problems come first, then the others",
			env: map[string]string{
				"UPDRAFT_SHUTDOWN_GRACE":    "soon",
				"UPDRAFT_ASYNC_RETRY_DELAY": "1 minute",
				"UPDRAFT_LOG_LEVEL":         "loud",
			},
			want: []string{
				`UPDRAFT_SHUTDOWN_GRACE "soon": want a duration such as 30s or 10m`,
				`UPDRAFT_ASYNC_RETRY_DELAY "1 minute": want a duration such as 30s or 10m`,
				`--log-level "loud": want debug, info, warn or error`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cfg := bind(t)
			cfg.Store.DataDir = "/var/lib/updraft"
			if got := problems(cfg.Validate()); !slices.Equal(got, tc.want) {
				t.Errorf("Validate problems:\n got  %q\n want %q", got, tc.want)
			}
		})
	}
	t.Run("a flag given on the command line replaces a malformed environment value", func(t *testing.T) {
		clearEnv(t)
		t.Setenv("UPDRAFT_REPLICAS", "3x")
		cfg := bind(t, "--replicas=3")
		cfg.Store.DataDir = "/var/lib/updraft"
		if err := cfg.Validate(); err != nil {
			t.Errorf("Validate: %v, want nil: the flag overrides the environment", err)
		}
		if cfg.Store.Replicas != 3 {
			t.Errorf("replicas = %d, want 3", cfg.Store.Replicas)
		}
	})
}

package store

import (
	"context"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/updraft/updraft/internal/certgen"
	"github.com/updraft/updraft/internal/config"
	"github.com/updraft/updraft/internal/testutil"
)

// TestClusterRoutesOffLoopback forms a two-node cluster of embedded
// stores on a non-loopback address: the routes use the shared key and
// mutual TLS from the CA beside it, and a server that dials a node's
// route port with the right key but no certificate, or without the key,
// is never routed.
func TestClusterRoutesOffLoopback(t *testing.T) {
	ip := nonLoopbackIPv4(t)
	var seeds []string
	for range 2 {
		ln, err := net.Listen("tcp", ip+":0")
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, ln.Addr().String())
		ln.Close()
	}
	keyDir := t.TempDir()
	keyPath := filepath.Join(keyDir, ClusterKeyFile)
	secret := "0123456789abcdef0123456789abcdef"
	if err := os.WriteFile(keyPath, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The CA the first node would generate, made up front so that the
	// two nodes started at once do not both make one.
	if _, err := certgen.EnsurePeer(keyDir, t.TempDir(), clusterPrefix, "updraft cluster", []string{ip}, time.Now()); err != nil {
		t.Fatal(err)
	}
	logger := testutil.Logger(t, slog.LevelWarn)
	stores := make([]*Store, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			stores[i], errs[i] = Open(ctx, config.Store{DataDir: t.TempDir(), ClusterListen: seeds[i], Join: seeds,
				ClusterKey: keyPath, ClusterName: "updraft", WriteTimeout: 5 * time.Second}, logger)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	cs := stores[0].Cluster()
	if cs == nil || cs.Size != 2 || cs.Leader == "" || len(cs.Routes) != 1 || stores[0].Replicas() != 2 {
		t.Fatalf("cluster as node 0 sees it: %+v, replicas %d; want 2 nodes, a leader, 1 route, 2 replicas", cs, stores[0].Replicas())
	}
	if stores[0].cluster.caFile != filepath.Join(keyDir, "cluster-ca.pem") {
		t.Fatalf("routes off loopback use CA %q, want the one beside the key", stores[0].cluster.caFile)
	}

	for _, tc := range []struct {
		name, password string
		withCert       bool
	}{
		{"the key without a certificate", secret, false},
		{"a certificate from the cluster CA but a wrong key", "not-the-cluster-key-at-all", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host, port, _ := net.SplitHostPort(seeds[0])
			p, _ := strconv.Atoi(port)
			opts := &server.Options{ServerName: "intruder", DontListen: true, NoSigs: true,
				Cluster: server.ClusterOpts{Name: "updraft", Host: "127.0.0.1", Port: server.RANDOM_PORT},
				Routes: []*url.URL{{Scheme: "nats-route", Host: net.JoinHostPort(host, strconv.Itoa(p)),
					User: url.UserPassword(routeUser, tc.password)}}}
			// DontListen would keep routing off (it waits for the client
			// listener): listen on loopback instead.
			opts.DontListen, opts.Host, opts.Port = false, "127.0.0.1", server.RANDOM_PORT
			if tc.withCert {
				tc, _, err := peerTLS(keyDir, t.TempDir(), clusterPrefix, "updraft cluster", []string{"127.0.0.1"}, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				tc.InsecureSkipVerify = true // the intruder need not check the node; the node checks it
				opts.Cluster.TLSConfig, opts.Cluster.TLSTimeout = tc, 5
			}
			ns, err := server.NewServer(opts)
			if err != nil {
				t.Fatal(err)
			}
			ns.Start()
			defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
			if !ns.ReadyForConnections(10 * time.Second) {
				t.Fatal("intruder not ready")
			}
			// Routes are retried every second; three tries are refused.
			deadline := time.Now().Add(3 * time.Second)
			for time.Now().Before(deadline) {
				if n := ns.NumRoutes(); n != 0 {
					t.Fatalf("a server with %s was routed (%d routes)", tc.name, n)
				}
				if n := len(stores[0].Cluster().Routes); n != 1 {
					t.Fatalf("node 0 has %d routes, want only its peer", n)
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
}

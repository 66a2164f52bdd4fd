package store

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/updraft/updraft/internal/config"
	"github.com/updraft/updraft/internal/testutil"
)

// TestExternalClusterWithSeveralURLs opens the store on an external
// three-server NATS cluster (nats-server from the Go module, an nkey
// user required) named by three comma-separated URLs with --replicas 3:
// the objects get three replicas, and writes go on after the server the
// store is connected to shuts down.
func TestExternalClusterWithSeveralURLs(t *testing.T) {
	credsPath, pub, _, err := loadOrCreateCreds(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var routePorts []int
	for range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		routePorts = append(routePorts, ln.Addr().(*net.TCPAddr).Port)
		ln.Close()
	}
	var routes []*url.URL
	for _, p := range routePorts {
		routes = append(routes, &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", p)})
	}
	servers := make([]*server.Server, 3)
	var urls []string
	for i := range servers {
		opts := &server.Options{ServerName: fmt.Sprintf("ext-%d", i), Host: "127.0.0.1", Port: server.RANDOM_PORT,
			JetStream: true, StoreDir: t.TempDir(), NoSigs: true, MaxPayload: MinMaxPayload,
			Nkeys:   []*server.NkeyUser{{Nkey: pub}},
			Cluster: server.ClusterOpts{Name: "ext", Host: "127.0.0.1", Port: routePorts[i]},
			Routes:  routes}
		ns, err := server.NewServer(opts)
		if err != nil {
			t.Fatal(err)
		}
		ns.Start()
		t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
		servers[i] = ns
	}
	for _, ns := range servers {
		if !ns.ReadyForConnections(30 * time.Second) {
			t.Fatal("external nats-server not ready")
		}
		urls = append(urls, ns.ClientURL())
	}
	testutil.WaitFor(t, 30*time.Second, func() error {
		for _, ns := range servers {
			if ns.JetStreamIsLeader() {
				return nil
			}
		}
		return fmt.Errorf("no JetStream meta leader yet")
	})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := Open(ctx, config.Store{NatsURL: strings.Join(urls, ","), NatsCreds: credsPath, Replicas: 3,
		WriteTimeout: 5 * time.Second}, testutil.Logger(t, slog.LevelWarn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if st.Replicas() != 3 || st.Cluster() != nil {
		t.Fatalf("external store: replicas %d, cluster %+v; want 3 and no embedded cluster", st.Replicas(), st.Cluster())
	}
	info, err := st.JetStream().Stream(ctx, "KV_"+BucketFunctions)
	if err != nil {
		t.Fatal(err)
	}
	if r := info.CachedInfo().Config.Replicas; r != 3 {
		t.Fatalf("functions bucket has %d replicas, want 3", r)
	}

	connected := st.Conn().ConnectedUrl()
	for _, ns := range servers {
		if ns.ClientURL() == connected {
			ns.Shutdown()
			ns.WaitForShutdown()
		}
	}
	testutil.WaitFor(t, 30*time.Second, func() error {
		wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
		defer wcancel()
		if err := st.WaitWritable(wctx); err != nil {
			return err
		}
		_, err := st.Functions().Put(wctx, "after-failover", []byte("ok"))
		return err
	})
	if st.Conn().ConnectedUrl() == connected {
		t.Fatalf("still connected to %s, which is shut down", connected)
	}
}

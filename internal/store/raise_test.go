package store

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/config"
	"github.com/updraft/updraft/internal/testutil"
)

// TestReplicasRiseWhenANodeJoins forms a two-node cluster (objects get
// two replicas), starts a third node that joins it, and waits for every
// object to be raised to three replicas and the store to hand out 3.
func TestReplicasRiseWhenANodeJoins(t *testing.T) {
	var seeds []string
	for range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, ln.Addr().String())
		ln.Close()
	}
	key := filepath.Join(t.TempDir(), "cluster.key")
	if err := os.WriteFile(key, []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	logger := testutil.Logger(t, slog.LevelWarn)
	open := func(i int, join []string) (*Store, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		st, err := Open(ctx, config.Store{DataDir: t.TempDir(), ClusterListen: seeds[i], Join: join,
			ClusterKey: key, ClusterName: "updraft", WriteTimeout: 5 * time.Second}, logger)
		if err == nil {
			t.Cleanup(func() { st.Close() })
		}
		return st, err
	}
	two := make([]*Store, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range two {
		wg.Add(1)
		go func() { defer wg.Done(); two[i], errs[i] = open(i, seeds[:2]) }()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
	}
	replicasOf := func(st *Store, stream string) (int, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s, err := st.JetStream().Stream(ctx, stream)
		if err != nil {
			return 0, err
		}
		return s.CachedInfo().Config.Replicas, nil
	}
	if r, err := replicasOf(two[0], "KV_"+BucketFunctions); err != nil || r != 2 || two[0].Replicas() != 2 {
		t.Fatalf("two nodes: functions bucket replicas %d (%v), store hands out %d; want 2", r, err, two[0].Replicas())
	}

	third, err := open(2, seeds)
	if err != nil {
		t.Fatalf("third node: %v", err)
	}
	testutil.WaitFor(t, 30*time.Second, func() error {
		for _, st := range []*Store{two[0], two[1], third} {
			if n := st.Replicas(); n != 3 {
				return fmt.Errorf("a node hands out %d replicas", n)
			}
		}
		for _, stream := range []string{"KV_" + BucketFunctions, "KV_" + BucketIAM, "OBJ_" + BucketCode} {
			if r, err := replicasOf(third, stream); err != nil || r != 3 {
				return fmt.Errorf("%s: %d replicas (%v)", stream, r, err)
			}
		}
		return nil
	})
}

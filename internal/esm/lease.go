package esm

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// LeaseBucket is the KV bucket of shard leases: key "<UUID>.<shard>",
// value the id of the node that processes that shard of that mapping.
const LeaseBucket = "updraft-esm-leases"

// Lease timing: a lease lapses leaseTTL after its last renewal (the
// bucket's TTL); its holder renews it every leaseRenew and waits
// leaseRetry between attempts to take one held elsewhere.
const (
	leaseTTL   = 15 * time.Second
	leaseRenew = 5 * time.Second
	leaseRetry = 2 * time.Second
)

// leases hands out shard leases so that one node at a time processes a
// shard of a mapping.
type leases struct {
	kv   jetstream.KeyValue
	node string
}

func newLeases(ctx context.Context, js jetstream.JetStream, replicas int, node string) (*leases, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      LeaseBucket,
		Description: "updraft stream shard leases",
		History:     1,
		TTL:         leaseTTL,
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("esm: create bucket %s: %w", LeaseBucket, err)
	}
	return &leases{kv: kv, node: node}, nil
}

// take tries once to take (or keep) the lease on key; it returns the
// revision to renew from and whether it holds the lease.
func (l *leases) take(ctx context.Context, key string) (uint64, bool, error) {
	rev, err := l.kv.Create(ctx, key, []byte(l.node))
	if err == nil {
		return rev, true, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return 0, false, fmt.Errorf("esm: take lease %s: %w", key, err)
	}
	e, err := l.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, false, nil // lapsed meanwhile: try again
	}
	if err != nil {
		return 0, false, fmt.Errorf("esm: read lease %s: %w", key, err)
	}
	if string(e.Value()) != l.node {
		return 0, false, nil
	}
	rev, err = l.kv.Update(ctx, key, []byte(l.node), e.Revision())
	if err != nil {
		return 0, false, nil
	}
	return rev, true, nil
}

// acquire waits until this node holds the lease of shard of mapping id,
// or ctx ends. The returned context ends when the lease is lost or
// release is called; release gives the lease up.
func (l *leases) acquire(ctx context.Context, id string, shard int) (context.Context, func(), error) {
	key := id + "." + strconv.Itoa(shard)
	var rev uint64
	for {
		r, ok, err := l.take(ctx, key)
		if ok {
			rev = r
			break
		}
		_ = err // retried: the store may be electing a leader
		select {
		case <-ctx.Done():
			return nil, nil, context.Cause(ctx)
		case <-time.After(leaseRetry):
		}
	}
	lctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(leaseRenew)
		defer t.Stop()
		for {
			select {
			case <-lctx.Done():
				return
			case <-t.C:
				r, err := l.kv.Update(lctx, key, []byte(l.node), rev)
				if err != nil {
					if lctx.Err() == nil {
						cancel(fmt.Errorf("esm: lease %s lost: %w", key, err))
					}
					return
				}
				rev = r
			}
		}
	}()
	release := func() {
		cancel(context.Canceled)
		<-done
		dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
		defer dcancel()
		_ = l.kv.Delete(dctx, key, jetstream.LastRevision(rev))
	}
	return lctx, release, nil
}

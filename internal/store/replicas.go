package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

const (
	// replicaCheckInterval is how often a clustered store with automatic
	// replicas compares the cluster's size with its replica count.
	replicaCheckInterval = 2 * time.Second
	// replicaSweepInterval is how often the meta leader's node looks for
	// streams with fewer replicas than the target even when the cluster
	// did not grow: streams another package created with a count read
	// before the cluster grew.
	replicaSweepInterval = 30 * time.Second
	// ensureAttempts bounds ensureObjectsRetrying.
	ensureAttempts = 10
)

// ensureObjectsRetrying runs ensureObjects until it succeeds or
// ensureAttempts fail: in a cluster several nodes create the same
// objects at once, and one node's create can lose to another's with a
// different replica count ("stream name already in use"), after which
// its update succeeds; a fresh meta leader can also refuse for a moment.
func (s *Store) ensureObjectsRetrying(ctx context.Context, replicas int) error {
	var err error
	for i := range ensureAttempts {
		// Each create inside asks again when unanswered (retryCreate).
		actx, cancel := context.WithTimeout(ctx, clusterAPITimeout)
		err = s.ensureObjects(actx, replicas)
		cancel()
		if err == nil || !s.clustered() {
			return err
		}
		// The missed deadline made the gate refuse writes, and the
		// monitor that would probe them back is not started yet: this
		// retry is the probe.
		s.health.recovered()
		s.logger.Info("store objects not ready yet; retrying", "attempt", i+1, "err", err)
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(100*(i+1)) * time.Millisecond):
		}
	}
	return err
}

// raiseReplicas keeps the automatic replica count at min(3, cluster
// size) until ctx ends. When the cluster grows, [Store.Replicas] returns
// the new count at once (objects created from then on get it), and the
// node whose server is the JetStream meta leader raises every stream of
// the account (KV buckets and object stores are streams too) that has
// fewer replicas: JetStream adds the peers and catches them up itself.
// The count is never lowered: a node that is down is still a member of
// the cluster, and its replicas come back with it.
func (s *Store) raiseReplicas(ctx context.Context) {
	t := time.NewTicker(replicaCheckInterval)
	defer t.Stop()
	var lastSweep time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		target := min(maxAutoReplicas, s.clusterSize())
		grew := false
		if cur := s.Replicas(); target > cur {
			s.replicas.Store(int32(target))
			s.logger.Info("the cluster grew: raising the replica count", "from", cur, "to", target)
			grew = true
		}
		target = s.Replicas()
		if !s.ns.JetStreamIsLeader() || (!grew && time.Since(lastSweep) < replicaSweepInterval) {
			continue
		}
		lastSweep = time.Now()
		if n, err := s.sweepReplicas(ctx, target); err != nil {
			s.logger.Warn("raising stream replicas", "target", target, "raised", n, "err", err)
		} else if n > 0 {
			s.logger.Info("raised stream replicas", "target", target, "streams", n)
		}
	}
}

// sweepReplicas raises every stream with fewer than target replicas to
// target and returns how many it raised.
func (s *Store) sweepReplicas(ctx context.Context, target int) (int, error) {
	var low []jetstream.StreamConfig
	lister := s.raw.ListStreams(ctx)
	for info := range lister.Info() {
		if info.Config.Replicas < target {
			low = append(low, info.Config)
		}
	}
	if err := lister.Err(); err != nil {
		return 0, fmt.Errorf("store: list streams: %w", err)
	}
	n := 0
	var errs []error
	for _, cfg := range low {
		cfg.Replicas = target
		uctx, cancel := context.WithTimeout(ctx, s.writeTimeout)
		_, err := s.raw.UpdateStream(uctx, cfg)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("stream %s: %w", cfg.Name, err))
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

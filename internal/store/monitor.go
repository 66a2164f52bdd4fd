package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	// monitorInterval is how often the monitor looks at the data dir's
	// free space (one statfs) and, while the store is degraded, tries to
	// recover it.
	monitorInterval = 500 * time.Millisecond
	// probeTimeout bounds the probe write that proves the store writable.
	probeTimeout = 2 * time.Second
	// diskReserveFraction caps the free-space reserve at this share of
	// the file system (1/20 = 5%), so a small data dir keeps most of its
	// room usable.
	diskReserveFraction = 20
	// probeKey is the key the probe writes in BucketHealth.
	probeKey = "probe"
)

// monitor watches the store's ability to write until ctx ends: it turns
// the store degraded when the data dir's file system runs low (embedded
// mode) or JetStream is disabled, and while degraded it recovers as soon
// as it can: it restarts the embedded JetStream when a stream reported a
// write error (nats-server keeps a file store's first write error until
// JetStream restarts, refusing every later write of that stream without
// an answer), then proves the store writable with a probe write.
func (s *Store) monitor(ctx context.Context) {
	t := time.NewTicker(monitorInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.monitorOnce(ctx)
	}
}

// monitorOnce is one look of the monitor.
func (s *Store) monitorOnce(ctx context.Context) {
	if s.ns != nil {
		if low, detail := s.diskLow(); low {
			s.health.degrade(ReasonDiskFull, detail, false)
			return
		}
		if !s.ns.JetStreamEnabled() {
			s.health.degrade(ReasonJetStreamDisabled, "the embedded JetStream is disabled", true)
		}
	}
	if s.health.get().Writable {
		return
	}
	if s.ns != nil && (s.health.isPoisoned() || !s.ns.JetStreamEnabled()) {
		if err := s.restartJetStream(); err != nil {
			s.logger.Warn("could not restart the embedded JetStream; will try again", "err", err)
			return
		}
	}
	if err := s.probe(ctx); err != nil {
		s.logger.Debug("store probe write failed; still degraded", "err", err)
		return
	}
	s.health.recovered()
}

// diskLow reports whether the data dir's file system has less free space
// than the reserve: config.Store.MinFreeMB, at most 5% of its size, and
// never less than one byte.
func (s *Store) diskLow() (bool, string) {
	free, total, err := diskSpace(s.dataDir)
	if err != nil || total == 0 {
		return false, ""
	}
	reserve := min(uint64(s.minFreeMB)<<20, total/diskReserveFraction)
	if free > reserve && free > 0 {
		return false, ""
	}
	return true, fmt.Sprintf("the data dir's file system is full: %s free of %s, below the %s reserve (--store-min-free-mb)",
		mib(free), mib(total), mib(reserve))
}

func mib(n uint64) string {
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
}

// probe writes the health bucket's probe key, bypassing the gate.
func (s *Store) probe(ctx context.Context) error {
	if s.probeKV == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, min(probeTimeout, s.writeTimeout))
	defer cancel()
	if _, err := s.probeKV.Put(ctx, probeKey, []byte(time.Now().UTC().Format(time.RFC3339Nano))); err != nil {
		return fmt.Errorf("store: probe write: %w", err)
	}
	return nil
}

// restartJetStream stops and starts the embedded server's JetStream in
// place: the connection stays, every stream and consumer is recovered
// from disk with a fresh file store, so the write errors nats-server kept
// are gone. Messages acknowledged before the fault are on disk and come
// back; an unacknowledged write was never promised to anyone.
func (s *Store) restartJetStream() error {
	s.logger.Warn("restarting the embedded JetStream to clear its write errors")
	if s.ns.JetStreamEnabled() {
		if err := s.ns.ShutdownJetStream(); err != nil {
			return fmt.Errorf("store: shut JetStream down: %w", err)
		}
	}
	o := s.nsOpts
	cfg := &server.JetStreamConfig{
		StoreDir:     o.StoreDir,
		MaxStore:     o.JetStreamMaxStore,
		MaxMemory:    o.JetStreamMaxMemory,
		SyncInterval: o.SyncInterval,
		SyncAlways:   o.SyncAlways,
		Strict:       !o.NoJetStreamStrict,
		CompressOK:   true,
	}
	if err := s.ns.EnableJetStream(cfg); err != nil {
		return fmt.Errorf("store: enable JetStream: %w", err)
	}
	s.health.clearPoisoned()
	s.logger.Info("embedded JetStream restarted")
	return nil
}

// Status reports whether the store takes writes and, if not, why.
func (s *Store) Status() Status { return s.health.get() }

// WaitWritable blocks until the store takes writes or ctx ends. Workers
// that would only fail while the store is degraded (the async engine's)
// wait here, and resume the moment it recovers.
func (s *Store) WaitWritable(ctx context.Context) error { return s.health.wait(ctx) }

// healthBucket is the definition of the probe's bucket.
func healthBucket(replicas int) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      BucketHealth,
		Description: "updraft store probe: written while the store recovers from a failed write",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	}
}

package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Names of the JetStream objects updraft uses (DESIGN.md §2).
const (
	// BucketFunctions is the KV bucket holding functions, versions and
	// aliases (one key per record, history 1).
	BucketFunctions = "updraft-functions"
	// BucketIAM is the KV bucket of identities (internal/iam): users,
	// access keys, roles, policies, the STS signing key and session
	// revocations. Keys may carry their own TTL (revocations do).
	BucketIAM = "updraft-iam"
	// BucketHealth is the KV bucket the store's probe writes to while
	// it recovers from a failed write (one key).
	BucketHealth = "updraft-health"
	// BucketCode is the object store holding code zips, keyed by the hex
	// sha256 of their bytes.
	BucketCode = "updraft-code"
	// retiredLogsStream is the stream that held every function's log
	// lines before each function got its own (package fnlog); Open
	// deletes it once its records have aged out (7 days).
	retiredLogsStream = "UPDRAFT_LOGS"
	// BucketCodeHolds is the KV bucket that makes pruning a code zip safe
	// while another node may be about to reference it: one key per zip
	// (its hex sha256), written by an upload ("used") and by the pruner
	// that deletes it ("deleting"), always with a compare-and-set. See
	// internal/registry's prune.go.
	BucketCodeHolds = "updraft-code-holds"
	// BucketCodeIndex lists the zips in BucketCode, one key per zip (its
	// hex sha256) with its size and when it was stored, so that the
	// pruner reads a small bucket rather than list the object store,
	// which makes JetStream load every block of the zips' stream.
	BucketCodeIndex = "updraft-code-index"
)

// keyValues returns the definitions of every KV bucket.
func keyValues(replicas int) []jetstream.KeyValueConfig {
	return []jetstream.KeyValueConfig{
		{
			Bucket:      BucketFunctions,
			Description: "updraft functions, versions and aliases",
			History:     1,
			Storage:     jetstream.FileStorage,
			Replicas:    replicas,
		},
		{
			Bucket:      BucketIAM,
			Description: "updraft identities: users, keys, roles, policies, session revocations",
			History:     1,
			Storage:     jetstream.FileStorage,
			Replicas:    replicas,
			// Per-key TTLs (session revocations expire on their own);
			// the delete marker an expiry leaves is kept this long so
			// every watcher sees it.
			LimitMarkerTTL: time.Minute,
		},
		{
			Bucket:      BucketCodeHolds,
			Description: "updraft code zips' last upload and pruning marks",
			History:     1,
			Storage:     jetstream.FileStorage,
			Replicas:    replicas,
		},
		{
			Bucket:      BucketCodeIndex,
			Description: "updraft code zips stored: size and time, by sha256",
			History:     1,
			Storage:     jetstream.FileStorage,
			Replicas:    replicas,
		},
	}
}

// objectStores returns the definitions of every object store.
func objectStores(replicas int) []jetstream.ObjectStoreConfig {
	return []jetstream.ObjectStoreConfig{
		{
			Bucket:      BucketCode,
			Description: "updraft code zips, content-addressed by sha256",
			Storage:     jetstream.FileStorage,
			Replicas:    replicas,
		},
	}
}

// ensureObjects creates or updates every object and records the handles
// of the buckets on s.
func (s *Store) ensureObjects(ctx context.Context, replicas int) error {
	probe, err := retryCreate(ctx, s.clustered(), func(ctx context.Context) (jetstream.KeyValue, error) {
		return s.raw.CreateOrUpdateKeyValue(ctx, healthBucket(replicas))
	})
	if err != nil {
		return fmt.Errorf("store: create or update kv %s: %w", BucketHealth, err)
	}
	s.probeKV = probe
	for _, cfg := range keyValues(replicas) {
		kv, err := s.js.CreateOrUpdateKeyValue(ctx, cfg)
		if err != nil {
			return fmt.Errorf("store: create or update kv %s: %w", cfg.Bucket, err)
		}
		s.kvs[cfg.Bucket] = kv
	}
	for _, cfg := range objectStores(replicas) {
		obs, err := s.js.CreateOrUpdateObjectStore(ctx, cfg)
		if err != nil {
			return fmt.Errorf("store: create or update object store %s: %w", cfg.Bucket, err)
		}
		s.objs[cfg.Bucket] = obs
	}
	return s.removeRetiredLogs(ctx)
}

// removeRetiredLogs deletes the retired shared log stream once it is
// empty. Until then its records stay on disk, not shown by `updraft logs`,
// and its subjects updraft.logs.> stay taken (the per-function streams use
// updraft.fnlogs.).
func (s *Store) removeRetiredLogs(ctx context.Context) error {
	st, err := s.js.Stream(ctx, retiredLogsStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: retired log stream: %w", err)
	}
	if n := st.CachedInfo().State.Msgs; n > 0 {
		s.logger.Info("retired shared log stream kept until its records age out", "stream", retiredLogsStream, "records", n)
		return nil
	}
	if err := s.js.DeleteStream(ctx, retiredLogsStream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("store: delete retired log stream: %w", err)
	}
	return nil
}

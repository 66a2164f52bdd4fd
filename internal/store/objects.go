package store

import (
	"context"
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
	// StreamLogs is the stream of function log lines.
	StreamLogs = "UPDRAFT_LOGS"
	// SubjectLogsPrefix prefixes the log subject of each function
	// (updraft.logs.<function>).
	SubjectLogsPrefix = "updraft.logs."
)

// Log stream limits: Lambda keeps logs in CloudWatch indefinitely; updraft
// keeps a bounded window so a busy function cannot fill the disk.
const (
	logsMaxAge   = 7 * 24 * time.Hour
	logsMaxBytes = 1 << 30
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

// streams returns the definitions of every plain stream.
func streams(replicas int) []jetstream.StreamConfig {
	return []jetstream.StreamConfig{
		{
			Name:        StreamLogs,
			Description: "updraft function logs",
			Subjects:    []string{SubjectLogsPrefix + ">"},
			Retention:   jetstream.LimitsPolicy,
			MaxAge:      logsMaxAge,
			MaxBytes:    logsMaxBytes,
			Discard:     jetstream.DiscardOld,
			Storage:     jetstream.FileStorage,
			Replicas:    replicas,
		},
	}
}

// ensureObjects creates or updates every object and records the handles
// of the buckets on s.
func (s *Store) ensureObjects(ctx context.Context, replicas int) error {
	probe, err := s.raw.CreateOrUpdateKeyValue(ctx, healthBucket(replicas))
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
	for _, cfg := range streams(replicas) {
		if _, err := s.js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("store: create or update stream %s: %w", cfg.Name, err)
		}
	}
	return nil
}

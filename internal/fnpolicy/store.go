package fnpolicy

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/registry"
)

// Bucket is the KV bucket of function policies.
const Bucket = "updraft-fnpolicy"

// keyPrefix prefixes every key: p.<function> holds the unqualified
// policy, p.<function>.<qualifier> a version's or alias's. Function,
// version and alias names never contain a dot, so the parts are
// unambiguous.
const keyPrefix = "p."

// maxCASAttempts bounds retries of a write that lost a race with another
// writer of the same key.
const maxCASAttempts = 16

func policyKey(function, qualifier string) string {
	if qualifier == "" {
		return keyPrefix + function
	}
	return keyPrefix + function + "." + qualifier
}

// parseKey splits a bucket key into function and qualifier.
func parseKey(key string) (function, qualifier string, ok bool) {
	rest, ok := strings.CutPrefix(key, keyPrefix)
	if !ok || rest == "" {
		return "", "", false
	}
	function, qualifier, _ = strings.Cut(rest, ".")
	return function, qualifier, function != ""
}

// record is a stored policy: its revision and its statements, each the
// JSON Lambda shows.
type record struct {
	RevisionID string            `json:"RevisionId"`
	Statements []json.RawMessage `json:"Statements"`
}

// entry is one key in the view. A deleted key stays as a tombstone so a
// late watcher entry cannot bring it back.
type entry struct {
	rev     uint64 // KV revision last applied
	deleted bool
	rec     record
	doc     string   // GetPolicy's Policy string; "" when deleted
	digest  [32]byte // sha256 of doc
}

// Functions finds functions, versions and aliases (the registry).
type Functions interface {
	// Resolve finds what name (any FunctionName form) with qualifier
	// names, or Lambda's error for a malformed or unknown one.
	Resolve(name, qualifier string) (*registry.Target, error)
}

// Config configures a Service.
type Config struct {
	// Replicas is the bucket's replica count (at least 1).
	Replicas int
}

// Deps are what a Service uses.
type Deps struct {
	JetStream jetstream.JetStream
	Functions Functions
	Logger    *slog.Logger
}

// Service keeps the resource-based policies of functions. Its methods
// are safe for concurrent use; see the package documentation.
type Service struct {
	kv     jetstream.KeyValue
	fns    Functions
	logger *slog.Logger

	mu   sync.RWMutex
	view map[string]map[string]*entry // function → qualifier ("" unqualified) → entry; guarded by mu

	gen atomic.Uint64 // bumped on every applied change

	// ctx is the watcher's lifetime; Close cancels it.
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New creates or updates the bucket, loads every policy into memory and
// starts the watcher that keeps the view current. The caller must Close
// it before closing the store.
func New(ctx context.Context, cfg Config, deps Deps) (*Service, error) {
	if deps.JetStream == nil || deps.Functions == nil {
		return nil, errors.New("fnpolicy: JetStream and Functions are required")
	}
	kv, err := deps.JetStream.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      Bucket,
		Description: "updraft function policies (AddPermission)",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    max(cfg.Replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("fnpolicy: create bucket %s: %w", Bucket, err)
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sctx, cancel := context.WithCancel(context.Background())
	s := &Service{
		kv:     kv,
		fns:    deps.Functions,
		logger: logger.With("component", "fnpolicy"),
		view:   make(map[string]map[string]*entry),
		ctx:    sctx,
		cancel: cancel,
	}
	w, err := s.load(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	s.wg.Add(1)
	go s.watch(w)
	return s, nil
}

// load starts a watcher on the bucket and applies its initial values.
func (s *Service) load(ctx context.Context) (jetstream.KeyWatcher, error) {
	w, err := s.kv.WatchAll(s.ctx)
	if err != nil {
		return nil, fmt.Errorf("fnpolicy: watch %s: %w", Bucket, err)
	}
	for {
		select {
		case <-ctx.Done():
			_ = w.Stop()
			return nil, fmt.Errorf("fnpolicy: load %s: %w", Bucket, context.Cause(ctx))
		case e, ok := <-w.Updates():
			if !ok {
				return nil, errors.New("fnpolicy: watcher closed during load")
			}
			if e == nil {
				return w, nil
			}
			s.apply(e.Key(), e.Value(), e.Revision(), e.Operation() != jetstream.KeyValuePut)
		}
	}
}

// watch applies later changes from any node until Close, restarting the
// watcher if it ends on its own (applying is idempotent by revision).
func (s *Service) watch(w jetstream.KeyWatcher) {
	defer s.wg.Done()
	for {
		for e := range w.Updates() {
			if e != nil {
				s.apply(e.Key(), e.Value(), e.Revision(), e.Operation() != jetstream.KeyValuePut)
			}
		}
		_ = w.Stop()
		for {
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(time.Second):
			}
			s.logger.Warn("policy watcher ended; restarting")
			var err error
			if w, err = s.kv.WatchAll(s.ctx); err == nil {
				break
			}
			s.logger.Warn("restart policy watcher", "err", err)
		}
	}
}

// apply puts one change into the view unless a later revision of the key
// is already there; it is called by the watcher and by this node's own
// writes (read-your-writes).
func (s *Service) apply(key string, value []byte, rev uint64, deleted bool) {
	fn, qual, ok := parseKey(key)
	if !ok {
		return
	}
	e := &entry{rev: rev, deleted: deleted}
	if !deleted {
		if err := json.Unmarshal(value, &e.rec); err != nil {
			s.logger.Error("decode policy", "key", key, "err", err)
			return
		}
		doc, err := encodeDocument(e.rec.Statements)
		if err != nil {
			s.logger.Error("encode policy", "key", key, "err", err)
			return
		}
		e.doc, e.digest = doc, sha256.Sum256([]byte(doc))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	quals := s.view[fn]
	if old := quals[qual]; old != nil && old.rev >= rev {
		return
	}
	if quals == nil {
		quals = make(map[string]*entry)
		s.view[fn] = quals
	}
	quals[qual] = e
	s.gen.Add(1)
}

// lookup returns the live entry of function and qualifier ("" or
// $LATEST: the unqualified policy), or nil.
func (s *Service) lookup(function, qualifier string) *entry {
	if qualifier == registry.VersionLatest {
		qualifier = ""
	}
	s.mu.RLock()
	e := s.view[function][qualifier]
	s.mu.RUnlock()
	if e == nil || e.deleted {
		return nil
	}
	return e
}

// PolicyFor returns the resource-based policy that applies to an
// invocation of function (a bare name) with qualifier: the unqualified
// policy for "" and $LATEST, a version's or alias's own policy for that
// qualifier. doc is the document GetPolicy shows and digest its sha256,
// for callers that cache compiled policies. It reads only memory and
// does not allocate.
func (s *Service) PolicyFor(function, qualifier string) (doc string, digest [32]byte, ok bool) {
	e := s.lookup(function, qualifier)
	if e == nil {
		return "", [32]byte{}, false
	}
	return e.doc, e.digest, true
}

// Generation counts the changes applied to the view (from any node); a
// cache of compiled policies is stale once it changes.
func (s *Service) Generation() uint64 { return s.gen.Load() }

// Close stops the watcher. It is idempotent and does not close the store.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.wg.Wait()
	})
	return nil
}

// errConflict marks a write that lost a race with another writer.
var errConflict = errors.New("fnpolicy: concurrent write")

// read reads key fresh from the bucket: its record and revision, or
// (nil, 0) when there is none.
func (s *Service) read(ctx context.Context, key string) (*record, uint64, error) {
	e, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("fnpolicy: read %s: %w", key, err)
	}
	var rec record
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		return nil, 0, fmt.Errorf("fnpolicy: decode %s: %w", key, err)
	}
	return &rec, e.Revision(), nil
}

// write stores rec at key: a create when lastRev is 0, else a
// compare-and-set; a lost race is errConflict.
func (s *Service) write(ctx context.Context, key string, rec *record, lastRev uint64) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("fnpolicy: encode %s: %w", key, err)
	}
	var rev uint64
	if lastRev == 0 {
		rev, err = s.kv.Create(ctx, key, b)
	} else {
		rev, err = s.kv.Update(ctx, key, b, lastRev)
	}
	if isCASError(err) {
		return errConflict
	}
	if err != nil {
		return fmt.Errorf("fnpolicy: write %s: %w", key, err)
	}
	s.apply(key, b, rev, false)
	return nil
}

// remove deletes key if it is still at lastRev. JetStream does not
// return the delete marker's revision; lastRev+1 is a safe stand-in for
// the view (the marker is at least that).
func (s *Service) remove(ctx context.Context, key string, lastRev uint64) error {
	err := s.kv.Delete(ctx, key, jetstream.LastRevision(lastRev))
	if isCASError(err) {
		return errConflict
	}
	if err != nil {
		return fmt.Errorf("fnpolicy: delete %s: %w", key, err)
	}
	s.apply(key, nil, lastRev+1, true)
	return nil
}

func isCASError(err error) bool {
	return errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists)
}

// casBackoff waits before retry number attempt (none before the first):
// a random delay up to 1, 2, 4 … 64 ms.
func casBackoff(ctx context.Context, attempt int) error {
	if attempt == 0 {
		return nil
	}
	t := time.NewTimer(time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 6))))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("fnpolicy: retry write: %w", context.Cause(ctx))
	case <-t.C:
		return nil
	}
}

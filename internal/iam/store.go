package iam

import (
	"context"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Config configures a Store.
type Config struct {
	// AccountID is the 12-digit account in every ARN.
	AccountID string
	// RootAccessKeyID and RootSecretAccessKey are the server's configured
	// key: the account root, which is not stored in the bucket.
	RootAccessKeyID, RootSecretAccessKey string
}

// Deps are a Store's collaborators.
type Deps struct {
	// Logger is required.
	Logger *slog.Logger
	// Validate checks policy documents on write; nil means [CheckJSON].
	Validate Validator
	// AWSPolicies is the catalogue of AWS managed policies; nil means
	// none (attaching one is NoSuchEntity).
	AWSPolicies AWSPolicies
	// Now is the clock (nil: time.Now); tests set it to expire sessions.
	Now func() time.Time
}

// maxCASAttempts bounds retries of a write that lost a race against
// another writer; past it the caller gets ConcurrentModification.
const maxCASAttempts = 16

// Store holds identities. Its methods are safe for concurrent use; see
// the package documentation for the design.
type Store struct {
	cfg    Config
	deps   Deps
	logger *slog.Logger
	kv     jetstream.KeyValue
	clock  func() time.Time
	root   Principal

	mu sync.RWMutex
	v  *view // guarded by mu

	gen   atomic.Uint64
	subMu sync.Mutex
	subs  []func() // guarded by subMu

	// ctx is the store's own lifetime: the watcher runs under it; Close
	// cancels it.
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New builds the in-memory view from kv (the updraft-iam bucket), makes
// sure the STS signing key exists, starts the watcher that keeps the
// view current and returns the store. The caller must Close it.
func New(ctx context.Context, kv jetstream.KeyValue, cfg Config, deps Deps) (*Store, error) {
	if cfg.AccountID == "" || cfg.RootAccessKeyID == "" || cfg.RootSecretAccessKey == "" {
		return nil, errors.New("iam: account id and root key are required")
	}
	if kv == nil || deps.Logger == nil {
		return nil, errors.New("iam: bucket and logger are required")
	}
	if deps.Validate == nil {
		deps.Validate = CheckJSON
	}
	sctx, cancel := context.WithCancel(context.Background())
	s := &Store{
		cfg:    cfg,
		deps:   deps,
		logger: deps.Logger.With("component", "iam"),
		kv:     kv,
		clock:  deps.Now,
		root:   RootPrincipal(cfg.AccountID),
		v:      newView(),
		ctx:    sctx,
		cancel: cancel,
	}
	s.root.AccessKeyID = cfg.RootAccessKeyID
	if s.clock == nil {
		s.clock = time.Now
	}
	w, err := s.loadAll(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	s.wg.Add(1)
	go s.watch(w)
	if err := s.ensureSigningKey(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	s.mu.RLock()
	users, roles, policies := len(s.v.users), len(s.v.roles), len(s.v.policies)
	s.mu.RUnlock()
	s.logger.Info("identities ready", "users", users, "roles", roles, "policies", policies)
	return s, nil
}

// loadAll starts a watcher on the whole bucket and applies its initial
// values. The watcher lives on s.ctx; ctx only bounds the initial load.
func (s *Store) loadAll(ctx context.Context) (jetstream.KeyWatcher, error) {
	w, err := s.kv.WatchAll(s.ctx)
	if err != nil {
		return nil, fmt.Errorf("iam: watch bucket: %w", err)
	}
	for {
		select {
		case <-ctx.Done():
			_ = w.Stop()
			return nil, fmt.Errorf("iam: load bucket: %w", context.Cause(ctx))
		case e, ok := <-w.Updates():
			if !ok {
				return nil, errors.New("iam: watcher closed during load")
			}
			if e == nil {
				return w, nil
			}
			s.applyEntry(e)
		}
	}
}

// watch applies every later change (from any node) until Close; a
// watcher that ends on its own is restarted, replaying the bucket
// (applying is idempotent by revision).
func (s *Store) watch(w jetstream.KeyWatcher) {
	defer s.wg.Done()
	for {
		for e := range w.Updates() {
			if e != nil {
				s.applyEntry(e)
			}
		}
		_ = w.Stop()
		for {
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(time.Second):
			}
			s.logger.Warn("iam watcher ended; restarting")
			var err error
			if w, err = s.kv.WatchAll(s.ctx); err == nil {
				break
			}
			s.logger.Warn("restart iam watcher", "err", err)
		}
	}
}

func (s *Store) applyEntry(e jetstream.KeyValueEntry) {
	s.apply(e.Key(), e.Value(), e.Revision(), e.Operation() != jetstream.KeyValuePut)
}

// apply applies one entry to the view and, if it changed anything, bumps
// the generation and tells subscribers.
func (s *Store) apply(key string, value []byte, rev uint64, deleted bool) {
	s.mu.Lock()
	changed, err := s.applyLocked(key, value, rev, deleted)
	if changed {
		s.gen.Add(1)
	}
	s.mu.Unlock()
	if err != nil {
		s.logger.Error("apply iam entry", "key", key, "err", err)
		return
	}
	if changed {
		s.subMu.Lock()
		subs := s.subs
		s.subMu.Unlock()
		for _, fn := range subs {
			fn()
		}
	}
}

// Generation counts the changes this node's view has applied. It grows
// with every change to users, keys, roles, policies or revocations, from
// any node; a caller that caches anything derived from the store (a
// compiled policy set, a verified session) drops it when it moves.
func (s *Store) Generation() uint64 { return s.gen.Load() }

// Subscribe registers fn to be called after every change to the view
// (after Generation moved). Calls come from the watcher goroutine or a
// writer's; fn must be quick and must not write to the store.
func (s *Store) Subscribe(fn func()) {
	s.subMu.Lock()
	s.subs = append(s.subs, fn)
	s.subMu.Unlock()
}

// Close stops the watcher. It is idempotent and does not close the store
// of the bucket.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.wg.Wait()
	})
	return nil
}

// errConflict marks a write that lost an optimistic-concurrency race.
var errConflict = errors.New("iam: concurrent write")

func isCASError(err error) bool {
	return errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists)
}

// put writes v at key: a create when lastRev is 0, else a compare-and-set
// against lastRev; the write is applied to the view at once.
func (s *Store) put(ctx context.Context, key string, v any, lastRev uint64) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("iam: encode %s: %w", key, err)
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
		return fmt.Errorf("iam: write %s: %w", key, err)
	}
	s.apply(key, b, rev, false)
	return nil
}

// del deletes key if it is still at lastRev. lastRev+1 stands in for the
// delete marker's revision in the view (see registry.del).
func (s *Store) del(ctx context.Context, key string, lastRev uint64) error {
	err := s.kv.Delete(ctx, key, jetstream.LastRevision(lastRev))
	if isCASError(err) {
		return errConflict
	}
	if err != nil {
		return fmt.Errorf("iam: delete %s: %w", key, err)
	}
	s.apply(key, nil, lastRev+1, true)
	return nil
}

// getEntry reads key fresh; a missing or deleted key is (nil, nil).
func (s *Store) getEntry(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	e, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("iam: get %s: %w", key, err)
	}
	return e, nil
}

// casBackoff waits before retry number attempt: a random delay up to 1,
// 2, 4 … 64 ms, so racing writers spread out.
func casBackoff(ctx context.Context, attempt int) error {
	if attempt == 0 {
		return nil
	}
	d := time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 6)))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("iam: retry write: %w", context.Cause(ctx))
	case <-t.C:
		return nil
	}
}

// update reads key fresh, lets mutate change a private copy and writes it
// back with compare-and-set, retrying when another writer got there
// first. A missing key is notFound(); mutate may return a client error
// to abort, or errDelete to delete the key instead.
func update[T any](ctx context.Context, s *Store, key string, notFound func() error, mutate func(*T) error) (*T, error) {
	for attempt := range maxCASAttempts {
		if err := casBackoff(ctx, attempt); err != nil {
			return nil, err
		}
		e, err := s.getEntry(ctx, key)
		if err != nil {
			return nil, err
		}
		if e == nil {
			return nil, notFound()
		}
		rec, err := decode[T](key, e.Value())
		if err != nil {
			return nil, err
		}
		err = mutate(rec)
		if errors.Is(err, errDelete) {
			err = s.del(ctx, key, e.Revision())
		} else if err == nil {
			err = s.put(ctx, key, rec, e.Revision())
		}
		if errors.Is(err, errConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return rec, nil
	}
	return nil, errConcurrent()
}

// errDelete, returned by an update's mutate, deletes the record.
var errDelete = errors.New("iam: delete record")

// ensureSigningKey creates the STS signing key unless the bucket has one:
// the first node to start wins the create and every node uses its key.
func (s *Store) ensureSigningKey(ctx context.Context) error {
	s.mu.RLock()
	have := s.v.tokenKey != nil
	s.mu.RUnlock()
	if have {
		return nil
	}
	key := make([]byte, 32)
	_, _ = crand.Read(key)
	err := s.put(ctx, keySigningKey, signingKeyRecord{Key: key}, 0)
	if errors.Is(err, errConflict) {
		e, gerr := s.getEntry(ctx, keySigningKey)
		if gerr != nil || e == nil {
			return fmt.Errorf("iam: read signing key: %v", gerr)
		}
		s.applyEntry(e)
		return nil
	}
	return err
}

// signingKeyRecord holds the 32-byte STS signing key.
type signingKeyRecord struct {
	Key []byte `json:"key"`
}

package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/lambdaerr"
	"github.com/updraft/updraft/internal/store"
)

// Config configures a Registry.
type Config struct {
	// Region and AccountID appear in every ARN.
	Region, AccountID string
	// CodeCacheDir holds unpacked code, one directory per zip sha256
	// (e.g. <data-dir>/code). Created if missing.
	CodeCacheDir string
	// SettleWait bounds how long an invocation or an update that finds
	// the function Pending or its update in progress waits for it to
	// settle before it is refused (or, for an invocation during an
	// update, runs the previous configuration); 0 means 2 s.
	SettleWait time.Duration
	// SettleStale is how long a function may stay unsettled before a node
	// other than its writer settles it (the writer may have died); 0
	// means 10 s.
	SettleStale time.Duration
	// HoldStates is a test hook: functions whose Description contains
	// HoldStateMarker never settle.
	HoldStates bool
	// AccountConcurrency is the account's concurrency limit, which bounds
	// reserved concurrency (see PutFunctionConcurrency); 0 means 1000,
	// Lambda's default quota.
	AccountConcurrency int
	// PruneGrace is how long a code or layer zip that no version
	// references stays in the object store before it is deleted; 0 means
	// DefaultPruneGrace. See prune.go.
	PruneGrace time.Duration
}

// defaultAccountConcurrency is Lambda's default concurrency quota.
const defaultAccountConcurrency = 1000

// maxCASAttempts bounds retries of a write that lost an optimistic
// concurrency race against another writer; past it the caller gets
// Lambda's 409 "An update is in progress".
const maxCASAttempts = 16

// Registry holds functions, versions, aliases and code. Its methods are
// safe for concurrent use. See the package documentation for the design.
type Registry struct {
	cfg    Config
	logger *slog.Logger
	kv     jetstream.KeyValue
	code   jetstream.ObjectStore
	// holds marks code zips used by an upload or being pruned (prune.go).
	holds jetstream.KeyValue
	// index lists the zips of code, for the pruner (codeindex.go).
	index jetstream.KeyValue

	mu   sync.RWMutex
	view *view // guarded by mu

	subMu sync.Mutex
	subs  []func(functionName string) // guarded by subMu

	codeBaseURL atomic.Pointer[string]

	unpackMu  sync.Mutex
	unpacking map[string]*unpackCall // guarded by unpackMu
	// pins counts the holders of each unpacked directory handed out by
	// CodeDir and OptDir (reclaim.go); guarded by unpackMu.
	pins    map[string]int
	unpacks atomic.Int64 // zips extracted by this registry (tests)
	sweeps  atomic.Int64 // reclaimer passes over the directories (tests)

	// kick wakes the reclaimer (reclaim.go); storage is what it last saw.
	kick    chan struct{}
	storage storageCounters

	settleMu sync.Mutex
	settling map[string]*settleLoop // guarded by settleMu: the settle goroutine of each function

	// ctx is the registry's own lifetime: the watcher and shared unpacks
	// run under it; Close cancels it.
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New builds the in-memory view from the functions bucket of st, starts
// the watcher that keeps it current and returns the registry. The caller
// must Close it (before closing st).
func New(ctx context.Context, st *store.Store, cfg Config, logger *slog.Logger) (*Registry, error) {
	if cfg.Region == "" || cfg.AccountID == "" {
		return nil, errors.New("registry: region and account id are required")
	}
	if cfg.CodeCacheDir == "" {
		return nil, errors.New("registry: code cache directory is required")
	}
	if cfg.SettleWait <= 0 {
		cfg.SettleWait = defaultSettleWait
	}
	if cfg.SettleStale <= 0 {
		cfg.SettleStale = defaultSettleStale
	}
	if cfg.AccountConcurrency <= 0 {
		cfg.AccountConcurrency = defaultAccountConcurrency
	}
	if cfg.PruneGrace <= 0 {
		cfg.PruneGrace = DefaultPruneGrace
	}
	if err := os.MkdirAll(cfg.CodeCacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("registry: create code cache %s: %w", cfg.CodeCacheDir, err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	r := &Registry{
		cfg:       cfg,
		logger:    logger.With("component", "registry"),
		kv:        st.Functions(),
		code:      st.Code(),
		holds:     st.CodeHolds(),
		index:     st.CodeIndex(),
		view:      newView(),
		unpacking: make(map[string]*unpackCall),
		pins:      make(map[string]int),
		kick:      make(chan struct{}, 1),
		settling:  make(map[string]*settleLoop),
		ctx:       rctx,
		cancel:    cancel,
	}
	r.removeStaleUnpacks()
	w, err := r.loadAll(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	r.wg.Add(2)
	go r.watch(w)
	go r.runReclaimer()
	r.mu.RLock()
	n := 0
	var unsettled []string
	for name, f := range r.view.fns {
		if f.rec != nil {
			n++
		}
		if _, ok := r.unsettledSinceLocked(name); ok {
			unsettled = append(unsettled, name)
		}
	}
	r.mu.RUnlock()
	for _, name := range unsettled {
		r.recoverSettle(name)
	}
	r.logger.Info("registry ready", "functions", n)
	return r, nil
}

// loadAll starts a watcher on the whole bucket and applies its initial
// values (until the end-of-initial-data marker). The watcher lives on
// r.ctx; ctx only bounds the initial load.
func (r *Registry) loadAll(ctx context.Context) (jetstream.KeyWatcher, error) {
	w, err := r.kv.WatchAll(r.ctx)
	if err != nil {
		return nil, fmt.Errorf("registry: watch functions bucket: %w", err)
	}
	for {
		select {
		case <-ctx.Done():
			_ = w.Stop()
			return nil, fmt.Errorf("registry: load functions bucket: %w", context.Cause(ctx))
		case e, ok := <-w.Updates():
			if !ok {
				return nil, errors.New("registry: functions watcher closed during load")
			}
			if e == nil {
				return w, nil
			}
			r.applyEntry(e)
		}
	}
}

// watch applies every later change (from any node) until Close; if the
// watcher ends on its own it is restarted, replaying the bucket (applying
// is idempotent by revision).
func (r *Registry) watch(w jetstream.KeyWatcher) {
	defer r.wg.Done()
	for {
		for e := range w.Updates() {
			if e != nil {
				r.applyEntry(e)
			}
		}
		_ = w.Stop()
		for {
			select {
			case <-r.ctx.Done():
				return
			case <-time.After(time.Second):
			}
			r.logger.Warn("functions watcher ended; restarting")
			var err error
			if w, err = r.kv.WatchAll(r.ctx); err == nil {
				break
			}
			r.logger.Warn("restart functions watcher", "err", err)
		}
	}
}

// applyEntry applies one watcher entry and tells subscribers.
func (r *Registry) applyEntry(e jetstream.KeyValueEntry) {
	deleted := e.Operation() != jetstream.KeyValuePut
	r.mu.Lock()
	name, err := r.applyLocked(e.Key(), e.Value(), e.Revision(), deleted)
	r.mu.Unlock()
	if err != nil {
		r.logger.Error("apply functions entry", "key", e.Key(), "err", err)
		return
	}
	r.kickReclaim()
	if name != "" && (strings.HasPrefix(e.Key(), keyFunctionPrefix) || strings.HasPrefix(e.Key(), keyVersionPrefix)) {
		r.recoverSettle(name)
	}
	r.notify(name)
}

// applyLocal applies this node's own successful write at once
// (read-your-writes) and tells subscribers.
func (r *Registry) applyLocal(key string, value []byte, rev uint64, deleted bool) {
	r.mu.Lock()
	name, err := r.applyLocked(key, value, rev, deleted)
	r.mu.Unlock()
	if err != nil {
		r.logger.Error("apply own write", "key", key, "err", err)
		return
	}
	r.kickReclaim()
	r.notify(name)
}

// Subscribe registers fn to be called with a function's name after any
// change to it, its versions, aliases or concurrency, made on any node.
// Calls may repeat for one change and come from the watcher goroutine or
// the writer's; fn must be quick and must not call the registry's write
// methods.
func (r *Registry) Subscribe(fn func(functionName string)) {
	r.subMu.Lock()
	r.subs = append(r.subs, fn)
	r.subMu.Unlock()
}

func (r *Registry) notify(name string) {
	if name == "" {
		return
	}
	r.subMu.Lock()
	subs := r.subs
	r.subMu.Unlock()
	for _, fn := range subs {
		fn(name)
	}
}

// SetCodeBaseURL sets the base of the code URLs GetFunction returns
// ("<base>/updraft/v1/code/<sha256>").
func (r *Registry) SetCodeBaseURL(base string) {
	base = strings.TrimRight(base, "/")
	r.codeBaseURL.Store(&base)
}

// Close stops the watcher and the reclaimer and waits for shared unpacks
// to end. It is
// idempotent and does not close the store.
func (r *Registry) Close() error {
	r.closeOnce.Do(func() {
		// Cancel under unpackMu so that CodeDir never starts an unpack
		// (wg.Add) after Close began waiting.
		r.unpackMu.Lock()
		r.settleMu.Lock()
		r.cancel()
		r.settleMu.Unlock()
		r.unpackMu.Unlock()
		r.wg.Wait()
	})
	return nil
}

// removeStaleUnpacks deletes temporary unpack directories left by a
// crash.
func (r *Registry) removeStaleUnpacks() {
	matches, _ := filepath.Glob(filepath.Join(r.cfg.CodeCacheDir, unpackTempPrefix+"*"))
	for _, m := range matches {
		if err := os.RemoveAll(m); err != nil {
			r.logger.Warn("remove stale unpack dir", "dir", m, "err", err)
		}
	}
}

// getEntry reads key from the bucket; a missing or deleted key is (nil,
// nil).
func (r *Registry) getEntry(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	e, err := r.kv.Get(ctx, key)
	// A key JetStream refuses ("fn..0" for the lookup name ".0": Lambda's
	// lookup pattern allows dots that no created name has) was never
	// written, so it holds nothing.
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) || errors.Is(err, jetstream.ErrInvalidKey) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registry: get %s: %w", key, err)
	}
	return e, nil
}

// errConflict marks a write that lost an optimistic-concurrency race.
var errConflict = errors.New("registry: concurrent write")

// put writes v at key: a create when lastRev is 0, else a compare-and-set
// against lastRev. It applies the write to the view and returns the new
// revision; a lost race is errConflict.
func (r *Registry) put(ctx context.Context, key string, v any, lastRev uint64) (uint64, error) {
	b, err := encode(v)
	if err != nil {
		return 0, err
	}
	var rev uint64
	if lastRev == 0 {
		rev, err = r.kv.Create(ctx, key, b)
	} else {
		rev, err = r.kv.Update(ctx, key, b, lastRev)
	}
	if isCASError(err) {
		return 0, errConflict
	}
	if err != nil {
		return 0, fmt.Errorf("registry: write %s: %w", key, err)
	}
	r.applyLocal(key, b, rev, false)
	return rev, nil
}

// del deletes key if it is still at lastRev. The delete marker's revision
// is not returned by JetStream; lastRev+1 is a safe stand-in for the view
// (the marker is the key's next entry, so its revision is at least that).
func (r *Registry) del(ctx context.Context, key string, lastRev uint64) error {
	err := r.kv.Delete(ctx, key, jetstream.LastRevision(lastRev))
	if isCASError(err) {
		return errConflict
	}
	if err != nil {
		return fmt.Errorf("registry: delete %s: %w", key, err)
	}
	r.applyLocal(key, nil, lastRev+1, true)
	return nil
}

// casBackoff waits before retry number attempt (none before the first
// try): a random delay up to 1, 2, 4 … 64 ms, so that racing writers
// spread out.
func casBackoff(ctx context.Context, attempt int) error {
	if attempt == 0 {
		return nil
	}
	d := time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 6)))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("registry: retry write: %w", context.Cause(ctx))
	case <-t.C:
		return nil
	}
}

func isCASError(err error) bool {
	return errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists)
}

// updateFunction reads fn.<name> fresh, applies mutate and writes it back
// with compare-and-set, retrying when another writer got there first.
// mutate sees a private copy and may return a client error to abort.
func (r *Registry) updateFunction(ctx context.Context, name string, mutate func(*functionRecord) error) (*functionRecord, error) {
	return r.casFunction(ctx, name, func(rec *functionRecord) (bool, error) {
		return true, mutate(rec)
	})
}

// casFunction is updateFunction for a mutate that may find nothing to
// write (write false): the record it saw is then returned unwritten.
func (r *Registry) casFunction(ctx context.Context, name string, mutate func(*functionRecord) (write bool, err error)) (*functionRecord, error) {
	key := functionKey(name)
	for attempt := range maxCASAttempts {
		if err := casBackoff(ctx, attempt); err != nil {
			return nil, err
		}
		e, err := r.getEntry(ctx, key)
		if err != nil {
			return nil, err
		}
		if e == nil {
			return nil, r.errFunctionNotFound(name)
		}
		rec, err := decode[functionRecord](key, e.Value())
		if err != nil {
			return nil, err
		}
		write, err := mutate(rec)
		if err != nil {
			return nil, err
		}
		if !write {
			return rec, nil
		}
		_, err = r.put(ctx, key, rec, e.Revision())
		if errors.Is(err, errConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return rec, nil
	}
	return nil, r.errBusy(name)
}

func (r *Registry) errFunctionNotFound(name string) error {
	return lambdaerr.ResourceNotFound("Function not found: %s", r.functionARN(name))
}

// errMissingFunction is the not-found answer for a function that does
// not exist, naming the qualifier it was asked for as Lambda does
// (GetFunction of "f" with Qualifier "$latest": "...:function:f:$latest").
func (r *Registry) errMissingFunction(name, qualifier string) error {
	if qualifier == "" {
		return r.errFunctionNotFound(name)
	}
	return r.errQualifiedNotFound(name, qualifier)
}

func (r *Registry) errQualifiedNotFound(name, qualifier string) error {
	return lambdaerr.ResourceNotFound("Function not found: %s:%s", r.functionARN(name), qualifier)
}

func (r *Registry) errBusy(name string) error {
	return lambdaerr.ResourceConflict("The operation cannot be performed at this time. An update is in progress for resource: %s", r.functionARN(name))
}

func errRevisionMismatch() error {
	return lambdaerr.PreconditionFailed("The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
}

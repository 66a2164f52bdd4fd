package pool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/updraft/updraft/internal/fnlog"
	"github.com/updraft/updraft/internal/lambdaerr"
	"github.com/updraft/updraft/internal/registry"
	"github.com/updraft/updraft/internal/runtimes"
	"github.com/updraft/updraft/internal/sandbox"
)

// Config configures the pool.
type Config struct {
	// IdleTTL evicts environments unused for this long.
	IdleTTL time.Duration
	// MaxEnvironments is the account concurrency limit: busy environments
	// across all functions.
	MaxEnvironments int
	// InitTimeout is the init-phase budget (Lambda: 10 s). A function whose
	// timeout is longer gets that instead, standing in for Lambda's retry of
	// a slow init under the function timeout.
	InitTimeout time.Duration
	// FreezeDelay is how long a parked runtime stays thawed before its
	// environment is frozen; zero freezes as soon as the runtime is back in
	// /next. A short delay spares back-to-back invocations a freeze and a
	// thaw each.
	FreezeDelay time.Duration
	// Region goes into the function environment.
	Region string
	// EndpointURL is this server's API URL, given to functions as
	// AWS_ENDPOINT_URL so that an SDK inside a function reaches updraft.
	EndpointURL string
	// AccessKeyID and SecretAccessKey are the credentials functions get.
	AccessKeyID, SecretAccessKey string
	// TmpRoot holds per-environment /tmp directories when the sandbox cannot
	// mount a private /tmp (basic isolation).
	TmpRoot string
	// RuntimeTemplates starts managed runtimes (Python) from runtime
	// templates (templates.go) where the sandbox allows it: full
	// isolation with pre-started sandboxes. Elsewhere they start anew,
	// as without it.
	RuntimeTemplates bool
}

// CodeSource provides a function's files on this node. The directories
// it returns are held for the caller until it releases them, so that
// deleting a function never pulls the files from under an environment
// still running them.
type CodeSource interface {
	// CodeDir unpacks a code blob and returns its directory.
	CodeDir(ctx context.Context, shaHex string) (string, error)
	// OptDir returns the host directory holding v's layers merged in
	// order (later layers win), to be mounted read-only at /opt.
	OptDir(ctx context.Context, v *registry.Version) (string, error)
	// ReleaseDir gives back a directory CodeDir or OptDir returned.
	ReleaseDir(dir string)
}

// optDir returns v's merged layers, "" when it has none.
func (p *Pool) optDir(ctx context.Context, v *registry.Version) (string, error) {
	if len(v.Layers) == 0 {
		return "", nil
	}
	return p.deps.Code.OptDir(ctx, v)
}

// Deps are the pool's collaborators.
type Deps struct {
	Logger  *slog.Logger
	Sandbox *sandbox.Manager
	Code    CodeSource
	Logs    fnlog.Sink
	// Observer, when set, is told about cold starts and concurrency.
	Observer Observer
	// Runtimes starts the managed runtimes (python3.*, nodejs*); nil
	// leaves only provided* runtimes available.
	Runtimes *runtimes.Runtimes
	// Credentials issues the temporary credentials of a new environment
	// of v (a session of its role, tagged with envID); nil gives
	// environments Config's fixed key, if any.
	Credentials func(v *registry.Version, envID string) (Credentials, error)
	// RevokeCredentials revokes those of an environment that ended; it
	// must not block.
	RevokeCredentials func(envID string)
}

// Credentials are an environment's AWS credentials.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	Expiration                                 time.Time
}

// credentialsMargin retires an environment this long before its
// credentials expire, so a running function never holds expired ones.
const credentialsMargin = 30 * time.Minute

// SetPlatformAPI sets the handler that serves the server's API inside each
// full-mode sandbox (the sandbox's AWS_ENDPOINT_URL), for environments
// started from now on. The API is built after the pool, hence a setter.
func (p *Pool) SetPlatformAPI(h http.Handler) {
	p.platformAPI.Store(&h)
}

// Observer receives pool events for metrics. Calls are made on the invoke
// path and must not block.
type Observer interface {
	ColdStart(function, version string, init time.Duration)
	Concurrency(function string, busy int)
}

// Request is one invocation to run.
type Request struct {
	Version             *registry.Version
	ReservedConcurrency *int
	RequestID           string
	Payload             []byte
	InvokedARN          string
	ClientContext       string
	TraceID             string
	// FreezeDelay, when longer than the pool's, is how long the
	// environment stays thawed after this invocation: a caller that will
	// send the next event at once (the async engine draining a backlog)
	// saves a freeze and a thaw per event.
	FreezeDelay time.Duration
	// Stream, when not nil, receives a response the function streams, as
	// it arrives (InvokeWithResponseStream); see [runtimeapi.Invocation].
	// Result.Payload is then empty unless the function failed.
	Stream io.Writer
}

// Result is the outcome of an invocation that ran. A function error is a
// Result with FunctionError set, not an error.
type Result struct {
	Payload []byte
	// FunctionError is "Unhandled" when the function failed, else "".
	FunctionError string
	// ErrorType is the function error's type (for metrics and records).
	ErrorType string
	// LogTail is the last 4 KB of this invocation's log.
	LogTail         []byte
	ExecutedVersion string
	Duration        time.Duration
	// InitDuration is non-zero on a cold start.
	InitDuration time.Duration
}

type envKey struct {
	function, version, revision string
}

// versionPool is the environments of one function version.
type versionPool struct {
	idle []*env // most recently used last
	all  map[*env]struct{}
}

// Pool runs invocations in execution environments.
type Pool struct {
	cfg    Config
	deps   Deps
	logger *slog.Logger
	// platformAPI serves the API inside full-mode sandboxes; see
	// SetPlatformAPI.
	platformAPI atomic.Pointer[http.Handler]

	// templates are the runtime templates in use; nil when off.
	templates *templates

	mu       sync.Mutex
	closed   bool                    // guarded by mu
	versions map[envKey]*versionPool // guarded by mu
	busyByFn map[string]int          // guarded by mu
	busy     int                     // guarded by mu
	// carried holds at most one /tmp per key, kept from an environment
	// that was reset, for the next cold start of that key; see tmp.go.
	carried  map[envKey]carriedTmp // guarded by mu
	inflight sync.WaitGroup

	stop      chan struct{}
	closeOnce sync.Once
	janitor   sync.WaitGroup
}

// New builds a pool and starts its janitor.
func New(cfg Config, deps Deps) (*Pool, error) {
	if deps.Sandbox == nil || deps.Code == nil || deps.Logs == nil {
		return nil, errors.New("pool: sandbox, code source and log sink are required")
	}
	if cfg.InitTimeout <= 0 {
		cfg.InitTimeout = 10 * time.Second
	}
	if cfg.IdleTTL <= 0 {
		cfg.IdleTTL = 10 * time.Minute
	}
	if cfg.MaxEnvironments <= 0 {
		cfg.MaxEnvironments = 1000
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := &Pool{
		cfg:      cfg,
		deps:     deps,
		logger:   logger.With("component", "pool"),
		versions: make(map[envKey]*versionPool),
		busyByFn: make(map[string]int),
		carried:  make(map[envKey]carriedTmp),
		stop:     make(chan struct{}),
	}
	switch err := deps.Sandbox.TemplatesAvailable(); {
	case !cfg.RuntimeTemplates:
		p.logger.Info("runtime templates off by configuration: managed runtimes start anew on every cold start")
	case err != nil:
		p.logger.Info("runtime templates off: managed runtimes start anew on every cold start", "reason", err.Error())
	default:
		p.templates = &templates{envs: map[string][]string{}, off: map[string]bool{}}
		p.logger.Info("runtime templates on: Python runtimes wait started in pre-started sandboxes (a template per runtime, started on first use)")
	}
	p.janitor.Add(1)
	go p.runJanitor()
	return p, nil
}

// Invoke runs req in a warm or new environment. It returns an error only
// when the platform could not run the function (throttle, shutdown, setup
// failure); function failures are Results.
func (p *Pool) Invoke(ctx context.Context, req *Request) (*Result, error) {
	v := req.Version
	key := envKey{v.FunctionName, v.Version, v.RevisionID}
	e, err := p.acquire(key, req.ReservedConcurrency)
	if err != nil {
		return nil, err
	}
	defer p.inflight.Done()
	// An invocation runs to its end even if the caller goes away, as on
	// Lambda; only its own timeout stops it.
	ctx = context.WithoutCancel(ctx)
	if e == nil {
		e, err = p.startEnv(ctx, key, v)
		if err != nil {
			p.releaseSlot(key.function)
			var initErr *initFailure
			if errors.As(err, &initErr) {
				return initErr.result, nil
			}
			return nil, err
		}
	}
	e.freezeDelay = max(req.FreezeDelay, p.cfg.FreezeDelay) // e is ours until released
	res := e.invoke(ctx, req)
	if e.finishesLater(&res) {
		// Extensions work on after the response: the caller has its
		// answer now, the environment is released when they are done.
		p.inflight.Add(1)
		go p.finishInvoke(e, time.Now().Add(v.Timeout-res.Duration))
		return &res.Result, nil
	}
	p.release(e, res.broken)
	return &res.Result, nil
}

// acquire admits the call and returns an idle environment, or nil when the
// caller must start one. On success the caller holds one slot of inflight
// and of the busy counts.
func (p *Pool) acquire(key envKey, reserved *int) (*env, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, lambdaerr.ServiceUnavailable("The server is shutting down.")
	}
	if reserved != nil && p.busyByFn[key.function] >= *reserved {
		p.mu.Unlock()
		return nil, lambdaerr.TooManyRequests(lambdaerr.ReasonReservedFunctionConcurrentInvocationLimitExceeded, "Rate Exceeded.")
	}
	if p.busy >= p.cfg.MaxEnvironments {
		p.mu.Unlock()
		return nil, lambdaerr.TooManyRequests(lambdaerr.ReasonConcurrentInvocationLimitExceeded, "Rate Exceeded.")
	}
	p.busy++
	p.busyByFn[key.function]++
	busy := p.busyByFn[key.function]
	p.inflight.Add(1)
	var e *env
	var exited []*env
	if vp := p.versions[key]; vp != nil {
		for len(vp.idle) > 0 && e == nil {
			e = vp.idle[len(vp.idle)-1]
			vp.idle = vp.idle[:len(vp.idle)-1]
			if e.procDone.Err() != nil { // exited while idle
				p.forgetLocked(e)
				exited = append(exited, e)
				e = nil
			}
		}
	}
	p.mu.Unlock()
	for _, x := range exited {
		go x.destroy("exited")
	}
	if o := p.deps.Observer; o != nil {
		o.Concurrency(key.function, busy)
	}
	return e, nil
}

func (p *Pool) releaseSlot(function string) {
	p.mu.Lock()
	p.busy--
	p.busyByFn[function]--
	busy := p.busyByFn[function]
	if busy == 0 {
		delete(p.busyByFn, function)
	}
	p.mu.Unlock()
	if o := p.deps.Observer; o != nil {
		o.Concurrency(function, busy)
	}
}

// release returns e to its idle list, or destroys it when broken or when
// the pool is closing.
func (p *Pool) release(e *env, broken bool) {
	if !e.credsExpire.IsZero() && time.Until(e.credsExpire) < credentialsMargin {
		broken = true // retired: its credentials are about to expire
	}
	p.mu.Lock()
	vp := p.versions[e.key]
	if broken || p.closed || vp == nil {
		p.forgetLocked(e)
		p.mu.Unlock()
		p.releaseSlot(e.key.function)
		reason := "release"
		if !broken {
			reason = "stale" // evicted or closing while busy: a spindown
		}
		e.destroy(reason)
		return
	}
	e.parkAndFreeze()
	e.lastUsed = time.Now()
	vp.idle = append(vp.idle, e)
	p.mu.Unlock()
	p.releaseSlot(e.key.function)
}

func (p *Pool) register(e *env) bool {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return false
	}
	victim := p.evictionVictimLocked()
	vp := p.versions[e.key]
	if vp == nil {
		vp = &versionPool{all: make(map[*env]struct{})}
		p.versions[e.key] = vp
	}
	vp.all[e] = struct{}{}
	p.mu.Unlock()
	if victim != nil {
		go victim.destroy("capacity")
	}
	return true
}

// evictionVictimLocked keeps the number of environments within
// MaxEnvironments: when a new one is about to be added and the pool is
// full, it takes the least recently used idle environment off its list and
// returns it for destruction (nil when none needs to go or all are busy).
// This bounds the memory that idle environments of many functions hold.
func (p *Pool) evictionVictimLocked() *env {
	total := 0
	for _, vp := range p.versions {
		total += len(vp.all)
	}
	if total < p.cfg.MaxEnvironments {
		return nil
	}
	var victim *env
	var victimKey envKey
	for k, vp := range p.versions {
		if len(vp.idle) > 0 && (victim == nil || vp.idle[0].lastUsed.Before(victim.lastUsed)) {
			victim, victimKey = vp.idle[0], k // idle[0] is the least recently used of its version
		}
	}
	if victim == nil {
		return nil
	}
	vp := p.versions[victimKey]
	vp.idle = vp.idle[1:]
	p.forgetLocked(victim)
	return victim
}

// forgetLocked removes e from its version's environments, and drops the
// version's pool when e was its last; e must not be on the idle list.
func (p *Pool) forgetLocked(e *env) {
	vp := p.versions[e.key]
	if vp == nil {
		return
	}
	delete(vp.all, e)
	if len(vp.all) == 0 {
		delete(p.versions, e.key)
	}
}

// dropIfIdle removes e from its idle list and destroys it; a busy e is
// left to its invocation, which sees the exit.
func (p *Pool) dropIfIdle(e *env) {
	p.mu.Lock()
	vp := p.versions[e.key]
	found := false
	if vp != nil {
		for i, x := range vp.idle {
			if x == e {
				vp.idle = append(vp.idle[:i], vp.idle[i+1:]...)
				p.forgetLocked(e)
				found = true
				break
			}
		}
	}
	p.mu.Unlock()
	if found {
		e.destroy("exited")
	}
}

// EvictStale destroys idle environments of function for which keep returns
// false (for example because $LATEST changed); busy ones are destroyed when
// they finish.
func (p *Pool) EvictStale(function string, keep func(version, revision string) bool) {
	var victims []*env
	p.mu.Lock()
	for k, vp := range p.versions {
		if k.function != function || keep(k.version, k.revision) {
			continue
		}
		victims = append(victims, vp.idle...)
		for _, e := range vp.idle {
			delete(vp.all, e)
		}
		vp.idle = nil
		delete(p.versions, k) // busy environments see a missing pool and go
	}
	stale := p.dropCarriedLocked(func(k envKey, _ carriedTmp) bool {
		return k.function == function && !keep(k.version, k.revision)
	})
	p.mu.Unlock()
	for _, e := range victims {
		e.destroy("stale")
	}
	removeTmps(stale, p.logger)
}

// Stats is a snapshot for health reporting.
type Stats struct {
	Environments int `json:"environments"`
	Idle         int `json:"idle"`
	Busy         int `json:"busy"`
}

// Stats returns current counts.
func (p *Pool) Stats() Stats {
	var s Stats
	p.mu.Lock()
	for _, vp := range p.versions {
		s.Environments += len(vp.all)
		s.Idle += len(vp.idle)
	}
	s.Busy = p.busy
	p.mu.Unlock()
	return s
}

// TemplateStats counts the pre-started runtimes ready to be handed a
// function, by runtime template; nil when templates are off.
func (p *Pool) TemplateStats() map[string]int {
	t := p.templates
	if t == nil {
		return nil
	}
	t.mu.Lock()
	names := make([]string, 0, len(t.envs))
	for name := range t.envs {
		names = append(names, name)
	}
	t.mu.Unlock()
	ready := make(map[string]int, len(names))
	for _, name := range names {
		ready[name] = p.deps.Sandbox.TemplateReady(name)
	}
	return ready
}

func (p *Pool) runJanitor() {
	defer p.janitor.Done()
	interval := p.cfg.IdleTTL / 4
	if interval > 10*time.Second {
		interval = 10 * time.Second
	}
	if interval < 50*time.Millisecond {
		interval = 50 * time.Millisecond
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			p.evictIdle(now)
		}
	}
}

func (p *Pool) evictIdle(now time.Time) {
	var victims []*env
	p.mu.Lock()
	for k, vp := range p.versions {
		kept := vp.idle[:0]
		for _, e := range vp.idle {
			if now.Sub(e.lastUsed) >= p.cfg.IdleTTL {
				victims = append(victims, e)
				delete(vp.all, e)
			} else {
				kept = append(kept, e)
			}
		}
		vp.idle = kept
		if len(vp.all) == 0 {
			delete(p.versions, k)
		}
	}
	unused := p.dropCarriedLocked(func(_ envKey, c carriedTmp) bool {
		return now.Sub(c.since) >= p.cfg.IdleTTL
	})
	p.mu.Unlock()
	for _, e := range victims {
		e.destroy("idle")
	}
	removeTmps(unused, p.logger)
}

// Close stops admitting invocations, waits (bounded by ctx) for in-flight
// ones and destroys every environment. It is idempotent.
func (p *Pool) Close(ctx context.Context) error {
	var err error
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		close(p.stop)
		p.janitor.Wait()
		done := make(chan struct{})
		go func() { p.inflight.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			err = fmt.Errorf("pool: close: in-flight invocations still running: %w", ctx.Err())
		}
		var all []*env
		p.mu.Lock()
		for _, vp := range p.versions {
			for e := range vp.all {
				all = append(all, e)
			}
		}
		p.versions = map[envKey]*versionPool{}
		p.mu.Unlock()
		var wg sync.WaitGroup
		for _, e := range all {
			wg.Add(1)
			go func() { defer wg.Done(); e.destroy("shutdown") }()
		}
		wg.Wait()
		// Environments are all gone, and carry refuses from now on.
		p.mu.Lock()
		left := p.dropCarriedLocked(func(envKey, carriedTmp) bool { return true })
		p.mu.Unlock()
		removeTmps(left, p.logger)
	})
	return err
}

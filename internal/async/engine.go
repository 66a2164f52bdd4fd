package async

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/invoke"
	"github.com/updraft/updraft/internal/metrics"
	"github.com/updraft/updraft/internal/registry"
)

// Defaults of Config.
const (
	// DefaultAckWait is how long an event may go without a sign of life
	// from the worker running it before JetStream hands it to another.
	DefaultAckWait = 30 * time.Second
	// DefaultMaxWorkers caps the workers per function per node.
	DefaultMaxWorkers = 8
	// throttleBackoffMin and throttleBackoffMax bound the backoff after a
	// throttle or a system error (Lambda: 1 s growing to 5 min).
	throttleBackoffMin = time.Second
	throttleBackoffMax = 5 * time.Minute
	// streamMaxAge bounds how long an event may stay in the stream: above
	// Lambda's longest event age (6 h) plus time for deliveries.
	streamMaxAge = 7 * 24 * time.Hour
	// fetchWait is how long one pull waits for an event.
	fetchWait = 10 * time.Second
	// drainFreezeDelay keeps an environment thawed this long after an
	// event, so a worker draining a backlog does not freeze and thaw it
	// between events (a cgroup v1 freeze costs about 0.3 ms); background
	// work still stops this soon after the last event.
	drainFreezeDelay = 20 * time.Millisecond
)

// Config configures the engine.
type Config struct {
	// MaxPayloadBytes is the Event payload limit (Lambda: 1 MB).
	MaxPayloadBytes int
	// RetryDelay is the wait before the first retry after a function
	// error; it doubles for each further retry (Lambda: 1 min, then 2).
	RetryDelay time.Duration
	// RecordTTL is how long records and unread batch results are kept.
	RecordTTL time.Duration
	// Replicas of the stream and bucket (1 on an embedded store).
	Replicas int
	// AckWait: see DefaultAckWait.
	AckWait time.Duration
	// ConcurrencyLimit is the account concurrency of this node; with a
	// function's reserved concurrency it sets how many workers the
	// function gets (see workersFor).
	ConcurrencyLimit int
	// MaxWorkers: see DefaultMaxWorkers.
	MaxWorkers int
}

// Policy is the asynchronous configuration in force for one qualifier
// (FunctionEventInvokeConfig plus defaults).
type Policy struct {
	MaxRetries  int
	MaxEventAge time.Duration
	OnSuccess   string
	OnFailure   string
}

// Invoker runs an invocation synchronously through the pool.
type Invoker interface {
	Invoke(ctx context.Context, req *invoke.Request) (*invoke.Response, error)
}

// Resolver finds what an invocation runs.
type Resolver interface {
	Resolve(name, qualifier string) (*registry.Target, error)
}

// Policies returns the Policy of a function's qualifier ("" or "$LATEST"
// for the unqualified function, a version number or an alias name).
type Policies interface {
	AsyncPolicy(function, qualifier string) Policy
}

// Attribute is a queue message attribute (SQS's shape).
type Attribute struct {
	DataType    string
	StringValue string
}

// Queues writes to the built-in queues, named by their SQS ARN
// (arn:aws:sqs:REGION:ACCOUNT:NAME). Send must be durable when it returns,
// and a repeated dedupID must not add a second message.
type Queues interface {
	Send(ctx context.Context, queueARN, dedupID string, body []byte, attrs map[string]Attribute) error
}

// Writable is the store's report of whether it takes writes.
type Writable interface {
	// WaitWritable blocks until the store takes writes or ctx ends.
	WaitWritable(ctx context.Context) error
}

// Deps are the engine's collaborators.
type Deps struct {
	JetStream jetstream.JetStream
	// Store, when set, pauses the workers while the store cannot write
	// (a full disk): an event run then could not record its outcome and
	// would run again. They resume when it recovers.
	Store    Writable
	Invoker  Invoker
	Resolver Resolver
	Policies Policies
	Queues   Queues
	// HTTP sends webhook deliveries; nil means a client with a 10 s timeout.
	HTTP    *http.Client
	Metrics *metrics.Async
	Logger  *slog.Logger
}

// Engine accepts events and runs them.
type Engine struct {
	cfg     Config
	deps    Deps
	logger  *slog.Logger
	stream  jetstream.Stream
	records *records
	http    *http.Client

	// ctx ends when the engine closes; workers stop fetching then.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	workers map[string]*functionWorkers
	closed  bool
	// running tracks handlers in flight, so Close can wait for them.
	running sync.WaitGroup
}

// functionWorkers are the workers of one function on this node. They
// grow with the work: one waits for events while the function is idle, and
// each event fetched starts another until n run, so an idle function costs
// one pull request, not n; a worker whose pull finds nothing goes away
// while others remain.
type functionWorkers struct {
	n      int // the most this node runs at once
	cancel context.CancelFunc
	done   sync.WaitGroup

	mu     sync.Mutex
	active int // workers running; guarded by mu
}

// grow reports whether one more worker may start, counting it if so.
func (w *functionWorkers) grow() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.active >= w.n {
		return false
	}
	w.active++
	return true
}

// retire reports whether a worker whose pull found nothing should stop:
// all but the last do, and stop being counted.
func (w *functionWorkers) retire() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.active <= 1 {
		return false
	}
	w.active--
	return true
}

// New creates the stream and bucket the engine uses. Workers start with
// Start and as functions appear (FunctionChanged).
func New(ctx context.Context, cfg Config, deps Deps) (*Engine, error) {
	if cfg.AckWait <= 0 {
		cfg.AckWait = DefaultAckWait
	}
	if cfg.MaxWorkers <= 0 {
		cfg.MaxWorkers = DefaultMaxWorkers
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.ConcurrencyLimit <= 0 {
		cfg.ConcurrencyLimit = 2 * cfg.MaxWorkers
	}
	js := deps.JetStream
	stream, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamName,
		Description: "updraft asynchronous invocations, one subject per function",
		Subjects:    []string{subjectPrefix + ">"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
		MaxAge:      streamMaxAge,
		Duplicates:  2 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("async: create stream %s: %w", StreamName, err)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      RecordsBucket,
		Description: "updraft asynchronous invocation records and batch results",
		History:     1,
		TTL:         cfg.RecordTTL,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("async: create bucket %s: %w", RecordsBucket, err)
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	hc := deps.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	ectx, cancel := context.WithCancel(context.Background())
	return &Engine{
		cfg: cfg, deps: deps, logger: logger.With("component", "async"),
		stream: stream, records: &records{kv: kv}, http: hc,
		ctx: ectx, cancel: cancel,
		workers: map[string]*functionWorkers{},
	}, nil
}

// Start runs workers for every function that has a consumer already
// (events accepted before a restart, or by another node).
func (e *Engine) Start(ctx context.Context) error {
	names := e.stream.ConsumerNames(ctx)
	for name := range names.Name() {
		if fn, ok := functionOfConsumer(name); ok {
			e.FunctionChanged(fn)
		}
	}
	if err := names.Err(); err != nil {
		return fmt.Errorf("async: list consumers of %s: %w", StreamName, err)
	}
	return nil
}

func functionOfConsumer(name string) (string, bool) {
	const prefix = "async_"
	if len(name) <= len(prefix) || name[:len(prefix)] != prefix {
		return "", false
	}
	return name[len(prefix):], true
}

// FunctionChanged starts, resizes or keeps the workers of function. It is
// called for every registry change (from any node) and on acceptance. A
// deleted function keeps its workers until its events are drained: each
// is failed as FunctionDeleted.
func (e *Engine) FunctionChanged(function string) {
	n := e.workersFor(function)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	w := e.workers[function]
	if w != nil && (w.n == n || n == 0) {
		return
	}
	if n == 0 {
		n = 1 // a deleted function: one worker drains what is left
	}
	if w != nil {
		w.cancel()
	}
	ctx, cancel := context.WithCancel(e.ctx)
	w = &functionWorkers{n: n, cancel: cancel}
	e.workers[function] = w
	w.grow()
	e.startWorker(ctx, function, w, nil)
}

// startWorker starts one worker of w (already counted) on cons, or on the
// function's consumer, created first, when cons is nil.
func (e *Engine) startWorker(ctx context.Context, function string, w *functionWorkers, cons jetstream.Consumer) {
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		e.work(ctx, function, w, cons)
	}()
}

// workersFor returns how many events of function this node runs at once:
// half of the function's concurrency (its reservation, else the node's
// limit), at least 1 and at most MaxWorkers. The other half stays free for
// synchronous callers, so a backlog of events cannot starve them; events
// that find no capacity are throttled and retried with backoff, as on
// Lambda. 0 means the function does not exist.
func (e *Engine) workersFor(function string) int {
	t, err := e.deps.Resolver.Resolve(function, "")
	if err != nil {
		return 0
	}
	limit := e.cfg.ConcurrencyLimit
	if r := t.ReservedConcurrency; r != nil && *r < limit {
		limit = *r
	}
	n := limit / 2
	if n < 1 {
		n = 1
	}
	if n > e.cfg.MaxWorkers {
		n = e.cfg.MaxWorkers
	}
	return n
}

// consumer returns the durable consumer of function, creating it.
func (e *Engine) consumer(ctx context.Context, function string) (jetstream.Consumer, error) {
	c, err := e.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       consumerFor(function),
		Description:   "updraft async events of " + function,
		FilterSubject: subjectFor(function),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       e.cfg.AckWait,
		MaxDeliver:    -1,
		// Events waiting out a retry delay stay pending: leave room.
		MaxAckPending: 100000,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("async: consumer for %s: %w", function, err)
	}
	return c, nil
}

// work is one worker of w: it fetches the function's events one at a time
// and runs them until ctx ends, starting another worker on each event while
// w has room, and stopping when a fetch finds nothing and others remain.
func (e *Engine) work(ctx context.Context, function string, w *functionWorkers, cons jetstream.Consumer) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		if s := e.deps.Store; s != nil {
			if err := s.WaitWritable(ctx); err != nil {
				return
			}
		}
		if cons == nil {
			c, err := e.consumer(ctx, function)
			if err != nil {
				e.logger.Warn("async consumer unavailable", "function", function, "err", err)
				sleep(ctx, backoff)
				backoff = min(2*backoff, 5*time.Second)
				continue
			}
			cons, backoff = c, 100*time.Millisecond
		}
		fctx, cancel := context.WithTimeout(ctx, fetchWait)
		msg, err := cons.Next(jetstream.FetchContext(fctx))
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) {
				cons = nil
				continue
			}
			if !isFetchTimeout(err) {
				e.logger.Debug("async fetch", "function", function, "err", err)
				sleep(ctx, backoff)
			} else if w.retire() {
				return
			}
			continue
		}
		if w.grow() {
			e.startWorker(ctx, function, w, cons)
		}
		e.running.Add(1)
		e.handle(msg)
		e.running.Done()
	}
}

func isFetchTimeout(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, jetstream.ErrNoMessages) ||
		errors.Is(err, context.Canceled) || err.Error() == "nats: timeout"
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Close stops fetching and waits for the events in flight (bounded by
// ctx); unfinished ones are redelivered later.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.cancel()
	done := make(chan struct{})
	go func() {
		e.mu.Lock()
		ws := make([]*functionWorkers, 0, len(e.workers))
		for _, w := range e.workers {
			ws = append(ws, w)
		}
		e.mu.Unlock()
		for _, w := range ws {
			w.done.Wait()
		}
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("async: close: %w", ctx.Err())
	}
}

// MaxPayloadBytes is the Event payload limit in force.
func (e *Engine) MaxPayloadBytes() int { return e.cfg.MaxPayloadBytes }

package async

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
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
	// fetchWait is how long one pull waits for an event (at most; a
	// shorter ReleaseAfter shortens it).
	fetchWait = 10 * time.Second
	// DefaultReleaseAfter is how long a function's workers (and its
	// consumer) stay after its last event.
	DefaultReleaseAfter = 5 * time.Minute
	// DefaultScanInterval is how often every node looks for functions
	// with queued events it runs no workers for.
	DefaultScanInterval = 30 * time.Second
	// maxConsumers bounds the consumers of the stream, one per function
	// with events in the last ReleaseAfter. JetStream's own default, 1,000
	// per stream, is too few for a node holding thousands of functions.
	maxConsumers = 1_000_000
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
	// ReleaseAfter is how long a function's workers stay on a node after
	// the last event they fetched, once nothing of the function is queued
	// or unacknowledged; its consumer is deleted by JetStream after the
	// same time without pulls from any node. 0 means DefaultReleaseAfter.
	ReleaseAfter time.Duration
	// ScanInterval is how often the node reads which functions have
	// queued events and starts workers for those it has none for (events
	// accepted by a node that died before running them). 0 means
	// DefaultScanInterval.
	ScanInterval time.Duration
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
	// goroutines counts the workers, the scanner and the wake listener,
	// so Close can wait for them.
	goroutines sync.WaitGroup
	// wake receives the names of functions whose first event another
	// node accepted; nil before Start.
	wake *nats.Subscription

	mu sync.Mutex
	// workers are the functions this node runs workers for: only those
	// with events in the last ReleaseAfter. Guarded by mu.
	workers map[string]*functionWorkers
	closed  bool // guarded by mu
	// running tracks handlers in flight, so Close can wait for them.
	running sync.WaitGroup
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
	if cfg.ReleaseAfter <= 0 {
		cfg.ReleaseAfter = DefaultReleaseAfter
	}
	if cfg.ScanInterval <= 0 {
		cfg.ScanInterval = DefaultScanInterval
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	js := deps.JetStream
	scfg := jetstream.StreamConfig{
		Name:         StreamName,
		Description:  "updraft asynchronous invocations, one subject per function",
		Subjects:     []string{subjectPrefix + ">"},
		Retention:    jetstream.WorkQueuePolicy,
		Storage:      jetstream.FileStorage,
		Replicas:     cfg.Replicas,
		MaxAge:       streamMaxAge,
		Duplicates:   2 * time.Minute,
		MaxConsumers: maxConsumers,
	}
	stream, err := js.CreateOrUpdateStream(ctx, scfg)
	if errors.Is(err, jetstream.ErrMaximumConsumersLimit) {
		// An external server whose account allows fewer: take its limit.
		logger.Warn("the account limits consumers: at most that many functions can have events queued at once", "err", err)
		scfg.MaxConsumers = 0
		stream, err = js.CreateOrUpdateStream(ctx, scfg)
	}
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

// Close stops fetching and waits for the events in flight (bounded by
// ctx); unfinished ones are redelivered later.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.cancel()
	if e.wake != nil {
		_ = e.wake.Unsubscribe()
	}
	done := make(chan struct{})
	go func() {
		e.goroutines.Wait()
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

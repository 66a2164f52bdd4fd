package sfn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/authz"
	"github.com/updraft/updraft/internal/iam"
	"github.com/updraft/updraft/internal/invoke"
	"github.com/updraft/updraft/internal/metrics"
	"github.com/updraft/updraft/internal/sfn/asl"
)

// JetStream objects of the service.
const (
	// Bucket holds state machines (sm.HEX) and executions (ex.SMHEX.KEY).
	Bucket = "updraft-sfn"
	// WorkStream is the work queue every node consumes.
	WorkStream  = "UPDRAFT_SFN_WORK"
	workSubject = "sfn.work."
	// EventStream holds the history events, one subject per execution.
	EventStream  = "UPDRAFT_SFN_EVENTS"
	eventSubject = "sfn.ev."
	// consumerName is the durable consumer all nodes share.
	consumerName = "sfn-workers"
)

// Invoker runs a function synchronously (the invoke service).
type Invoker interface {
	Invoke(ctx context.Context, req *invoke.Request) (*invoke.Response, error)
}

// Queues sends to the built-in queues (queue.Service, adapted by the
// daemon).
type Queues interface {
	// Send stores body in queue name, deduplicated by id, and returns the
	// message id.
	Send(ctx context.Context, name, id string, body []byte) (string, error)
}

// Authorizer decides whether a principal may act (internal/authz).
type Authorizer interface {
	Authorize(p iam.Principal, action, resource string, c authz.Context) error
}

// Config configures a Service.
type Config struct {
	// Region and AccountID make the ARNs.
	Region, AccountID string
	// Replicas is the JetStream objects' replica count.
	Replicas int
	// Workers is how many work items this node runs at once; 0 means 64.
	Workers int
	// AckWait is how long a work item may run without a sign of life
	// before another node gets it; 0 means 30 s.
	AckWait time.Duration
}

// Deps are what a Service uses.
type Deps struct {
	JetStream jetstream.JetStream
	Invoker   Invoker
	// Queues serves arn:aws:states:::sqs:sendMessage; nil fails such tasks.
	Queues Queues
	// Authorizer checks a state machine's role before each task; nil
	// allows everything (--auth none).
	Authorizer Authorizer
	// Metrics, when set, counts executions, transitions and state times.
	Metrics *metrics.Workflows
	Logger  *slog.Logger
}

// Service is the Step Functions service of one node: its API and its
// share of the work of every execution.
type Service struct {
	cfg    Config
	deps   Deps
	kv     jetstream.KeyValue
	work   jetstream.Stream
	events jetstream.Stream
	defs   *definitions
	logger *slog.Logger
	// now is the clock; tests replace it.
	now func() time.Time
	// locks holds an *execLock per execution this node changes.
	locks sync.Map

	ctx    context.Context // the workers' lifetime, ended by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// New creates (or updates) the bucket and streams; Start runs the
// workers.
func New(ctx context.Context, cfg Config, deps Deps) (*Service, error) {
	js := deps.JetStream
	replicas := max(cfg.Replicas, 1)
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: Bucket, Description: "updraft state machines and executions", History: 1,
		Storage: jetstream.FileStorage, Replicas: replicas, MaxValueSize: 8 << 20,
	})
	if err != nil {
		return nil, fmt.Errorf("sfn: create bucket %s: %w", Bucket, err)
	}
	work, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: WorkStream, Description: "updraft workflow work items", Subjects: []string{workSubject + ">"},
		Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage, Replicas: replicas,
		Duplicates: 2 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("sfn: create stream %s: %w", WorkStream, err)
	}
	events, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: EventStream, Description: "updraft workflow execution history", Subjects: []string{eventSubject + ">"},
		Storage: jetstream.FileStorage, Replicas: replicas, Duplicates: 2 * time.Minute,
		MaxAge: 90 * 24 * time.Hour,
	})
	if err != nil {
		return nil, fmt.Errorf("sfn: create stream %s: %w", EventStream, err)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 64
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = 30 * time.Second
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{
		cfg: cfg, deps: deps, kv: kv, work: work, events: events,
		defs:   &definitions{region: cfg.Region, byHash: map[[32]byte]*asl.Definition{}},
		logger: logger.With("component", "sfn"),
		now:    time.Now,
	}, nil
}

// Start runs this node's workers on the shared consumer.
func (s *Service) Start(ctx context.Context) error {
	cons, err := s.work.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: consumerName, Description: "updraft workflow workers",
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: s.cfg.AckWait, MaxDeliver: -1,
		MaxAckPending: 100000, DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return fmt.Errorf("sfn: consumer: %w", err)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for range s.cfg.Workers {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.worker(s.ctx, cons)
		}()
	}
	return nil
}

// Close stops the workers; items they hold go back to the queue.
func (s *Service) Close(context.Context) error {
	s.once.Do(func() {
		if s.cancel != nil {
			s.cancel()
		}
		s.wg.Wait()
	})
	return nil
}

// worker takes work items one at a time until ctx ends.
func (s *Service) worker(ctx context.Context, cons jetstream.Consumer) {
	for ctx.Err() == nil {
		fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		msg, err := cons.Next(jetstream.FetchContext(fctx))
		cancel()
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrNoMessages) {
				s.logger.Debug("sfn fetch", "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
			continue
		}
		s.handle(ctx, msg)
	}
}

// handle runs one work item and acknowledges it, or asks for it again
// later (a wait not yet due, a failure to store).
func (s *Service) handle(ctx context.Context, msg jetstream.Msg) {
	var w work
	if err := json.Unmarshal(msg.Data(), &w); err != nil {
		_ = msg.Term()
		return
	}
	if !w.At.IsZero() {
		if d := w.At.Sub(s.now()); d > 0 {
			_ = msg.NakWithDelay(min(d, time.Hour))
			return
		}
	}
	// Keep the item ours while a task runs long.
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(s.cfg.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()
	delay, err := s.process(ctx, w)
	close(done)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			s.logger.Warn("sfn work item failed; it will run again", "exec", w.Exec, "frame", w.Frame, "err", err)
		}
		_ = msg.NakWithDelay(time.Second)
	case delay > 0:
		_ = msg.NakWithDelay(delay)
	default:
		_ = msg.Ack()
	}
}

package async

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// functionWorkers are the workers of one function on this node. They
// exist only while the function has work: they start with its first event
// (accepted here, announced by another node, or found queued by the
// scanner) and go away ReleaseAfter after the last one. They grow with the
// work: one waits for events while the function is quiet, and each event
// fetched starts another until n run, so a quiet function costs one pull
// request, not n; a worker whose pull finds nothing goes away while others
// remain, and the last one releases the set.
type functionWorkers struct {
	n      int // the most this node runs at once
	cancel context.CancelFunc

	mu     sync.Mutex
	active int // workers running; guarded by mu
	// lastEvent is when a worker last fetched an event (or the set
	// started); guarded by mu.
	lastEvent time.Time
	// pokes counts the times someone made sure the set runs (an event
	// accepted, announced or found queued); release gives up when it
	// moved while it looked at the consumer. Guarded by the Engine's mu.
	pokes uint64
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

// fetched notes that a worker fetched an event at now.
func (w *functionWorkers) fetched(now time.Time) {
	w.mu.Lock()
	w.lastEvent = now
	w.mu.Unlock()
}

// quietFor is how long no worker of the set fetched an event.
func (w *functionWorkers) quietFor(now time.Time) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return now.Sub(w.lastEvent)
}

// FunctionChanged resizes the workers of function when they run (its
// reserved concurrency changed). It is called for every registry change,
// from any node; a function without workers gets none: they start with
// its first event.
func (e *Engine) FunctionChanged(function string) {
	e.mu.Lock()
	running := e.workers[function] != nil
	e.mu.Unlock()
	if running {
		e.ensure(function, e.workersFor(function))
	}
}

// wakeUp makes sure this node runs workers for function, which has events
// queued. It reports whether it had to start them.
func (e *Engine) wakeUp(function string) bool {
	e.mu.Lock()
	if w := e.workers[function]; w != nil {
		w.pokes++
		e.mu.Unlock()
		return false
	}
	e.mu.Unlock()
	return e.ensure(function, e.workersFor(function))
}

// ensure runs n workers at most for function (0: the function is gone,
// one worker drains what is left, failing each event as FunctionDeleted),
// starting the set or replacing one of another size. It reports whether it
// started a set.
func (e *Engine) ensure(function string, n int) bool {
	if n == 0 {
		n = 1
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	w := e.workers[function]
	if w != nil {
		w.pokes++
		if w.n == n {
			return false
		}
		w.cancel()
	}
	ctx, cancel := context.WithCancel(e.ctx)
	w = &functionWorkers{n: n, cancel: cancel, lastEvent: time.Now()}
	e.workers[function] = w
	w.grow()
	e.startWorker(ctx, function, w, nil)
	return true
}

// startWorker starts one worker of w (already counted) on cons, or on the
// function's consumer, created first, when cons is nil.
func (e *Engine) startWorker(ctx context.Context, function string, w *functionWorkers, cons jetstream.Consumer) {
	e.goroutines.Add(1)
	go func() {
		defer e.goroutines.Done()
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

// consumer returns the durable consumer of function, creating it. Nodes
// share it; JetStream deletes it once no node has pulled from it for
// ReleaseAfter and none of its events waits for an acknowledgement, so a
// function that had events once does not keep a consumer forever.
func (e *Engine) consumer(ctx context.Context, function string) (jetstream.Consumer, error) {
	c, err := e.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       consumerFor(function),
		Description:   "updraft async events of " + function,
		FilterSubject: subjectFor(function),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       e.cfg.AckWait,
		MaxDeliver:    -1,
		// Events waiting out a retry delay stay pending: leave room.
		MaxAckPending:     100000,
		DeliverPolicy:     jetstream.DeliverAllPolicy,
		InactiveThreshold: e.cfg.ReleaseAfter,
	})
	if err != nil {
		return nil, fmt.Errorf("async: consumer for %s: %w", function, err)
	}
	return c, nil
}

// pullWait is how long one pull waits for an event: fetchWait, or less
// when workers are released sooner than that.
func (e *Engine) pullWait() time.Duration { return min(fetchWait, e.cfg.ReleaseAfter) }

// work is one worker of w: it fetches the function's events one at a time
// and runs them until ctx ends, starting another worker on each event while
// w has room, and stopping when a fetch finds nothing and others remain.
// The last worker stops, releasing the set, once the function has been
// quiet for ReleaseAfter and nothing of it is queued or unacknowledged.
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
		fctx, cancel := context.WithTimeout(ctx, e.pullWait())
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
				continue
			}
			if w.retire() || e.release(ctx, function, w, cons) {
				return
			}
			continue
		}
		w.fetched(time.Now())
		if w.grow() {
			e.startWorker(ctx, function, w, cons)
		}
		e.running.Add(1)
		e.handle(msg)
		e.running.Done()
	}
}

// release reports whether the last worker of w should stop and, if so,
// forgets the set: the function has been quiet for ReleaseAfter, its
// consumer holds nothing (no event queued, none waiting out a retry delay
// or running on any node), and no event was accepted, announced or found
// for it while the consumer was asked.
func (e *Engine) release(ctx context.Context, function string, w *functionWorkers, cons jetstream.Consumer) bool {
	if w.quietFor(time.Now()) < e.cfg.ReleaseAfter {
		return false
	}
	e.mu.Lock()
	pokes := w.pokes
	e.mu.Unlock()
	ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
	info, err := cons.Info(ictx)
	cancel()
	if err != nil || info.NumPending > 0 || info.NumAckPending > 0 {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if w.pokes != pokes || e.workers[function] != w {
		return false
	}
	delete(e.workers, function)
	w.cancel()
	e.logger.Debug("async workers released", "function", function)
	return true
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

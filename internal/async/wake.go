package async

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// wakeSubject carries, as plain NATS messages to every node, the name of a
// function whose workers a node just started because it accepted an event:
// the other nodes start theirs too, so the nodes sharing a JetStream share
// a burst of events from its first one, as when every node ran workers for
// every function. It is outside the stream's subjects, and losing a
// message costs only time: the scanner finds what is queued.
const wakeSubject = "updraft.wake.async"

// Start makes the engine run what is queued: it listens for other nodes'
// wake-ups, starts workers for every function with events in the stream
// (accepted before a restart, or by a node that died), and looks again
// every ScanInterval.
func (e *Engine) Start(ctx context.Context) error {
	sub, err := e.deps.JetStream.Conn().Subscribe(wakeSubject, func(m *nats.Msg) {
		// Only for a function this node knows: a name made up by anyone
		// on the bus starts nothing, and one this node's view has not
		// caught up with yet is left to the node that accepted it (and
		// to the next scan).
		if fn := string(m.Data); validWakeName(fn) && e.workersFor(fn) > 0 {
			e.wakeUp(fn)
		}
	})
	if err != nil {
		return fmt.Errorf("async: subscribe %s: %w", wakeSubject, err)
	}
	e.mu.Lock()
	e.wake = sub
	e.mu.Unlock()
	if err := e.adoptConsumers(ctx); err != nil {
		return err
	}
	if _, err := e.Scan(ctx); err != nil {
		return err
	}
	e.goroutines.Add(1)
	go func() {
		defer e.goroutines.Done()
		t := time.NewTicker(e.cfg.ScanInterval)
		defer t.Stop()
		for {
			select {
			case <-e.ctx.Done():
				return
			case <-t.C:
				sctx, cancel := context.WithTimeout(e.ctx, e.cfg.ScanInterval)
				if _, err := e.Scan(sctx); err != nil && e.ctx.Err() == nil {
					e.logger.Warn("async scan failed; retrying at the next interval", "err", err)
				}
				cancel()
			}
		}
	}()
	return nil
}

// adoptConsumers gives the consumers made by an earlier server, which
// kept one per registered function for good, the inactivity threshold of
// this one, so JetStream deletes those of functions without events.
func (e *Engine) adoptConsumers(ctx context.Context) error {
	lister := e.stream.ListConsumers(ctx)
	adopted := 0
	for info := range lister.Info() {
		fn, ok := functionOfConsumer(info.Name)
		if !ok || info.Config.InactiveThreshold == e.cfg.ReleaseAfter {
			continue
		}
		if _, err := e.consumer(ctx, fn); err != nil {
			return err
		}
		adopted++
	}
	if err := lister.Err(); err != nil {
		return fmt.Errorf("async: list consumers of %s: %w", StreamName, err)
	}
	if adopted > 0 {
		e.logger.Info("async consumers given an inactivity threshold", "consumers", adopted, "threshold", e.cfg.ReleaseAfter)
	}
	return nil
}

// Scan starts workers for every function with events in the stream that
// this node runs none for, and returns how many it started. It reads the
// stream's per-subject message counts, one request however many functions
// exist; events stay in the stream until acknowledged (work-queue
// retention), so a function with a count has work, whether queued,
// waiting out a retry delay or running elsewhere.
func (e *Engine) Scan(ctx context.Context) (int, error) {
	info, err := e.stream.Info(ctx, jetstream.WithSubjectFilter(subjectPrefix+">"))
	if err != nil {
		return 0, fmt.Errorf("async: subjects of %s: %w", StreamName, err)
	}
	started := 0
	for subject, n := range info.State.Subjects {
		fn, ok := strings.CutPrefix(subject, subjectPrefix)
		if !ok || n == 0 || !validWakeName(fn) {
			continue
		}
		if e.wakeUp(fn) {
			started++
		}
	}
	if started > 0 {
		e.logger.Info("async workers started for queued events", "functions", started)
	}
	return started, nil
}

// announce tells the other nodes that function has events.
func (e *Engine) announce(function string) {
	if err := e.deps.JetStream.Conn().Publish(wakeSubject, []byte(function)); err != nil {
		e.logger.Debug("async wake-up not sent", "function", function, "err", err)
	}
}

// validWakeName reports whether s can be a function name: a subject
// token, not empty, short.
func validWakeName(s string) bool {
	return s != "" && len(s) <= 256 && !strings.ContainsAny(s, ". *>\t\r\n")
}

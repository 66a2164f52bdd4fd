package sfn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/sfn/asl"
)

// errStale says a work item's frame moved on: nothing to do.
var errStale = errors.New("sfn: stale work item")

// maxCommitAttempts bounds the compare-and-set retries of one change.
const maxCommitAttempts = 200

// execKVKey is the bucket key of an execution.
func execKVKey(key string) string { return "ex." + key }

// loadExec reads an execution and its revision; jetstream.ErrKeyNotFound
// if there is none.
func (s *Service) loadExec(ctx context.Context, key string) (*execution, uint64, error) {
	e, err := s.kv.Get(ctx, execKVKey(key))
	if err != nil {
		return nil, 0, err
	}
	var x execution
	if err := json.Unmarshal(e.Value(), &x); err != nil {
		return nil, 0, fmt.Errorf("sfn: decode execution %s: %w", key, err)
	}
	return &x, e.Revision(), nil
}

// process runs one work item. It returns a delay to see it again after
// (a timeout not yet due), or an error to retry it.
func (s *Service) process(ctx context.Context, w work) (time.Duration, error) {
	x, err := s.peek(ctx, w)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if w.Frame == "" && w.Timeout {
		return 0, ignoreStale(s.timeOut(ctx, w.Exec))
	}
	f := x.Frames[w.Frame]
	if x.Status != StatusRunning || f == nil || f.Step != w.Step {
		// Already done: make sure what that step published went out, in
		// case its node died between storing and publishing.
		return 0, s.republish(ctx, x)
	}
	if w.Timeout {
		var later time.Duration
		err := s.update(ctx, w, func(c *commit, f *frame) {
			later = c.checkTimeout(f)
		})
		return later, s.settleStale(ctx, w, err)
	}
	switch f.Phase {
	case phaseTask:
		res := s.runTask(ctx, x, f.Task, fmt.Sprintf("%s/%s/%d", x.Key, f.ID, f.Step))
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, s.settleStale(ctx, w, s.update(ctx, w, func(c *commit, f *frame) {
			switch {
			case f.Phase != phaseTask:
			case res.WaitsForKey:
				f.Phase = phaseToken
				if !isLambdaARN(f.Task.Resource) {
					rtype, r := resourceParts(f.Task.Resource)
					c.x.emit(f, c.now, "TaskSubmitted", map[string]any{"resourceType": rtype, "resource": r})
				}
			case res.Error != "":
				c.taskFailed(f, res.Error, res.Cause)
			default:
				c.taskSucceeded(f, res.Output)
			}
		}))
	case phaseEnter:
		return 0, s.settleStale(ctx, w, s.update(ctx, w, func(c *commit, f *frame) { c.enter = append(c.enter, f) }))
	case phaseRetry:
		return 0, s.settleStale(ctx, w, s.update(ctx, w, func(c *commit, f *frame) {
			f.Phase = phaseEnter
			c.enter = append(c.enter, f)
		}))
	case phaseWait:
		return 0, s.settleStale(ctx, w, s.update(ctx, w, func(c *commit, f *frame) {
			st, err := c.state(f)
			if err != nil {
				c.failFrame(f, asl.ErrRuntime, err.Error())
				return
			}
			if f.Next == "" {
				c.x.emit(f, c.now, stateEvent(st.Type, "Exited"), payloadDetails(map[string]any{"name": st.Name}, "output", f.Output))
				c.finishFrame(f, f.Output)
				return
			}
			c.transition(f, st, f.Next, f.Output)
		}))
	}
	return 0, nil
}

// timeOut ends an execution that ran past its definition's
// TimeoutSeconds.
func (s *Service) timeOut(ctx context.Context, key string) error {
	return s.change(ctx, key, func(x *execution) (*frame, error) {
		if x.Status != StatusRunning || x.Deadline.IsZero() || s.now().Before(x.Deadline) {
			return nil, errStale
		}
		return nil, nil
	}, func(c *commit, _ *frame) {
		c.x.Status, c.x.Stop, c.x.Error, c.x.Cause = StatusTimedOut, c.now, asl.ErrTimeout, "The execution ran longer than its TimeoutSeconds"
		c.x.emit(nil, c.now, "ExecutionTimedOut", map[string]any{"error": c.x.Error, "cause": c.x.Cause})
		c.x.Frames = nil
	})
}

// settleStale is what process makes of an update's error: a work item
// found stale once its execution was read from the store (this node's
// cached copy may have been behind another node's commits) makes sure
// what the commit that overtook it published went out — its node may
// have died between storing and publishing, and nothing else would
// publish it again.
func (s *Service) settleStale(ctx context.Context, w work, err error) error {
	if !errors.Is(err, errStale) {
		return err
	}
	x, _, lerr := s.loadExec(ctx, w.Exec)
	if errors.Is(lerr, jetstream.ErrKeyNotFound) {
		return nil
	}
	if lerr != nil {
		return lerr
	}
	return s.republish(ctx, x)
}

func ignoreStale(err error) error {
	if errors.Is(err, errStale) {
		return nil
	}
	return err
}

// checkTimeout fails a task whose time or heartbeat ran out; otherwise
// it returns when to look again.
func (c *commit) checkTimeout(f *frame) time.Duration {
	if (f.Phase != phaseTask && f.Phase != phaseToken) || f.Task == nil {
		return 0
	}
	t := f.Task
	if !t.Deadline.IsZero() && !c.now.Before(t.Deadline) {
		c.taskFailed(f, asl.ErrTimeout, "")
		return 0
	}
	if t.HeartbeatSeconds > 0 && !c.now.Before(t.Beat.Add(time.Duration(t.HeartbeatSeconds)*time.Second)) {
		c.taskFailed(f, asl.ErrHeartbeatTimeout, "")
		return 0
	}
	if next := t.nextCheck(); !next.IsZero() {
		return max(next.Sub(c.now), 10*time.Millisecond)
	}
	return 0
}

// update applies change to the frame a work item names, under
// compare-and-set, then publishes the events and work items of the
// commit. errStale if the frame moved on.
func (s *Service) update(ctx context.Context, w work, change func(c *commit, f *frame)) error {
	return s.change(ctx, w.Exec, func(x *execution) (*frame, error) {
		f := x.Frames[w.Frame]
		if x.Status != StatusRunning || f == nil || f.Step != w.Step {
			return nil, errStale
		}
		return f, nil
	}, change)
}

// change is the compare-and-set loop behind every mutation of an
// execution: read, pick the frame, change, store if nobody else stored
// meanwhile (else again), publish.
func (s *Service) change(ctx context.Context, key string, pick func(x *execution) (*frame, error), change func(c *commit, f *frame)) error {
	l := s.lockFor(key)
	l.mu.Lock()
	var (
		c          *commit
		prev       []event
		wasRunning bool
		stored     bool
	)
	for range maxCommitAttempts {
		x, rev, err := s.cachedOrLoad(ctx, key, l)
		if err != nil {
			l.mu.Unlock()
			return err
		}
		f, err := pick(x)
		if err != nil {
			l.mu.Unlock()
			return err
		}
		prev = x.Pending
		x.Pending = nil
		wasRunning = x.Status == StatusRunning
		c = &commit{x: x, now: s.now(), defs: s.defs}
		change(c, f)
		c.run()
		b, err := json.Marshal(x)
		if err != nil {
			l.mu.Unlock()
			return fmt.Errorf("sfn: encode execution %s: %w", key, err)
		}
		nrev, err := s.kv.Update(ctx, execKVKey(key), b, rev)
		if err != nil {
			l.data = nil // another node wrote, or the store failed: read it again
			if isConflict(err) {
				continue
			}
			l.mu.Unlock()
			return fmt.Errorf("sfn: store execution %s: %w", key, err)
		}
		l.data, l.rev = b, nrev
		stored = true
		break
	}
	if stored && c.x.Status != StatusRunning {
		s.locks.Delete(key)
	}
	l.mu.Unlock()
	if !stored {
		return fmt.Errorf("sfn: execution %s: too many concurrent changes", key)
	}
	x := c.x
	s.observe(c, wasRunning)
	if err := s.publish(ctx, x, prev, c.livePokes()); err != nil {
		return err
	}
	if wasRunning && x.Status != StatusRunning {
		return s.notifyParent(ctx, x)
	}
	return nil
}

// execLock serialises this node's changes to one execution, so that its
// workers do not race each other's compare-and-set (other nodes still
// may; the revision check settles that), and keeps the entry as last
// stored, so that a change needs no read while no other node wrote.
type execLock struct {
	mu   sync.Mutex
	data []byte // the entry as this node last stored it; nil: read it; guarded by mu
	rev  uint64 // its revision; guarded by mu
}

// lockFor returns the lock of execution key.
func (s *Service) lockFor(key string) *execLock {
	if l, ok := s.locks.Load(key); ok {
		return l.(*execLock)
	}
	l, _ := s.locks.LoadOrStore(key, &execLock{})
	return l.(*execLock)
}

// cachedOrLoad decodes the entry l holds, or reads it. Called with l.mu held.
func (s *Service) cachedOrLoad(ctx context.Context, key string, l *execLock) (*execution, uint64, error) {
	if l.data != nil {
		var x execution
		if err := json.Unmarshal(l.data, &x); err == nil {
			return &x, l.rev, nil
		}
	}
	return s.loadExec(ctx, key)
}

// peek returns the execution as this node last stored it, when that is
// enough to act on work item w (its frame there, at its step); else it
// reads the store.
func (s *Service) peek(ctx context.Context, w work) (*execution, error) {
	if v, ok := s.locks.Load(w.Exec); ok {
		l := v.(*execLock)
		l.mu.Lock()
		data := l.data
		l.mu.Unlock()
		if data != nil {
			var x execution
			if json.Unmarshal(data, &x) == nil {
				if f := x.Frames[w.Frame]; x.Status == StatusRunning && f != nil && f.Step == w.Step {
					return &x, nil
				}
			}
		}
	}
	x, _, err := s.loadExec(ctx, w.Exec)
	return x, err
}

// observe counts a stored commit's transitions, state times and end.
func (s *Service) observe(c *commit, wasRunning bool) {
	m := s.deps.Metrics
	if m == nil {
		return
	}
	name := c.x.Machine
	for _, e := range c.exits {
		m.Transitions.WithLabelValues(name).Inc()
		m.StateTime.WithLabelValues(name, e.typ).Observe(e.d.Seconds())
	}
	if wasRunning && c.x.Status != StatusRunning {
		m.Ended.WithLabelValues(name, c.x.Status).Inc()
		m.ExecutionTime.WithLabelValues(name).Observe(c.x.Stop.Sub(c.x.Start).Seconds())
	}
}

// isConflict reports a compare-and-set write that lost to another.
func isConflict(err error) bool {
	var apiErr *jetstream.APIError
	return errors.Is(err, jetstream.ErrKeyExists) ||
		(errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence)
}

// publish sends the events of the previous and this commit and the new
// work items. Message ids make a second publication of either a no-op
// (within the streams' duplicate window; history reads also drop a
// repeated event id).
func (s *Service) publish(ctx context.Context, x *execution, prev []event, pokes []work) error {
	var futures []jetstream.PubAckFuture
	send := func(subject, id string, data []byte) error {
		m := nats.NewMsg(subject)
		m.Header.Set(jetstream.MsgIDHeader, id)
		m.Data = data
		f, err := s.deps.JetStream.PublishMsgAsync(m)
		if err != nil {
			return fmt.Errorf("sfn: publish %s: %w", subject, err)
		}
		futures = append(futures, f)
		return nil
	}
	for _, evs := range [][]event{prev, x.Pending} {
		for _, e := range evs {
			b, _ := json.Marshal(e)
			if err := send(eventSubject+x.Key, fmt.Sprintf("%s.%d", x.Key, e.ID), b); err != nil {
				return err
			}
		}
	}
	for _, w := range pokes {
		b, _ := json.Marshal(w)
		if err := send(workSubject+x.Key, fmt.Sprintf("%s.%s.%d.%t", w.Exec, w.Frame, w.Step, w.Timeout), b); err != nil {
			return err
		}
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("sfn: publish: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// republish sends again the last commit's events and a work item for
// every frame that waits on one: what a node that died between storing
// and publishing left undone. Duplicates are harmless.
func (s *Service) republish(ctx context.Context, x *execution) error {
	var pokes []work
	if x.Status == StatusRunning {
		for _, f := range x.Frames {
			switch f.Phase {
			case phaseEnter, phaseTask:
				pokes = append(pokes, work{Exec: x.Key, Frame: f.ID, Step: f.Step})
			case phaseWait, phaseRetry:
				pokes = append(pokes, work{Exec: x.Key, Frame: f.ID, Step: f.Step, At: f.Until})
			}
			if (f.Phase == phaseTask || f.Phase == phaseToken) && f.Task != nil {
				if at := f.Task.nextCheck(); !at.IsZero() {
					pokes = append(pokes, work{Exec: x.Key, Frame: f.ID, Step: f.Step, At: at, Timeout: true})
				}
			}
		}
	}
	if err := s.publish(ctx, x, nil, pokes); err != nil {
		return err
	}
	return s.notifyParent(ctx, x)
}

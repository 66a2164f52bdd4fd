package registry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/updraft/updraft/internal/lambdaerr"
)

// Function states ("Lambda function states"). CreateFunction writes
// $LATEST Pending and an update writes it Updating (LastUpdateStatus
// InProgress); the writer then settles it before it answers: it unpacks
// the code and merges the layers on this node (the work a first cold
// start would otherwise do) and, with a compare-and-set, marks the
// configuration Active and Successful. The answer shows the state the
// write set, as Lambda's does; the next read shows it settled. Should
// the settle fail, a goroutine retries it with back-off. A version published from an
// unsettled $LATEST is Pending too and settles the same way. The states
// live in the functions bucket, so every node shows them; a node that
// sees a record unsettled for longer than Config.SettleStale (its writer
// died)
// settles it itself.
//
// While Pending a function cannot be invoked and while unsettled it cannot
// be updated or published (409 ResourceConflictException, AWS's texts);
// while an update is in progress invocations run the previous
// configuration. Invocations and updates that meet an unsettled function
// first wait up to Config.SettleWait for it to settle, so a script that
// creates then invokes, or updates twice, does not notice the states.

// Texts of the states, as Lambda shows them (AWS prints "The function is
// being created." for an update in progress as well).
const (
	reasonCreating     = "The function is being created."
	reasonCodeCreating = "Creating"
)

// HoldStateMarker, in a function's Description, keeps the function
// unsettled (Pending after CreateFunction, InProgress after an update)
// when the registry runs with Config.HoldStates: tests use it to see the
// states' refusals.
const HoldStateMarker = "[updraft-test:hold-state]"

// Defaults of Config.SettleWait and the recovery delay.
const (
	defaultSettleWait  = 2 * time.Second
	defaultSettleStale = 10 * time.Second
	// settleRetryMax bounds the back-off between failed settles.
	settleRetryMax = 30 * time.Second
)

// settleAfterWrite settles name at once, before the write's answer goes
// out; the answer still shows the state the write set (Pending or
// InProgress), as Lambda's does, and the next read finds it settled.
// What it cannot finish (a failure, the client gone) the background
// settle goroutine finishes.
func (r *Registry) settleAfterWrite(ctx context.Context, name string) {
	if done, err := r.settle(ctx, name); done && err == nil {
		return
	}
	r.scheduleSettle(name, 0)
}

// settleLoop is the one settle goroutine of a function on this node.
type settleLoop struct {
	kick chan struct{} // buffered 1: settle now
}

// scheduleSettle makes sure a settle goroutine runs for name on this
// node: one that starts after delay, or at once when it already runs.
func (r *Registry) scheduleSettle(name string, delay time.Duration) {
	r.settleMu.Lock()
	defer r.settleMu.Unlock()
	if l := r.settling[name]; l != nil {
		if delay == 0 {
			select {
			case l.kick <- struct{}{}:
			default:
			}
		}
		return
	}
	if r.ctx.Err() != nil {
		return
	}
	l := &settleLoop{kick: make(chan struct{}, 1)}
	r.settling[name] = l
	r.wg.Add(1)
	go r.runSettle(name, l, delay)
}

// runSettle settles name until it is settled, gone, held, or the registry
// closes; failures are retried with back-off. A kick that arrives while
// it settles makes it go once more, so no write goes unsettled.
func (r *Registry) runSettle(name string, l *settleLoop, delay time.Duration) {
	defer r.wg.Done()
	for attempt := 0; ; attempt++ {
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-r.ctx.Done():
			case <-l.kick:
			case <-t.C:
			}
			t.Stop()
		}
		done, err := r.settle(r.ctx, name)
		delay = 0
		switch {
		case r.ctx.Err() != nil:
			done = true
		case err != nil:
			r.logger.Warn("settle function state", "function", name, "err", err)
			delay = min(settleRetryMax, time.Duration(rand.Int64N(int64(time.Second)<<min(attempt, 5)))+100*time.Millisecond)
		}
		if !done {
			continue
		}
		r.settleMu.Lock()
		select {
		case <-l.kick:
			r.settleMu.Unlock()
			continue
		default:
		}
		delete(r.settling, name)
		r.settleMu.Unlock()
		return
	}
}

// settle readies and marks settled $LATEST and every Pending version of
// name. done is false when something is left to do (a newer write came
// in, or a step failed with err).
func (r *Registry) settle(ctx context.Context, name string) (done bool, err error) {
	rec, err := r.readFunction(ctx, name)
	if err != nil {
		if lambdaerr.IsType(err, lambdaerr.TypeResourceNotFound) {
			return true, nil
		}
		return false, err
	}
	done = true
	if rec.Config.unsettled() && !r.held(&rec.Config) {
		if err := r.ready(ctx, name, &rec.Config); err != nil {
			return false, err
		}
		revision := rec.Config.RevisionID
		_, err := r.casFunction(ctx, name, func(cur *functionRecord) (bool, error) {
			if cur.Config.RevisionID != revision || !cur.Config.unsettled() {
				done = !cur.Config.unsettled() // changed meanwhile: go again
				return false, nil
			}
			cur.Config.Pending, cur.Config.Updating, cur.Config.UnsettledAt = false, false, 0
			cur.Previous = nil
			return true, nil
		})
		if err != nil {
			return false, err
		}
		r.logger.Debug("function state settled", "function", name)
	}
	for _, ver := range r.pendingVersions(name) {
		if err := r.settleVersion(ctx, name, ver); err != nil {
			return false, err
		}
	}
	return done, nil
}

// settleVersion readies a Pending version and marks it Active.
func (r *Registry) settleVersion(ctx context.Context, name, ver string) error {
	key := versionKey(name, ver)
	for attempt := range maxCASAttempts {
		if err := casBackoff(ctx, attempt); err != nil {
			return err
		}
		e, err := r.getEntry(ctx, key)
		if err != nil || e == nil {
			return err
		}
		vr, err := decode[versionRecord](key, e.Value())
		if err != nil {
			return err
		}
		if !vr.Config.Pending || r.held(&vr.Config) {
			return nil
		}
		if err := r.ready(ctx, name, &vr.Config); err != nil {
			return err
		}
		vr.Config.Pending, vr.Config.UnsettledAt = false, 0
		if _, err = r.put(ctx, key, vr, e.Revision()); !errors.Is(err, errConflict) {
			return err
		}
	}
	return r.errBusy(name)
}

// ready does the work of making c invocable on this node: the code
// unpacked, the layers merged.
func (r *Registry) ready(ctx context.Context, name string, c *configRecord) error {
	// The directories are released at once: they only need to exist
	// (the reclaimer keeps what a version needs); a cold start pins them.
	code, err := r.CodeDir(ctx, c.CodeSha256Hex)
	if err != nil {
		return fmt.Errorf("registry: ready %s: %w", name, err)
	}
	r.ReleaseDir(code)
	opt, err := r.OptDir(ctx, newVersion(name, "", "", c))
	if err != nil {
		return fmt.Errorf("registry: ready %s: %w", name, err)
	}
	r.ReleaseDir(opt)
	return nil
}

// held reports whether the test hook keeps c unsettled.
func (r *Registry) held(c *configRecord) bool {
	return r.cfg.HoldStates && strings.Contains(c.Description, HoldStateMarker)
}

// pendingVersions lists the Pending versions of name in the view.
func (r *Registry) pendingVersions(name string) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	f := r.view.fns[name]
	if f == nil {
		return nil
	}
	var out []string
	for v, vv := range f.versions {
		if vv.rec.Config.Pending {
			out = append(out, v)
		}
	}
	return out
}

// unsettledSinceLocked reports whether name, as the view holds it, has
// something to settle, and since when (Unix ms; the earliest). Requires
// r.mu held.
func (r *Registry) unsettledSinceLocked(name string) (since int64, ok bool) {
	f := r.view.fns[name]
	if f == nil {
		return 0, false
	}
	note := func(c *configRecord) {
		if c.unsettled() && (!ok || c.UnsettledAt < since) {
			since, ok = c.UnsettledAt, true
		}
	}
	if f.rec != nil {
		note(&f.rec.Config)
	}
	for _, vv := range f.versions {
		note(&vv.rec.Config)
	}
	return since, ok
}

// recoverSettle schedules the settle of a function some other node wrote
// unsettled, in case its writer never finishes: SettleStale after the
// record became unsettled.
func (r *Registry) recoverSettle(name string) {
	r.mu.RLock()
	since, ok := r.unsettledSinceLocked(name)
	r.mu.RUnlock()
	if !ok {
		return
	}
	delay := time.Until(time.UnixMilli(since).Add(r.cfg.SettleStale))
	r.scheduleSettle(name, max(delay, time.Millisecond))
}

// markUnsettled stamps c as unsettled now.
func markUnsettled(c *configRecord, pending bool) {
	if pending {
		c.Pending = true
	} else {
		c.Updating = true
	}
	c.UnsettledAt = time.Now().UnixMilli()
}

// awaitSettledFor waits up to d for settled (called with r.mu held for
// reading) to hold, and returns early when ctx ends. It reports whether
// settled held.
func (r *Registry) awaitSettledFor(ctx context.Context, d time.Duration, settled func() bool) bool {
	timer := time.NewTimer(max(d, 0))
	defer timer.Stop()
	for {
		r.mu.RLock()
		ok := settled()
		ch := r.view.changed
		r.mu.RUnlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-timer.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// ResolveSettled is Resolve for an invocation that Resolve found Pending
// or Updating: it waits up to Config.SettleWait for the version to
// settle, then resolves again. A version still Pending is refused with
// Lambda's 409; one still Updating resolves to the configuration before
// the update, which is what Lambda runs meanwhile.
func (r *Registry) ResolveSettled(ctx context.Context, name, qualifier string) (*Target, error) {
	var t *Target
	var err error
	r.awaitSettledFor(ctx, r.cfg.SettleWait, func() bool {
		t, err = r.resolveLocked(name, qualifier, VersionLatest)
		return err != nil || !t.Version.Pending && !t.Version.Updating
	})
	if err != nil {
		return nil, err
	}
	if t.Version.Pending {
		return nil, errStatePending()
	}
	return t, nil
}

// awaitLatestSettled waits up to d for $LATEST of name to be settled (or
// gone); it reports whether it is.
func (r *Registry) awaitLatestSettled(ctx context.Context, name string, d time.Duration) bool {
	return r.awaitSettledFor(ctx, d, func() bool {
		f := r.view.live(name)
		return f == nil || !f.rec.Config.unsettled()
	})
}

// unsettledError is what checkSettled returns inside a write: whenSettled
// waits and retries, and past SettleWait turns it into Lambda's 409.
type unsettledError struct{ pending bool }

func (e *unsettledError) Error() string { return "registry: function not settled" }

// checkSettled refuses to change an unsettled $LATEST.
func checkSettled(c *configRecord) error {
	if c.unsettled() {
		return &unsettledError{pending: c.Pending}
	}
	return nil
}

// whenSettled runs op, a write of $LATEST that calls checkSettled on the
// record it reads; while op finds it unsettled it waits for it to settle
// and runs op again, up to SettleWait in all. Then it refuses with
// Lambda's 409: "The function is currently in the following state:
// Pending" or "An update is in progress for resource: ARN".
func (r *Registry) whenSettled(ctx context.Context, name string, op func() error) error {
	deadline := time.Now().Add(r.cfg.SettleWait)
	for {
		err := op()
		var u *unsettledError
		if !errors.As(err, &u) {
			return err
		}
		if !r.awaitLatestSettled(ctx, name, time.Until(deadline)) {
			if u.pending {
				return errStatePending()
			}
			return r.errBusy(name)
		}
	}
}

func errStatePending() error {
	return lambdaerr.ResourceConflict("The operation cannot be performed at this time. The function is currently in the following state: Pending")
}

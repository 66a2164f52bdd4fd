//go:build linux

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// Pre-starting a zygote re-executes the server's binary: tens of
// milliseconds of CPU (the Go runtime and every package initialiser),
// spent just when a cold start has taken a zygote and is itself exec'ing a
// runtime on the same CPUs. Pre-started zygotes therefore start under
// SCHED_IDLE, so they only use CPU nobody else wants, and get the server's
// own scheduling back on every thread once they are ready (from then on
// they only wait), or at once when a cold start waits for one still
// starting.

// schedParams is a scheduling policy with its nice value and priority, as
// sched_setattr(2) takes them.
type schedParams struct {
	Policy   uint32 `json:"policy"`
	Nice     int32  `json:"nice"`
	Priority uint32 `json:"priority"`
}

// ownSched reads the calling thread's scheduling. ok is false when it
// cannot be read or is already SCHED_IDLE (nothing to gain then).
func ownSched() (schedParams, bool) {
	attr, err := unix.SchedGetAttr(0, 0)
	if err != nil || attr.Policy == unix.SCHED_IDLE {
		return schedParams{}, false
	}
	return schedParams{Policy: attr.Policy, Nice: attr.Nice, Priority: attr.Priority}, true
}

func (s schedParams) set(tid int) error {
	return unix.SchedSetAttr(tid, &unix.SchedAttr{Policy: s.Policy, Nice: s.Nice, Priority: s.Priority}, 0)
}

// withIdleSched runs start on a thread switched to SCHED_IDLE, so that
// the process start forks inherits it (with every thread that process
// creates later), then switches the thread back to normal.
func withIdleSched(normal schedParams, start func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	idle := schedParams{Policy: unix.SCHED_IDLE}
	if err := idle.set(0); err != nil {
		return start() // not permitted here: start at normal priority
	}
	err := start()
	if rerr := normal.set(0); rerr != nil && err == nil {
		err = fmt.Errorf("restore scheduling: %w", rerr)
	}
	return err
}

// setProcessSched applies s to every thread of process pid. A thread
// created while the list is read inherits from its creator, which is set
// too unless it is the one being created; callers that need certainty call
// it again once the process is quiet.
func setProcessSched(pid int, s schedParams) error {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list threads of %d: %w", pid, err)
	}
	var errs []error
	for _, e := range entries {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if err := s.set(tid); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("thread %d: %w", tid, err))
		}
	}
	return errors.Join(errs...)
}

// idleKey marks a context whose helper processes (mkfs for a /tmp image,
// slirp4netns) start under SCHED_IDLE: a zygote being prepared ahead of
// need must not take CPU from a cold start or an invocation.
type idleKey struct{}

// withIdleHelpers returns ctx asking helper processes to start idle;
// normal is the scheduling they get back once they matter.
func withIdleHelpers(ctx context.Context, normal schedParams) context.Context {
	return context.WithValue(ctx, idleKey{}, normal)
}

// startHelper starts cmd, under SCHED_IDLE when ctx asks for it; it
// returns the scheduling to restore later and whether it was idle.
func startHelper(ctx context.Context, cmd *exec.Cmd) (schedParams, bool, error) {
	normal, idle := ctx.Value(idleKey{}).(schedParams)
	if !idle {
		return schedParams{}, false, cmd.Start()
	}
	return normal, true, withIdleSched(normal, cmd.Start)
}

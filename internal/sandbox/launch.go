package sandbox

import (
	"context"
	"fmt"
	"runtime"
	"sync"
)

// launchGate bounds how many sandbox inits the server starts at once.
//
// Starting an init clones the server into new namespaces, and Go makes
// that clone, and with CLONE_VFORK the child's run up to its exec, a raw
// system call that keeps the calling goroutine's P (golang/go#11155): no
// other goroutine runs on that P until the clone returns, which on a busy
// host takes tens of milliseconds (network namespace creation serialises
// in the kernel). A burst of cold starts, one clone each, therefore
// queued every other goroutine of the server behind a row of clones: with
// the server's default of one P on a 2-CPU host, 63 cold starts at once
// held warm invocations' answers unread for more than 3 s, and they failed
// as Sandbox.Timedout although the function had answered in a
// millisecond (the bench's failed invokes at concurrency 64). With the
// gate, at most a few clones are ever ahead of any goroutine, and a burst
// costs the same total time, its cold starts taking turns instead of
// slowing each other down.
type launchGate struct {
	slots chan struct{}

	mu       sync.Mutex
	inflight int // guarded by mu
	peak     int // the most ever in flight, for tests; guarded by mu
}

// newLaunchGate allows n launches at once; n <= 0 means the default,
// max(2, GOMAXPROCS).
func newLaunchGate(n int) *launchGate {
	if n <= 0 {
		n = max(2, runtime.GOMAXPROCS(0))
	}
	return &launchGate{slots: make(chan struct{}, n)}
}

// enter waits for a slot, bounded by ctx; a nil gate admits everyone.
// Every successful enter is paired with one leave.
func (g *launchGate) enter(ctx context.Context) error {
	if g == nil {
		return nil
	}
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("sandbox: wait to start an init: %w", context.Cause(ctx))
	}
	g.mu.Lock()
	g.inflight++
	g.peak = max(g.peak, g.inflight)
	g.mu.Unlock()
	return nil
}

// leave frees the slot enter took.
func (g *launchGate) leave() {
	if g == nil {
		return
	}
	g.mu.Lock()
	g.inflight--
	g.mu.Unlock()
	<-g.slots
}

// maxInflight is the most launches that were ever in flight at once.
func (g *launchGate) maxInflight() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.peak
}

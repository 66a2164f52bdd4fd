package sandbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestLaunchGateWaitsForASlotWithinItsContext(t *testing.T) {
	g := newLaunchGate(1)
	if err := g.enter(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := g.enter(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second enter on a full gate = %v, want the context's deadline", err)
	}
	g.leave()
	if err := g.enter(t.Context()); err != nil {
		t.Fatalf("enter after leave: %v", err)
	}
	g.leave()
	if got := g.maxInflight(); got != 1 {
		t.Errorf("maxInflight = %d, want 1", got)
	}
	var none *launchGate
	if err := none.enter(ctx); err != nil {
		t.Errorf("a nil gate refused: %v", err)
	}
	none.leave()
}

// TestConcurrentStartsAreBounded starts several sandboxes at once, with no
// pre-started inits, and checks that they all run while no more inits than
// the bound were ever being started together.
func TestConcurrentStartsAreBounded(t *testing.T) {
	const bound, n = 2, 6
	m := newManagerConfig(t, LevelFull, Config{Zygotes: -1, ConcurrentStarts: bound})
	base, _ := newSpec(t, m, "report")
	var wg sync.WaitGroup
	errs := make(chan error, n)
	procs := make(chan *Process, n)
	for i := range n {
		s := base
		s.ID = fmt.Sprintf("%s-%d", base.ID, i)
		s.TmpDir = t.TempDir()
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := m.Start(t.Context(), s)
			if err != nil {
				errs <- err
				return
			}
			procs <- p
		}()
	}
	wg.Wait()
	close(errs)
	close(procs)
	for err := range errs {
		t.Errorf("Start: %v", err)
	}
	for p := range procs {
		waitDone(t, p, 30*time.Second)
		if r := p.ExitReason(); r != "exit status 0" {
			t.Errorf("sandbox %s ended with %q", p.id, r)
		}
	}
	if got := m.launches.maxInflight(); got < 1 || got > bound {
		t.Errorf("%d inits were being started at once, want between 1 and %d", got, bound)
	}
}

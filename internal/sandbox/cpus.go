//go:build linux

package sandbox

import (
	"fmt"
	"runtime"
	"slices"
	"sync"

	"golang.org/x/sys/unix"
)

// cpuPlacer hands each sandbox the CPUs it may run on: the least used of
// the CPUs the server itself may run on, counted by the live sandboxes
// placed on each. A sandbox confined to fewer CPUs than the host has
// sees that many (sched_getaffinity, nproc, Go's GOMAXPROCS, Node's
// availableParallelism), so its runtime stops spreading threads over
// CPUs it has no budget for, and sandboxes spread evenly instead of
// chasing each other across every CPU.
type cpuPlacer struct {
	mu   sync.Mutex
	cpus []int // the server's own CPUs, ascending
	load []int // live sandboxes placed on cpus[i]
	next int   // where the search for the least used starts, so ties rotate
}

// newCPUPlacer reads the server's own CPU set. It returns nil when that
// cannot be read; sandboxes then run on every CPU.
func newCPUPlacer() *cpuPlacer {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil
	}
	var cpus []int
	for i := 0; i < len(set)*64; i++ {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	if len(cpus) == 0 {
		return nil
	}
	return &cpuPlacer{cpus: cpus, load: make([]int, len(cpus))}
}

// take returns n of the least used CPUs, ascending, and counts the sandbox
// on them. n <= 0 or n >= the number of CPUs means no confinement: it
// returns nil and counts nothing.
func (p *cpuPlacer) take(n int) []int {
	if p == nil || n <= 0 || n >= len(p.cpus) {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	chosen := make([]int, 0, n)
	for len(chosen) < n {
		best := -1
		for k := range p.cpus {
			i := (p.next + k) % len(p.cpus)
			if slices.Contains(chosen, i) {
				continue
			}
			if best < 0 || p.load[i] < p.load[best] {
				best = i
			}
		}
		chosen = append(chosen, best)
		p.load[best]++
	}
	p.next = (p.next + 1) % len(p.cpus)
	cpus := make([]int, n)
	for j, i := range chosen {
		cpus[j] = p.cpus[i]
	}
	slices.Sort(cpus)
	return cpus
}

// release stops counting a sandbox that take placed on cpus.
func (p *cpuPlacer) release(cpus []int) {
	if p == nil || len(cpus) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cpus {
		if i, ok := slices.BinarySearch(p.cpus, c); ok && p.load[i] > 0 {
			p.load[i]--
		}
	}
}

// withAffinity runs start on a thread confined to cpus, so that the
// processes start forks inherit the set, and restores the thread's set
// afterwards. Empty cpus runs start unchanged.
func withAffinity(cpus []int, start func() error) error {
	if len(cpus) == 0 {
		return start()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return fmt.Errorf("read CPU affinity: %w", err)
	}
	for _, c := range cpus {
		set.Set(c)
	}
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("set CPU affinity %v: %w", cpus, err)
	}
	err := start()
	if rerr := unix.SchedSetaffinity(0, &old); rerr != nil && err == nil {
		err = fmt.Errorf("restore CPU affinity: %w", rerr)
	}
	return err
}

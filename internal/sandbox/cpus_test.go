//go:build linux

package sandbox

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCPUPlacerSpreadsByLoad(t *testing.T) {
	p := &cpuPlacer{cpus: []int{0, 1, 2, 3}, load: make([]int, 4)}
	var singles [][]int
	for range 4 {
		singles = append(singles, p.take(1))
	}
	seen := map[int]bool{}
	for _, s := range singles {
		if len(s) != 1 {
			t.Fatalf("take(1) = %v, want one CPU", s)
		}
		seen[s[0]] = true
	}
	if len(seen) != 4 {
		t.Fatalf("four take(1) = %v, want four different CPUs", singles)
	}

	for _, s := range singles {
		p.release(s)
	}
	if !slices.Equal(p.load, []int{0, 0, 0, 0}) {
		t.Fatalf("load after releasing all = %v, want all zero", p.load)
	}
	p.load = []int{2, 2, 0, 0}
	if got := p.take(2); !slices.Equal(got, []int{2, 3}) {
		t.Errorf("take(2) with load [2 2 0 0] = %v, want [2 3]", got)
	}
	if !slices.Equal(p.load, []int{2, 2, 1, 1}) {
		t.Errorf("load after take(2) = %v, want [2 2 1 1]", p.load)
	}
	p.release([]int{2, 3})
	if !slices.Equal(p.load, []int{2, 2, 0, 0}) {
		t.Errorf("load after release = %v, want [2 2 0 0]", p.load)
	}
}

func TestCPUPlacerNoConfinement(t *testing.T) {
	p := &cpuPlacer{cpus: []int{0, 1}, load: make([]int, 2)}
	for _, n := range []int{0, -1, 2, 3} {
		if got := p.take(n); got != nil {
			t.Errorf("take(%d) = %v, want nil (all CPUs)", n, got)
		}
	}
	if !slices.Equal(p.load, []int{0, 0}) {
		t.Errorf("load = %v, want nothing counted", p.load)
	}
	var none *cpuPlacer
	if got := none.take(1); got != nil {
		t.Errorf("nil placer take(1) = %v, want nil", got)
	}
	none.release([]int{0}) // must not panic
}

func TestSpecCPUsConfineTheProcesses(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("needs at least two CPUs")
	}
	forEachLevel(t, func(t *testing.T, m *Manager) {
		for _, tc := range []struct {
			cpus int
			want int
		}{
			{cpus: 1, want: 1},
			{cpus: 0, want: runtime.NumCPU()},
		} {
			s, out := newSpec(t, m, "cpus")
			s.ID = fmt.Sprintf("%s-%d", s.ID, tc.cpus)
			s.CPUs = tc.cpus
			p := start(t, m, s)
			waitDone(t, p, 15*time.Second)
			want := fmt.Sprintf("cpus=%d gomaxprocs=%d", tc.want, tc.want)
			if got := strings.TrimSpace(out.String()); got != want {
				t.Errorf("CPUs %d: the process reports %q, want %q", tc.cpus, got, want)
			}
		}
		if !slices.Equal(m.cpus.load, make([]int, len(m.cpus.cpus))) {
			t.Errorf("CPU load after the sandboxes ended = %v, want all zero", m.cpus.load)
		}
	})
}

//go:build linux

package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// readyZygotes returns the pool's ready zygotes, oldest first.
func readyZygotes(m *Manager) []*zygote {
	m.zygotes.mu.Lock()
	defer m.zygotes.mu.Unlock()
	return slices.Clone(m.zygotes.ready)
}

// waitReady waits until n zygotes are ready and returns them.
func waitReady(t *testing.T, m *Manager, n int) []*zygote {
	t.Helper()
	waitFor(t, 30*time.Second, func() error {
		if got := len(readyZygotes(m)); got < n {
			return fmt.Errorf("%d of %d zygotes ready", got, n)
		}
		return nil
	})
	return readyZygotes(m)
}

// cgroupDirs returns the directories of cg.
func cgroupDirs(cg envCgroup) []string {
	var dirs []string
	for _, f := range cg.procsFiles() {
		dirs = append(dirs, filepath.Dir(f))
	}
	return dirs
}

// checkGone fails unless every path is gone.
func checkGone(t *testing.T, what string, paths []string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s %s still exists (stat: %v)", what, p, err)
		}
	}
}

// childInits returns the pids of this process's children that run as a
// sandbox init.
func childInits(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(stat, ')')
		f := bytes.Fields(stat[i+1:])
		if len(f) < 2 || string(f[1]) != strconv.Itoa(os.Getpid()) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if string(bytes.TrimRight(cmdline, "\x00")) == initArg0 {
			pids = append(pids, pid)
		}
	}
	return pids
}

func TestZygotePool(t *testing.T) {
	t.Run("Start takes the oldest ready zygote and the pool is topped up", func(t *testing.T) {
		m := newManagerConfig(t, LevelFull, Config{Zygotes: 2})
		before := waitReady(t, m, 2)
		s, out := newSpec(t, m, "report")
		p := start(t, m, s)
		if p.Pid() != before[0].cmd.Process.Pid {
			t.Errorf("Pid = %d, want the oldest zygote's %d", p.Pid(), before[0].cmd.Process.Pid)
		}
		for _, d := range cgroupDirs(p.cg) {
			if filepath.Base(d) != s.ID {
				t.Errorf("cgroup %s is not named after the sandbox %s", d, s.ID)
			}
		}
		waitDone(t, p, 10*time.Second)
		if r := report(out.String()); r["uid"] != "65534" || r["init"] != initArg0 {
			t.Errorf("uid = %q, init = %q; want 65534 and %q; output:\n%s", r["uid"], r["init"], initArg0, out)
		}
		after := waitReady(t, m, 2)
		if after[0] != before[1] || slices.Contains(before, after[1]) {
			t.Errorf("pool after Start = %v, want the second zygote and a new one (before: %v)", pidsOf(after), pidsOf(before))
		}
	})

	t.Run("a zygote that dies while waiting is dropped and replaced", func(t *testing.T) {
		m := newManagerConfig(t, LevelFull, Config{Zygotes: 1})
		z := waitReady(t, m, 1)[0]
		dirs := cgroupDirs(z.cg)
		if err := z.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, func() error {
			if slices.Contains(readyZygotes(m), z) {
				return errors.New("the dead zygote is still in the pool")
			}
			for _, d := range dirs {
				if _, err := os.Stat(d); err == nil {
					return fmt.Errorf("its cgroup %s still exists", d)
				}
			}
			return nil
		})
		waitReady(t, m, 1)
		s, _ := newSpec(t, m, "exit", "0")
		p := start(t, m, s)
		if p.Pid() == z.cmd.Process.Pid {
			t.Errorf("Start handed out the dead zygote %d", p.Pid())
		}
		waitDone(t, p, 10*time.Second)
		if got := p.ExitReason(); got != "exit status 0" {
			t.Errorf("ExitReason = %q, want exit status 0", got)
		}
	})

	t.Run("Start skips a zygote that died unnoticed", func(t *testing.T) {
		m := newManagerConfig(t, LevelFull, Config{Zygotes: 1})
		waitReady(t, m, 1)
		// Kill a zygote while it is out of the pool, so the pool cannot
		// drop it, and put it back: Start finds out only when it sends
		// the spec.
		z := m.zygotes.take(t.Context())
		if err := z.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-z.readerDone
		m.zygotes.mu.Lock()
		m.zygotes.ready = slices.Insert(m.zygotes.ready, 0, z)
		m.zygotes.mu.Unlock()

		s, out := newSpec(t, m, "exit", "0")
		p := start(t, m, s)
		if p.Pid() == z.cmd.Process.Pid {
			t.Fatalf("Start handed out the dead zygote %d", p.Pid())
		}
		if z.cmd.ProcessState == nil {
			t.Error("the dead zygote was not reaped")
		}
		waitDone(t, p, 10*time.Second)
		if got := p.ExitReason(); got != "exit status 0" {
			t.Errorf("ExitReason = %q, want exit status 0; output:\n%s", got, out)
		}
	})

	t.Run("Start waits for the zygote being started rather than start its own", func(t *testing.T) {
		m, g := newGatedPool(t)
		m.zygotes.take(t.Context()).destroy(m.logger) // empty the pool: it starts the next at once
		g.waitBlocked(t)
		s, _ := newSpec(t, m, "exit", "0")
		started := make(chan *Process, 1)
		go func() {
			p, err := m.Start(t.Context(), s)
			if err != nil {
				t.Errorf("Start: %v", err)
			}
			started <- p
		}()
		waitFor(t, 10*time.Second, func() error {
			m.zygotes.mu.Lock()
			defer m.zygotes.mu.Unlock()
			if m.zygotes.claim == nil {
				return errors.New("Start does not wait for the zygote being started")
			}
			return nil
		})
		pid := g.release(t)
		p := <-started
		if p == nil {
			return
		}
		t.Cleanup(func() {
			_ = p.Kill()
			waitDone(t, p, 15*time.Second)
		})
		if p.Pid() != pid {
			t.Errorf("Pid = %d, want %d, the zygote the pool was starting", p.Pid(), pid)
		}
	})

	t.Run("a zygote whose waiting Start gave up goes to the pool", func(t *testing.T) {
		m, g := newGatedPool(t)
		m.zygotes.take(t.Context()).destroy(m.logger)
		g.waitBlocked(t)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan *zygote, 1)
		go func() { done <- m.zygotes.take(ctx) }()
		waitFor(t, 10*time.Second, func() error {
			m.zygotes.mu.Lock()
			defer m.zygotes.mu.Unlock()
			if m.zygotes.claim == nil {
				return errors.New("take does not wait")
			}
			return nil
		})
		cancel()
		if z := <-done; z != nil {
			t.Errorf("take after its context ended = zygote %d, want nil", z.cmd.Process.Pid)
		}
		pid := g.release(t)
		if got := waitReady(t, m, 1)[0].cmd.Process.Pid; got != pid {
			t.Errorf("ready zygote = %d, want %d", got, pid)
		}
	})

	t.Run("Close kills the ready zygotes and removes their cgroups", func(t *testing.T) {
		m := newManagerConfig(t, LevelFull, Config{Zygotes: 2})
		zs := waitReady(t, m, 2)
		var dirs []string
		for _, z := range zs {
			dirs = append(dirs, cgroupDirs(z.cg)...)
		}
		if err := m.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		for _, z := range zs {
			if z.cmd.ProcessState == nil {
				t.Errorf("zygote %d was not reaped", z.cmd.Process.Pid)
			}
		}
		checkGone(t, "zygote cgroup", dirs)
		if pids := childInits(t); len(pids) > 0 {
			t.Errorf("inits still running after Close: %v", pids)
		}
	})
}

// gate holds the pool's second and later zygote starts until released.
type gate struct {
	calls   atomic.Int32
	blocked chan struct{} // a start waits at the gate
	open    chan struct{}
	pids    chan int // of the zygotes started after the gate opened
}

// newGatedPool returns a full-mode Manager whose pool of one fills at once
// and then starts zygotes only through g.
func newGatedPool(t *testing.T) (*Manager, *gate) {
	t.Helper()
	m := newManagerConfig(t, LevelFull, Config{Zygotes: -1})
	g := &gate{blocked: make(chan struct{}, 1), open: make(chan struct{}), pids: make(chan int, 8)}
	zp := &zygotePool{size: 1, delay: zygoteRefillDelay, cgroups: m.cgroups, logger: m.logger, wake: make(chan struct{}, 1)}
	zp.normal, zp.idleStart = ownSched() // as newZygotePool: a claimed zygote is boosted
	zp.spawnOne = func() (*zygote, error) {
		if g.calls.Add(1) > 1 {
			select {
			case g.blocked <- struct{}{}:
			default:
			}
			<-g.open
		}
		z, err := zp.spawn()
		if err == nil {
			select {
			case g.pids <- z.cmd.Process.Pid:
			default:
			}
		}
		return z, err
	}
	zp.start()
	m.zygotes = zp
	t.Cleanup(func() { g.releaseOnce() })
	waitReady(t, m, 1)
	<-g.pids
	return m, g
}

// waitBlocked waits until a zygote start waits at the gate.
func (g *gate) waitBlocked(t *testing.T) {
	t.Helper()
	select {
	case <-g.blocked:
	case <-time.After(10 * time.Second):
		t.Fatal("the pool does not start a zygote")
	}
}

// release opens the gate and returns the pid of the zygote that was held.
func (g *gate) release(t *testing.T) int {
	t.Helper()
	g.releaseOnce()
	select {
	case pid := <-g.pids:
		return pid
	case <-time.After(30 * time.Second):
		t.Fatal("the held zygote did not start")
		return 0
	}
}

func (g *gate) releaseOnce() {
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

func pidsOf(zs []*zygote) []int {
	pids := make([]int, len(zs))
	for i, z := range zs {
		pids[i] = z.cmd.Process.Pid
	}
	return pids
}

// noRenameRoot hides that cgroups can be renamed, as on cgroup v2.
type noRenameRoot struct{ cgroupRoot }

func (noRenameRoot) renames() bool { return false }

// TestFullStartPaths runs the same sandbox from every kind of init full
// mode may use.
func TestFullStartPaths(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T) *Manager
	}{
		{"a pre-started init that waited in its own cgroup", func(t *testing.T) *Manager {
			m := newManagerConfig(t, LevelFull, Config{Zygotes: 1})
			waitReady(t, m, 1)
			return m
		}},
		{"a pre-started init that enters the cgroup with its spec", func(t *testing.T) *Manager {
			m := newManagerConfig(t, LevelFull, Config{Zygotes: -1})
			m.cgroups = noRenameRoot{m.cgroups}
			m.zygotes = newZygotePool(1, m.cgroups, m.zygoteOptions(DefaultTmpSizeMB), m.logger)
			waitReady(t, m, 1)
			return m
		}},
		{"an init started on demand", func(t *testing.T) *Manager {
			return newManagerConfig(t, LevelFull, Config{Zygotes: -1})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.setup(t)
			s, out := newSpec(t, m, "report")
			s.TmpSizeMB = 100
			p := start(t, m, s)
			dirs := cgroupDirs(p.cg)
			for _, d := range dirs {
				if filepath.Base(d) != s.ID {
					t.Errorf("cgroup %s is not named after the sandbox %s", d, s.ID)
				}
			}
			waitDone(t, p, 10*time.Second)
			r := report(out.String())
			want := map[string]string{
				"uid": "65534", "init": initArg0, "write_task": "error", "write_tmp": "ok", "hostname": "localhost",
				"tmp_mb": "100",
			}
			for k, v := range want {
				if r[k] != v {
					t.Errorf("%s = %q, want %q", k, r[k], v)
				}
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
			checkGone(t, "cgroup", dirs)

			if m.zygotes != nil {
				waitReady(t, m, 1)
			}
			s.Main.Args = []string{"alloc", "2"}
			s.MemoryLimitMB = 64
			p = start(t, m, s)
			waitDone(t, p, 30*time.Second)
			if !p.OOMKilled() {
				t.Errorf("OOMKilled = false after allocating past the limit (exit: %s)", p.ExitReason())
			}
		})
	}
}

func TestCgroupAdoptTakesTheSandboxName(t *testing.T) {
	m := newManagerConfig(t, LevelFull, Config{Zygotes: -1})
	if !m.cgroups.renames() {
		t.Skip("this hierarchy cannot rename cgroups")
	}
	cg, err := m.cgroups.create(".zygote-adopt-test", cgroupLimits{pids: DefaultPidsLimit})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Cleanup(func() { _ = cg.remove() })
	const id = "adopt-test"
	// An empty leftover of a crashed run is replaced, as create does.
	for _, d := range cgroupDirs(cg) {
		if err := os.Mkdir(filepath.Join(filepath.Dir(d), id), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	old := cgroupDirs(cg)
	if err := cg.adopt(id, cgroupLimits{memoryBytes: 64 << 20, pids: 64}); err != nil {
		t.Fatalf("adopt: %v", err)
	}
	checkGone(t, "old cgroup", old)
	for _, d := range cgroupDirs(cg) {
		if filepath.Base(d) != id {
			t.Errorf("cgroup %s not renamed to %s", d, id)
		}
	}
	v1 := cg.(*cgroupV1)
	for file, want := range map[string]string{
		filepath.Join(v1.memory, "memory.limit_in_bytes"): strconv.Itoa(64 << 20),
		filepath.Join(v1.pids, "pids.max"):                "64",
	} {
		if v1.pids == "" && strings.HasSuffix(file, "pids.max") {
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil || strings.TrimSpace(string(b)) != want {
			t.Errorf("%s = %q (%v), want %s", file, b, err, want)
		}
	}
	var abort atomic.Bool
	if err := cg.freeze(&abort); err != nil {
		t.Errorf("freeze after rename: %v", err)
	}
	if err := cg.thaw(); err != nil {
		t.Errorf("thaw after rename: %v", err)
	}
}

// threadPolicies returns the scheduling policy of every thread of pid.
func threadPolicies(t *testing.T, pid int) []uint32 {
	t.Helper()
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatal(err)
	}
	var policies []uint32
	for _, e := range entries {
		tid, _ := strconv.Atoi(e.Name())
		attr, err := unix.SchedGetAttr(tid, 0)
		if err != nil {
			t.Fatalf("sched_getattr %d: %v", tid, err)
		}
		policies = append(policies, attr.Policy)
	}
	return policies
}

func TestWithIdleSchedStartsIdleAndRestores(t *testing.T) {
	normal, ok := ownSched()
	if !ok {
		t.Skip("the test's own scheduling cannot be read or is already SCHED_IDLE")
	}
	cmd := exec.Command("sleep", "5")
	if err := withIdleSched(normal, cmd.Start); err != nil {
		t.Fatalf("withIdleSched: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	if got := threadPolicies(t, cmd.Process.Pid); !slices.Equal(got, []uint32{unix.SCHED_IDLE}) {
		t.Errorf("child policies = %v, want [SCHED_IDLE (%d)]", got, unix.SCHED_IDLE)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if after, _ := ownSched(); after != normal {
		t.Errorf("a test thread has scheduling %+v after withIdleSched, want %+v", after, normal)
	}
	if err := setProcessSched(cmd.Process.Pid, normal); err != nil {
		t.Fatalf("setProcessSched: %v", err)
	}
	if got := threadPolicies(t, cmd.Process.Pid); !slices.Equal(got, []uint32{normal.Policy}) {
		t.Errorf("child policies after setProcessSched = %v, want [%d]", got, normal.Policy)
	}
}

func TestPooledZygotesAreNormalOnceReady(t *testing.T) {
	m := newManagerConfig(t, LevelFull, Config{Zygotes: 1})
	if !m.zygotes.idleStart {
		t.Skip("the server's own scheduling cannot be read or is already SCHED_IDLE")
	}
	z := waitReady(t, m, 1)[0]
	if !z.idle {
		t.Fatal("the pre-started init was not started under SCHED_IDLE")
	}
	for _, p := range threadPolicies(t, z.cmd.Process.Pid) {
		if p != m.zygotes.normal.Policy {
			t.Fatalf("a ready pre-started init has a thread with policy %d, want the server's %d", p, m.zygotes.normal.Policy)
		}
	}
	s, out := newSpec(t, m, "sched")
	p := start(t, m, s)
	if p.Pid() != z.cmd.Process.Pid {
		t.Fatalf("Start used init %d, want the pre-started %d", p.Pid(), z.cmd.Process.Pid)
	}
	waitDone(t, p, 10*time.Second)
	want := fmt.Sprintf("policy=%d", m.zygotes.normal.Policy)
	if got := strings.TrimSpace(out.String()); got != want {
		t.Errorf("the function runs with %q, want the server's %q", got, want)
	}
}

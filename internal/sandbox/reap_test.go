//go:build linux

package sandbox

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testCgroupName is the parent cgroup of every test Manager. It is shared
// by all test processes, as the daemon's is by all servers: each Manager
// owns a directory of its own beneath it, and the cgroups a crashed test
// run left are reaped by the next.
const testCgroupName = "updraft-test"

func TestOwnerName(t *testing.T) {
	o := owner{pid: 4242, start: 123456, ns: 4026531836, seq: 7}
	name := o.name()
	if name != "pid4242-start123456-ns4026531836-7" {
		t.Errorf("name = %q", name)
	}
	if got, ok := parseOwner(name); !ok || got != o {
		t.Errorf("parseOwner(%q) = %+v, %v; want %+v", name, got, ok, o)
	}
	for _, bad := range []string{
		"", "env-1", ".pin", ".zygote-12-34", "pid1-start2-ns3", "pid1-start2-ns3-4x",
		"pid01-start2-ns3-4", "pid+1-start2-ns3-4", "pid0-start2-ns3-4", "pid-1-start2-ns3-4",
	} {
		if o, ok := parseOwner(bad); ok {
			t.Errorf("parseOwner(%q) = %+v, want no owner", bad, o)
		}
	}
}

func TestParseProcStat(t *testing.T) {
	// A command name with spaces and parentheses, as a process may choose.
	stat := "4242 (we ird) (name) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 9 0 987654 1000000 500 18446744073709551615"
	got, err := parseProcStat(stat)
	if err != nil {
		t.Fatal(err)
	}
	if want := (procInfo{exists: true, start: 987654}); got != want {
		t.Errorf("parseProcStat = %+v, want %+v", got, want)
	}
	zombie, err := parseProcStat("7 (updraft) Z 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 55 0 0")
	if err != nil || !zombie.zombie || zombie.start != 55 {
		t.Errorf("zombie = %+v, %v", zombie, err)
	}
	if _, err := parseProcStat("7 (short) S 1"); err == nil {
		t.Error("a truncated stat parsed")
	}
	self, err := readProcStat(os.Getpid())
	if err != nil || !self.exists || self.start == 0 {
		t.Errorf("readProcStat(self) = %+v, %v", self, err)
	}
}

func TestJudgeOwner(t *testing.T) {
	self := owner{pid: 100, start: 5000, ns: 1, seq: 1}
	procs := map[int]procInfo{
		100: {exists: true, start: 5000},
		200: {exists: true, start: 6000},
		300: {exists: true, start: 7000, zombie: true},
	}
	probe := func(pid int) (procInfo, error) {
		if pid == 666 {
			return procInfo{}, errors.New("permission denied")
		}
		return procs[pid], nil
	}
	tests := []struct {
		name  string
		owner owner
		want  ownerState
	}{
		{"another Manager of this process is live", owner{pid: 100, start: 5000, ns: 1, seq: 2}, ownerLive},
		{"this Manager is live", self, ownerLive},
		{"a running server is live", owner{pid: 200, start: 6000, ns: 1, seq: 1}, ownerLive},
		{"a server whose pid is unused is dead", owner{pid: 400, start: 8000, ns: 1, seq: 1}, ownerDead},
		{"a server whose pid was reused is dead", owner{pid: 200, start: 5999, ns: 1, seq: 1}, ownerDead},
		{"an earlier process with this process's pid is dead", owner{pid: 100, start: 4000, ns: 1, seq: 1}, ownerDead},
		{"a zombie server is dead", owner{pid: 300, start: 7000, ns: 1, seq: 1}, ownerDead},
		{"a server in another pid namespace cannot be judged", owner{pid: 400, start: 8000, ns: 2, seq: 1}, ownerUnknown},
		{"a server in another pid namespace with a live pid here cannot be judged", owner{pid: 200, start: 6000, ns: 2, seq: 1}, ownerUnknown},
		{"a server whose process cannot be read cannot be judged", owner{pid: 666, start: 1, ns: 1, seq: 1}, ownerUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := judgeOwner(tc.owner, self, probe); got != tc.want {
				t.Errorf("judgeOwner(%s) = %v, want %v", tc.owner.name(), got, tc.want)
			}
		})
	}
}

// reapFixture is a cgroup root of a fabricated dead owner, holding one
// sandbox cgroup with a frozen process, beside the root of a live one.
type reapFixture struct {
	self, dead owner
	ms         cgroupMounts
	name       string
	parents    []string
	deadRoot   cgroupRoot
	liveRoot   cgroupRoot
	cmd        *exec.Cmd
	exited     chan error
}

// newReapFixture builds the fixture with newRoot, which creates a root for
// an owner's name under the parent cgroup name, and skips the test when
// that is not possible here.
func newReapFixture(t *testing.T, newRoot func(ms cgroupMounts, own map[string]string, name, owner string) (cgroupRoot, error)) *reapFixture {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create cgroups")
	}
	mountinfo, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	procCgroup, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	ms, own := parseMountinfo(mountinfo), parseProcCgroup(procCgroup)
	self, err := selfOwner()
	if err != nil {
		t.Fatal(err)
	}
	// This process started at another time: an earlier process with the
	// same pid, long dead.
	dead := self
	dead.start--
	name := "updraft-reaptest-" + filepath.Base(t.TempDir())
	f := &reapFixture{self: self, dead: dead, ms: ms, name: name, parents: reapParents(ms, own, name), exited: make(chan error, 1)}
	if f.deadRoot, err = newRoot(ms, own, name, dead.name()); err != nil {
		t.Skipf("cgroups not writable here: %v", err)
	}
	t.Cleanup(func() { _ = f.deadRoot.remove() })
	if f.liveRoot, err = newRoot(ms, own, name, self.name()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.liveRoot.remove(); err != nil {
			t.Errorf("remove live root: %v", err)
		}
	})
	cg, err := f.deadRoot.create("env-1", cgroupLimits{memoryBytes: 64 << 20, pids: 64})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	out := &syncBuffer{}
	f.cmd = exec.Command(helperPath, "count")
	f.cmd.Stdout = out
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { f.exited <- f.cmd.Wait() }()
	t.Cleanup(func() {
		_ = cg.thaw()
		_ = f.cmd.Process.Kill()
		err := <-f.exited
		f.exited <- err
	})
	for _, procs := range cg.procsFiles() {
		if err := os.WriteFile(procs, []byte(strconv.Itoa(f.cmd.Process.Pid)), 0); err != nil {
			t.Fatalf("enter cgroup: %v", err)
		}
	}
	var abort atomic.Bool
	if err := cg.freeze(&abort); err != nil {
		t.Fatalf("freeze: %v", err)
	}
	return f
}

// check reaps, searching parents, and verifies that exactly the dead
// owner's tree went.
func (f *reapFixture) check(t *testing.T, parents []string, wantCgroups int) {
	t.Helper()
	st := reapDead(f.ms, parents, f.name, f.self, testLogger(t))
	if st.owners != 1 || st.processes != 1 || st.cgroups != wantCgroups {
		t.Errorf("reapDead = %+v, want 1 owner, 1 process, %d cgroups", st, wantCgroups)
	}
	select {
	case err := <-f.exited:
		f.exited <- err
	case <-time.After(10 * time.Second):
		t.Fatal("the frozen process of the dead owner still runs")
	}
	for _, dir := range cgroupParentDirs(f.deadRoot) {
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("cgroup %s of the dead owner still exists", dir)
		}
	}
	for _, dir := range cgroupParentDirs(f.liveRoot) {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("cgroup %s of the live owner: %v", dir, err)
		}
	}
	if st := reapDead(f.ms, f.parents, f.name, f.self, testLogger(t)); st != (reapStats{}) {
		t.Errorf("second reapDead = %+v, want nothing", st)
	}
}

func TestReapDeadOwnerV1(t *testing.T) {
	f := newReapFixture(t, func(ms cgroupMounts, own map[string]string, name, owner string) (cgroupRoot, error) {
		return newCgroupV1Root(ms, own, name, owner, testLogger(t))
	})
	// The owner's directory, env-1 and the freezer pin.
	f.check(t, f.parents, 3)
}

// TestReapDeadOwnerFoundThroughTasks reaps a tree whose memory cgroups lie
// where the reaper does not look (a server started from another session
// has another own memory cgroup): the frozen task's /proc/PID/cgroup
// leads there.
func TestReapDeadOwnerFoundThroughTasks(t *testing.T) {
	f := newReapFixture(t, func(ms cgroupMounts, own map[string]string, name, owner string) (cgroupRoot, error) {
		return newCgroupV1Root(ms, own, name, owner, testLogger(t))
	})
	memory := f.ms.v1["memory"].point + "/"
	var elsewhere []string
	for _, p := range f.parents {
		if !strings.HasPrefix(p, memory) {
			elsewhere = append(elsewhere, p)
		}
	}
	f.check(t, elsewhere, 3)
}

// TestReapDeadOwnerV2 runs on whatever unified hierarchy this host has (on
// a hybrid v1 host, one without the memory controller).
func TestReapDeadOwnerV2(t *testing.T) {
	f := newReapFixture(t, func(ms cgroupMounts, own map[string]string, name, owner string) (cgroupRoot, error) {
		if len(ms.v2) == 0 {
			return nil, errors.New("no cgroup2 mount")
		}
		mi := ms.v2[0]
		rel := ownDir(mountInfo{root: mi.root, point: "/"}, own[""])
		return newCgroupV2Root(mi.point, rel, name, owner, false, testLogger(t))
	})
	// The owner's directory and env-1.
	f.check(t, f.parents, 2)
}

//go:build linux

package sandbox

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestParseMountinfo(t *testing.T) {
	const mountinfo = `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:7 - cgroup cgroup rw,cpu,cpuacct
34 30 0:31 /docker/abc /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
41 30 0:38 / /mnt/with\040space rw - cgroup2 cgroup2 rw
`
	got := parseMountinfo([]byte(mountinfo))
	want := cgroupMounts{
		v1: map[string]mountInfo{
			"cpu":     {root: "/", point: "/sys/fs/cgroup/cpu,cpuacct"},
			"cpuacct": {root: "/", point: "/sys/fs/cgroup/cpu,cpuacct"},
			"memory":  {root: "/docker/abc", point: "/sys/fs/cgroup/memory"},
			"freezer": {root: "/", point: "/sys/fs/cgroup/freezer"},
		},
		v2: []mountInfo{
			{root: "/", point: "/sys/fs/cgroup/unified"},
			{root: "/", point: "/mnt/with space"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseMountinfo =\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseProcCgroup(t *testing.T) {
	const procCgroup = `9:name=systemd:/
6:freezer:/
4:memory:/process_api/f735
1:cpu,cpuacct:/a
0::/unified/path
`
	got := parseProcCgroup([]byte(procCgroup))
	want := map[string]string{
		"name=systemd": "/", "freezer": "/", "memory": "/process_api/f735",
		"cpu": "/a", "cpuacct": "/a", "": "/unified/path",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseProcCgroup = %v, want %v", got, want)
	}
}

func TestOwnDir(t *testing.T) {
	tests := []struct {
		name string
		mi   mountInfo
		path string
		want string
	}{
		{"the whole hierarchy is mounted", mountInfo{"/", "/sys/fs/cgroup/memory"}, "/a/b", "/sys/fs/cgroup/memory/a/b"},
		{"a container sees its own sub-tree", mountInfo{"/docker/x", "/sys/fs/cgroup/memory"}, "/docker/x/y", "/sys/fs/cgroup/memory/y"},
		{"a path outside the mounted sub-tree falls back to its root", mountInfo{"/docker/x", "/m"}, "/other", "/m"},
		{"a prefix that is not a path element does not match", mountInfo{"/docker/x", "/m"}, "/docker/xy", "/m"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ownDir(tc.mi, tc.path); got != tc.want {
				t.Errorf("ownDir = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name string
		line string
		want procEntry
		ok   bool
	}{
		{
			"a plain command name",
			"42 (sleep) S 1 42 42 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 100 2000000 250 18446744073709551615",
			procEntry{pid: 42, ppid: 1, pgid: 42, rss: 250 * 4096}, true,
		},
		{
			"a name with spaces and parentheses",
			"7 (a) b (c)) R 3 5 5 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 9 0",
			procEntry{pid: 7, ppid: 3, pgid: 5, rss: 9 * 4096}, true,
		},
		{"a truncated line", "7 (x) R 3 5", procEntry{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pid := tc.want.pid
			if !tc.ok {
				pid = 7
			}
			got, ok := parseStat(pid, []byte(tc.line), 4096)
			if ok != tc.ok || got != tc.want {
				t.Errorf("parseStat = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestGroupRSS(t *testing.T) {
	tab := procTable{
		{pid: 10, ppid: 1, pgid: 10, rss: 100},  // group leader
		{pid: 11, ppid: 10, pgid: 10, rss: 10},  // child in the group
		{pid: 12, ppid: 11, pgid: 12, rss: 1},   // grandchild that left the group
		{pid: 13, ppid: 1, pgid: 10, rss: 1000}, // orphan still in the group
		{pid: 20, ppid: 1, pgid: 20, rss: 5000}, // unrelated
	}
	got, members := tab.groupRSS(10, []int{10})
	if got != 1111 {
		t.Errorf("groupRSS = %d, want 1111", got)
	}
	if want := []int{10, 11, 12, 13}; !slices.Equal(members, want) {
		t.Errorf("groupRSS members = %v, want %v", members, want)
	}
}

func TestFormatWaitStatus(t *testing.T) {
	tests := []struct {
		ws   unix.WaitStatus
		want string
	}{
		{0, "exit status 0"},
		{2 << 8, "exit status 2"},
		{unix.WaitStatus(unix.SIGKILL), "signal: killed"},
		{unix.WaitStatus(unix.SIGSEGV) | 0x80, "signal: segmentation fault (core dumped)"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := formatWaitStatus(tc.ws); got != tc.want {
				t.Errorf("formatWaitStatus(%#x) = %q, want %q", int(tc.ws), got, tc.want)
			}
		})
	}
}

func TestLookPathIn(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "tool"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "data"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=/nonexistent:" + bin}
	tests := []struct {
		name, cmd, want string
		err             error
	}{
		{"an absolute path is kept", "/x/y", "/x/y", nil},
		{"a relative path is taken from the task root", "./bootstrap", filepath.Join(dir, "bootstrap"), nil},
		{"a bare name is found in the command's PATH", "tool", filepath.Join(bin, "tool"), nil},
		{"a file that is not executable is skipped", "data", "", os.ErrNotExist},
		{"a missing name is an error", "nope", "", os.ErrNotExist},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := lookPathIn(tc.cmd, env, dir)
			if got != tc.want || !errors.Is(err, tc.err) {
				t.Errorf("lookPathIn(%q) = %q, %v; want %q, %v", tc.cmd, got, err, tc.want, tc.err)
			}
		})
	}
}

func TestSpecValidation(t *testing.T) {
	valid := Spec{ID: "fn-1_a.b", Main: Command{Path: "/bin/true"}, CodeDir: "/code"}
	tests := []struct {
		name   string
		modify func(*Spec)
		ok     bool
	}{
		{"a complete spec passes", func(*Spec) {}, true},
		{"an empty ID fails", func(s *Spec) { s.ID = "" }, false},
		{"an ID with a slash fails", func(s *Spec) { s.ID = "a/b" }, false},
		{"an ID starting with a dot fails", func(s *Spec) { s.ID = ".pin-1" }, false},
		{"a missing main path fails", func(s *Spec) { s.Main.Path = "" }, false},
		{"an extra without a path fails", func(s *Spec) { s.Extras = []Command{{}} }, false},
		{"a missing code dir fails", func(s *Spec) { s.CodeDir = "" }, false},
		{"a negative limit fails", func(s *Spec) { s.MemoryLimitMB = -1 }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := valid
			tc.modify(&s)
			err := s.validate()
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalidSpec)) {
				t.Errorf("validate = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestCgroupV2FreezeKill drives the cgroup v2 code on whatever unified
// hierarchy this host has: on a hybrid v1 host (the build machines) that is
// /sys/fs/cgroup/unified, which lacks the memory controller but has the
// freezer and cgroup.kill, so memory is not checked there.
func TestCgroupV2FreezeKill(t *testing.T) {
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
	ms := parseMountinfo(mountinfo)
	if len(ms.v2) == 0 {
		t.Skip("no cgroup2 mount")
	}
	mi := ms.v2[0]
	rel := ownDir(mountInfo{root: mi.root, point: "/"}, parseProcCgroup(procCgroup)[""])
	root, err := newCgroupV2Root(mi.point, rel, "updraft-v2test-"+filepath.Base(t.TempDir()), "owner", false, testLogger(t))
	if err != nil {
		t.Skipf("cgroup v2 not writable here: %v", err)
	}
	t.Cleanup(func() {
		if err := root.remove(); err != nil {
			t.Errorf("remove root: %v", err)
		}
		for _, dir := range []string{root.dir, filepath.Dir(root.dir)} {
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("cgroup %s still exists", dir)
			}
		}
	})
	cg, err := root.create("env-1", cgroupLimits{memoryBytes: 64 << 20, pids: 64})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	out := &syncBuffer{}
	cmd := exec.Command(helperPath, "count")
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	if err := os.WriteFile(cg.procsFiles()[0], []byte(strconv.Itoa(cmd.Process.Pid)), 0); err != nil {
		t.Fatalf("enter cgroup: %v", err)
	}
	waitFor(t, 10*time.Second, func() error {
		if out.lines() < 10 {
			return errors.New("no output yet")
		}
		return nil
	})

	var abort atomic.Bool
	if err := cg.freeze(&abort); err != nil {
		t.Fatalf("freeze: %v", err)
	}
	time.Sleep(50 * time.Millisecond)
	frozenAt := out.lines()
	time.Sleep(200 * time.Millisecond)
	if n := out.lines(); n != frozenAt {
		t.Fatalf("output grew from %d to %d lines while frozen", frozenAt, n)
	}
	if err := cg.thaw(); err != nil {
		t.Fatalf("thaw: %v", err)
	}
	waitFor(t, 10*time.Second, func() error {
		if out.lines() <= frozenAt {
			return errors.New("no progress after thaw")
		}
		return nil
	})
	if c := cg.(*cgroupV2); c.hasCurrent && cg.memoryPeak() == 0 {
		t.Error("memoryPeak = 0 with the memory controller enabled")
	}

	if err := cg.freeze(&abort); err != nil {
		t.Fatalf("second freeze: %v", err)
	}
	if err := cg.kill(); err != nil {
		t.Fatalf("kill: %v", err)
	}
	if err := cg.thaw(); err != nil {
		t.Fatalf("thaw after kill: %v", err)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if cmd.ProcessState.String() != "signal: killed" {
			t.Errorf("process ended with %v, want signal: killed", cmd.ProcessState)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the frozen process did not die")
	}
	if cg.oomKilled(true) {
		t.Error("oomKilled = true without an OOM")
	}
	dir := filepath.Dir(cg.procsFiles()[0])
	if err := cg.remove(); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cgroup %s still exists", dir)
	}
}

func TestHWMReader(t *testing.T) {
	var r hwmReader
	defer r.close()
	self := r.sum([]int{os.Getpid()})
	if self < 1<<20 {
		t.Fatalf("sum(self) = %d bytes, want at least 1 MiB", self)
	}
	// Twice the same process counts twice; a missing pid counts 0 and a
	// descriptor no longer listed is dropped.
	if got := r.sum([]int{os.Getpid(), os.Getpid(), -1}); got < 2*self {
		t.Errorf("sum(self, self, -1) = %d, want at least %d", got, 2*self)
	}
	if got := r.sum(nil); got != 0 || len(r.fds) != 0 {
		t.Errorf("sum(nil) = %d with %d descriptors open, want 0 and none", got, len(r.fds))
	}
	r.close()
	if got := r.sum([]int{os.Getpid()}); got != 0 {
		t.Errorf("sum after close = %d, want 0", got)
	}
}

func TestParseHWM(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
	}{
		{"Name:\tx\nVmPeak:\t 9 kB\nVmHWM:\t    2048 kB\nVmRSS:\t 1 kB\n", 2048 << 10},
		{"Name:\tkthreadd\nState:\tS\n", 0},
		{"Name:\tx\nVmHWM:\n", 0},
		{"Name:\tx\nVmHWM:\tbad kB\n", 0},
	} {
		if got := parseHWM([]byte(tc.in)); got != tc.want {
			t.Errorf("parseHWM(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestParseProcs(t *testing.T) {
	if got, want := parseProcs([]byte("1\n42\n7\n"), 1), []int{42, 7}; !slices.Equal(got, want) {
		t.Errorf("parseProcs = %v, want %v", got, want)
	}
	if got := parseProcs(nil, 0); len(got) != 0 {
		t.Errorf("parseProcs(nil) = %v, want none", got)
	}
}

package e2e

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/testutil"
)

// TestRestartReapsSandboxesOfKilledServer kills a server with SIGKILL while
// its environment is warm and frozen, and checks that the environment
// outlives it (the kernel does not kill frozen tasks) until the server
// restarts on the same data dir and reaps it, while the warm environment
// of a second server on the same machine is left alone.
func TestRestartReapsSandboxesOfKilledServer(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for full isolation")
	}
	dirA := t.TempDir()
	a := testutil.StartServer(t, testutil.Options{DataDir: dirA})
	testutil.WaitFor(t, 10*time.Second, func() error {
		if !strings.Contains(a.Output.String(), "isolation: ") {
			return fmt.Errorf("no isolation in the banner yet")
		}
		return nil
	})
	if !strings.Contains(a.Output.String(), "isolation: full") {
		t.Skip("full isolation not available here")
	}
	b := testutil.StartServer(t, testutil.Options{})
	for _, srv := range []*testutil.Server{a, b} {
		createTestFunction(t, srv.Lambda(), "warm", fnOpts{})
		var n int64
		invokeJSON(t, srv.Lambda(), "warm", map[string]any{"action": "start-counter"}, &n)
	}
	pidA, pidB := a.Cmd.Process.Pid, b.Cmd.Process.Pid

	// A's environment is frozen shortly after the invocation.
	testutil.WaitFor(t, 10*time.Second, func() error {
		frozen := 0
		for _, dir := range ownedCgroups(t, pidA) {
			if st, err := os.ReadFile(filepath.Join(dir, "freezer.state")); err == nil && strings.TrimSpace(string(st)) == "FROZEN" && !strings.HasSuffix(dir, "/.pin") {
				frozen++
			}
			if ev, err := os.ReadFile(filepath.Join(dir, "cgroup.events")); err == nil && strings.Contains(string(ev), "frozen 1") {
				frozen++
			}
		}
		if frozen == 0 {
			return fmt.Errorf("no frozen sandbox cgroup of server %d among %v", pidA, ownedCgroups(t, pidA))
		}
		return nil
	})
	if len(ownedProcs(t, pidA)) == 0 {
		t.Fatalf("no sandbox process of server %d found", pidA)
	}
	bProcs := ownedProcs(t, pidB)
	if len(bProcs) == 0 {
		t.Fatalf("no sandbox process of server %d found", pidB)
	}

	a.Kill()
	// The bug this guards against: the frozen sandbox outlives its server
	// (its pre-started inits, not frozen, die of Pdeathsig).
	time.Sleep(300 * time.Millisecond)
	left := ownedProcs(t, pidA)
	if len(left) == 0 {
		t.Fatalf("the frozen sandbox died with its server: the test proves nothing")
	}

	a2 := testutil.StartServer(t, testutil.Options{DataDir: dirA})
	if procs := ownedProcs(t, pidA); len(procs) != 0 {
		t.Errorf("processes of the killed server remain after the restart: %v", procs)
	}
	if dirs := ownedCgroups(t, pidA); len(dirs) != 0 {
		t.Errorf("cgroups of the killed server remain after the restart: %v", dirs)
	}
	line := regexp.MustCompile(`reaped sandboxes left by dead servers.*processes[=":]+(\d+).*cgroups[=":]+(\d+)`).FindStringSubmatch(a2.Output.String())
	if line == nil {
		t.Fatalf("the restarted server does not log what it reaped:\n%s", a2.Output.String())
	}
	t.Logf("frozen processes left by the killed server: %v; the restarted one logged: %s", left, line[0])
	if n, _ := strconv.Atoi(line[1]); n < len(left) {
		t.Errorf("the log says %s processes were reaped, want at least %d", line[1], len(left))
	}
	if n, _ := strconv.Atoi(line[2]); n < 1 {
		t.Errorf("the log says %s cgroups were reaped", line[2])
	}

	// B's environment is the same warm one: its counter kept its count.
	var n int64
	invokeJSON(t, b.Lambda(), "warm", map[string]any{"action": "read-counter"}, &n)
	if n == 0 {
		t.Error("server B answered from a new environment: its warm one was reaped")
	}
	if procs := ownedProcs(t, pidB); len(procs) < len(bProcs) {
		t.Errorf("server B has %d sandbox processes, had %d", len(procs), len(bProcs))
	}
	// And the restarted A serves its function from a new environment.
	invokeJSON(t, a2.Lambda(), "warm", map[string]any{"action": "read-counter"}, &n)
	if n != 0 {
		t.Errorf("the restarted server answered from an environment with count %d", n)
	}

	// A second server on A's data dir fails at once, naming the holder.
	bin := testutil.BuildBinary(t, "./cmd/updraft", "")
	cmd := exec.CommandContext(testutil.Context(t, 30*time.Second), bin, "server", "--listen", "127.0.0.1:0", "--metrics-listen", "off", "--data-dir", dirA)
	cmd.Env = a2.Cmd.Env
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use by another updraft server (pid "+strconv.Itoa(a2.Cmd.Process.Pid)+")") {
		t.Errorf("a second server on the same data dir: %v\n%s", err, out)
	}
}

// ownerPrefix starts the name of the cgroup tree the server with pid owns.
func ownerPrefix(pid int) string { return fmt.Sprintf("pid%d-start", pid) }

// ownedCgroups lists every cgroup directory, in every hierarchy, of the
// tree the server with pid owns.
func ownedCgroups(t *testing.T, pid int) []string {
	t.Helper()
	var dirs []string
	prefix := ownerPrefix(pid)
	_ = filepath.WalkDir("/sys/fs/cgroup", func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if strings.Count(path, "/") > 10 {
			return fs.SkipDir
		}
		if strings.HasPrefix(d.Name(), prefix) && filepath.Base(filepath.Dir(path)) == "updraft" {
			_ = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.IsDir() {
					dirs = append(dirs, p)
				}
				return nil
			})
			return fs.SkipDir
		}
		return nil
	})
	return dirs
}

// ownedProcs lists the live processes whose cgroup lies in the tree the
// server with pid owns, from /proc. Zombies are left out: they hold
// nothing and wait only for their parent.
func ownedProcs(t *testing.T, pid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	marker := "/updraft/" + ownerPrefix(pid)
	var pids []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cg, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cgroup"))
		if err != nil || !strings.Contains(string(cg), marker) {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && strings.HasPrefix(string(stat[i+1:]), " Z") {
			continue
		}
		pids = append(pids, p)
	}
	return pids
}

//go:build linux

package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// helperPath is the test program built from testdata/helper by TestMain.
var helperPath string

func TestMain(m *testing.M) {
	RunInitIfRequested()
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "sandbox-helper-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	helperPath = filepath.Join(dir, "helper")
	build := exec.Command("go", "build", "-o", helperPath, "./testdata/helper")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build helper: %v\n%s", err, out)
		return 1
	}
	before := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 {
		code = checkGoroutines(before)
	}
	return code
}

// checkGoroutines fails the run when goroutines outlive the tests (every
// Manager and Process must be torn down by its test's cleanup).
func checkGoroutines(before int) int {
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			fmt.Fprintf(os.Stderr, "leaked goroutines: %d > %d\n%s", runtime.NumGoroutine(), before, buf[:n])
			return 1
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0
}

// testLogger writes log records to the test's output.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// levels lists the levels to test; full is skipped unless this host
// provides it.
var levels = []Level{LevelBasic, LevelFull}

// newManager returns a Manager at level with a cgroup name of its own, or
// skips the test when level is not available.
func newManager(t testing.TB, level Level) *Manager {
	t.Helper()
	return newManagerConfig(t, level, Config{})
}

// newManagerConfig is newManager with cfg's Zygotes.
func newManagerConfig(t testing.TB, level Level, cfg Config) *Manager {
	t.Helper()
	if level == LevelFull && testing.Short() {
		t.Skip("full isolation needs root and cgroups; skipped in -short mode")
	}
	cfg = Config{
		ForceBasic:         level == LevelBasic,
		CgroupName:         testCgroupName,
		MemoryPollInterval: 20 * time.Millisecond,
		Zygotes:            cfg.Zygotes,
		ScratchDir:         cfg.ScratchDir,
	}
	m, err := New(cfg, testLogger(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if m.Level() != level {
		t.Skipf("level %s not available: %s", level, m.Status().Reason)
	}
	return m
}

// forEachLevel runs f as a subtest per isolation level.
func forEachLevel(t *testing.T, f func(t *testing.T, m *Manager)) {
	for _, level := range levels {
		t.Run(string(level), func(t *testing.T) {
			f(t, newManager(t, level))
		})
	}
}

// newSpec returns a Spec whose code directory holds the helper and whose
// Main runs it with args, output going to the returned buffer.
func newSpec(t testing.TB, m *Manager, args ...string) (Spec, *syncBuffer) {
	t.Helper()
	root := t.TempDir()
	code := filepath.Join(root, "code")
	if err := os.Mkdir(code, 0o755); err != nil {
		t.Fatal(err)
	}
	// t.TempDir is 0700; uid 65534 must be able to read the code in full mode.
	if err := os.Chmod(code, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, helperPath, filepath.Join(code, "helper"), 0o755)
	s := Spec{
		ID:      strings.NewReplacer("/", "-", "#", "-").Replace(t.Name()),
		CodeDir: code,
		TmpDir:  filepath.Join(root, "tmp"),
	}
	out := &syncBuffer{}
	lay := m.Layout(s)
	s.Main = Command{
		Path:   filepath.Join(lay.TaskRoot, "helper"),
		Args:   args,
		Env:    []string{"PATH=/usr/bin:/bin", "FOO=bar"},
		Stdout: out,
		Stderr: out,
	}
	return s, out
}

func copyFile(t testing.TB, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
}

// start starts s and registers a cleanup that kills it and waits for its
// teardown.
func start(t testing.TB, m *Manager, s Spec) *Process {
	t.Helper()
	p, err := m.Start(t.Context(), s)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		_ = p.Kill()
		waitDone(t, p, 15*time.Second)
	})
	return p
}

// waitDone waits (bounded) for p's teardown.
func waitDone(t testing.TB, p *Process, timeout time.Duration) {
	t.Helper()
	select {
	case <-p.Done():
	case <-time.After(timeout):
		t.Fatalf("process %d not done after %v", p.Pid(), timeout)
	}
}

// waitFor polls cond until it returns nil or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %v: %v", timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for the output copier and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines counts complete lines written so far.
func (b *syncBuffer) lines() int {
	return strings.Count(b.String(), "\n")
}

// report parses the helper's key=value report.
func report(out string) map[string]string {
	kv := map[string]string{}
	for line := range strings.Lines(out) {
		k, v, _ := strings.Cut(strings.TrimSuffix(line, "\n"), "=")
		if _, dup := kv[k]; !dup {
			kv[k] = v
		}
	}
	return kv
}

func TestProcessSeesItsLayout(t *testing.T) {
	forEachLevel(t, func(t *testing.T, m *Manager) {
		s, out := newSpec(t, m)
		if err := os.WriteFile(filepath.Join(s.CodeDir, "data.txt"), []byte("hello"), 0o644); err != nil {
			t.Fatal(err)
		}
		s.OptDir = filepath.Join(filepath.Dir(s.CodeDir), "opt")
		if err := os.Mkdir(s.OptDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(s.OptDir, "layer.txt"), []byte("layered"), 0o644); err != nil {
			t.Fatal(err)
		}
		lay := m.Layout(s)
		codeFile, optFile := filepath.Join(lay.TaskRoot, "data.txt"), filepath.Join(lay.OptRoot, "layer.txt")
		s.Main.Args = []string{"report", codeFile, optFile}
		p := start(t, m, s)
		waitDone(t, p, 15*time.Second)
		if got := p.ExitReason(); got != "exit status 0" {
			t.Fatalf("ExitReason = %q, want exit status 0; output:\n%s", got, out)
		}
		r := report(out.String())
		want := map[string]string{
			"cwd":              lay.TaskRoot,
			"read:" + codeFile: "hello",
			"read:" + optFile:  "layered",
			"write_tmp":        "ok",
			"env:FOO":          "bar",
			"tmp":              lay.TmpDir,
		}
		if m.Level() == LevelFull {
			want["uid"] = "65534"
			want["gid"] = "65534"
			want["init"] = initArg0 // pid 1 of the new pid namespace
			want["write_task"] = "error"
			want["hostname"] = "localhost"
			want["tmp_mb"] = strconv.Itoa(DefaultTmpSizeMB)
		} else {
			want["uid"] = fmt.Sprint(os.Getuid())
		}
		for k, v := range want {
			if r[k] != v {
				t.Errorf("%s = %q, want %q", k, r[k], v)
			}
		}
		if _, leaked := r["env:HOME"]; leaked && !strings.Contains(strings.Join(s.Main.Env, " "), "HOME=") {
			t.Errorf("server environment leaked into the sandbox: HOME=%s", r["env:HOME"])
		}
		if t.Failed() {
			t.Logf("output:\n%s", out)
		}
	})
}

func TestOutputToCallersPipe(t *testing.T) {
	forEachLevel(t, func(t *testing.T, m *Manager) {
		s, _ := newSpec(t, m, "report")
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		s.Main.Stdout, s.Main.Stderr = w, w
		p := start(t, m, s)
		w.Close() // the caller's copy; the process holds its own
		read := make(chan []byte, 1)
		go func() {
			b, _ := io.ReadAll(r)
			read <- b
		}()
		select {
		case b := <-read:
			if !strings.Contains(string(b), "env:FOO=bar") {
				t.Errorf("output = %q, want the report", b)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no EOF on the caller's pipe")
		}
		waitDone(t, p, 10*time.Second)
	})
}

func TestFreezeStopsProgressUntilThaw(t *testing.T) {
	forEachLevel(t, func(t *testing.T, m *Manager) {
		s, out := newSpec(t, m, "count")
		p := start(t, m, s)
		waitFor(t, 10*time.Second, func() error {
			if n := out.lines(); n < 20 {
				return fmt.Errorf("%d lines", n)
			}
			return nil
		})
		if err := p.Freeze(); err != nil {
			t.Fatalf("Freeze: %v", err)
		}
		if err := p.Freeze(); err != nil {
			t.Fatalf("second Freeze: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // let the copier drain what was written before
		frozenAt := out.lines()
		time.Sleep(300 * time.Millisecond)
		if n := out.lines(); n != frozenAt {
			t.Fatalf("output grew from %d to %d lines while frozen", frozenAt, n)
		}
		if err := p.Thaw(); err != nil {
			t.Fatalf("Thaw: %v", err)
		}
		waitFor(t, 10*time.Second, func() error {
			if n := out.lines(); n < frozenAt+20 {
				return fmt.Errorf("%d lines, want more than %d", n, frozenAt+20)
			}
			return nil
		})
	})
}

func TestMemoryLimitKills(t *testing.T) {
	const limitMB = 64
	forEachLevel(t, func(t *testing.T, m *Manager) {
		s, out := newSpec(t, m, "alloc", "2")
		s.MemoryLimitMB = limitMB
		p := start(t, m, s)
		waitDone(t, p, 30*time.Second)
		if !p.OOMKilled() {
			t.Errorf("OOMKilled = false, want true; output:\n%s", out)
		}
		if got := p.ExitReason(); got != "signal: killed" {
			t.Errorf("ExitReason = %q, want signal: killed", got)
		}
		peak := p.MaxMemoryUsedBytes()
		lo, hi := uint64(limitMB<<20)*3/4, uint64(limitMB<<20)*3/2
		if peak < lo || peak > hi {
			t.Errorf("MaxMemoryUsedBytes = %d MiB, want between %d and %d MiB", peak>>20, lo>>20, hi>>20)
		}
	})
}

// TestMaxMemoryUsedSumsProcesses checks that the peak is the summed
// resident peak of every process of the sandbox, and that it outlives them.
func TestMaxMemoryUsedSumsProcesses(t *testing.T) {
	const holdMB = 30
	forEachLevel(t, func(t *testing.T, m *Manager) {
		s, out := newSpec(t, m, "hold", strconv.Itoa(holdMB))
		extraOut := &syncBuffer{}
		s.Extras = []Command{{Path: s.Main.Path, Args: []string{"hold", strconv.Itoa(holdMB)}, Env: s.Main.Env, Stdout: extraOut}}
		p := start(t, m, s)
		waitFor(t, 10*time.Second, func() error {
			if !strings.Contains(out.String(), "held") || !strings.Contains(extraOut.String(), "held") {
				return errors.New("not both held yet")
			}
			return nil
		})
		want := uint64(2 * holdMB << 20)
		if got := p.MaxMemoryUsedBytes(); got < want {
			t.Errorf("MaxMemoryUsedBytes while running = %d MiB, want at least %d MiB", got>>20, want>>20)
		}
		if err := p.Kill(); err != nil {
			t.Fatalf("Kill: %v", err)
		}
		waitDone(t, p, 10*time.Second)
		if got := p.MaxMemoryUsedBytes(); got < want {
			t.Errorf("MaxMemoryUsedBytes after exit = %d MiB, want at least %d MiB", got>>20, want>>20)
		}
	})
}

func TestKillFrozenProcess(t *testing.T) {
	forEachLevel(t, func(t *testing.T, m *Manager) {
		s, out := newSpec(t, m, "count")
		p := start(t, m, s)
		waitFor(t, 10*time.Second, func() error {
			if out.lines() == 0 {
				return errors.New("no output yet")
			}
			return nil
		})
		var cgroupDirs []string
		if p.cg != nil {
			for _, f := range p.cg.procsFiles() {
				cgroupDirs = append(cgroupDirs, filepath.Dir(f))
			}
		}
		if err := p.Freeze(); err != nil {
			t.Fatalf("Freeze: %v", err)
		}
		if err := p.Kill(); err != nil {
			t.Fatalf("Kill: %v", err)
		}
		waitDone(t, p, 10*time.Second)
		if err := p.Kill(); err != nil {
			t.Errorf("second Kill: %v", err)
		}
		if got := p.ExitReason(); got != "signal: killed" {
			t.Errorf("ExitReason = %q, want signal: killed", got)
		}
		if p.OOMKilled() {
			t.Error("OOMKilled = true after Kill")
		}
		if err := p.Thaw(); !errors.Is(err, ErrExited) {
			t.Errorf("Thaw after Kill = %v, want ErrExited", err)
		}
		for _, d := range cgroupDirs {
			if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("cgroup %s still exists (stat: %v)", d, err)
			}
		}
		// The ID is free as soon as Done is closed.
		start(t, m, s)
	})
}

func TestExitReason(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"clean exit reads exit status 0", []string{"exit", "0"}, "exit status 0"},
		{"error exit reads its status", []string{"exit", "2"}, "exit status 2"},
		{"death by signal names the signal", []string{"kill-self"}, "signal: terminated"},
	}
	forEachLevel(t, func(t *testing.T, m *Manager) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s, out := newSpec(t, m, tc.args...)
				p := start(t, m, s)
				waitDone(t, p, 10*time.Second)
				if got := p.ExitReason(); got != tc.want {
					t.Errorf("ExitReason = %q, want %q; output:\n%s", got, tc.want, out)
				}
				if p.OOMKilled() {
					t.Error("OOMKilled = true")
				}
			})
		}
	})
}

func TestExtrasStartFirstAndDieWithMain(t *testing.T) {
	forEachLevel(t, func(t *testing.T, m *Manager) {
		s, _ := newSpec(t, m, "exit-after", "300ms")
		extraOut := &syncBuffer{}
		s.Extras = []Command{{
			Path:   s.Main.Path,
			Args:   []string{"count"},
			Env:    s.Main.Env,
			Stdout: extraOut,
		}}
		p := start(t, m, s)
		waitDone(t, p, 10*time.Second)
		if got := p.ExitReason(); got != "exit status 0" {
			t.Errorf("ExitReason = %q, want exit status 0", got)
		}
		n := extraOut.lines()
		if n == 0 {
			t.Fatal("the extra wrote nothing: it did not run")
		}
		time.Sleep(200 * time.Millisecond)
		if got := extraOut.lines(); got != n {
			t.Errorf("the extra kept running after main exited: %d -> %d lines", n, got)
		}
	})
}

func TestTerminate(t *testing.T) {
	tests := []struct {
		name string
		mode string
		want string
	}{
		{"a process that handles SIGTERM exits by itself", "trap", "exit status 3"},
		{"a process that ignores SIGTERM is killed after the grace period", "ignore-term", "signal: killed"},
	}
	forEachLevel(t, func(t *testing.T, m *Manager) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s, out := newSpec(t, m, tc.mode)
				p := start(t, m, s)
				waitFor(t, 10*time.Second, func() error {
					if !strings.Contains(out.String(), "ready") {
						return errors.New("not ready")
					}
					return nil
				})
				if err := p.Freeze(); err != nil {
					t.Fatalf("Freeze: %v", err)
				}
				if err := p.Terminate(500 * time.Millisecond); err != nil {
					t.Fatalf("Terminate: %v", err)
				}
				waitDone(t, p, time.Second)
				if got := p.ExitReason(); got != tc.want {
					t.Errorf("ExitReason = %q, want %q; output:\n%s", got, tc.want, out)
				}
			})
		}
	})
}

func TestStartRejects(t *testing.T) {
	forEachLevel(t, func(t *testing.T, m *Manager) {
		t.Run("an invalid spec", func(t *testing.T) {
			s, _ := newSpec(t, m, "sleep")
			s.ID = "../escape"
			if _, err := m.Start(t.Context(), s); !errors.Is(err, ErrInvalidSpec) {
				t.Errorf("Start = %v, want ErrInvalidSpec", err)
			}
		})
		t.Run("a missing program", func(t *testing.T) {
			s, _ := newSpec(t, m, "sleep")
			s.Main.Path = filepath.Join(m.Layout(s).TaskRoot, "nope")
			if _, err := m.Start(t.Context(), s); err == nil {
				t.Error("Start succeeded")
			}
			// The ID is free again after a failed start.
			s.Main.Path = filepath.Join(m.Layout(s).TaskRoot, "helper")
			start(t, m, s)
		})
		t.Run("a duplicate ID", func(t *testing.T) {
			s, _ := newSpec(t, m, "sleep")
			start(t, m, s)
			if _, err := m.Start(t.Context(), s); !errors.Is(err, ErrInvalidSpec) {
				t.Errorf("second Start = %v, want ErrInvalidSpec", err)
			}
		})
	})
}

func TestCloseKillsLeftovers(t *testing.T) {
	forEachLevel(t, func(t *testing.T, m *Manager) {
		s, _ := newSpec(t, m, "sleep")
		p := start(t, m, s)
		if err := p.Freeze(); err != nil {
			t.Fatalf("Freeze: %v", err)
		}
		if err := m.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		waitDone(t, p, time.Second)
		if err := m.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if _, err := m.Start(t.Context(), s); !errors.Is(err, ErrClosed) {
			t.Errorf("Start after Close = %v, want ErrClosed", err)
		}
		if m.cgroups != nil {
			for _, dir := range cgroupParentDirs(m.cgroups) {
				if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("parent cgroup %s still exists (stat: %v)", dir, err)
				}
			}
		}
	})
}

func TestNewWithoutInitHookFallsBackToBasic(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to get past the earlier checks")
	}
	initHookCalled.Store(false)
	t.Cleanup(func() { initHookCalled.Store(true) })
	m, err := New(Config{CgroupName: testCgroupName}, testLogger(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	if st := m.Status(); st.Level != LevelBasic || !strings.Contains(st.Reason, "RunInitIfRequested") {
		t.Errorf("Status = %+v, want basic because the hook was not called", st)
	}
}

func cgroupParentDirs(r cgroupRoot) []string {
	switch r := r.(type) {
	case *cgroupV1Root:
		var dirs []string
		for _, d := range r.dirs {
			dirs = append(dirs, d)
		}
		return dirs
	case *cgroupV2Root:
		return []string{r.dir}
	}
	return nil
}

func TestStatus(t *testing.T) {
	t.Run("basic", func(t *testing.T) {
		m := newManager(t, LevelBasic)
		got := m.Status()
		want := Status{Level: LevelBasic, Freezer: "signal", RunAsUID: os.Geteuid(), MemoryEnforcement: "watcher",
			Network: "host", Reason: "basic isolation forced by configuration"}
		if got != want {
			t.Errorf("Status = %+v, want %+v", got, want)
		}
	})
	t.Run("full", func(t *testing.T) {
		m := newManager(t, LevelFull)
		got := m.Status()
		if got.CgroupVersion != "v1" && got.CgroupVersion != "v2" {
			t.Errorf("CgroupVersion = %q", got.CgroupVersion)
		}
		got.CgroupVersion = ""
		// Egress where slirp4netns is installed; isolated, with the
		// reason, where it is not.
		if (got.Network == "egress") == (got.Reason != "") || (got.Network != "egress" && got.Network != "isolated") {
			t.Errorf("Network = %q with Reason %q", got.Network, got.Reason)
		}
		got.Network, got.Reason = "", ""
		want := Status{Level: LevelFull, Freezer: "cgroup", Namespaces: true, RunAsUID: 65534, MemoryEnforcement: "cgroup"}
		if got != want {
			t.Errorf("Status = %+v, want %+v", got, want)
		}
	})
}

func BenchmarkFreezeThaw(b *testing.B) {
	for _, level := range levels {
		b.Run(string(level), func(b *testing.B) {
			m := newManager(b, level)
			s, _ := newSpec(b, m, "count")
			s.Main.Stdout, s.Main.Stderr = nil, nil
			p := start(b, m, s)
			var thaw time.Duration
			for b.Loop() {
				if err := p.Freeze(); err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				if err := p.Thaw(); err != nil {
					b.Fatal(err)
				}
				thaw += time.Since(t0)
			}
			b.ReportMetric(float64(thaw.Nanoseconds())/float64(b.N), "thaw-ns/op")
		})
	}
}

// BenchmarkMaxMemoryUsed measures the per-invocation cost of reading the
// REPORT memory figure of a running sandbox with two processes.
func BenchmarkMaxMemoryUsed(b *testing.B) {
	for _, level := range levels {
		b.Run(string(level), func(b *testing.B) {
			m := newManager(b, level)
			s, _ := newSpec(b, m, "sleep")
			s.Main.Stdout, s.Main.Stderr = nil, nil
			s.Extras = []Command{{Path: s.Main.Path, Args: []string{"sleep"}, Env: s.Main.Env}}
			p := start(b, m, s)
			// CPU time is reported besides wall time, which a loaded
			// machine inflates.
			cpu0 := cpuTime(b)
			for b.Loop() {
				if p.MaxMemoryUsedBytes() == 0 {
					b.Fatal("MaxMemoryUsedBytes = 0")
				}
			}
			b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the user and system CPU time of this process so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStartToExit measures the sandbox overhead of a cold start: Start
// of a program that exits at once, until Done. Back-to-back starts outrun
// the pool of pre-started inits, so full mode mixes taken and on-demand
// inits here; start-ns/op is the part spent in Start.
func BenchmarkStartToExit(b *testing.B) {
	for _, level := range levels {
		b.Run(string(level), func(b *testing.B) {
			m := newManager(b, level)
			s, _ := newSpec(b, m, "exit", "0")
			s.Main.Stdout, s.Main.Stderr = nil, nil
			var inStart time.Duration
			for b.Loop() {
				t0 := time.Now()
				p, err := m.Start(b.Context(), s)
				if err != nil {
					b.Fatal(err)
				}
				inStart += time.Since(t0)
				waitDone(b, p, 15*time.Second)
			}
			b.ReportMetric(float64(inStart.Nanoseconds())/float64(b.N), "start-ns/op")
		})
	}
}

// BenchmarkStart measures Start alone at the pace of cold starts that
// leave the pool time to refill: in full mode from a pre-started init
// ("full") and from one started on demand ("full-on-demand").
func BenchmarkStart(b *testing.B) {
	for _, bc := range []struct {
		name    string
		level   Level
		zygotes int
	}{
		{"basic", LevelBasic, 0},
		{"full", LevelFull, 2},
		{"full-on-demand", LevelFull, -1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m := newManagerConfig(b, bc.level, Config{Zygotes: bc.zygotes})
			s, _ := newSpec(b, m, "exit", "0")
			s.Main.Stdout, s.Main.Stderr = nil, nil
			for b.Loop() {
				b.StopTimer()
				if m.zygotes != nil {
					waitFor(b, 30*time.Second, func() error {
						if n := m.zygotes.readyCount(); n < m.zygotes.size {
							return fmt.Errorf("%d zygotes ready", n)
						}
						return nil
					})
				}
				b.StartTimer()
				p, err := m.Start(b.Context(), s)
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				waitDone(b, p, 15*time.Second)
				b.StartTimer()
			}
		})
	}
}

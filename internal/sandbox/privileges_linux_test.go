package sandbox

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// TestCommandFilterDecisions runs the assembled filter in a BPF
// interpreter, so its decisions are checked without installing it.
func TestCommandFilterDecisions(t *testing.T) {
	raw, err := commandFilter()
	if err != nil {
		t.Fatal(err)
	}
	insts, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatal("filter does not disassemble")
	}
	vm, err := bpf.NewVM(insts)
	if err != nil {
		t.Fatal(err)
	}
	info, err := arch.GetInfo("")
	if err != nil {
		t.Fatal(err)
	}
	nr := func(name string) uint32 {
		n, ok := info.SyscallNames[name]
		if !ok {
			t.Fatalf("no system call %s on %s", name, info.Name)
		}
		return uint32(n)
	}
	var (
		allow   = uint32(seccomp.ActionAllow)
		eperm   = uint32(seccomp.ActionErrno) | uint32(unix.EPERM)
		enosys  = uint32(seccomp.ActionErrno) | uint32(unix.ENOSYS)
		killing = uint32(seccomp.ActionKillProcess)
	)
	threadFlags := uint64(unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
		unix.CLONE_THREAD | unix.CLONE_SYSVSEM | unix.CLONE_SETTLS | unix.CLONE_PARENT_SETTID | unix.CLONE_CHILD_CLEARTID)
	cloneArg := 0
	if runtime.GOARCH == "s390x" {
		cloneArg = 1
	}
	cloneArgs := func(flags uint64) [6]uint64 {
		var a [6]uint64
		a[cloneArg] = flags
		return a
	}
	type filterCase struct {
		name string
		arch uint32
		nr   uint32
		args [6]uint64
		want uint32
	}
	tests := []filterCase{
		{"read is allowed", uint32(info.ID), nr("read"), [6]uint64{}, allow},
		{"setuid is allowed", uint32(info.ID), nr("setuid"), [6]uint64{65534}, allow},
		{"setgroups is allowed", uint32(info.ID), nr("setgroups"), [6]uint64{}, allow},
		{"clone of a thread is allowed", uint32(info.ID), nr("clone"), cloneArgs(threadFlags), allow},
		{"vfork-style clone is allowed", uint32(info.ID), nr("clone"), cloneArgs(unix.CLONE_VM | unix.CLONE_VFORK | uint64(unix.SIGCHLD)), allow},
		{"clone into a new user namespace is refused", uint32(info.ID), nr("clone"), cloneArgs(unix.CLONE_NEWUSER | uint64(unix.SIGCHLD)), eperm},
		{"clone into a new network namespace is refused", uint32(info.ID), nr("clone"), cloneArgs(unix.CLONE_NEWNET), eperm},
		{"clone into a new cgroup namespace is refused", uint32(info.ID), nr("clone"), cloneArgs(unix.CLONE_NEWCGROUP), eperm},
		{"clone with high garbage bits and a namespace is refused", uint32(info.ID), nr("clone"), cloneArgs(1<<40 | unix.CLONE_NEWPID), eperm},
		{"clone3 is not implemented", uint32(info.ID), nr("clone3"), [6]uint64{}, enosys},
		{"unshare is refused", uint32(info.ID), nr("unshare"), [6]uint64{unix.CLONE_FILES}, eperm},
		{"mount is refused", uint32(info.ID), nr("mount"), [6]uint64{}, eperm},
		{"ptrace is refused", uint32(info.ID), nr("ptrace"), [6]uint64{}, eperm},
		{"keyctl is refused", uint32(info.ID), nr("keyctl"), [6]uint64{}, eperm},
		{"fsopen is refused", uint32(info.ID), nr("fsopen"), [6]uint64{}, eperm},
		{"personality query is allowed", uint32(info.ID), nr("personality"), [6]uint64{0xffffffff}, allow},
		{"personality PER_LINUX is allowed", uint32(info.ID), nr("personality"), [6]uint64{0}, allow},
		{"personality without ASLR is refused", uint32(info.ID), nr("personality"), [6]uint64{0x0040000}, eperm},
		{"a foreign architecture kills", uint32(arch.I386.ID), 1, [6]uint64{}, killing},
	}
	if info.ID == arch.X86_64.ID {
		tests = append(tests, filterCase{"the x32 ABI is not implemented", uint32(info.ID), 0x40000000 | nr("read"), [6]uint64{}, enosys})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// struct seccomp_data in native byte order.
			data := make([]byte, 64)
			binary.NativeEndian.PutUint32(data[0:], tc.nr)
			binary.NativeEndian.PutUint32(data[4:], tc.arch)
			for i, a := range tc.args {
				binary.NativeEndian.PutUint64(data[16+8*i:], a)
			}
			// The interpreter loads words in network byte order, the
			// kernel in native order: swap each word to make up for it.
			for i := 0; i < len(data); i += 4 {
				binary.BigEndian.PutUint32(data[i:], binary.NativeEndian.Uint32(data[i:]))
			}
			got, err := vm.Run(data)
			if err != nil {
				t.Fatal(err)
			}
			if uint32(got) != tc.want {
				t.Errorf("action %#x, want %#x", uint32(got), tc.want)
			}
		})
	}
}

// lockDownEnv carries a lockDownRequest to the helper process.
const lockDownEnv = "UPDRAFT_TEST_LOCKDOWN_REQUEST"

// lockDownRequest lists commands for TestLockDownHelperProcess to start
// as uid 65534, from a locked-down thread unless Control is set.
type lockDownRequest struct {
	Commands []lockDownCommand `json:"commands"`
}

type lockDownCommand struct {
	Argv    []string `json:"argv"`
	Control bool     `json:"control,omitempty"` // start without lockDownForkingThread
}

// lockDownResult is one command's combined output and exit code.
type lockDownResult struct {
	Output string `json:"output"`
	Exit   int    `json:"exit"`
	Error  string `json:"error,omitempty"`
}

const lockDownResultPrefix = "lockdown-results: "

// TestLockDownHelperProcess is not a test: TestLockDownForkingThread runs
// the test binary again with only this test and a request in the
// environment, so the lock-down happens in a process of its own. It
// starts each command as the sandbox init does and prints the results.
func TestLockDownHelperProcess(t *testing.T) {
	req := os.Getenv(lockDownEnv)
	if req == "" {
		t.Skip("helper process of TestLockDownForkingThread")
	}
	var r lockDownRequest
	if err := json.Unmarshal([]byte(req), &r); err != nil {
		t.Fatal(err)
	}
	results := make([]lockDownResult, len(r.Commands))
	for _, control := range []bool{false, true} {
		done := make(chan error)
		go func() {
			// Never unlocked: the thread goes with the goroutine.
			runtime.LockOSThread()
			if !control {
				if err := lockDownForkingThread(); err != nil {
					done <- err
					return
				}
			}
			for i, c := range r.Commands {
				if c.Control == control {
					results[i] = runAsNobody(c.Argv)
				}
			}
			done <- nil
		}()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.Marshal(results)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("\n%s%s\n", lockDownResultPrefix, b)
}

// runAsNobody starts argv as the sandbox init starts a command and waits
// for it.
func runAsNobody(argv []string) lockDownResult {
	r, w, err := os.Pipe()
	if err != nil {
		return lockDownResult{Error: err.Error()}
	}
	defer r.Close()
	attr := &syscall.ProcAttr{
		Dir:   "/",
		Env:   []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp", "LANG=C.UTF-8"},
		Files: []uintptr{0, w.Fd(), w.Fd()},
		Sys: &syscall.SysProcAttr{
			Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}},
		},
	}
	pid, err := syscall.ForkExec(argv[0], argv, attr)
	w.Close()
	if err != nil {
		return lockDownResult{Error: err.Error()}
	}
	out, _ := io.ReadAll(r)
	var ws syscall.WaitStatus
	for {
		_, err = syscall.Wait4(pid, &ws, 0, nil)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	res := lockDownResult{Output: string(out), Exit: ws.ExitStatus()}
	if ws.Signaled() {
		res.Exit = 128 + int(ws.Signal())
	}
	return res
}

// TestLockDownForkingThread starts commands the way the sandbox init
// does, from a locked-down thread as uid 65534, and checks what they may
// and may not do; a control group is started from a thread left alone,
// to show each refusal comes from the lock-down.
func TestLockDownForkingThread(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to start commands as uid 65534")
	}
	if testing.Short() {
		t.Skip("builds a program and re-executes the test binary; skipped in -short mode")
	}
	probe := buildProbe(t)
	python := "/usr/bin/python3"
	node := "/usr/bin/node"
	const pythonScript = `import threading, subprocess, socket
t = threading.Thread(target=lambda: None); t.start(); t.join()
assert subprocess.run(["/bin/sh", "-c", "exit 3"]).returncode == 3
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
c = socket.create_connection(s.getsockname()); a, _ = s.accept(); c.send(b"x"); assert a.recv(1) == b"x"
print("ok")`
	const nodeScript = `const {execFileSync} = require("child_process");
const {Worker} = require("worker_threads");
const fs = require("fs");
if (execFileSync("/bin/sh", ["-c", "echo child"]).toString() !== "child\n") process.exit(2);
fs.readFile("/proc/self/status", (err) => {
  if (err) process.exit(3);
  new Worker("1", {eval: true}).on("exit", () => console.log("ok"));
});`
	commands := []lockDownCommand{
		{Argv: []string{probe, "status"}},
		{Argv: []string{probe, "refused"}},
		{Argv: []string{probe, "work"}},
		{Argv: []string{"/bin/sh", "-c", "true"}},
		{Argv: []string{"/usr/bin/unshare", "-r", "-n", "true"}},
		{Argv: []string{python, "-c", pythonScript}},
		{Argv: []string{node, "-e", nodeScript}},
		{Argv: []string{probe, "refused"}, Control: true},
	}
	results := runLockDownHelper(t, commands)
	status, refused, work, sh, unshare, py, js, control :=
		results[0], results[1], results[2], results[3], results[4], results[5], results[6], results[7]

	t.Run("status shows no privileges", func(t *testing.T) {
		got := keyValues(status.Output)
		want := map[string]string{
			"Uid":        "65534,65534,65534,65534",
			"Gid":        "65534,65534,65534,65534",
			"Groups":     "",
			"NoNewPrivs": "1",
			"Seccomp":    "2",
			"CapInh":     "0000000000000000",
			"CapPrm":     "0000000000000000",
			"CapEff":     "0000000000000000",
			"CapBnd":     "0000000000000000",
			"CapAmb":     "0000000000000000",
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %q, want %q (output %q)", k, got[k], v, status.Output)
			}
		}
	})
	t.Run("refused calls fail with the filter's errno", func(t *testing.T) {
		got := keyValues(refused.Output)
		want := map[string]string{
			"mount":                    "EPERM",
			"unshare_net":              "EPERM",
			"unshare_user_net":         "EPERM",
			"setns":                    "EPERM",
			"clone_newuser":            "EPERM",
			"clone_newnet":             "EPERM",
			"clone3":                   "ENOSYS",
			"ptrace":                   "EPERM",
			"process_vm_readv":         "EPERM",
			"keyctl":                   "EPERM",
			"io_uring_setup":           "EPERM",
			"bpf":                      "EPERM",
			"personality_query":        "ok",
			"personality_no_randomize": "EPERM",
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %q, want %q (output %q)", k, got[k], v, refused.Output)
			}
		}
		// Without the lock-down the same calls get past the filter's
		// place: each fails differently or succeeds.
		ctl := keyValues(control.Output)
		for _, k := range []string{"setns", "clone3", "ptrace", "process_vm_readv", "keyctl", "io_uring_setup", "personality_no_randomize"} {
			if ctl[k] == want[k] {
				t.Errorf("control %s: %q, the same as under the filter (output %q)", k, ctl[k], control.Output)
			}
		}
	})
	t.Run("ordinary work succeeds", func(t *testing.T) {
		if work.Exit != 0 || !strings.Contains(work.Output, "work=ok") {
			t.Errorf("probe work: exit %d, %q %s", work.Exit, work.Output, work.Error)
		}
		if sh.Exit != 0 || sh.Error != "" {
			t.Errorf("sh -c true: exit %d, %q %s", sh.Exit, sh.Output, sh.Error)
		}
	})
	t.Run("unshare -r -n is refused", func(t *testing.T) {
		if unshare.Exit == 0 || !strings.Contains(unshare.Output, "Operation not permitted") {
			t.Errorf("unshare -r -n: exit %d, %q %s", unshare.Exit, unshare.Output, unshare.Error)
		}
	})
	t.Run("python runs threads, a child and sockets", func(t *testing.T) {
		if _, err := os.Stat(python); err != nil {
			t.Skip(err)
		}
		if py.Exit != 0 || strings.TrimSpace(py.Output) != "ok" {
			t.Errorf("python: exit %d, %q %s", py.Exit, py.Output, py.Error)
		}
	})
	t.Run("node runs a worker, a child and the libuv pool", func(t *testing.T) {
		if _, err := os.Stat(node); err != nil {
			t.Skip(err)
		}
		if js.Exit != 0 || strings.TrimSpace(js.Output) != "ok" {
			t.Errorf("node: exit %d, %q %s", js.Exit, js.Output, js.Error)
		}
	})
}

// buildProbe builds testdata/probe into a directory uid 65534 may read.
func buildProbe(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sandbox-probe-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	probe := filepath.Join(dir, "probe")
	build := exec.Command("go", "build", "-o", probe, "./testdata/probe")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build probe: %v\n%s", err, out)
	}
	return probe
}

// runLockDownHelper runs commands through TestLockDownHelperProcess in a
// new test process and returns their results in order.
func runLockDownHelper(t *testing.T, commands []lockDownCommand) []lockDownResult {
	t.Helper()
	req, err := json.Marshal(lockDownRequest{Commands: commands})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestLockDownHelperProcess$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), lockDownEnv+"="+string(req))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper process: %v\n%s", err, out)
	}
	for line := range strings.Lines(string(out)) {
		if b, ok := strings.CutPrefix(strings.TrimSpace(line), lockDownResultPrefix); ok {
			var results []lockDownResult
			if err := json.Unmarshal([]byte(b), &results); err != nil {
				t.Fatal(err)
			}
			if len(results) != len(commands) {
				t.Fatalf("%d results for %d commands", len(results), len(commands))
			}
			return results
		}
	}
	t.Fatalf("helper process printed no results:\n%s", out)
	return nil
}

// keyValues parses key=value lines.
func keyValues(s string) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader([]byte(s)))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			m[k] = v
		}
	}
	return m
}

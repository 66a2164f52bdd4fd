package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// initArg0 is the argv[0] that makes [RunInitIfRequested] act as a
// sandbox init.
const initArg0 = "updraft-sandbox-init"

// File descriptors of an init process (os/exec ExtraFiles start at 3).
const (
	initConfigFD = 3 // read end of the setup pipe (JSON initConfig)
	initStatusFD = 4 // write end of the status pipe (JSON initMessage lines)
	initFirstFD  = 5 // first output pipe of the commands
)

// initHookCalled records that the binary called RunInitIfRequested, which
// is what makes re-executing it as an init safe. It is the package's only
// global, part of the re-exec hook.
var initHookCalled atomic.Bool

// RunInitIfRequested turns the process into a sandbox init when it was
// started as one by a full-mode [Manager], and otherwise returns at once.
// An init sets up the sandbox, runs its commands and exits with the process;
// it never returns. Call it first thing in main, and in TestMain of tests
// that start full-mode sandboxes; without the call [New] falls back to
// [LevelBasic].
func RunInitIfRequested() {
	initHookCalled.Store(true)
	if len(os.Args) == 0 || os.Args[0] != initArg0 {
		return
	}
	os.Exit(runInit())
}

// initConfig is the setup an init reads from fd 3.
type initConfig struct {
	Probe       bool          `json:"probe,omitempty"` // only check that namespaces and mounts work
	CodeDir     string        `json:"codeDir"`
	OptDir      string        `json:"optDir"`
	TmpSizeMB   int           `json:"tmpSizeMB"`
	Hostname    string        `json:"hostname"`
	UID         int           `json:"uid"`
	GID         int           `json:"gid"`
	CgroupProcs []string      `json:"cgroupProcs"` // cgroup.procs files to enter
	Commands    []initCommand `json:"commands"`    // extras, then main (last)
}

// initCommand is one command for an init; Stdout and Stderr are fds of the
// init, -1 for /dev/null.
type initCommand struct {
	Path   string   `json:"path"`
	Args   []string `json:"args"`
	Env    []string `json:"env"`
	Stdout int      `json:"stdout"`
	Stderr int      `json:"stderr"`
}

// initMessage is one line an init writes to fd 4: "started" once every
// command runs (or the probe passed), "error" when setup failed, "exit" with
// the main command's raw wait status.
type initMessage struct {
	Event  string `json:"event"`
	Error  string `json:"error,omitempty"`
	Status int    `json:"status,omitempty"`
}

// runInit is the body of an init; it returns the init's exit code.
func runInit() int {
	status := os.NewFile(initStatusFD, "status")
	enc := json.NewEncoder(status)
	report := func(m initMessage) {
		if err := enc.Encode(m); err != nil {
			fmt.Fprintf(os.Stderr, "sandbox init: report %s: %v\n", m.Event, err)
		}
	}
	cfgFile := os.NewFile(initConfigFD, "config")
	var cfg initConfig
	err := json.NewDecoder(cfgFile).Decode(&cfg)
	_ = cfgFile.Close()
	if err != nil {
		report(initMessage{Event: "error", Error: fmt.Sprintf("read config: %v", err)})
		return 1
	}
	// Our own descriptors must not leak into the commands.
	syscall.CloseOnExec(initStatusFD)
	for _, c := range cfg.Commands {
		for _, fd := range []int{c.Stdout, c.Stderr} {
			if fd >= 0 {
				syscall.CloseOnExec(fd)
			}
		}
	}
	if err := setupInit(&cfg); err != nil {
		report(initMessage{Event: "error", Error: err.Error()})
		return 1
	}
	if cfg.Probe {
		report(initMessage{Event: "started"})
		return 0
	}
	// Forward SIGTERM (Terminate) to the commands; registered before they
	// start so none is lost.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	pids, err := startInitCommands(&cfg)
	if err != nil {
		_ = unix.Kill(-1, unix.SIGKILL)
		report(initMessage{Event: "error", Error: err.Error()})
		return 1
	}
	go func() {
		for s := range sigs {
			for _, pid := range pids {
				_ = unix.Kill(pid, s.(syscall.Signal))
			}
		}
	}()
	report(initMessage{Event: "started"})
	mainPID := pids[len(pids)-1]
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			report(initMessage{Event: "error", Error: fmt.Sprintf("wait: %v", err)})
			return 1
		}
		if pid == mainPID {
			// Kill the rest before reporting, so "exit" means the
			// sandbox is gone; our own exit would kill them anyway.
			_ = unix.Kill(-1, unix.SIGKILL)
			report(initMessage{Event: "exit", Status: int(ws)})
			if ws.Signaled() {
				return 128 + int(ws.Signal()) // as a shell reports it
			}
			return ws.ExitStatus()
		}
	}
}

// setupInit prepares the namespaces: private mounts, the read-only code and
// layers, /tmp, /dev/shm and /proc, the hostname, the cgroups and limits.
func setupInit(cfg *initConfig) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	if cfg.Probe {
		return nil
	}
	if err := bindReadOnly(cfg.CodeDir, TaskRootFull); err != nil {
		return err
	}
	if cfg.OptDir != "" {
		if err := bindReadOnly(cfg.OptDir, OptRootFull); err != nil {
			return err
		}
	} else if err := unix.Mount("tmpfs", OptRootFull, "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, "size=4k,mode=755"); err != nil {
		return fmt.Errorf("mount empty %s: %w", OptRootFull, err)
	}
	tmpOpts := fmt.Sprintf("size=%dm,mode=1777", cfg.TmpSizeMB)
	if err := unix.Mount("tmpfs", TmpDirFull, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, tmpOpts); err != nil {
		return fmt.Errorf("mount %s: %w", TmpDirFull, err)
	}
	// Lambda has no usable /dev/shm; a private one keeps sandboxes from
	// talking through the host's.
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if err := unix.Mount("tmpfs", "/dev/shm", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=64m,mode=1777"); err != nil {
			return fmt.Errorf("mount /dev/shm: %w", err)
		}
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	if cfg.Hostname != "" {
		if err := unix.Sethostname([]byte(cfg.Hostname)); err != nil {
			return fmt.Errorf("set hostname: %w", err)
		}
	}
	// Enter the cgroups only now: what the init allocated so far stays
	// charged to the server, and the commands inherit the cgroups.
	for _, f := range cfg.CgroupProcs {
		if err := os.WriteFile(f, []byte("0"), 0); err != nil {
			return fmt.Errorf("enter cgroup %s: %w", f, err)
		}
	}
	// Lambda allows 1,024 file descriptors.
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: 1024, Max: 1024}); err != nil {
		return fmt.Errorf("limit open files: %w", err)
	}
	// The host's set-uid binaries stay visible; no_new_privs makes them
	// useless to the commands (inherited across fork and exec).
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
	return nil
}

// bindReadOnly bind-mounts src at dst (created when missing) read-only.
func bindReadOnly(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("create mount point %s: %w", dst, err)
	}
	if err := unix.Mount(src, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s at %s: %w", src, dst, err)
	}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV)
	if err := unix.Mount("", dst, "", flags, ""); err != nil {
		return fmt.Errorf("make %s read-only: %w", dst, err)
	}
	return nil
}

// startInitCommands starts the commands in order with the unprivileged
// credentials and returns their pids.
func startInitCommands(cfg *initConfig) ([]int, error) {
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	defer devNull.Close()
	fdOr := func(fd int) uintptr {
		if fd < 0 {
			return devNull.Fd()
		}
		return uintptr(fd)
	}
	pids := make([]int, 0, len(cfg.Commands))
	for _, c := range cfg.Commands {
		path, err := lookPathIn(c.Path, c.Env, TaskRootFull)
		if err != nil {
			return pids, err
		}
		attr := &syscall.ProcAttr{
			Dir:   TaskRootFull,
			Env:   c.Env,
			Files: []uintptr{devNull.Fd(), fdOr(c.Stdout), fdOr(c.Stderr)},
			Sys: &syscall.SysProcAttr{
				Credential: &syscall.Credential{Uid: uint32(cfg.UID), Gid: uint32(cfg.GID), Groups: []uint32{}},
			},
		}
		pid, err := syscall.ForkExec(path, append([]string{c.Path}, c.Args...), attr)
		if err != nil {
			return pids, fmt.Errorf("start %s: %w", c.Path, err)
		}
		pids = append(pids, pid)
	}
	// The commands hold their own copies of the output pipes now.
	for _, c := range cfg.Commands {
		for _, fd := range []int{c.Stdout, c.Stderr} {
			if fd >= 0 {
				_ = unix.Close(fd)
			}
		}
	}
	return pids, nil
}

// lookPathIn resolves a command name without a slash in the PATH of env
// (Lambda's default PATH when env has none); a relative path with a slash is
// taken relative to dir.
func lookPathIn(name string, env []string, dir string) (string, error) {
	if strings.Contains(name, "/") {
		if !filepath.IsAbs(name) {
			return filepath.Join(dir, name), nil
		}
		return name, nil
	}
	path := "/usr/local/bin:/usr/bin:/bin:/opt/bin"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, d := range filepath.SplitList(path) {
		if d == "" {
			d = "."
		}
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("sandbox: %s not found in PATH %q: %w", name, path, os.ErrNotExist)
}

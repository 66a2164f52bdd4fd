package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// initArg0 is the argv[0] that makes [RunInitIfRequested] act as a
// sandbox init.
const initArg0 = "updraft-sandbox-init"

// initControlFD is the init's end of its control socket (os/exec
// ExtraFiles start at 3): a SOCK_STREAM unix socket carrying one JSON
// document per line in each direction.
const initControlFD = 3

// maxInitFDs bounds the output descriptors attached to one spec; the
// kernel refuses more than 253 (SCM_MAX_FD) in one message.
const maxInitFDs = 253

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

// initSetup is the first line an init reads from its control socket,
// written right after it was started.
type initSetup struct {
	// CgroupProcs are the cgroup.procs files of the cgroup the init waits
	// in as a zygote; none if it enters the sandbox's with its spec.
	CgroupProcs []string `json:"cgroupProcs,omitempty"`
	// ResolvConf is the content of the sandbox's /etc/resolv.conf.
	ResolvConf string `json:"resolvConf"`
	// TmpDevice says a loop device is attached to the setup line: the
	// scratch file system to mount at /tmp.
	TmpDevice bool `json:"tmpDevice,omitempty"`
	// RuntimeDir is mounted at /var/runtime in the zygote phase, for the
	// Template; "" leaves it to the spec.
	RuntimeDir string `json:"runtimeDir,omitempty"`
	// Template is a runtime template's command (its output to the init's
	// own), started once the root is final; the spec's main command is
	// then handed to it (stem.go). nil for a blank zygote.
	Template *initCommand `json:"template,omitempty"`
	// TemplateOutput says the write end of the zygote's own output pipe
	// is attached (after the /tmp device): the stem's stdout and stderr
	// from its start ([Template].OwnOutput).
	TemplateOutput bool `json:"templateOutput,omitempty"`
}

// initSpec is what turns a blank init (a zygote) into one sandbox. It
// arrives on the control socket with the commands' output descriptors
// attached (SCM_RIGHTS).
type initSpec struct {
	CodeDir     string        `json:"codeDir"`
	OptDir      string        `json:"optDir"`
	RuntimeDir  string        `json:"runtimeDir,omitempty"`
	TmpSizeMB   int           `json:"tmpSizeMB"`
	Hostname    string        `json:"hostname"`
	UID         int           `json:"uid"`
	GID         int           `json:"gid"`
	CgroupProcs []string      `json:"cgroupProcs"`    // cgroup.procs files to enter
	CPUs        []int         `json:"cpus,omitempty"` // the commands' CPU set; empty: all
	Commands    []initCommand `json:"commands"`       // extras, then main (last)
	// HasTmpDevice says the descriptor at index TmpDevice is a scratch
	// file system to mount at /tmp in place of the zygote's.
	HasTmpDevice bool `json:"hasTmpDevice,omitempty"`
	TmpDevice    int  `json:"tmpDevice,omitempty"`
	// Template says the main command goes to the zygote's template stem
	// (its environment and output) rather than being started.
	Template bool `json:"template,omitempty"`
}

// initCommand is one command for an init; Stdout and Stderr index the
// descriptors attached to the spec, -1 for /dev/null.
type initCommand struct {
	Path   string   `json:"path"`
	Args   []string `json:"args"`
	Env    []string `json:"env"`
	Stdout int      `json:"stdout"`
	Stderr int      `json:"stderr"`
}

// initMessage is one line an init writes to its control socket: "ready"
// once the namespaces are set up and it waits for its spec, "started" once
// every command runs, "error" when setup failed, "exit" with the main
// command's raw wait status.
type initMessage struct {
	Event  string `json:"event"`
	Error  string `json:"error,omitempty"`
	Status int    `json:"status,omitempty"`
}

// Events of initMessage.
const (
	eventReady   = "ready"
	eventStarted = "started"
	eventError   = "error"
	eventExit    = "exit"
)

// warmSpec is decoded once while the init waits, so that the reflection
// caches of encoding/json are filled before the real spec arrives on the
// cold-start path.
var warmSpec = []byte(`{"codeDir":"/c","optDir":"","tmpSizeMB":1,"hostname":"h","uid":1,"gid":1,` +
	`"cgroupProcs":["/p"],"commands":[{"path":"/b","args":["a"],"env":["K=V"],"stdout":0,"stderr":-1}]}`)

// runInit is the body of an init; it returns the init's exit code. It runs
// in two phases: as a zygote it sets up what every sandbox shares and
// reports "ready"; when its spec arrives it mounts the environment's
// directories, enters the cgroups and starts the commands.
func runInit() int {
	// no_new_privs, the capability bounding set and the seccomp filter are
	// per thread, and the commands inherit them from the thread that forks
	// them: the whole init runs on one.
	runtime.LockOSThread()
	ctl := initControlFD
	// Our own descriptor must not leak into the commands.
	syscall.CloseOnExec(ctl)
	report := func(m initMessage) {
		b, _ := json.Marshal(m)
		if err := writeAll(ctl, append(b, '\n')); err != nil {
			fmt.Fprintf(os.Stderr, "sandbox init: report %s: %v\n", m.Event, err)
		}
	}
	fail := func(err error) int {
		report(initMessage{Event: eventError, Error: err.Error()})
		return 1
	}

	// Zygote phase: everything that does not depend on the spec.
	var setup initSetup
	setupFDs, err := receive(ctl, &setup)
	if err != nil {
		return fail(fmt.Errorf("read setup: %w", err))
	}
	tmpDevice, stemOutput := -1, -1
	if want := btoi(setup.TmpDevice) + btoi(setup.TemplateOutput); len(setupFDs) != want {
		return fail(fmt.Errorf("setup: %d descriptors attached, want %d", len(setupFDs), want))
	}
	if setup.TmpDevice {
		tmpDevice = setupFDs[0]
	}
	if setup.TemplateOutput {
		stemOutput = setupFDs[len(setupFDs)-1]
	}
	if err := setupZygote(setup.ResolvConf, tmpDevice); err != nil {
		return fail(err)
	}
	if err := enterCgroups(setup.CgroupProcs); err != nil {
		return fail(err)
	}
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		return fail(fmt.Errorf("open %s: %w", os.DevNull, err))
	}
	var st *stem
	if setup.Template != nil {
		if setup.RuntimeDir != "" {
			if err := bindReadOnly(hostPath(setup.RuntimeDir), RuntimeRootFull); err != nil {
				return fail(err)
			}
		}
		st, err = startStem(setup.Template, devNull, stemOutput)
		if stemOutput >= 0 {
			_ = unix.Close(stemOutput) // the stem holds it
		}
		if err != nil {
			return fail(err)
		}
	}
	fw := newForwarder()
	var warm initSpec
	_ = json.Unmarshal(warmSpec, &warm)
	report(initMessage{Event: eventReady})

	if st != nil {
		if err := st.awaitSpec(ctl); err != nil {
			// Said on stderr only: the server sees the zygote gone and
			// replaces it (or tries another).
			fmt.Fprintf(os.Stderr, "sandbox init: %v\n", err)
			return 1
		}
	}
	var spec initSpec
	fds, err := receive(ctl, &spec)
	if errors.Is(err, io.EOF) {
		return 0 // discarded before use
	}
	if err != nil {
		return fail(fmt.Errorf("read spec: %w", err))
	}
	fw.take()
	if spec.Template != (st != nil) || (st != nil && spec.RuntimeDir != setup.RuntimeDir) {
		return fail(errors.New("spec and runtime template disagree"))
	}
	var stemPIDs []int
	if st != nil {
		stemPIDs = []int{st.pid}
	}
	if err := setupSandbox(&spec, fds, tmpDevice >= 0, st != nil, stemPIDs); err != nil {
		return fail(err)
	}
	if st != nil {
		// While this thread may still change another's scheduling.
		if err := st.prepare(spec.CPUs); err != nil {
			return fail(err)
		}
	}
	var pids []int
	cmds := spec.Commands
	if st != nil && len(cmds) > 0 {
		cmds = cmds[:len(cmds)-1]
	}
	err = withAffinity(spec.CPUs, func() error {
		// From here on this thread, and so every command it forks, has
		// no_new_privs, an empty capability bounding set and the seccomp
		// filter; the uid switch in the child drops the rest.
		if err := lockDownForkingThread(); err != nil {
			return err
		}
		var err error
		pids, err = startInitCommands(&spec, cmds, fds, devNull)
		if err != nil || st == nil || len(spec.Commands) == 0 {
			return err
		}
		main := spec.Commands[len(spec.Commands)-1]
		if aerr := st.assign(&main, fds, devNull); aerr != nil {
			// The stem died after all: start the command as without
			// a template, in the sandbox that is ready for it.
			fmt.Fprintf(os.Stderr, "sandbox init: %v; starting the runtime anew\n", aerr)
			more, err := startInitCommands(&spec, spec.Commands[len(spec.Commands)-1:], fds, devNull)
			pids = append(pids, more...)
			return err
		}
		pids = append(pids, st.pid)
		return nil
	})
	for _, fd := range fds {
		_ = unix.Close(fd)
	}
	_ = devNull.Close()
	if err != nil {
		_ = unix.Kill(-1, unix.SIGKILL)
		return fail(err)
	}
	fw.started(pids)
	report(initMessage{Event: eventStarted})
	mainPID := pids[len(pids)-1]
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fail(fmt.Errorf("wait: %w", err))
		}
		if pid == mainPID {
			// Kill the rest before reporting, so "exit" means the
			// sandbox is gone; our own exit would kill them anyway.
			_ = unix.Kill(-1, unix.SIGKILL)
			report(initMessage{Event: eventExit, Status: int(ws)})
			if ws.Signaled() {
				return 128 + int(ws.Signal()) // as a shell reports it
			}
			return ws.ExitStatus()
		}
	}
}

// btoi is 1 for true.
func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// writeAll writes b to fd, retrying short writes and EINTR.
func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// forwarder passes SIGTERM and SIGINT (Terminate) on to the commands. A
// zygote that has no spec yet exits on them; signals that arrive while the
// commands are being started are held and forwarded once they run, so
// none is lost.
type forwarder struct {
	mu      sync.Mutex
	taken   bool             // the spec arrived; guarded by mu
	pids    []int            // the started commands; guarded by mu
	pending []syscall.Signal // arrived between take and started; guarded by mu
}

// newForwarder registers for the signals; the signal machinery starts
// here, in the zygote phase, rather than on the cold-start path.
func newForwarder() *forwarder {
	fw := &forwarder{}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		for s := range sigs {
			fw.handle(s.(syscall.Signal))
		}
	}()
	return fw
}

func (fw *forwarder) handle(sig syscall.Signal) {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	switch {
	case !fw.taken:
		os.Exit(128 + int(sig))
	case fw.pids == nil:
		fw.pending = append(fw.pending, sig)
	default:
		for _, pid := range fw.pids {
			_ = unix.Kill(pid, sig)
		}
	}
}

// take marks the end of the zygote phase.
func (fw *forwarder) take() {
	fw.mu.Lock()
	fw.taken = true
	fw.mu.Unlock()
}

// started records the commands and forwards what arrived meanwhile.
func (fw *forwarder) started(pids []int) {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	fw.pids = pids
	for _, sig := range fw.pending {
		for _, pid := range pids {
			_ = unix.Kill(pid, sig)
		}
	}
	fw.pending = nil
}

// receive decodes one line from the control socket into v and returns the
// descriptors attached to it. io.EOF means the server closed the socket
// without sending one.
func receive(fd int, v any) ([]int, error) {
	var (
		fds  []int
		data []byte
	)
	buf := make([]byte, 16<<10)
	oob := make([]byte, unix.CmsgSpace(maxInitFDs*4))
	for {
		n, oobn, flags, _, err := unix.Recvmsg(fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fds, err
		}
		if oobn > 0 {
			cmsgs, err := unix.ParseSocketControlMessage(oob[:oobn])
			if err != nil {
				return fds, fmt.Errorf("parse control message: %w", err)
			}
			for i := range cmsgs {
				rights, err := unix.ParseUnixRights(&cmsgs[i])
				if err == nil {
					fds = append(fds, rights...)
				}
			}
		}
		if flags&unix.MSG_CTRUNC != 0 {
			return fds, errors.New("too many descriptors attached")
		}
		if n == 0 {
			if len(data) == 0 && len(fds) == 0 {
				return fds, io.EOF
			}
			return fds, io.ErrUnexpectedEOF
		}
		data = append(data, buf[:n]...)
		if bytes.IndexByte(buf[:n], '\n') >= 0 {
			break
		}
	}
	return fds, json.Unmarshal(data, v)
}

// setupZygote prepares what does not depend on the spec: mount propagation
// from the host, the minimal root (with a /proc of the new pid namespace)
// entered with pivot_root, the open-file limit and no_new_privs. The code,
// layers and /tmp are mounted with the spec, from the host's root kept at
// oldRootDir until then.
func setupZygote(resolvConf string, tmpDevice int) error {
	// Slave rather than private: our mounts never reach the host, while
	// mounts the host makes later still reach a zygote that waited long.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_SLAVE, ""); err != nil {
		return fmt.Errorf("keep mounts from the host: %w", err)
	}
	if err := buildRoot(resolvConf, tmpDevice); err != nil {
		return err
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

// setupSandbox applies the spec: the read-only code and layers, /tmp, the
// hostname and, unless the init entered them as a zygote, the cgroups;
// then it detaches the host's root.
//
// With runtimeMounted the runtime directory is in place already (a
// template's); stemPIDs (the template's stem) enter the cgroups with the
// init.
func setupSandbox(spec *initSpec, fds []int, zygoteTmp, runtimeMounted bool, stemPIDs []int) error {
	if err := bindReadOnly(hostPath(spec.CodeDir), TaskRootFull); err != nil {
		return err
	}
	if spec.OptDir != "" {
		if err := bindReadOnly(hostPath(spec.OptDir), OptRootFull); err != nil {
			return err
		}
	} else if err := unix.Mount("tmpfs", OptRootFull, "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, "size=4k,mode=755"); err != nil {
		return fmt.Errorf("mount empty %s: %w", OptRootFull, err)
	}
	if spec.RuntimeDir != "" && !runtimeMounted {
		if err := bindReadOnly(hostPath(spec.RuntimeDir), RuntimeRootFull); err != nil {
			return err
		}
	}
	switch {
	case spec.HasTmpDevice:
		if spec.TmpDevice < 0 || spec.TmpDevice >= len(fds) {
			return fmt.Errorf("/tmp device %d of %d descriptors", spec.TmpDevice, len(fds))
		}
		if zygoteTmp {
			if err := unix.Unmount(TmpDirFull, unix.MNT_DETACH); err != nil {
				return fmt.Errorf("unmount the zygote's %s: %w", TmpDirFull, err)
			}
		}
		if err := mountScratch("/proc/self/fd/"+strconv.Itoa(fds[spec.TmpDevice]), TmpDirFull, hostPath("/sys")); err != nil {
			return err
		}
	case !zygoteTmp:
		tmpOpts := fmt.Sprintf("size=%dm,mode=1777", spec.TmpSizeMB)
		if err := unix.Mount("tmpfs", TmpDirFull, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, tmpOpts); err != nil {
			return fmt.Errorf("mount %s: %w", TmpDirFull, err)
		}
	}
	if spec.Hostname != "" {
		if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
			return fmt.Errorf("set hostname: %w", err)
		}
	}
	if err := enterCgroups(spec.CgroupProcs, stemPIDs...); err != nil {
		return err
	}
	return detachHostRoot()
}

// enterCgroups moves the init, and the processes pids, into the cgroups of
// the procs files. It runs only after the init's own start-up, so the
// memory that needed stays charged to the server; the commands inherit
// the cgroups.
func enterCgroups(procs []string, pids ...int) error {
	for _, f := range procs {
		if err := os.WriteFile(hostPath(f), []byte("0"), 0); err != nil {
			return fmt.Errorf("enter cgroup %s: %w", f, err)
		}
		for _, pid := range pids {
			if err := os.WriteFile(hostPath(f), []byte(strconv.Itoa(pid)), 0); err != nil {
				return fmt.Errorf("move the runtime template into cgroup %s: %w", f, err)
			}
		}
	}
	return nil
}

// bindReadOnly bind-mounts src at dst (created when missing) read-only.
// The kernel ignores MS_RDONLY on the bind itself, so it takes a remount.
func bindReadOnly(src, dst string) error {
	if err := unix.Mount(src, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		if !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("bind %s at %s: %w", src, dst, err)
		}
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return fmt.Errorf("create mount point %s: %w", dst, err)
		}
		if err := unix.Mount(src, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind %s at %s: %w", src, dst, err)
		}
	}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV)
	if err := unix.Mount("", dst, "", flags, ""); err != nil {
		return fmt.Errorf("make %s read-only: %w", dst, err)
	}
	return nil
}

// outputFD returns the descriptor of output index i: one of fds, those
// attached to the spec, or devNull for -1.
func outputFD(i int, fds []int, devNull *os.File) (uintptr, error) {
	switch {
	case i < 0:
		return devNull.Fd(), nil
	case i >= len(fds):
		return 0, fmt.Errorf("output descriptor %d of %d missing", i, len(fds))
	}
	return uintptr(fds[i]), nil
}

// startInitCommands starts cmds in order with the spec's unprivileged
// credentials and returns their pids. fds are the descriptors attached to
// the spec; the caller closes them once the commands hold their copies.
func startInitCommands(spec *initSpec, cmds []initCommand, fds []int, devNull *os.File) ([]int, error) {
	fdOr := func(i int) (uintptr, error) { return outputFD(i, fds, devNull) }
	pids := make([]int, 0, len(cmds))
	for _, c := range cmds {
		path, err := lookPathIn(c.Path, c.Env, TaskRootFull)
		if err != nil {
			return pids, err
		}
		stdout, err := fdOr(c.Stdout)
		if err != nil {
			return pids, err
		}
		stderr, err := fdOr(c.Stderr)
		if err != nil {
			return pids, err
		}
		attr := &syscall.ProcAttr{
			Dir:   TaskRootFull,
			Env:   c.Env,
			Files: []uintptr{devNull.Fd(), stdout, stderr},
			Sys: &syscall.SysProcAttr{
				Credential: &syscall.Credential{Uid: uint32(spec.UID), Gid: uint32(spec.GID), Groups: []uint32{}},
			},
		}
		pid, err := forkExecRetryingBusy(path, append([]string{c.Path}, c.Args...), attr)
		if err != nil {
			return pids, fmt.Errorf("start %s: %w", c.Path, err)
		}
		pids = append(pids, pid)
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

// forkExecRetryingBusy is syscall.ForkExec, retried for a short while on
// ETXTBSY. A file just written by another process can still be open for
// writing in a child that process forked meanwhile (the descriptor lives
// until that child's exec closes it, golang.org/issue/22315), which makes
// exec fail with "text file busy" for a few milliseconds.
func forkExecRetryingBusy(path string, argv []string, attr *syscall.ProcAttr) (int, error) {
	for attempt := 0; ; attempt++ {
		pid, err := syscall.ForkExec(path, argv, attr)
		if err != syscall.ETXTBSY || attempt >= 50 {
			return pid, err
		}
		time.Sleep(2 * time.Millisecond)
	}
}

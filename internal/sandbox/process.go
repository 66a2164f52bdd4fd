//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Process is one running sandbox: its main command, its extras and
// everything they start. It is created by [Manager.Start].
type Process struct {
	id     string
	level  Level
	logger *slog.Logger
	pid    int // host pid of the root process: the init (full) or Main (basic)
	// template is set when a runtime template's stem runs Main.
	template bool
	// output is the read end of Main's own output pipe (Output).
	output *os.File

	// Full mode.
	init *exec.Cmd   // the sandbox init; nil in basic mode
	cg   envCgroup   // nil in basic mode
	net  *envNetwork // the network namespace's sockets; nil in basic mode
	// tmpImage and tmpLoop are the image and loop device of the scratch
	// file system at /tmp; tmpImage is "" once removed (at start, unless
	// keepTmp), or with a tmpfs. Written by Start and the teardown only.
	tmpImage, tmpLoop string
	keepTmp           bool // Spec.KeepTmp

	// Basic mode.
	cmds       []*exec.Cmd // Extras then Main; nil in full mode
	pgid       int         // process group of every command
	limitBytes uint64      // memory limit enforced by the watcher; 0 = none

	killed    atomic.Bool           // Kill was called; Freeze and Thaw refuse
	frozen    atomic.Bool           // between a successful Freeze and Thaw
	watchOOM  atomic.Bool           // the basic-mode watcher killed it for memory
	watchPeak atomic.Uint64         // basic-mode peak RSS of the tree, bytes
	members   atomic.Pointer[[]int] // basic-mode tree as the watcher last saw it

	hwm     hwmReader     // reads the processes' VmHWM
	hwmPeak atomic.Uint64 // running maximum of their summed VmHWM, bytes
	// hwmFloor and hwmAt are the cgroup's peak charge and the time (Unix
	// ns) when the VmHWM sum was last read; see
	// MaxMemoryUsedBytes.
	hwmFloor atomic.Uint64
	hwmAt    atomic.Int64

	// freezeMu serialises Freeze, Thaw, the thaw step of Kill and the
	// removal of the cgroup.
	freezeMu  sync.Mutex
	cgRemoved bool // the cgroup is gone; guarded by freezeMu

	// sigMu orders signals against reaping: once reaped is set, pids and
	// the process group may be recycled and must not be signalled.
	sigMu  sync.Mutex
	reaped bool // guarded by sigMu

	// teardown waits for the main command, tears the sandbox down and
	// records the result; run once by the Manager, which then closes done.
	teardown func()

	done chan struct{} // closed at the end of teardown
	// Set before done is closed, read-only afterwards.
	exitReason string
	oomKilled  bool
	maxMemory  uint64
	keptTmp    string // see TmpImage
}

// Pid returns the host pid of the sandbox's root process: the init in full
// mode (pid 1 of the sandbox's pid namespace), the main command in basic
// mode.
func (p *Process) Pid() int { return p.pid }

// FromTemplate reports whether Main is the pre-started runtime of a
// runtime template ([Spec.Template]) rather than a process started for
// this sandbox.
func (p *Process) FromTemplate() bool { return p.template }

// Output returns the read end of the pipe the main command writes its
// stdout and stderr to when a runtime template with OwnOutput runs it,
// else nil; the caller owns it (and should read it: the runtime blocks
// once the pipe is full).
func (p *Process) Output() *os.File { return p.output }

// RuntimeAPIListener is the socket listening at [Layout.RuntimeAPI] inside
// a full-mode sandbox's network namespace, for the caller to serve the
// Runtime API on; nil in basic mode. It is closed when the sandbox ends.
func (p *Process) RuntimeAPIListener() net.Listener {
	if p.net == nil {
		return nil
	}
	return p.net.runtimeAPI
}

// PlatformAPIListener is the socket listening at [Layout.PlatformAPI]
// inside a full-mode sandbox's network namespace, for the caller to serve
// its own API on; nil in basic mode. It is closed when the sandbox ends.
func (p *Process) PlatformAPIListener() net.Listener {
	if p.net == nil {
		return nil
	}
	return p.net.platformAPI
}

// Done is closed when the main command has exited, every other process of
// the sandbox is gone, output is drained and the cgroups are removed.
func (p *Process) Done() <-chan struct{} { return p.done }

// ExitReason describes how the main command ended, in the words Lambda
// logs after "Runtime exited with error: ": "exit status 2",
// "signal: killed". It is "" until Done is closed.
func (p *Process) ExitReason() string {
	select {
	case <-p.done:
		return p.exitReason
	default:
		return ""
	}
}

// OOMKilled reports whether the memory limit killed the sandbox (the
// kernel OOM killer in its cgroup, or the basic-mode watcher). It is false
// until Done is closed.
func (p *Process) OOMKilled() bool {
	select {
	case <-p.done:
		return p.oomKilled
	default:
		return false
	}
}

// MaxMemoryUsedBytes returns the peak memory use of the sandbox so far,
// as REPORT's "Max Memory Used": the running maximum, over the calls to
// it, of the summed peak resident set sizes (VmHWM) of the sandbox's
// processes (those in its cgroup without the init in full mode, the
// process group and the commands' descendants in basic mode), or the
// sandbox-wide figure if higher (the cgroup's peak charge, or the
// watcher's highest RSS sum in basic mode). The caller reads it at the end
// of each invocation. After Done it is the final value.
//
// Reading every process's /proc/PID/status costs more than the rest of a
// warm invocation's bookkeeping together, so with a cgroup the sum is read
// again only when the cgroup's peak charge rose since the last reading
// (anything the processes allocate is charged there) or hwmResample has
// passed; what that skips is growth in shared file pages charged to
// another cgroup, which the next reading catches.
func (p *Process) MaxMemoryUsedBytes() uint64 {
	select {
	case <-p.done:
		return p.maxMemory
	default:
	}
	floor := p.floorPeak()
	if p.cg != nil {
		now := time.Now().UnixNano()
		if at := p.hwmAt.Load(); at != 0 && floor == p.hwmFloor.Load() && now-at < int64(hwmResample) {
			return max(p.hwmPeak.Load(), floor)
		}
		defer func() { p.hwmFloor.Store(floor); p.hwmAt.Store(now) }()
	}
	return max(p.sampleResidentPeak(), floor)
}

// hwmResample is the longest a sandbox with a cgroup goes without its
// VmHWM sum being read while it is invoked.
const hwmResample = time.Second

// floorPeak is the sandbox-wide peak: the cgroup's, or in basic mode the
// watcher's sampled RSS sum.
func (p *Process) floorPeak() uint64 {
	if p.cg != nil {
		return p.cg.memoryPeak()
	}
	return p.watchPeak.Load()
}

// sampleResidentPeak reads the summed VmHWM of the sandbox's processes
// now, folds it into the running maximum and returns that maximum.
func (p *Process) sampleResidentPeak() uint64 {
	var pids []int
	if p.cg != nil {
		pids = p.hwm.procs(p.cg.procsFiles()[0], p.pid)
	} else {
		pids = p.rootPIDs()
		if m := p.members.Load(); m != nil {
			for _, pid := range *m {
				if !slices.Contains(pids, pid) {
					pids = append(pids, pid)
				}
			}
		}
	}
	sum := p.hwm.sum(pids)
	for {
		old := p.hwmPeak.Load()
		if sum <= old {
			return old
		}
		if p.hwmPeak.CompareAndSwap(old, sum) {
			return sum
		}
	}
}

// Freeze stops every process of the sandbox and returns once they are
// stopped: the cgroup freezer reports frozen, or (basic mode) the main
// command is in the stopped state after SIGSTOP to the process group.
// Freezing a frozen sandbox does nothing. It returns [ErrExited] once the
// sandbox was killed or has exited.
func (p *Process) Freeze() error {
	p.freezeMu.Lock()
	defer p.freezeMu.Unlock()
	if p.killed.Load() || p.cgRemoved || p.isDone() {
		return ErrExited
	}
	if p.frozen.Load() {
		return nil
	}
	if p.cg != nil {
		if err := p.cg.freeze(&p.killed); err != nil {
			return fmt.Errorf("sandbox: freeze %s: %w", p.id, err)
		}
		p.frozen.Store(true)
		return nil
	}
	if err := p.signalGroup(unix.SIGSTOP); err != nil {
		return fmt.Errorf("sandbox: freeze %s: %w", p.id, err)
	}
	// Block until the main command has stopped (or exited). WNOWAIT keeps
	// the state for the reaper; nothing else waits for stops.
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, p.pid, &info, unix.WSTOPPED|unix.WEXITED|unix.WNOWAIT, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil && !errors.Is(err, unix.ECHILD) {
			return fmt.Errorf("sandbox: freeze %s: wait for stop: %w", p.id, err)
		}
		break
	}
	p.frozen.Store(true)
	return nil
}

// Thaw resumes a frozen sandbox: one write to the cgroup freezer, or one
// SIGCONT to the process group. Thawing a running sandbox does nothing. It
// returns [ErrExited] once the sandbox was killed or has exited.
func (p *Process) Thaw() error {
	p.freezeMu.Lock()
	defer p.freezeMu.Unlock()
	if p.killed.Load() || p.cgRemoved {
		return ErrExited
	}
	if !p.frozen.Load() {
		return nil
	}
	var err error
	if p.cg != nil {
		err = p.cg.thaw()
	} else {
		err = p.signalGroup(unix.SIGCONT)
	}
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return ErrExited
		}
		return fmt.Errorf("sandbox: thaw %s: %w", p.id, err)
	}
	p.frozen.Store(false)
	return nil
}

// Kill sends SIGKILL to every process of the sandbox and then thaws it if
// frozen, so frozen processes act on the signal without running user code
// again. It does not wait: [Process.Done] is closed once teardown finished.
// Kill is idempotent and may be called during a Freeze.
func (p *Process) Kill() error {
	if p.isDone() {
		return nil
	}
	p.killed.Store(true) // makes a concurrent Freeze give up and release freezeMu
	var errs []error
	if p.cg != nil {
		if err := p.cg.kill(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := p.signalRoot(unix.SIGKILL); err != nil {
		errs = append(errs, err)
	}
	p.freezeMu.Lock()
	if p.frozen.Load() && !p.cgRemoved {
		var err error
		if p.cg != nil {
			err = p.cg.thaw()
		} else {
			err = p.signalGroup(unix.SIGCONT)
		}
		if err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, err)
		}
		p.frozen.Store(false)
	}
	p.freezeMu.Unlock()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sandbox: kill %s: %w", p.id, err)
	}
	return nil
}

// Terminate asks the sandbox to stop: it thaws it, sends SIGTERM (to the
// process group, or through the init to every command), and kills it if
// the main command has not exited after grace. It returns once Done is
// closed, or with an error if teardown takes unreasonably long.
func (p *Process) Terminate(grace time.Duration) error {
	if p.isDone() {
		return nil
	}
	if err := p.Thaw(); err != nil && !errors.Is(err, ErrExited) {
		return err
	}
	var err error
	if p.init != nil {
		err = p.signalRoot(unix.SIGTERM)
	} else {
		err = p.signalGroup(unix.SIGTERM)
	}
	if err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("sandbox: terminate %s: %w", p.id, err)
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
	}
	if err := p.Kill(); err != nil {
		return err
	}
	return p.waitDone(killWait)
}

// killWait bounds how long Terminate and Manager.Close wait for teardown
// after SIGKILL.
const killWait = 15 * time.Second

func (p *Process) waitDone(timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
		return fmt.Errorf("sandbox: %s still running %v after SIGKILL", p.id, timeout)
	}
}

func (p *Process) isDone() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signalGroup signals the basic-mode process group unless it was reaped.
func (p *Process) signalGroup(sig unix.Signal) error {
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	if p.reaped {
		return unix.ESRCH
	}
	return unix.Kill(-p.pgid, sig)
}

// signalRoot signals the root process (full: the init, which forwards
// SIGTERM; basic: the whole process group) unless it was reaped.
func (p *Process) signalRoot(sig unix.Signal) error {
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	if p.reaped {
		return nil
	}
	var err error
	if p.init != nil {
		err = unix.Kill(p.pid, sig)
	} else {
		err = unix.Kill(-p.pgid, sig)
	}
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	return err
}

// removeCgroup deletes the cgroup once the sandbox is empty, fencing off
// Freeze, Thaw and Kill.
func (p *Process) removeCgroup() error {
	p.freezeMu.Lock()
	defer p.freezeMu.Unlock()
	p.cgRemoved = true
	p.frozen.Store(false)
	return p.cg.remove()
}

// markReaped stops all signalling; call before reaping the root.
func (p *Process) markReaped() {
	p.sigMu.Lock()
	p.reaped = true
	p.sigMu.Unlock()
}

// sampleMemory is called by the Manager's watcher for running (not frozen)
// processes; basic mode sums the tree's RSS from tab and enforces the limit.
func (p *Process) sampleMemory(tab procTable) {
	if p.cg != nil {
		p.cg.sampleMemory()
		return
	}
	rss, members := tab.groupRSS(p.pgid, p.rootPIDs())
	p.members.Store(&members)
	for {
		old := p.watchPeak.Load()
		if rss <= old || p.watchPeak.CompareAndSwap(old, rss) {
			break
		}
	}
	if p.limitBytes > 0 && rss > p.limitBytes && !p.killed.Load() {
		p.watchOOM.Store(true)
		p.logger.Debug("sandbox: memory limit exceeded, killing", "rss", rss, "limit", p.limitBytes)
		_ = p.Kill()
	}
}

// rootPIDs are the pids of the basic-mode commands.
func (p *Process) rootPIDs() []int {
	pids := make([]int, 0, len(p.cmds))
	for _, c := range p.cmds {
		pids = append(pids, c.Process.Pid)
	}
	return pids
}

// setResult records the final state; the Manager closes done afterwards.
func (p *Process) setResult(reason string, oom bool, maxMemory uint64) {
	p.exitReason = reason
	p.oomKilled = oom
	p.maxMemory = max(maxMemory, p.hwmPeak.Load())
	p.hwm.close()
}

// formatWaitStatus renders a wait status as os.ProcessState.String does,
// which is also the text Lambda logs.
func formatWaitStatus(ws unix.WaitStatus) string {
	switch {
	case ws.Exited():
		return "exit status " + strconv.Itoa(ws.ExitStatus())
	case ws.Signaled():
		s := "signal: " + syscall.Signal(ws.Signal()).String()
		if ws.CoreDump() {
			s += " (core dumped)"
		}
		return s
	case ws.Stopped():
		return "stop signal: " + syscall.Signal(ws.StopSignal()).String()
	default:
		return "unknown status " + strconv.Itoa(int(ws))
	}
}

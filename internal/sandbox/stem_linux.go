package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// stem is a runtime template's process inside a zygote: started by the
// init once the root is final, waiting on its assignment socket.
type stem struct {
	pid  int // in the sandbox's pid namespace
	sock int // the init's end of the assignment socket
	// ownOutput: the stem writes to the zygote's own pipe, and gets no
	// descriptors with its assignment.
	ownOutput bool
}

// startStem starts the template command c as the sandbox user with every
// restriction of a command, its output on output (or the init's own for
// -1), and waits until it says it is ready.
func startStem(c *initCommand, devNull *os.File, output int) (*stem, error) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("runtime template socket: %w", err)
	}
	path, err := lookPathIn(c.Path, c.Env, TaskRootFull)
	if err != nil {
		_ = unix.Close(pair[0])
		_ = unix.Close(pair[1])
		return nil, err
	}
	files := []uintptr{devNull.Fd(), 1, 2, uintptr(pair[1])}
	if output >= 0 {
		files[1], files[2] = uintptr(output), uintptr(output)
	}
	st := &stem{ownOutput: output >= 0}
	attr := &syscall.ProcAttr{
		Dir:   TaskRootFull,
		Env:   c.Env,
		Files: files,
		Sys: &syscall.SysProcAttr{
			Credential: &syscall.Credential{Uid: UnprivilegedID, Gid: UnprivilegedID, Groups: []uint32{}},
		},
	}
	type started struct {
		pid int
		err error
	}
	done := make(chan started, 1)
	go func() {
		// The restrictions are the forking thread's: this goroutine ends
		// locked, so the thread is discarded with them and the init's
		// main thread keeps what it needs for the spec's mounts.
		runtime.LockOSThread()
		if err := lockDownForkingThread(); err != nil {
			done <- started{err: err}
			return
		}
		pid, err := forkExecRetryingBusy(path, append([]string{c.Path}, c.Args...), attr)
		done <- started{pid, err}
	}()
	r := <-done
	_ = unix.Close(pair[1])
	if r.err != nil {
		_ = unix.Close(pair[0])
		return nil, fmt.Errorf("start runtime template %s: %w", c.Path, r.err)
	}
	st.pid, st.sock = r.pid, pair[0]
	buf := make([]byte, 64)
	n, err := readRetrying(st.sock, buf)
	if err != nil || string(buf[:n]) != stemReady {
		_ = unix.Kill(st.pid, unix.SIGKILL)
		_ = unix.Close(st.sock)
		var ws unix.WaitStatus
		_, _ = unix.Wait4(st.pid, &ws, 0, nil)
		return nil, fmt.Errorf("runtime template %s did not become ready (%s)", c.Path, formatWaitStatus(ws))
	}
	return st, nil
}

// readRetrying reads one packet, retrying EINTR.
func readRetrying(fd int, buf []byte) (int, error) {
	for {
		n, err := unix.Read(fd, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return n, err
	}
}

// awaitSpec waits until the control socket ctl has something to read; an
// event on the stem's socket first means the stem died (it says nothing
// before its assignment), and the zygote is useless.
func (st *stem) awaitSpec(ctl int) error {
	for {
		fds := []unix.PollFd{{Fd: int32(ctl), Events: unix.POLLIN}, {Fd: int32(st.sock), Events: unix.POLLIN}}
		_, err := unix.Poll(fds, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("wait for the spec: %w", err)
		}
		if fds[1].Revents != 0 {
			return errors.New("the runtime template exited while it waited")
		}
		if fds[0].Revents != 0 {
			return nil
		}
	}
}

// prepare gives the stem the sandbox's CPU set and the init's own
// scheduling (a pre-started zygote starts idle, and its stem with it).
func (st *stem) prepare(cpus []int) error {
	if len(cpus) > 0 {
		var set unix.CPUSet
		for _, c := range cpus {
			set.Set(c)
		}
		if err := setProcessAffinity(st.pid, &set); err != nil {
			return err
		}
	}
	if normal, ok := ownSched(); ok {
		if err := setProcessSched(st.pid, normal); err != nil {
			return fmt.Errorf("runtime template scheduling: %w", err)
		}
	}
	return nil
}

// setProcessAffinity applies set to every thread of process pid.
func setProcessAffinity(pid int, set *unix.CPUSet) error {
	entries, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		return fmt.Errorf("list threads of the runtime template: %w", err)
	}
	for _, e := range entries {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, set); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("runtime template CPU affinity: %w", err)
		}
	}
	return nil
}

// assign hands the stem the main command's environment and output, and
// closes the init's end of the socket.
func (st *stem) assign(c *initCommand, fds []int, devNull *os.File) error {
	defer func() { _ = unix.Close(st.sock) }()
	var oob []byte
	if !st.ownOutput {
		stdout, err := outputFD(c.Stdout, fds, devNull)
		if err != nil {
			return err
		}
		stderr, err := outputFD(c.Stderr, fds, devNull)
		if err != nil {
			return err
		}
		oob = unix.UnixRights(int(stdout), int(stderr))
	}
	b, err := json.Marshal(stemAssignment{Env: c.Env})
	if err != nil {
		return fmt.Errorf("encode the assignment: %w", err)
	}
	if len(b) > maxAssignment {
		return fmt.Errorf("assignment of %d bytes, at most %d", len(b), maxAssignment)
	}
	for {
		err = unix.Sendmsg(st.sock, b, oob, nil, unix.MSG_NOSIGNAL)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	runtime.KeepAlive(devNull)
	if err != nil {
		return fmt.Errorf("hand the function to the runtime template: %w", err)
	}
	return nil
}

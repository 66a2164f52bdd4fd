//go:build linux

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// outputWaitDelay bounds how long teardown waits for output pipes after the
// processes are gone (a grandchild that escaped the process group may hold
// them open in basic mode).
const outputWaitDelay = 2 * time.Second

// startBasic runs the commands as one process group of the server's user.
func (m *Manager) startBasic(ctx context.Context, s Spec, cpus []int) (*Process, error) {
	if s.TmpDir != "" {
		if err := os.MkdirAll(s.TmpDir, 0o700); err != nil {
			return nil, fmt.Errorf("sandbox: create tmp dir: %w", err)
		}
	}
	p := &Process{
		id:     s.ID,
		level:  LevelBasic,
		logger: m.logger.With("env_id", s.ID),
		done:   make(chan struct{}),
	}
	if s.MemoryLimitMB > 0 {
		p.limitBytes = uint64(s.MemoryLimitMB) << 20
	}
	for _, c := range s.commands() {
		if err := ctx.Err(); err != nil {
			p.abortBasic()
			return nil, fmt.Errorf("sandbox: start %s: %w", s.ID, err)
		}
		cmd, err := basicCommand(c, s, p.pgid)
		if err == nil {
			err = withAffinity(cpus, cmd.Start)
		}
		// Retry "text file busy" briefly; see forkExecRetryingBusy.
		for attempt := 0; errors.Is(err, syscall.ETXTBSY) && attempt < 50; attempt++ {
			time.Sleep(2 * time.Millisecond)
			if cmd, err = basicCommand(c, s, p.pgid); err == nil {
				err = withAffinity(cpus, cmd.Start)
			}
		}
		if err != nil {
			p.abortBasic()
			return nil, fmt.Errorf("sandbox: start %s: %s: %w", s.ID, c.Path, err)
		}
		if p.pgid == 0 {
			p.pgid = cmd.Process.Pid
		}
		p.cmds = append(p.cmds, cmd)
	}
	p.pid = p.cmds[len(p.cmds)-1].Process.Pid
	p.teardown = func() { m.waitBasic(p) }
	return p, nil
}

// basicCommand builds the exec.Cmd of one command: working directory
// CodeDir, TMPDIR set, in process group pgid (0: a new group), killed if
// the server dies.
func basicCommand(c Command, s Spec, pgid int) (*exec.Cmd, error) {
	path, err := lookPathIn(c.Path, c.Env, s.CodeDir)
	if err != nil {
		return nil, err
	}
	env := make([]string, 0, len(c.Env)+1)
	for _, kv := range c.Env {
		if s.TmpDir != "" && strings.HasPrefix(kv, "TMPDIR=") {
			continue
		}
		env = append(env, kv)
	}
	if s.TmpDir != "" {
		env = append(env, "TMPDIR="+s.TmpDir)
	}
	cmd := &exec.Cmd{
		Path:        path,
		Args:        append([]string{c.Path}, c.Args...),
		Env:         env,
		Dir:         s.CodeDir,
		Stdout:      c.Stdout,
		Stderr:      c.Stderr,
		WaitDelay:   outputWaitDelay,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true, Pgid: pgid, Pdeathsig: syscall.SIGKILL},
	}
	return cmd, nil
}

// abortBasic kills and reaps the commands started so far.
func (p *Process) abortBasic() {
	if p.pgid != 0 {
		_ = unix.Kill(-p.pgid, unix.SIGKILL)
	}
	for _, c := range p.cmds {
		_ = c.Wait()
	}
}

// waitBasic is the teardown goroutine of a basic-mode process: it waits for
// the main command to exit without reaping it (so its pid, and with it the
// process group, cannot be recycled), kills the group, reaps everything and
// records the result.
func (m *Manager) waitBasic(p *Process) {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, p.pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	_ = unix.Kill(-p.pgid, unix.SIGKILL)
	p.markReaped()
	main := p.cmds[len(p.cmds)-1]
	_ = main.Wait() // an exit error is the expected outcome
	for _, c := range p.cmds[:len(p.cmds)-1] {
		_ = c.Wait()
	}
	m.watch.remove(p)
	reason := ""
	if main.ProcessState != nil {
		reason = main.ProcessState.String()
	}
	p.setResult(reason, p.watchOOM.Load(), p.watchPeak.Load())
}

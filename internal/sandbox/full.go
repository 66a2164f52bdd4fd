//go:build linux

package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// initCloneFlags are the namespaces of a full-mode sandbox. There is no
// network namespace: the runtime reaches its Runtime API on the host's
// loopback.
const initCloneFlags = syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS

// initStartTimeout bounds the start-up handshake when the caller's context
// has no deadline.
const initStartTimeout = 30 * time.Second

// initHandle is a started init: its command, the stream of its status
// messages and the cleanup of the server's pipe ends.
type initHandle struct {
	cmd  *exec.Cmd
	msgs <-chan initMessage // closed at EOF of the status pipe
}

// spawnInit re-executes the server binary as an init in new namespaces,
// hands it cfg on fd 3 and returns once it reported "started". outputs are
// passed as fds 5 and up. On failure the init is killed and reaped.
func spawnInit(ctx context.Context, cfg initConfig, outputs []*os.File, logger *slog.Logger) (*initHandle, error) {
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("sandbox: config pipe: %w", err)
	}
	statR, statW, err := os.Pipe()
	if err != nil {
		cfgR.Close()
		cfgW.Close()
		return nil, fmt.Errorf("sandbox: status pipe: %w", err)
	}
	diag := &logWriter{logger: logger}
	cmd := &exec.Cmd{
		Path: "/proc/self/exe",
		Args: []string{initArg0},
		// One P keeps the init's thread count (and the pids and wake-ups it
		// costs on every thaw) low; it only waits.
		Env:        []string{"GOMAXPROCS=1"},
		ExtraFiles: append([]*os.File{cfgR, statW}, outputs...),
		Stdout:     diag,
		Stderr:     diag,
		WaitDelay:  outputWaitDelay,
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: initCloneFlags,
			Pdeathsig:  syscall.SIGKILL,
		},
	}
	err = cmd.Start()
	cfgR.Close()
	statW.Close()
	if err != nil {
		cfgW.Close()
		statR.Close()
		return nil, fmt.Errorf("sandbox: start init: %w", err)
	}
	msgs := make(chan initMessage, 4)
	go readInitMessages(statR, msgs, logger)
	fail := func(err error) (*initHandle, error) {
		_ = cmd.Process.Kill()
		for range msgs {
		}
		_ = cmd.Wait()
		return nil, err
	}
	err = json.NewEncoder(cfgW).Encode(cfg)
	cfgW.Close()
	if err != nil {
		return fail(fmt.Errorf("sandbox: send init config: %w", err))
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, initStartTimeout)
		defer cancel()
	}
	select {
	case <-ctx.Done():
		return fail(fmt.Errorf("sandbox: wait for init: %w", context.Cause(ctx)))
	case msg, ok := <-msgs:
		switch {
		case !ok:
			return fail(errors.New("sandbox: init exited during setup"))
		case msg.Event == "error":
			return fail(fmt.Errorf("sandbox: init: %s", msg.Error))
		case msg.Event != "started":
			return fail(fmt.Errorf("sandbox: init: unexpected %q", msg.Event))
		}
	}
	return &initHandle{cmd: cmd, msgs: msgs}, nil
}

// readInitMessages decodes status lines until EOF and then closes msgs.
func readInitMessages(r *os.File, msgs chan<- initMessage, logger *slog.Logger) {
	defer close(msgs)
	defer r.Close()
	dec := json.NewDecoder(r)
	for {
		var m initMessage
		if err := dec.Decode(&m); err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrClosed) {
				logger.Warn("sandbox: read init status", "err", err)
			}
			return
		}
		msgs <- m
	}
}

// logWriter turns the init's own (rare) diagnostics into log records.
type logWriter struct{ logger *slog.Logger }

func (w *logWriter) Write(b []byte) (int, error) {
	w.logger.Warn("sandbox: init output", "output", strings.TrimSpace(string(b)))
	return len(b), nil
}

// outputPipes collects the output descriptors handed to the init: an
// *os.File writer is passed as is (as os/exec does, so the caller may close
// its copy after Start); any other writer gets a pipe and a copier
// goroutine.
type outputPipes struct {
	files    []*os.File // passed to the init as fds 5 and up, in order
	owned    []*os.File // our pipe write ends among files; closed after start
	readEnds []*os.File // closed after the copiers finish
	wg       sync.WaitGroup
}

// add returns the init fd for w (-1 discards).
func (o *outputPipes) add(w io.Writer) (int, error) {
	if w == nil {
		return -1, nil
	}
	fd := initFirstFD + len(o.files)
	if f, ok := w.(*os.File); ok {
		o.files = append(o.files, f)
		return fd, nil
	}
	r, cw, err := os.Pipe()
	if err != nil {
		return 0, fmt.Errorf("sandbox: output pipe: %w", err)
	}
	o.files = append(o.files, cw)
	o.owned = append(o.owned, cw)
	o.readEnds = append(o.readEnds, r)
	o.wg.Go(func() {
		_, _ = io.Copy(w, r)
	})
	return fd, nil
}

// closeChildEnds drops the server's copies of the pipe write ends, so
// copiers see EOF when the sandbox's processes are gone.
func (o *outputPipes) closeChildEnds() {
	for _, f := range o.owned {
		_ = f.Close()
	}
	o.owned = nil
	o.files = nil
}

// wait waits for the copiers, closing the read ends after timeout.
func (o *outputPipes) wait(timeout time.Duration) {
	done := make(chan struct{})
	go func() {
		o.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(timeout):
		for _, r := range o.readEnds {
			_ = r.Close()
		}
		<-done
	}
	for _, r := range o.readEnds {
		_ = r.Close()
	}
}

// startFull creates the cgroup and starts an init in new namespaces.
func (m *Manager) startFull(ctx context.Context, s Spec) (*Process, error) {
	lim := cgroupLimits{memoryBytes: uint64(s.MemoryLimitMB) << 20, pids: s.pidsLimit()}
	cg, err := m.cgroups.create(s.ID, lim)
	if err != nil {
		return nil, fmt.Errorf("sandbox: start %s: %w", s.ID, err)
	}
	out := &outputPipes{}
	cfg := initConfig{
		CodeDir:     s.CodeDir,
		OptDir:      s.OptDir,
		TmpSizeMB:   s.tmpSizeMB(),
		Hostname:    "localhost",
		UID:         UnprivilegedID,
		GID:         UnprivilegedID,
		CgroupProcs: cg.procsFiles(),
	}
	fail := func(err error) (*Process, error) {
		out.closeChildEnds()
		out.wait(outputWaitDelay)
		_ = cg.kill()
		_ = cg.thaw()
		if rmErr := cg.remove(); rmErr != nil {
			m.logger.Warn("sandbox: remove cgroup after failed start", "env_id", s.ID, "err", rmErr)
		}
		return nil, fmt.Errorf("sandbox: start %s: %w", s.ID, err)
	}
	for _, c := range s.commands() {
		ic := initCommand{Path: c.Path, Args: c.Args, Env: c.Env}
		if ic.Env == nil {
			ic.Env = []string{}
		}
		if ic.Stdout, err = out.add(c.Stdout); err != nil {
			return fail(err)
		}
		if sameWriter(c.Stdout, c.Stderr) {
			ic.Stderr = ic.Stdout
		} else if ic.Stderr, err = out.add(c.Stderr); err != nil {
			return fail(err)
		}
		cfg.Commands = append(cfg.Commands, ic)
	}
	logger := m.logger.With("env_id", s.ID)
	h, err := spawnInit(ctx, cfg, out.files, logger)
	if err != nil {
		return fail(err)
	}
	out.closeChildEnds()
	p := &Process{
		id:     s.ID,
		level:  LevelFull,
		logger: logger,
		pid:    h.cmd.Process.Pid,
		init:   h.cmd,
		cg:     cg,
		done:   make(chan struct{}),
	}
	p.teardown = func() { m.waitFull(p, h, out) }
	return p, nil
}

// waitFull is the teardown goroutine of a full-mode process: it collects
// the main command's status from the init, reaps the init (the kernel has
// killed the rest of the pid namespace by then), drains output, reads the
// memory figures, removes the cgroup and records the result.
func (m *Manager) waitFull(p *Process, h *initHandle, out *outputPipes) {
	var mainStatus *unix.WaitStatus
	for msg := range h.msgs {
		switch msg.Event {
		case "exit":
			ws := unix.WaitStatus(msg.Status)
			mainStatus = &ws
		case "error":
			p.logger.Warn("sandbox: init failed", "err", msg.Error)
		}
	}
	p.markReaped()
	_ = h.cmd.Wait() // the init's own status is only a fallback below
	out.wait(outputWaitDelay)
	m.watch.remove(p)

	reason := ""
	mainKilled := false
	if mainStatus != nil {
		reason = formatWaitStatus(*mainStatus)
		mainKilled = mainStatus.Signaled() && mainStatus.Signal() == unix.SIGKILL
	} else if h.cmd.ProcessState != nil {
		// The init itself was killed (Kill, or a v2 group OOM kill).
		reason = h.cmd.ProcessState.String()
		ws, _ := h.cmd.ProcessState.Sys().(syscall.WaitStatus)
		mainKilled = ws.Signaled() && ws.Signal() == syscall.SIGKILL
	}
	// Make sure nothing is left (the pid namespace is gone, so this only
	// matters if a task is still on its way out), then read the figures
	// before the cgroup disappears.
	_ = p.cg.kill()
	peak := p.cg.memoryPeak()
	oom := p.cg.oomKilled(mainKilled)
	if err := p.removeCgroup(); err != nil {
		p.logger.Warn("sandbox: remove cgroup", "err", err)
	}
	p.setResult(reason, oom, peak)
}

// probeFull checks that an init can be started in new namespaces and can
// change its mounts.
func probeFull(logger *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := spawnInit(ctx, initConfig{Probe: true}, nil, logger)
	if err != nil {
		return err
	}
	for range h.msgs {
	}
	if err := h.cmd.Wait(); err != nil {
		return fmt.Errorf("sandbox: probe init: %w", err)
	}
	return nil
}

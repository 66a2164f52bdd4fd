//go:build linux

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// outputPipes collects the output descriptors handed to the init: an
// *os.File writer is passed as is (as os/exec does, so the caller may close
// its copy after Start); any other writer gets a pipe and a copier
// goroutine.
type outputPipes struct {
	files    []*os.File // sent to the init with its spec, in order
	owned    []*os.File // our pipe write ends among files; closed after start
	readEnds []*os.File // closed after the copiers finish
	wg       sync.WaitGroup
}

// add returns the index of w's descriptor among those sent to the init
// (-1 discards).
func (o *outputPipes) add(w io.Writer) (int, error) {
	if w == nil {
		return -1, nil
	}
	fd := len(o.files)
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

// startFull turns a zygote (a pre-started one, or one started now) into
// the sandbox's init.
func (m *Manager) startFull(ctx context.Context, s Spec, cpus []int) (*Process, error) {
	out := &outputPipes{}
	spec := initSpec{
		CPUs:       cpus,
		CodeDir:    s.CodeDir,
		OptDir:     s.OptDir,
		RuntimeDir: s.RuntimeDir,
		TmpSizeMB:  s.tmpSizeMB(),
		Hostname:   "localhost",
		UID:        UnprivilegedID,
		GID:        UnprivilegedID,
	}
	fail := func(err error) (*Process, error) {
		out.closeChildEnds()
		out.wait(outputWaitDelay)
		return nil, fmt.Errorf("sandbox: start %s: %w", s.ID, err)
	}
	for _, c := range s.commands() {
		ic := initCommand{Path: c.Path, Args: c.Args, Env: c.Env}
		if ic.Env == nil {
			ic.Env = []string{}
		}
		var err error
		if ic.Stdout, err = out.add(c.Stdout); err != nil {
			return fail(err)
		}
		if sameWriter(c.Stdout, c.Stderr) {
			ic.Stderr = ic.Stdout
		} else if ic.Stderr, err = out.add(c.Stderr); err != nil {
			return fail(err)
		}
		spec.Commands = append(spec.Commands, ic)
	}
	logger := m.logger.With("env_id", s.ID)
	lim := cgroupLimits{memoryBytes: uint64(s.MemoryLimitMB) << 20, pids: s.pidsLimit()}
	var kept *scratch
	if s.TmpImage != "" {
		var err error
		if kept, err = attachScratch(s.TmpImage); err != nil {
			return fail(err)
		}
		defer kept.closeDevice() // the mount keeps the device
	}
	z, tmp, err := m.launch(ctx, s.ID, lim, &spec, out.files, kept, m.templatePool(&s), logger)
	if err != nil {
		return fail(err)
	}
	out.closeChildEnds()
	p := &Process{
		id:       s.ID,
		level:    LevelFull,
		logger:   logger,
		pid:      z.cmd.Process.Pid,
		template: spec.Template,
		init:     z.cmd,
		cg:       z.cg,
		net:      z.net,
		keepTmp:  s.KeepTmp,
		done:     make(chan struct{}),
	}
	if tmp != nil {
		p.tmpImage, p.tmpLoop = tmp.ImagePath(), tmp.DevicePath()
		if !s.KeepTmp {
			// Nothing needs the file while mounted: its blocks go back to
			// the host with the mount, and a server that dies leaves
			// nothing behind.
			p.dropTmpImage()
		}
	}
	if spec.Template && z.output != nil {
		p.output, z.output = z.output, nil
	}
	p.teardown = func() { m.waitFull(p, z, out) }
	return p, nil
}

// launch sends spec to a zygote in the sandbox's cgroup (named id, limited
// by lim) and returns it once it reported that the commands run, with the
// scratch file system it mounted at /tmp (its device closed; nil for a
// tmpfs): kept, attached by the caller, which stays the caller's on
// failure; one created now when the zygote's has another size; or the
// zygote's own. It takes a ready zygote from the pool and starts one
// itself when none is ready. A pre-started zygote that turns out to be
// gone (killed while it waited; the spec cannot be sent, or it exits
// without a word) is replaced by the next. With a template pool tp, a
// ready zygote of tp is tried first, and its stem runs the main command
// (spec.Template); without one ready the blank zygotes serve. On failure
// the zygote is killed and reaped and the cgroup removed.
func (m *Manager) launch(ctx context.Context, id string, lim cgroupLimits, spec *initSpec, files []*os.File, kept *scratch, tp *zygotePool, logger *slog.Logger) (*zygote, *scratch, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, initStartTimeout)
		defer cancel()
	}
	for attempt := 1; ; attempt++ {
		var z *zygote
		var err error
		if tp != nil && attempt <= maxPooledAttempts {
			z, err = m.adoptFrom(tp.takeReady(), id, lim, logger)
		}
		if z == nil && err == nil {
			z, err = m.zygoteFor(ctx, id, lim, attempt <= maxPooledAttempts, spec.TmpSizeMB, kept == nil, logger)
		}
		if err != nil {
			return nil, nil, err
		}
		spec.Template = z.template != nil
		spec.CgroupProcs = nil
		if !z.entered {
			spec.CgroupProcs = z.cg.procsFiles()
		}
		z.diag.logger.Store(logger)
		// A zygote's /tmp has the default size; any other size is
		// created now, on the cold path, and a kept one replaces it.
		sendFiles := files
		spec.TmpDevice, spec.HasTmpDevice = 0, false
		tmp := kept
		if tmp == nil && m.cfg.ScratchDir != "" && z.tmpSizeMB != spec.TmpSizeMB {
			if tmp, err = createScratch(ctx, m.cfg.ScratchDir, spec.TmpSizeMB, m.cfg.ScratchSparse); err != nil {
				z.destroy(logger)
				return nil, nil, err
			}
		}
		if tmp != nil {
			spec.TmpDevice, spec.HasTmpDevice = len(files), true
			sendFiles = append(files[:len(files):len(files)], tmp.Device())
		}
		sent := z.send(spec, sendFiles)
		err = sent
		if err == nil {
			err = z.await(ctx, eventStarted)
		}
		if err == nil {
			if tmp == nil && z.tmpImage != "" {
				tmp = &scratch{loop: z.tmpLoop, image: z.tmpImage, sizeMB: z.tmpSizeMB}
				z.tmpImage = "" // the sandbox's now
			}
			z.dropTmpImage(logger) // unmounted by the init, if another replaced it
			if tmp != nil {
				tmp.closeDevice() // the mount keeps it
			}
			return z, tmp, nil
		}
		if tmp != nil && tmp != kept {
			_ = tmp.Close()
		}
		z.destroy(logger)
		if z.pool != nil && ctx.Err() == nil && (sent != nil || errors.Is(err, errInitGone)) {
			logger.Warn("sandbox: pre-started init gone, trying another", "err", err)
			continue
		}
		return nil, nil, err
	}
}

// maxPooledAttempts bounds how many pre-started zygotes one Start tries
// before it starts its own.
const maxPooledAttempts = 3

// zygoteFor returns a zygote whose cgroup is the sandbox's: with pooled, one
// from the pool whose own cgroup is renamed to id and limited (or that gets
// a new cgroup where cgroups cannot be renamed), or else one started now in
// a new cgroup, with a /tmp of tmpSizeMB when ownTmp (and none of its own
// otherwise: the spec brings one).
func (m *Manager) zygoteFor(ctx context.Context, id string, lim cgroupLimits, pooled bool, tmpSizeMB int, ownTmp bool, logger *slog.Logger) (*zygote, error) {
	if pooled && m.zygotes != nil {
		if z, err := m.adoptFrom(m.zygotes.take(ctx), id, lim, logger); z != nil || err != nil {
			return z, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sandbox: wait for init: %w", context.Cause(ctx))
	}
	cg, err := m.cgroups.create(id, lim)
	if err != nil {
		return nil, err
	}
	opts := m.zygoteOptions(tmpSizeMB)
	if !ownTmp {
		opts.scratchDir = ""
	}
	return spawnZygote(ctx, logger, nil, cg, opts)
}

// adoptFrom gives z, taken from a pool (nil: none), the sandbox's
// cgroup: its own renamed to id and limited, or a new one where cgroups
// cannot be renamed.
func (m *Manager) adoptFrom(z *zygote, id string, lim cgroupLimits, logger *slog.Logger) (*zygote, error) {
	if z == nil {
		return nil, nil
	}
	var err error
	if z.cg != nil {
		err = z.cg.adopt(id, lim)
	} else {
		z.cg, err = m.cgroups.create(id, lim)
	}
	if err != nil {
		z.destroy(logger)
		return nil, err
	}
	return z, nil
}

// waitFull is the teardown goroutine of a full-mode process: it collects
// the main command's status from the init, reaps the init (the kernel has
// killed the rest of the pid namespace by then), drains output, reads the
// memory figures, removes the cgroup and records the result.
func (m *Manager) waitFull(p *Process, z *zygote, out *outputPipes) {
	var mainStatus *unix.WaitStatus
	for msg := range z.msgs {
		switch msg.Event {
		case eventExit:
			ws := unix.WaitStatus(msg.Status)
			mainStatus = &ws
		case eventError:
			p.logger.Warn("sandbox: init failed", "err", msg.Error)
		}
	}
	<-z.readerDone
	p.markReaped()
	_ = z.cmd.Wait() // the init's own status is only a fallback below
	out.wait(outputWaitDelay)
	m.watch.remove(p)

	reason := ""
	mainKilled := false
	if mainStatus != nil {
		reason = formatWaitStatus(*mainStatus)
		mainKilled = mainStatus.Signaled() && mainStatus.Signal() == unix.SIGKILL
	} else if z.cmd.ProcessState != nil {
		// The init itself was killed (Kill, or a v2 group OOM kill).
		reason = z.cmd.ProcessState.String()
		ws, _ := z.cmd.ProcessState.Sys().(syscall.WaitStatus)
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
	p.net.close()
	p.settleTmp()
	p.setResult(reason, oom, peak)
}

// zygoteOptions are what the zygotes of m are prepared with, with a /tmp
// of tmpSizeMB.
func (m *Manager) zygoteOptions(tmpSizeMB int) zygoteOptions {
	return zygoteOptions{net: m.net, scratchDir: m.cfg.ScratchDir, scratchSparse: m.cfg.ScratchSparse, tmpSizeMB: tmpSizeMB, launches: m.launches}
}

// probeFull checks that an init can be started in new namespaces and can
// change its mounts there: it starts a zygote and discards it.
func probeFull(logger *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	z, err := spawnZygote(ctx, logger, nil, nil, zygoteOptions{})
	if err != nil {
		return err
	}
	z.destroy(logger)
	return nil
}

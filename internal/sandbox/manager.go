//go:build linux

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Manager starts sandboxes at the isolation level detected by [New] and
// owns what they share: the parent cgroups and the memory watcher.
type Manager struct {
	cfg     Config
	logger  *slog.Logger
	status  Status
	cgroups cgroupRoot  // nil in basic mode
	watch   *memWatcher // samples basic-mode trees and v2 cgroups without memory.peak
	zygotes *zygotePool // pre-started inits; nil in basic mode or when disabled
	cpus    *cpuPlacer  // nil when the server's CPU set is unknown
	net     *netPolicy  // full mode: what each sandbox's network namespace gets
	// launches bounds the inits started at once (cold starts and
	// pre-starts together); see launchGate.
	launches *launchGate

	mu     sync.Mutex
	closed bool                // guarded by mu
	live   map[string]*Process // running sandboxes by ID; guarded by mu
	// templates are the pools of runtime templates by name; guarded by mu.
	templates map[string]*zygotePool
	wg        sync.WaitGroup // teardown goroutines
}

// New detects the isolation level, prepares the parent cgroups in full mode
// and logs the result at Info. It fails only on a bad Config; a host that
// cannot isolate yields a basic-mode Manager with [Status.Reason] set.
func New(cfg Config, logger *slog.Logger) (*Manager, error) {
	if cfg.CgroupName == "" {
		cfg.CgroupName = DefaultCgroupName
	}
	if !validID(cfg.CgroupName) {
		return nil, fmt.Errorf("sandbox: invalid cgroup name %q", cfg.CgroupName)
	}
	if cfg.MemoryPollInterval <= 0 {
		cfg.MemoryPollInterval = DefaultMemoryPollInterval
	}
	if cfg.Zygotes == 0 {
		cfg.Zygotes = DefaultZygotes
	}
	logger = logger.With("component", "sandbox")
	m := &Manager{cfg: cfg, logger: logger, live: map[string]*Process{}, cpus: newCPUPlacer(), launches: newLaunchGate(cfg.ConcurrentStarts)}
	cg, reason := detectFull(cfg, logger)
	if cg != nil {
		m.cgroups = cg
		m.status = Status{
			Level:             LevelFull,
			CgroupVersion:     cg.version(),
			Freezer:           "cgroup",
			Namespaces:        true,
			RunAsUID:          UnprivilegedID,
			MemoryEnforcement: "cgroup",
		}
		pol, reason, err := newNetPolicy(cfg)
		if err != nil {
			_ = cg.remove()
			return nil, err
		}
		m.net = pol
		m.status.Network, m.status.Reason = string(pol.mode), reason
	} else {
		m.status = Status{
			Level:             LevelBasic,
			Freezer:           "signal",
			RunAsUID:          os.Geteuid(),
			MemoryEnforcement: "watcher",
			Network:           "host",
			Reason:            reason,
		}
	}
	m.watch = newMemWatcher(cfg.MemoryPollInterval)
	zygotes := 0
	if m.status.Level == LevelFull && cfg.Zygotes > 0 {
		zygotes = cfg.Zygotes
		m.zygotes = newZygotePool(zygotes, m.cgroups, m.zygoteOptions(DefaultTmpSizeMB), logger)
	}
	s := m.status
	logger.Info("sandbox: isolation", "level", s.Level, "cgroup", s.CgroupVersion, "freezer", s.Freezer,
		"namespaces", s.Namespaces, "network", s.Network, "uid", s.RunAsUID, "memory", s.MemoryEnforcement, "prestarted", zygotes, "reason", s.Reason)
	return m, nil
}

// detectFull returns the parent cgroup when full isolation works here, or
// the reason it does not.
func detectFull(cfg Config, logger *slog.Logger) (cgroupRoot, string) {
	switch {
	case cfg.ForceBasic:
		return nil, "basic isolation forced by configuration"
	case os.Geteuid() != 0:
		return nil, "not running as root"
	case !initHookCalled.Load():
		return nil, "the binary does not call sandbox.RunInitIfRequested"
	}
	cg, err := openCgroupRoot(cfg.CgroupName, logger)
	if err != nil {
		return nil, "cgroups unavailable: " + err.Error()
	}
	for _, dir := range []string{TaskRootFull, OptRootFull, RuntimeRootFull} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			_ = cg.remove()
			return nil, "cannot create mount point: " + err.Error()
		}
	}
	if err := probeFull(logger); err != nil {
		_ = cg.remove()
		return nil, "namespaces unavailable: " + err.Error()
	}
	return cg, ""
}

// openCgroupRoot reaps the cgroups that dead servers left under the parent
// cgroup name (see reap_linux.go) and creates this Manager's own cgroup
// beneath it. It picks the hierarchy: cgroup v2 when its memory controller
// is usable, else v1 with memory and freezer hierarchies.
func openCgroupRoot(name string, logger *slog.Logger) (cgroupRoot, error) {
	mountinfo, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("sandbox: read mountinfo: %w", err)
	}
	procCgroup, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("sandbox: read own cgroup: %w", err)
	}
	ms := parseMountinfo(mountinfo)
	own := parseProcCgroup(procCgroup)
	self, err := selfOwner()
	if err != nil {
		return nil, err
	}
	reapDead(ms, reapParents(ms, own, name), name, self, logger)
	var errs []error
	for _, mi := range ms.v2 {
		rel := ownDir(mountInfo{root: mi.root, point: "/"}, own[""])
		r, err := newCgroupV2Root(mi.point, rel, name, self.name(), true, logger)
		if err == nil {
			return r, nil
		}
		errs = append(errs, err)
	}
	if len(ms.v1) > 0 {
		r, err := newCgroupV1Root(ms, own, name, self.name(), logger)
		if err == nil {
			return r, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil, errors.New("sandbox: no cgroup hierarchy mounted")
	}
	return nil, errors.Join(errs...)
}

// Level returns the isolation level of every sandbox this Manager starts.
func (m *Manager) Level() Level { return m.status.Level }

// Status describes the isolation, for /healthz.
func (m *Manager) Status() Status { return m.status }

// Layout returns the paths the processes of s will see. Build the
// environment variables and command paths from it before [Manager.Start].
func (m *Manager) Layout(s Spec) Layout {
	if m.status.Level == LevelFull {
		l := Layout{TaskRoot: TaskRootFull, OptRoot: OptRootFull, TmpDir: TmpDirFull,
			RuntimeAPI: RuntimeAPIAddrFull, PlatformAPI: PlatformAPIAddrFull}
		if s.RuntimeDir != "" {
			l.RuntimeRoot = RuntimeRootFull
		}
		return l
	}
	return Layout{TaskRoot: s.CodeDir, OptRoot: s.OptDir, TmpDir: s.TmpDir, RuntimeRoot: s.RuntimeDir}
}

// Start starts the sandbox described by s: Extras in order, then Main. ctx
// bounds the start-up only; the sandbox runs until Main exits or it is
// killed. IDs must be unique among running sandboxes.
func (m *Manager) Start(ctx context.Context, s Spec) (*Process, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, ErrClosed
	}
	if _, dup := m.live[s.ID]; dup {
		m.mu.Unlock()
		return nil, fmt.Errorf("%w: ID %q is already running", ErrInvalidSpec, s.ID)
	}
	m.live[s.ID] = nil // reserve the ID while starting
	m.mu.Unlock()

	var p *Process
	var err error
	cpus := m.cpus.take(s.CPUs)
	if m.status.Level == LevelFull {
		p, err = m.startFull(ctx, s, cpus)
	} else {
		p, err = m.startBasic(ctx, s, cpus)
	}
	m.mu.Lock()
	if err != nil {
		delete(m.live, s.ID)
		m.mu.Unlock()
		m.cpus.release(cpus)
		return nil, err
	}
	if m.closed {
		// Close ran while we were starting and did not see p.
		delete(m.live, s.ID)
		m.mu.Unlock()
		_ = p.Kill()
		p.teardown()
		m.cpus.release(cpus)
		close(p.done)
		return nil, ErrClosed
	}
	m.live[s.ID] = p
	if p.cg == nil || p.cg.sampleMemory() {
		m.watch.add(p)
	}
	m.wg.Add(1)
	m.mu.Unlock()
	go func() {
		defer m.wg.Done()
		p.teardown()
		m.cpus.release(cpus)
		// Free the ID before Done is closed, so a caller may reuse it at once.
		m.mu.Lock()
		delete(m.live, p.id)
		m.mu.Unlock()
		close(p.done)
	}()
	p.logger.Debug("sandbox: started", "pid", p.pid, "level", p.level)
	return p, nil
}

// Close kills every running sandbox, waits for their teardown and removes
// the parent cgroups. It is idempotent; Start fails with [ErrClosed]
// afterwards.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	templates := m.templates
	m.templates = nil
	procs := make([]*Process, 0, len(m.live))
	for _, p := range m.live {
		if p != nil {
			procs = append(procs, p)
		}
	}
	m.mu.Unlock()

	if m.zygotes != nil {
		m.zygotes.close()
	}
	for _, tp := range templates {
		tp.close()
	}
	var errs []error
	for _, p := range procs {
		if err := p.Kill(); err != nil {
			errs = append(errs, err)
		}
	}
	waited := make(chan struct{})
	go func() {
		m.wg.Wait()
		close(waited)
	}()
	select {
	case <-waited:
	case <-time.After(killWait):
		errs = append(errs, fmt.Errorf("sandbox: sandboxes still running %v after SIGKILL", killWait))
	}
	m.watch.close()
	if m.cgroups != nil {
		if err := m.cgroups.remove(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

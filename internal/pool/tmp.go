package pool

import (
	"log/slog"
	"os"
	"time"
)

// /tmp across a reset.
//
// On Lambda a timeout, a crash or an out-of-memory kill resets the
// environment: the runtime is killed and re-initialised on the next
// invocation, but /tmp survives into the re-init (it is only wiped when
// the environment goes: idle, capacity, a code or configuration change,
// shutdown). Here a reset destroys the environment and the next
// invocation cold-starts a new one, so the /tmp of the one that was reset
// is carried over to it: the image of its scratch file system under full
// isolation (sandbox.Spec.KeepTmp, Process.TmpImage, Spec.TmpImage), its
// TMPDIR under basic isolation. The pool keeps at most one per key (the
// latest reset wins) and hands it to the next startEnv of that key. A
// carried /tmp stands for the reset environment, so it goes as that
// environment would: after IdleTTL unused, when its version goes stale
// (EvictStale: code or configuration changed, function deleted), and on
// Close.

// carriedTmp is a /tmp kept from a reset environment.
type carriedTmp struct {
	path  string    // the image file (full) or directory (basic)
	since time.Time // when its environment was reset
}

// resetKeepsTmp reports whether an environment destroyed for reason was
// reset, as opposed to evicted: a reset keeps /tmp for the environment
// that replaces it. The evictions are the reasons that send extensions
// SHUTDOWN with spindown (shutdownReason).
func resetKeepsTmp(reason string) bool {
	switch reason {
	case "idle", "capacity", "stale", "shutdown":
		return false
	}
	return true
}

// settleTmp runs once e's process is gone: the /tmp of an environment
// that was reset is carried to the next of its key; otherwise a kept
// image is removed, and a basic-mode directory left to cleanupFiles.
func (e *env) settleTmp(reset bool) {
	img := e.proc.TmpImage()
	if !reset {
		if img != "" {
			removeTmps([]string{img}, e.pool.logger)
		}
		return
	}
	switch {
	case img != "":
		e.pool.carry(e.key, img)
	case e.tmpDir != "":
		e.pool.carry(e.key, e.tmpDir)
		e.tmpDir = "" // the next environment's now
	}
}

// carry keeps path, a reset environment's /tmp, for the next environment
// of key, replacing an older one; a closed pool removes it at once.
func (p *Pool) carry(key envKey, path string) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		removeTmps([]string{path}, p.logger)
		return
	}
	old, had := p.carried[key]
	p.carried[key] = carriedTmp{path: path, since: time.Now()}
	p.mu.Unlock()
	p.logger.Debug("keeping /tmp of a reset environment", "function", key.function, "version", key.version)
	if had {
		removeTmps([]string{old.path}, p.logger)
	}
}

// takeCarried returns the /tmp carried for key, now the caller's, or "".
func (p *Pool) takeCarried(key envKey) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.carried[key]
	if !ok {
		return ""
	}
	delete(p.carried, key)
	return c.path
}

// dropCarriedLocked removes the carried /tmps for which drop returns true
// from the pool and returns their paths, for removeTmps outside the lock.
func (p *Pool) dropCarriedLocked(drop func(envKey, carriedTmp) bool) []string {
	var paths []string
	for k, c := range p.carried {
		if drop(k, c) {
			paths = append(paths, c.path)
			delete(p.carried, k)
		}
	}
	return paths
}

// removeTmps removes /tmp images or directories nobody will use.
func removeTmps(paths []string, logger *slog.Logger) {
	for _, path := range paths {
		if err := os.RemoveAll(path); err != nil {
			logger.Warn("remove kept /tmp", "path", path, "err", err)
		}
	}
}

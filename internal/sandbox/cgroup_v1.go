//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// v1Controllers are the v1 controllers the sandbox uses; see
// isRequiredV1.
func v1Controllers() []string { return []string{"memory", "freezer", "pids"} }

// isRequiredV1 reports whether full mode needs controller c (pids is
// optional).
func isRequiredV1(c string) bool { return c == "memory" || c == "freezer" }

// cgroupV1Root is the Manager's own cgroup in each v1 hierarchy, beneath
// the parent cgroup that every Manager with the same name shares.
type cgroupV1Root struct {
	dirs   map[string]string // controller name -> the Manager's own directory; read-only after creation
	pin    string            // the frozen empty freezer cgroup, "" if none
	logger *slog.Logger
}

// The v1 freezer switches a kernel static key (freezer_active) whenever the
// number of freezing cgroups moves between 0 and 1, and patching kernel text
// costs milliseconds per Freeze and per Thaw. An empty cgroup kept frozen
// for the Manager's lifetime holds the key on, which brings Thaw down to a
// few microseconds. Sandbox IDs cannot start with a dot, so the pin's name
// never clashes with one.
const v1PinName = ".pin"

// newCgroupV1Root creates the directory owner in the parent cgroup named
// name in every used v1 hierarchy: under the server's own cgroup when that
// is writable, else under the hierarchy root.
func newCgroupV1Root(ms cgroupMounts, own map[string]string, name, owner string, logger *slog.Logger) (*cgroupV1Root, error) {
	r := &cgroupV1Root{dirs: map[string]string{}, logger: logger}
	for _, c := range v1Controllers() {
		mi, ok := ms.v1[c]
		if !ok {
			if isRequiredV1(c) {
				_ = r.remove()
				return nil, fmt.Errorf("sandbox: cgroup v1 %s hierarchy is not mounted", c)
			}
			continue
		}
		candidates := []string{filepath.Join(ownDir(mi, own[c]), name), filepath.Join(mi.point, name)}
		var lastErr error
		for _, parent := range candidates {
			dir, err := createOwnerDir(parent, owner, nil)
			if err != nil {
				lastErr = err
				continue
			}
			r.dirs[c] = dir
			break
		}
		if _, ok := r.dirs[c]; !ok {
			if isRequiredV1(c) {
				_ = r.remove()
				return nil, fmt.Errorf("sandbox: create %s cgroup: %w", c, lastErr)
			}
			logger.Warn("sandbox: cgroup controller unavailable", "controller", c, "err", lastErr)
			continue
		}
	}
	pin := filepath.Join(r.dirs["freezer"], v1PinName)
	if err := os.Mkdir(pin, 0o755); err != nil {
		logger.Warn("sandbox: create freezer pin cgroup; freeze and thaw will be slow", "err", err)
	} else if err := writeCgroupFile(filepath.Join(pin, "freezer.state"), v1Frozen); err != nil {
		_ = unix.Rmdir(pin)
		logger.Warn("sandbox: freeze pin cgroup; freeze and thaw will be slow", "err", err)
	} else {
		r.pin = pin
	}
	return r, nil
}

func (r *cgroupV1Root) version() string { return "v1" }

// create makes the sandbox's cgroup in every hierarchy and applies the
// limits. Swap is switched off as far as v1 allows: memsw (memory+swap) is
// set to the same value when the kernel accounts swap, and swappiness to 0.
func (r *cgroupV1Root) create(id string, lim cgroupLimits) (envCgroup, error) {
	cg := &cgroupV1{}
	fail := func(err error) (envCgroup, error) {
		_ = cg.remove()
		return nil, err
	}
	for _, c := range v1Controllers() {
		parent, ok := r.dirs[c]
		if !ok {
			continue
		}
		dir := filepath.Join(parent, id)
		if err := mkdirCgroup(dir); err != nil {
			return fail(err)
		}
		cg.dirs = append(cg.dirs, dir)
		switch c {
		case "memory":
			cg.memory = dir
			cg.peak.path = filepath.Join(dir, "memory.max_usage_in_bytes")
			cg.memsw = fileExists(filepath.Join(dir, "memory.memsw.limit_in_bytes"))
		case "freezer":
			cg.freezer = dir
		case "pids":
			cg.pids = dir
		}
	}
	if err := cg.setLimits(lim); err != nil {
		return fail(err)
	}
	// Best effort: cgroup v1 refuses swappiness changes in some setups.
	_ = writeCgroupFile(filepath.Join(cg.memory, "memory.swappiness"), "0")
	// Read and write: freeze polls the state through the same descriptor.
	f, err := os.OpenFile(filepath.Join(cg.freezer, "freezer.state"), os.O_RDWR, 0)
	if err != nil {
		return fail(err)
	}
	cg.state = f
	return cg, nil
}

// renames is true: v1 cgroups can be renamed within their parent.
func (r *cgroupV1Root) renames() bool { return true }

func (r *cgroupV1Root) remove() error {
	var errs []error
	if r.pin != "" {
		if err := unix.Rmdir(r.pin); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("sandbox: remove pin cgroup: %w", err))
		}
		r.pin = ""
	}
	for _, dir := range r.dirs {
		if err := removeOwnerDir(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// cgroupV1 is one sandbox's cgroups in the v1 hierarchies.
type cgroupV1 struct {
	dirs    []string     // every created directory, for removal
	memory  string       // memory cgroup directory
	freezer string       // freezer cgroup directory
	pids    string       // pids cgroup directory; "" without the controller
	memsw   bool         // the kernel accounts swap (memory.memsw.* exist)
	limits  cgroupLimits // as last applied
	state   *os.File     // freezer.state, open for writing
	peak    counterFile  // memory.max_usage_in_bytes
}

// Values of freezer.state.
const (
	v1Frozen = "FROZEN"
	v1Thawed = "THAWED"
)

// setLimits applies what differs from the limits applied so far. Memory is
// written before memsw, which must never be below it. A memory limit is
// never lifted again; a pre-started init's cgroup starts without one.
func (c *cgroupV1) setLimits(lim cgroupLimits) error {
	if lim.memoryBytes > 0 && lim.memoryBytes != c.limits.memoryBytes {
		v := strconv.FormatUint(lim.memoryBytes, 10)
		if err := writeCgroupFile(filepath.Join(c.memory, "memory.limit_in_bytes"), v); err != nil {
			return err
		}
		if c.memsw {
			if err := writeCgroupFile(filepath.Join(c.memory, "memory.memsw.limit_in_bytes"), v); err != nil {
				return err
			}
		}
		c.limits.memoryBytes = lim.memoryBytes
	}
	if c.pids != "" && lim.pids > 0 && lim.pids != c.limits.pids {
		if err := writeCgroupFile(filepath.Join(c.pids, "pids.max"), strconv.Itoa(lim.pids)); err != nil {
			return err
		}
		c.limits.pids = lim.pids
	}
	return nil
}

// adopt renames the cgroup to id in every hierarchy (the open freezer.state
// stays valid) and applies lim.
func (c *cgroupV1) adopt(id string, lim cgroupLimits) error {
	for i, d := range c.dirs {
		to := filepath.Join(filepath.Dir(d), id)
		if err := renameCgroup(d, to); err != nil {
			return err
		}
		c.dirs[i] = to
		switch d {
		case c.memory:
			c.memory = to
		case c.freezer:
			c.freezer = to
		case c.pids:
			c.pids = to
		}
	}
	c.peak.rename(filepath.Join(c.memory, "memory.max_usage_in_bytes"))
	return c.setLimits(lim)
}

func (c *cgroupV1) procsFiles() []string {
	files := make([]string, len(c.dirs))
	for i, d := range c.dirs {
		files[i] = filepath.Join(d, "cgroup.procs")
	}
	return files
}

// freeze writes FROZEN and polls freezer.state, which passes through
// FREEZING until every task has stopped.
func (c *cgroupV1) freeze(abort *atomic.Bool) error {
	if err := writeControl(c.state, v1Frozen); err != nil {
		return err
	}
	// One pread per poll on the open descriptor, not open/read/close:
	// the pool freezes environments all the time.
	var buf [16]byte
	err := pollUntil(freezeTimeout, abort, func() (bool, error) {
		n, err := unix.Pread(int(c.state.Fd()), buf[:], 0)
		if err != nil {
			return false, fmt.Errorf("sandbox: read freezer state: %w", err)
		}
		return strings.TrimSpace(string(buf[:n])) == v1Frozen, nil
	})
	if err != nil {
		_ = writeControl(c.state, v1Thawed)
		return fmt.Errorf("sandbox: freeze: %w", err)
	}
	return nil
}

func (c *cgroupV1) thaw() error { return writeControl(c.state, v1Thawed) }

// kill signals every task. v1 frozen tasks act on SIGKILL only once
// thawed; the caller thaws afterwards, so none of them runs user code again.
func (c *cgroupV1) kill() error {
	return killProcsIn(filepath.Join(c.freezer, "cgroup.procs"), syscall.SIGKILL)
}

func (c *cgroupV1) memoryPeak() uint64 {
	if c.peak.path == "" {
		return 0
	}
	return c.peak.read()
}

// sampleMemory is a no-op: v1 tracks the peak in max_usage_in_bytes.
func (c *cgroupV1) sampleMemory() bool { return false }

// oomKilled reads the oom_kill counter of memory.oom_control (Linux 4.13+);
// older kernels only say that the limit was hit (failcnt), which together
// with a SIGKILLed main command is taken as an OOM kill.
func (c *cgroupV1) oomKilled(mainKilled bool) bool {
	if n, ok := readKeyedFile(filepath.Join(c.memory, "memory.oom_control"), "oom_kill"); ok {
		return n > 0
	}
	fails, _ := readUintFile(filepath.Join(c.memory, "memory.failcnt"))
	return fails > 0 && mainKilled
}

func (c *cgroupV1) remove() error {
	var errs []error
	c.peak.close()
	if c.state != nil {
		_ = c.state.Close()
		c.state = nil
	}
	for _, d := range c.dirs {
		if err := removeCgroupDir(d, removeTimeout); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

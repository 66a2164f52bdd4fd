//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// cgroupV2Root is the Manager's own cgroup in the unified hierarchy,
// beneath the parent cgroup that every Manager with the same name shares.
type cgroupV2Root struct {
	dir         string   // the Manager's own directory
	controllers []string // controllers enabled for the sandboxes
}

// newCgroupV2Root creates the directory owner in the parent cgroup name
// under the server's own cgroup ownRel of the unified hierarchy mounted at
// mount, and enables the memory and pids controllers down to the
// sandboxes. With requireMemory it fails when the memory controller is not
// available.
//
// cgroup v2 forbids processes in a cgroup whose controllers are delegated
// to children ("no internal processes"), so when the server's own cgroup is
// not the root and still holds processes, they are moved to a leaf named
// name+"-server" first, as systemd expects from a unit with Delegate=yes.
func newCgroupV2Root(mount, ownRel, name, owner string, requireMemory bool, logger *slog.Logger) (*cgroupV2Root, error) {
	own := filepath.Join(mount, ownRel)
	avail, err := os.ReadFile(filepath.Join(own, "cgroup.controllers"))
	if err != nil {
		return nil, fmt.Errorf("sandbox: read cgroup controllers: %w", err)
	}
	var want []string
	for _, c := range []string{"memory", "pids"} {
		if slices.Contains(strings.Fields(string(avail)), c) {
			want = append(want, c)
		}
	}
	if requireMemory && !slices.Contains(want, "memory") {
		return nil, fmt.Errorf("sandbox: cgroup v2 memory controller not available in %s", own)
	}
	if len(want) > 0 && filepath.Clean(ownRel) != "/" {
		if err := enableControllers(own, want); err != nil {
			if !errors.Is(err, unix.EBUSY) {
				return nil, err
			}
			if err := moveToLeaf(own, filepath.Join(own, name+"-server")); err != nil {
				return nil, err
			}
			logger.Info("sandbox: moved server processes to a leaf cgroup to delegate controllers", "cgroup", own)
			if err := enableControllers(own, want); err != nil {
				return nil, err
			}
		}
	} else if len(want) > 0 {
		if err := enableControllers(own, want); err != nil {
			return nil, err
		}
	}
	dir, err := createOwnerDir(filepath.Join(own, name), owner, func(parent string) error {
		return enableControllers(parent, want)
	})
	if err != nil {
		return nil, err
	}
	if err := enableControllers(dir, want); err != nil {
		_ = removeOwnerDir(dir)
		return nil, err
	}
	return &cgroupV2Root{dir: dir, controllers: want}, nil
}

// enableControllers turns controllers on in dir's cgroup.subtree_control.
func enableControllers(dir string, controllers []string) error {
	for _, c := range controllers {
		if err := os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+"+c), 0); err != nil {
			return fmt.Errorf("sandbox: enable %s controller in %s: %w", c, dir, err)
		}
	}
	return nil
}

// moveToLeaf moves every process of the cgroup own into leaf.
func moveToLeaf(own, leaf string) error {
	if err := os.Mkdir(leaf, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("sandbox: create leaf cgroup: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(own, "cgroup.procs"))
	if err != nil {
		return fmt.Errorf("sandbox: read cgroup procs: %w", err)
	}
	for _, pid := range strings.Fields(string(b)) {
		err := os.WriteFile(filepath.Join(leaf, "cgroup.procs"), []byte(pid), 0)
		if err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("sandbox: move process %s to leaf cgroup: %w", pid, err)
		}
	}
	return nil
}

func (r *cgroupV2Root) version() string { return "v2" }

// renames is false: cgroup2 has no rename.
func (r *cgroupV2Root) renames() bool { return false }

// create makes the sandbox's cgroup. memory.swap.max=0 turns swap off and
// memory.oom.group=1 makes an OOM kill take the whole sandbox, as on
// Lambda where the environment is reset.
func (r *cgroupV2Root) create(id string, lim cgroupLimits) (envCgroup, error) {
	dir := filepath.Join(r.dir, id)
	if err := mkdirCgroup(dir); err != nil {
		return nil, err
	}
	cg := &cgroupV2{dir: dir, peakFile: counterFile{path: filepath.Join(dir, "memory.peak")}}
	fail := func(err error) (envCgroup, error) {
		_ = cg.remove()
		return nil, err
	}
	if slices.Contains(r.controllers, "memory") {
		if lim.memoryBytes > 0 {
			if err := writeCgroupFile(filepath.Join(dir, "memory.max"), strconv.FormatUint(lim.memoryBytes, 10)); err != nil {
				return fail(err)
			}
		}
		if p := filepath.Join(dir, "memory.swap.max"); fileExists(p) {
			if err := writeCgroupFile(p, "0"); err != nil {
				return fail(err)
			}
		}
		if p := filepath.Join(dir, "memory.oom.group"); fileExists(p) {
			if err := writeCgroupFile(p, "1"); err != nil {
				return fail(err)
			}
		}
		cg.hasPeak = fileExists(filepath.Join(dir, "memory.peak"))
		cg.hasCurrent = fileExists(filepath.Join(dir, "memory.current"))
	}
	if slices.Contains(r.controllers, "pids") && lim.pids > 0 {
		if err := writeCgroupFile(filepath.Join(dir, "pids.max"), strconv.Itoa(lim.pids)); err != nil {
			return fail(err)
		}
	}
	f, err := openControl(filepath.Join(dir, "cgroup.freeze"))
	if err != nil {
		return fail(err)
	}
	cg.freezeFile = f
	return cg, nil
}

func (r *cgroupV2Root) remove() error { return removeOwnerDir(r.dir) }

// cgroupV2 is one sandbox's cgroup in the unified hierarchy.
type cgroupV2 struct {
	dir        string
	freezeFile *os.File      // cgroup.freeze, open for writing
	hasPeak    bool          // memory.peak exists (Linux 5.19+)
	hasCurrent bool          // memory.current exists
	peak       atomic.Uint64 // sampled peak when !hasPeak
	peakFile   counterFile   // memory.peak
}

// Values of cgroup.freeze.
const (
	v2Freeze = "1"
	v2Thaw   = "0"
)

func (c *cgroupV2) procsFiles() []string {
	return []string{filepath.Join(c.dir, "cgroup.procs")}
}

func (c *cgroupV2) adopt(string, cgroupLimits) error {
	return fmt.Errorf("sandbox: cgroup v2 cannot rename %s: %w", c.dir, errors.ErrUnsupported)
}

// freeze writes 1 to cgroup.freeze and polls cgroup.events until the kernel
// reports "frozen 1".
func (c *cgroupV2) freeze(abort *atomic.Bool) error {
	if err := writeControl(c.freezeFile, v2Freeze); err != nil {
		return err
	}
	events := filepath.Join(c.dir, "cgroup.events")
	err := pollUntil(freezeTimeout, abort, func() (bool, error) {
		n, ok := readKeyedFile(events, "frozen")
		if !ok {
			return false, fmt.Errorf("sandbox: read %s: no frozen key", events)
		}
		return n == 1, nil
	})
	if err != nil {
		_ = writeControl(c.freezeFile, v2Thaw)
		return fmt.Errorf("sandbox: freeze: %w", err)
	}
	return nil
}

func (c *cgroupV2) thaw() error { return writeControl(c.freezeFile, v2Thaw) }

// kill uses cgroup.kill (Linux 5.14+), which also reaches frozen tasks,
// and falls back to signalling every listed process.
func (c *cgroupV2) kill() error {
	if p := filepath.Join(c.dir, "cgroup.kill"); fileExists(p) {
		err := writeCgroupFile(p, "1")
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	return killProcsIn(filepath.Join(c.dir, "cgroup.procs"), syscall.SIGKILL)
}

func (c *cgroupV2) memoryPeak() uint64 {
	if c.hasPeak {
		return c.peakFile.read()
	}
	c.sampleMemory()
	return c.peak.Load()
}

// sampleMemory folds memory.current into the sampled peak on kernels
// without memory.peak.
func (c *cgroupV2) sampleMemory() bool {
	if c.hasPeak || !c.hasCurrent {
		return false
	}
	n, err := readUintFile(filepath.Join(c.dir, "memory.current"))
	if err != nil {
		return true
	}
	for {
		old := c.peak.Load()
		if n <= old || c.peak.CompareAndSwap(old, n) {
			return true
		}
	}
}

func (c *cgroupV2) oomKilled(bool) bool {
	events := filepath.Join(c.dir, "memory.events")
	n, _ := readKeyedFile(events, "oom_kill")
	g, _ := readKeyedFile(events, "oom_group_kill")
	return n > 0 || g > 0
}

func (c *cgroupV2) remove() error {
	c.peakFile.close()
	if c.freezeFile != nil {
		_ = c.freezeFile.Close()
		c.freezeFile = nil
	}
	return removeCgroupDir(c.dir, removeTimeout)
}

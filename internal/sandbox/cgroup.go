//go:build linux

package sandbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// cgroupRoot is where the parent cgroup of all sandboxes lives: one
// directory per v1 controller, or one v2 directory.
type cgroupRoot interface {
	// version is "v1" or "v2".
	version() string
	// create makes the cgroup(s) of one sandbox with its limits applied.
	create(id string, lim cgroupLimits) (envCgroup, error)
	// renames reports whether envCgroup.adopt works: a pre-started init
	// can then wait in a cgroup of its own that takes the sandbox's ID
	// later (cgroup v1; v2 cannot rename cgroups).
	renames() bool
	// remove deletes the parent cgroup(s) if they are empty; idempotent.
	remove() error
}

// cgroupLimits are the limits one sandbox's cgroup enforces.
type cgroupLimits struct {
	memoryBytes uint64 // 0 means no limit
	pids        int    // 0 means no limit
}

// envCgroup is the cgroup (or the set of v1 cgroups) of one sandbox.
type envCgroup interface {
	// procsFiles are the cgroup.procs files a process writes "0" to in
	// order to enter the cgroup.
	procsFiles() []string
	// adopt renames the cgroup to id and applies lim, when the root
	// renames.
	adopt(id string, lim cgroupLimits) error
	// freeze stops every task and returns once all are frozen, or early
	// with ErrExited once abort reports true.
	freeze(abort *atomic.Bool) error
	// thaw resumes every task; one write on an open descriptor.
	thaw() error
	// kill sends SIGKILL to every task; the caller thaws afterwards so
	// frozen tasks act on it. Safe to call concurrently with everything
	// but remove.
	kill() error
	// memoryPeak returns the highest memory usage seen, in bytes.
	memoryPeak() uint64
	// sampleMemory updates the peak where the kernel does not track it and
	// reports whether sampling is needed at all.
	sampleMemory() bool
	// oomKilled reports whether the kernel's OOM killer acted in the
	// cgroup; mainKilled tells whether the main command died of SIGKILL,
	// which v1 uses together with memory.failcnt on kernels without the
	// oom_kill counter.
	oomKilled(mainKilled bool) bool
	// remove waits (bounded) for the cgroup to empty, deletes it and closes
	// its descriptors; freeze and thaw must not be called afterwards.
	remove() error
}

// Timeouts of cgroup operations; all are bounded so a stuck kernel state
// surfaces as an error instead of a hung caller.
const (
	freezeTimeout = 10 * time.Second
	removeTimeout = 10 * time.Second
)

// mountInfo is one cgroup mount from /proc/self/mountinfo.
type mountInfo struct {
	root  string // the path inside the hierarchy that is mounted
	point string // where it is mounted
}

// cgroupMounts lists cgroup mounts: v1 hierarchies by controller name and
// cgroup2 mounts in order.
type cgroupMounts struct {
	v1 map[string]mountInfo
	v2 []mountInfo
}

// isV1MountOption reports whether a super option of a v1 cgroup mount is
// an option rather than a controller name.
func isV1MountOption(opt string) bool {
	switch opt {
	case "rw", "ro", "xattr", "noprefix", "clone_children", "cpuset_v2_mode", "favordynmods":
		return true
	}
	return strings.Contains(opt, "=")
}

// parseMountinfo extracts cgroup mounts from /proc/self/mountinfo content.
func parseMountinfo(data []byte) cgroupMounts {
	ms := cgroupMounts{v1: map[string]mountInfo{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		f := strings.Fields(pre)
		p := strings.Fields(post)
		if len(f) < 5 || len(p) < 3 {
			continue
		}
		mi := mountInfo{root: unescapeMount(f[3]), point: unescapeMount(f[4])}
		switch p[0] {
		case "cgroup2":
			ms.v2 = append(ms.v2, mi)
		case "cgroup":
			for _, opt := range strings.Split(p[2], ",") {
				if isV1MountOption(opt) {
					continue
				}
				if _, dup := ms.v1[opt]; !dup {
					ms.v1[opt] = mi
				}
			}
		}
	}
	return ms
}

// unescapeMount undoes the octal escapes (\040 for space) of mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// parseProcCgroup maps each v1 controller (and "" for the unified
// hierarchy) to the cgroup path in /proc/self/cgroup content.
func parseProcCgroup(data []byte) map[string]string {
	own := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			own[""] = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			own[c] = parts[2]
		}
	}
	return own
}

// ownDir returns the directory of the server's own cgroup inside a mount,
// translating the path when only a sub-tree of the hierarchy is mounted.
func ownDir(mi mountInfo, path string) string {
	if mi.root != "/" {
		if rel, ok := strings.CutPrefix(path, mi.root); ok && (rel == "" || rel[0] == '/') {
			path = rel
		} else {
			path = "/"
		}
	}
	return filepath.Join(mi.point, path)
}

// writeCgroupFile writes one value to a cgroup control file.
func writeCgroupFile(path, value string) error {
	if err := os.WriteFile(path, []byte(value), 0); err != nil {
		return fmt.Errorf("sandbox: write %s: %w", path, err)
	}
	return nil
}

// readUintFile reads a cgroup file holding one unsigned number ("max" reads
// as 0).
func readUintFile(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("sandbox: read %s: %w", path, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "max" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("sandbox: parse %s: %w", path, err)
	}
	return n, nil
}

// readKeyedFile returns the value of key in a flat-keyed cgroup file such
// as memory.events or memory.oom_control.
func readKeyedFile(path, key string) (uint64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if ok && k == key {
			n, err := strconv.ParseUint(v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// fileExists reports whether path exists.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// renameCgroup renames the cgroup directory from to to, replacing an empty
// leftover of a crashed run.
func renameCgroup(from, to string) error {
	err := os.Rename(from, to)
	if err != nil && fileExists(to) {
		if rmErr := unix.Rmdir(to); rmErr != nil {
			return fmt.Errorf("sandbox: cgroup %s exists and is busy: %w", to, rmErr)
		}
		err = os.Rename(from, to)
	}
	if err != nil {
		return fmt.Errorf("sandbox: rename cgroup: %w", err)
	}
	return nil
}

// mkdirCgroup creates dir, replacing an empty leftover of a crashed run.
func mkdirCgroup(dir string) error {
	err := os.Mkdir(dir, 0o755)
	if errors.Is(err, fs.ErrExist) {
		if rmErr := unix.Rmdir(dir); rmErr != nil {
			return fmt.Errorf("sandbox: cgroup %s exists and is busy: %w", dir, rmErr)
		}
		err = os.Mkdir(dir, 0o755)
	}
	if err != nil {
		return fmt.Errorf("sandbox: create cgroup: %w", err)
	}
	return nil
}

// removeCgroupDir deletes a cgroup directory, retrying while tasks are
// still leaving it; a missing directory is not an error.
func removeCgroupDir(dir string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for delay := 100 * time.Microsecond; ; delay = min(delay*2, 20*time.Millisecond) {
		err := unix.Rmdir(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
			return fmt.Errorf("sandbox: remove cgroup %s: %w", dir, err)
		}
		time.Sleep(delay)
	}
}

// createOwnerDir creates parent, the cgroup every Manager with the same
// [Config.CgroupName] shares, and in it the directory named owner, where
// this Manager keeps its sandboxes. prepare runs on parent before owner is
// created (cgroup v2 enables controllers there). Another Manager may be
// removing parent at the same moment (it removes it once empty), so
// creation is retried when parent vanished in between.
func createOwnerDir(parent, owner string, prepare func(parent string) error) (string, error) {
	dir := filepath.Join(parent, owner)
	var err error
	for range 5 {
		if err = os.Mkdir(parent, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			break
		}
		if prepare != nil {
			if err = prepare(parent); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue
				}
				break
			}
		}
		if err = os.Mkdir(dir, 0o755); err == nil || !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	if err != nil {
		return "", fmt.Errorf("sandbox: create cgroup %s: %w", dir, err)
	}
	return dir, nil
}

// removeOwnerDir removes a Manager's own directory and then the shared
// parent, which stays while other Managers' directories are in it. A
// directory still busy with sandboxes that would not die is left for the
// server that starts after this process has ended.
func removeOwnerDir(dir string) error {
	if err := unix.Rmdir(dir); err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EBUSY) {
		return fmt.Errorf("sandbox: remove cgroup %s: %w", dir, err)
	}
	err := unix.Rmdir(filepath.Dir(dir))
	if err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EBUSY) && !errors.Is(err, unix.ENOTEMPTY) {
		return fmt.Errorf("sandbox: remove cgroup %s: %w", filepath.Dir(dir), err)
	}
	return nil
}

// killProcsIn sends sig to every process listed in a cgroup.procs file.
func killProcsIn(procsFile string, sig syscall.Signal) error {
	b, err := os.ReadFile(procsFile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("sandbox: read %s: %w", procsFile, err)
	}
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil || pid <= 0 {
			continue
		}
		if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("sandbox: kill %d: %w", pid, err)
		}
	}
	return nil
}

// openControl opens a cgroup control file for repeated writes, so that the
// hot path (thaw) is a single pwrite.
func openControl(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("sandbox: open %s: %w", path, err)
	}
	return f, nil
}

// writeControl writes value to an open control file at offset 0.
func writeControl(f *os.File, value string) error {
	if _, err := unix.Pwrite(int(f.Fd()), []byte(value), 0); err != nil {
		return fmt.Errorf("sandbox: write %s: %w", f.Name(), err)
	}
	return nil
}

// pollUntil calls done with a growing delay until it reports true, abort
// reports true (ErrExited) or timeout passes.
func pollUntil(timeout time.Duration, abort *atomic.Bool, done func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for delay := 20 * time.Microsecond; ; delay = min(delay*2, 5*time.Millisecond) {
		ok, err := done()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if abort != nil && abort.Load() {
			return ErrExited
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sandbox: still not done after %v", timeout)
		}
		time.Sleep(delay)
	}
}

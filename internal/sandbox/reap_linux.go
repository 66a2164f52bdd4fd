package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// A server killed with SIGKILL cannot tear its sandboxes down. The inits
// run with Pdeathsig SIGKILL, but a task frozen by the cgroup freezer does
// not act on a signal until it is thawed, so every warm (frozen)
// environment of the dead server would stay, with its memory, for good,
// and so would the empty cgroups of its pre-started inits and its freezer
// pin. [New] therefore reaps, before it creates its own cgroups, the trees
// whose owner (see [owner]) is certainly dead, in every hierarchy: SIGKILL
// every task, thaw, wait (bounded) until the cgroups are empty, remove
// them deepest first.

// reapWait bounds how long reaping waits for killed tasks to leave.
const reapWait = 5 * time.Second

// reapStats counts what one reaping removed.
type reapStats struct {
	owners    int // dead owners whose trees were reaped
	processes int // distinct processes found and killed
	cgroups   int // distinct cgroups removed (a v1 cgroup counts once, whatever the hierarchies)
}

// reapParents lists the directories where the parent cgroup named name may
// live in every mounted hierarchy, v1 and v2 alike: under the server's own
// cgroup and under the hierarchy's root, as the roots create it. Every v1
// hierarchy is listed, not only the controllers this version uses, so a
// tree is reaped whole whatever controllers its owner used.
func reapParents(ms cgroupMounts, own map[string]string, name string) []string {
	var dirs []string
	add := func(d string) {
		if !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	controllers := make([]string, 0, len(ms.v1))
	for c := range ms.v1 {
		controllers = append(controllers, c)
	}
	slices.Sort(controllers)
	for _, c := range controllers {
		mi := ms.v1[c]
		add(filepath.Join(ownDir(mi, own[c]), name))
		add(filepath.Join(mi.point, name))
	}
	for _, mi := range ms.v2 {
		add(filepath.Join(ownDir(mi, own[""]), name))
		add(filepath.Join(mi.point, name))
	}
	return dirs
}

// reapDead reaps the cgroup trees under parents, the directories of the
// parent cgroup name, whose owner is dead as judged from self, and logs
// what it did.
func reapDead(ms cgroupMounts, parents []string, name string, self owner, logger *slog.Logger) reapStats {
	trees := map[string][]string{} // owner name -> its directory in each hierarchy
	for _, parent := range parents {
		entries, err := os.ReadDir(parent)
		if err != nil {
			continue // no such parent in this hierarchy
		}
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			o, ok := parseOwner(e.Name())
			if !ok {
				continue
			}
			if st := judgeOwner(o, self, readProcStat); st != ownerDead {
				if st == ownerUnknown {
					logger.Debug("sandbox: cgroups of a server that cannot be judged left alone", "cgroup", filepath.Join(parent, e.Name()))
				}
				continue
			}
			trees[e.Name()] = append(trees[e.Name()], filepath.Join(parent, e.Name()))
		}
	}
	var total reapStats
	names := make([]string, 0, len(trees))
	for n := range trees {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		st, err := reapTree(trees[n], func(pid int) []string { return taskOwnerDirs(ms, pid, name, n) })
		total.owners++
		total.processes += st.processes
		total.cgroups += st.cgroups
		if err != nil {
			logger.Warn("sandbox: reap cgroups of a dead server", "owner", n, "err", err)
			continue
		}
		logger.Debug("sandbox: reaped cgroups of a dead server", "owner", n, "processes", st.processes, "cgroups", st.cgroups)
	}
	if total.owners > 0 {
		logger.Info("sandbox: reaped sandboxes left by dead servers",
			"servers", total.owners, "processes", total.processes, "cgroups", total.cgroups)
	}
	return total
}

// reapTree ends one dead owner's sandboxes: roots are the owner's
// directories, one per hierarchy where it was found; locate returns those
// of a task's cgroups, which adds the owner's directories in hierarchies
// where it lies elsewhere. Tasks are killed before they are thawed, so
// none runs user code again; killing and thawing repeat until every cgroup
// is empty, since a task that was not frozen may have forked.
func reapTree(roots []string, locate func(pid int) []string) (reapStats, error) {
	var dirs []string          // every cgroup of the tree, parents before children
	rel := map[string]string{} // directory -> path relative to the parent cgroup
	addRoot := func(root string) {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			dirs = append(dirs, path)
			rel[path], _ = filepath.Rel(filepath.Dir(root), path)
			return nil
		})
	}
	for _, root := range roots {
		addRoot(root)
	}
	located := map[int]bool{}
	locateAll := func(pids []int) {
		for _, pid := range pids {
			if located[pid] {
				continue
			}
			located[pid] = true
			for _, root := range locate(pid) {
				if !slices.Contains(roots, root) {
					roots = append(roots, root)
					addRoot(root)
				}
			}
		}
	}
	killed := map[int]bool{}
	err := pollUntil(reapWait, nil, func() (bool, error) {
		listed := map[string][]int{}
		for _, d := range dirs {
			if pids := cgroupPids(d); len(pids) > 0 {
				listed[d] = pids
			}
		}
		for _, pids := range listed {
			locateAll(pids)
		}
		for _, root := range roots {
			// cgroup v2 (5.14+) kills a whole tree, frozen tasks too.
			if p := filepath.Join(root, "cgroup.kill"); fileExists(p) {
				_ = os.WriteFile(p, []byte("1"), 0)
			}
		}
		for d, pids := range listed {
			for _, pid := range pids {
				killListed(pid, d)
				killed[pid] = true
			}
		}
		for _, d := range dirs {
			thawCgroup(d)
		}
		return len(listed) == 0, nil
	})
	st := reapStats{processes: len(killed)}
	if err != nil {
		return st, fmt.Errorf("sandbox: tasks of %v did not exit: %w", roots, err)
	}
	var errs []error
	removed := map[string]bool{}
	for _, d := range slices.Backward(dirs) {
		if err := removeCgroupDir(d, removeTimeout); err != nil {
			errs = append(errs, err)
			continue
		}
		removed[rel[d]] = true
	}
	st.cgroups = len(removed)
	return st, errors.Join(errs...)
}

// taskOwnerDirs returns, for every hierarchy in which process pid is in
// the tree that ownerName owns beneath the parent cgroup name, the owner's
// directory there. A server keeps its trees under its own cgroup where it
// can, and a server started from elsewhere (another unit or session) has
// another own cgroup in some hierarchies; the tasks show where.
func taskOwnerDirs(ms cgroupMounts, pid int, name, ownerName string) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return nil
	}
	seg := "/" + name + "/" + ownerName
	var dirs []string
	for c, path := range parseProcCgroup(b) {
		i := strings.Index(path+"/", seg+"/")
		if i < 0 {
			continue
		}
		var mi mountInfo
		if c == "" {
			if len(ms.v2) == 0 {
				continue
			}
			mi = ms.v2[0]
		} else if mi = ms.v1[c]; mi.point == "" {
			continue
		}
		if d := ownDir(mi, path[:i+len(seg)]); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// cgroupPids lists the processes in a cgroup.
func cgroupPids(dir string) []int {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	return pids
}

// killListed sends SIGKILL to pid if, once it is pinned by a pidfd, it is
// still in the cgroup dir: a process that exited after the listing cannot
// have its ID reused by one that is not ours to kill.
func killListed(pid int, dir string) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		if errors.Is(err, unix.ENOSYS) {
			// Before Linux 5.3: frozen tasks cannot exit, so the
			// listing is stable for them; others are a narrow race.
			_ = unix.Kill(pid, unix.SIGKILL)
		}
		return
	}
	defer unix.Close(fd)
	if slices.Contains(cgroupPids(dir), pid) {
		_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
	}
}

// thawCgroup thaws a v1 or v2 cgroup that has a freezer; others are left.
func thawCgroup(dir string) {
	if p := filepath.Join(dir, "freezer.state"); fileExists(p) {
		_ = os.WriteFile(p, []byte(v1Thawed), 0)
	}
	if p := filepath.Join(dir, "cgroup.freeze"); fileExists(p) {
		_ = os.WriteFile(p, []byte(v2Thaw), 0)
	}
}

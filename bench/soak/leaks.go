package main

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// reaper makes the soak the child subreaper of everything the servers
// start: when a server is killed, its orphaned sandboxes and user-mode
// network stacks are re-parented to the soak instead of to init, so the
// soak can see (and count as leaked) whatever a restarted server fails to
// clean up. Orphans that exit become the soak's zombies; the reaper waits
// for them, but never for a child the soak started itself (exec.Cmd waits
// for those), which is why such children are started through startChild.
type reaper struct {
	mu sync.Mutex
	// own holds the pids of children started with startChild that have
	// not been waited for yet; guarded by mu.
	own map[int]bool
	// reaped counts orphans waited for; guarded by mu.
	reaped int
	stop   chan struct{}
	done   chan struct{}
}

// newReaper becomes the subreaper and starts reaping exited orphans.
func newReaper() (*reaper, error) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return nil, fmt.Errorf("become child subreaper: %w", err)
	}
	r := &reaper{own: map[int]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	go r.loop()
	return r, nil
}

// startChild starts cmd and remembers it as the soak's own.
func (r *reaper) startChild(cmd *exec.Cmd) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := cmd.Start(); err != nil {
		return err
	}
	r.own[cmd.Process.Pid] = true
	return nil
}

// forget is called once an own child was waited for.
func (r *reaper) forget(pid int) {
	r.mu.Lock()
	delete(r.own, pid)
	r.mu.Unlock()
}

func (r *reaper) loop() {
	defer close(r.done)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		r.reapZombies()
		select {
		case <-r.stop:
			r.reapZombies()
			return
		case <-t.C:
		}
	}
}

// reapZombies waits for every zombie child that is not the soak's own.
func (r *reaper) reapZombies() {
	procs, err := listProcs()
	if err != nil {
		return
	}
	self := os.Getpid()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range procs {
		if p.ppid != self || p.state != 'Z' || r.own[p.pid] {
			continue
		}
		var ws unix.WaitStatus
		if pid, err := unix.Wait4(p.pid, &ws, unix.WNOHANG, nil); err == nil && pid == p.pid {
			r.reaped++
		}
	}
}

// Close stops reaping and gives up being the subreaper.
func (r *reaper) Close() error {
	close(r.stop)
	<-r.done
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("stop being child subreaper: %w", err)
	}
	return nil
}

// proc is one process from /proc/PID/stat.
type proc struct {
	pid, ppid int
	state     byte
	comm      string
}

// listProcs reads every process of the machine.
func listProcs() ([]proc, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var out []proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		s := string(b)
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closing < open || closing+4 > len(s) {
			continue
		}
		fields := strings.Fields(s[closing+2:])
		if len(fields) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		out = append(out, proc{pid: pid, ppid: ppid, state: fields[0][0], comm: s[open+1 : closing]})
	}
	return out, nil
}

// descendants returns the live (not zombie) processes below root.
func descendants(procs []proc, root int) []proc {
	children := map[int][]proc{}
	for _, p := range procs {
		children[p.ppid] = append(children[p.ppid], p)
	}
	var out []proc
	var walk func(int)
	walk = func(pid int) {
		for _, c := range children[pid] {
			if c.state != 'Z' {
				out = append(out, c)
			}
			walk(c.pid)
		}
	}
	walk(root)
	return out
}

// resources is what the server holds at one moment.
type resources struct {
	// children are the running server's live descendant processes.
	children []proc
	// orphans are live processes below the soak that are neither the
	// running server nor below it: left behind by a killed server.
	orphans []proc
	// cgroups counts cgroup directories per owner tree of every server
	// incarnation (the tree named pid<P>-start<T>-ns<N>-<seq>, in every
	// hierarchy, itself included).
	cgroups map[string]int
	// fds is the number of the running server's open file descriptors;
	// fdKinds counts them by what they point at (see fdKind).
	fds     int
	fdKinds map[string]int
	// spool lists the files in <data-dir>/spool.
	spool []string
	// rss is the running server's resident memory in bytes.
	rss int64
	// envs is /healthz's count of execution environments (-1 if unread).
	envs int
}

// liveCgroups sums the directories of the running server's trees.
func (r resources) liveCgroups(pid int) int {
	n := 0
	for name, c := range r.cgroups {
		if strings.HasPrefix(name, fmt.Sprintf("pid%d-", pid)) {
			n += c
		}
	}
	return n
}

// deadCgroups lists the trees of incarnations other than pid that still
// exist, with their directory counts.
func (r resources) deadCgroups(pid int) []string {
	var out []string
	for name, c := range r.cgroups {
		if pid == 0 || !strings.HasPrefix(name, fmt.Sprintf("pid%d-", pid)) {
			out = append(out, fmt.Sprintf("%s (%d dirs)", name, c))
		}
	}
	slices.Sort(out)
	return out
}

// measure takes a snapshot of what the server (pid, 0 when none runs)
// and the incarnations with pids holds.
func measure(ctx context.Context, base string, pid int, pids []int, dataDir string) (resources, error) {
	var res resources
	procs, err := listProcs()
	if err != nil {
		return res, fmt.Errorf("list processes: %w", err)
	}
	if pid != 0 {
		res.children = descendants(procs, pid)
	}
	for _, p := range descendants(procs, os.Getpid()) {
		if p.pid == pid || slices.ContainsFunc(res.children, func(c proc) bool { return c.pid == p.pid }) {
			continue
		}
		res.orphans = append(res.orphans, p)
	}
	res.cgroups, err = ownerCgroups(pids)
	if err != nil {
		return res, err
	}
	if pid != 0 {
		dir := fmt.Sprintf("/proc/%d/fd", pid)
		ents, err := os.ReadDir(dir)
		if err != nil {
			return res, fmt.Errorf("fds of the server: %w", err)
		}
		res.fds = len(ents)
		res.rss, _ = readRSS(pid)
		res.fdKinds = map[string]int{}
		for _, e := range ents {
			target, err := os.Readlink(filepath.Join(dir, e.Name()))
			if err != nil {
				continue // closed meanwhile
			}
			res.fdKinds[fdKind(target, dataDir)]++
		}
	}
	ents, err := os.ReadDir(filepath.Join(dataDir, "spool"))
	if err != nil && !os.IsNotExist(err) {
		return res, fmt.Errorf("spool dir: %w", err)
	}
	for _, e := range ents {
		res.spool = append(res.spool, e.Name())
	}
	res.envs = -1
	if pid != 0 {
		if h, err := healthz(ctx, base); err == nil {
			res.envs = h.envs
		}
	}
	return res, nil
}

// fdKind names what a descriptor points at without what changes from
// one moment to the next: "socket", "pipe", "anon_inode:[eventpoll]", or
// a path with the data dir written <data-dir> and each run of digits
// written N (JetStream's message blocks: msgs/N.blk; a pre-started
// sandbox's cgroup: .zygote-N-N).
func fdKind(target, dataDir string) string {
	kind, _, _ := strings.Cut(target, ":[")
	if kind == "socket" || kind == "pipe" {
		return kind
	}
	if strings.HasPrefix(target, "anon_inode:") {
		return target
	}
	dir, rest, ok := strings.Cut(target, dataDir)
	if ok && dir == "" {
		return "<data-dir>" + digits.ReplaceAllString(rest, "N")
	}
	return digits.ReplaceAllString(target, "N")
}

// digits matches a run of decimal digits.
var digits = regexp.MustCompile(`[0-9]+`)

// fdGrowth lists the kinds of descriptor end holds more of than base.
func fdGrowth(base, end map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(end)) {
		if d := end[k] - base[k]; d > 0 {
			parts = append(parts, fmt.Sprintf("+%d %s", d, k))
		}
	}
	return strings.Join(parts, ", ")
}

// ownerCgroups finds, in every mounted cgroup hierarchy, the trees owned by
// the servers with pids and counts the directories in each.
func ownerCgroups(pids []int) (map[string]int, error) {
	mounts, err := cgroupMounts()
	if err != nil {
		return nil, err
	}
	prefixes := make([]string, len(pids))
	for i, p := range pids {
		prefixes[i] = fmt.Sprintf("pid%d-start", p)
	}
	out := map[string]int{}
	for _, m := range mounts {
		_ = filepath.WalkDir(m, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			if depth := strings.Count(strings.TrimPrefix(path, m), "/"); depth > 8 {
				return filepath.SkipDir
			}
			name := d.Name()
			if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(name, p) }) {
				return nil
			}
			n := 0
			_ = filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
				if err == nil && d.IsDir() {
					n++
				}
				return nil
			})
			out[name] += n
			return filepath.SkipDir
		})
	}
	return out, nil
}

// cgroupMounts lists the mount points of cgroup and cgroup2 file systems.
func cgroupMounts() ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPER
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		fsType, _, _ := strings.Cut(post, " ")
		fields := strings.Fields(pre)
		if (fsType == "cgroup" || fsType == "cgroup2") && len(fields) > 4 {
			out = append(out, fields[4])
		}
	}
	return out, sc.Err()
}

// procNames formats processes for a report.
func procNames(ps []proc) string {
	if len(ps) == 0 {
		return "none"
	}
	var parts []string
	for _, p := range ps {
		parts = append(parts, fmt.Sprintf("%s[%d]", p.comm, p.pid))
	}
	return strings.Join(parts, " ")
}

// raiseFileLimit sets the soft open-file limit to the hard one: the soak
// holds a connection per slot of the server's connection cap.
func raiseFileLimit() error {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return err
	}
	rl.Cur = rl.Max
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
}

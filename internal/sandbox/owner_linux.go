package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
)

// owner identifies the Manager that created a cgroup tree, and through it
// the server process: every Manager keeps its sandboxes' cgroups under a
// directory of its own named by [owner.name], beneath the parent cgroup
// that all Managers with the same [Config.CgroupName] share. The name
// carries everything a later server needs to tell whether the owner still
// runs, so no record outside the cgroup file system is needed and a data
// directory that was deleted in the meantime (tests) does not matter.
//
// A process ID alone is not enough, since IDs are reused; together with
// the process's start time (clock ticks since boot, /proc/PID/stat field
// 22) it names one process for the life of the machine, and cgroups do
// not outlive a reboot. The pid namespace (the inode of /proc/self/ns/pid)
// says which processes the ID counts among: a server in another pid
// namespace that shares the cgroup hierarchy cannot be judged from here,
// so its trees are never touched. seq tells apart the Managers of one
// process (tests start many).
type owner struct {
	pid   int
	start uint64 // start time of pid in clock ticks after boot
	ns    uint64 // inode of the pid namespace pid lives in
	seq   uint64 // Manager number within the process, from 1
}

// ownerSeq numbers the Managers of this process.
var ownerSeq atomic.Uint64

// name is the owner's cgroup directory name. It starts with "pid", so it
// never parses as anything else an updraft server creates beside it.
func (o owner) name() string {
	return fmt.Sprintf("pid%d-start%d-ns%d-%d", o.pid, o.start, o.ns, o.seq)
}

// parseOwner reads a directory name written by [owner.name]; names that
// do not round-trip exactly are not owners.
func parseOwner(name string) (owner, bool) {
	var o owner
	if _, err := fmt.Sscanf(name, "pid%d-start%d-ns%d-%d", &o.pid, &o.start, &o.ns, &o.seq); err != nil {
		return owner{}, false
	}
	if o.pid <= 0 || o.name() != name {
		return owner{}, false
	}
	return o, true
}

// selfOwner returns a new owner for a Manager of this process.
func selfOwner() (owner, error) {
	pid := os.Getpid()
	info, err := readProcStat(pid)
	if err != nil {
		return owner{}, err
	}
	ns, err := pidNamespace()
	if err != nil {
		return owner{}, err
	}
	return owner{pid: pid, start: info.start, ns: ns, seq: ownerSeq.Add(1)}, nil
}

// pidNamespace returns the inode of this process's pid namespace.
func pidNamespace() (uint64, error) {
	fi, err := os.Stat("/proc/self/ns/pid")
	if err != nil {
		return 0, fmt.Errorf("sandbox: pid namespace: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, errors.New("sandbox: pid namespace: no inode")
	}
	return st.Ino, nil
}

// procInfo is what the owner decision needs to know about a process ID.
type procInfo struct {
	exists bool
	start  uint64 // clock ticks after boot
	zombie bool   // exited, waiting for its parent to collect it
}

// readProcStat reads /proc/PID/stat; a missing process is not an error.
func readProcStat(pid int) (procInfo, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		return procInfo{}, nil
	}
	if err != nil {
		return procInfo{}, fmt.Errorf("sandbox: read process %d: %w", pid, err)
	}
	return parseProcStat(string(b))
}

// parseProcStat extracts state and start time from /proc/PID/stat
// content. The command name (field 2) may hold spaces and parentheses, so
// fields are counted from the last ')'.
func parseProcStat(s string) (procInfo, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procInfo{}, errors.New("sandbox: parse process stat: no command name")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 { // f[0] is field 3 (state), f[19] field 22 (starttime)
		return procInfo{}, errors.New("sandbox: parse process stat: too few fields")
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return procInfo{}, fmt.Errorf("sandbox: parse process stat: %w", err)
	}
	return procInfo{exists: true, start: start, zombie: f[0] == "Z" || f[0] == "X"}, nil
}

// ownerState is the verdict on a cgroup tree's owner.
type ownerState int

const (
	// ownerLive: the owner runs (or may run); its trees are left alone.
	ownerLive ownerState = iota
	// ownerDead: the owner process is gone; its trees may be reaped.
	ownerDead
	// ownerUnknown: the owner cannot be judged from here (another pid
	// namespace, /proc unreadable); its trees are left alone.
	ownerUnknown
)

func (s ownerState) String() string {
	switch s {
	case ownerLive:
		return "live"
	case ownerDead:
		return "dead"
	default:
		return "unknown"
	}
}

// judgeOwner decides whether o, seen from the Manager self, is dead. Only
// certainty counts as dead: the process ID is unused, or used by a process
// that started at another time (the ID was reused), or its process has
// exited and waits to be collected (a zombie never runs again; Go never
// lets the main thread exit alone, so a zombie updraft has no threads
// left). Every doubt keeps the tree. A Manager never judges the trees of
// its own process dead: they belong to Managers that are running or were
// closed and removed their trees.
func judgeOwner(o, self owner, probe func(pid int) (procInfo, error)) ownerState {
	if o.ns != self.ns {
		return ownerUnknown
	}
	if o.pid == self.pid && o.start == self.start {
		return ownerLive
	}
	p, err := probe(o.pid)
	switch {
	case err != nil:
		return ownerUnknown
	case !p.exists, p.start != o.start, p.zombie:
		return ownerDead
	}
	return ownerLive
}

//go:build linux

package sandbox

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// memWatcher samples memory of running sandboxes every interval: the RSS
// of basic-mode process trees (one /proc scan per tick shared by all of
// them, since this kernel may lack /proc/PID/task/TID/children) and
// memory.current of v2 cgroups without memory.peak. Frozen sandboxes are
// skipped, so idle warm environments cost nothing, and with nothing
// registered the goroutine sleeps until add wakes it.
type memWatcher struct {
	interval time.Duration
	pageSize uint64

	mu    sync.Mutex
	procs map[*Process]struct{} // guarded by mu

	wake chan struct{} // signalled by add, so an idle watcher does not tick
	stop chan struct{}
	wg   sync.WaitGroup
}

func newMemWatcher(interval time.Duration) *memWatcher {
	w := &memWatcher{
		interval: interval,
		pageSize: uint64(os.Getpagesize()),
		procs:    map[*Process]struct{}{},
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
	}
	w.wg.Add(1)
	go w.run()
	return w
}

// add registers p for sampling until remove.
func (w *memWatcher) add(p *Process) {
	w.mu.Lock()
	w.procs[p] = struct{}{}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// remove unregisters p.
func (w *memWatcher) remove(p *Process) {
	w.mu.Lock()
	delete(w.procs, p)
	w.mu.Unlock()
}

// close stops the watcher goroutine and waits for it.
func (w *memWatcher) close() {
	close(w.stop)
	w.wg.Wait()
}

func (w *memWatcher) run() {
	defer w.wg.Done()
	t := time.NewTicker(w.interval)
	defer t.Stop()
	var active []*Process
	for {
		w.mu.Lock()
		idle := len(w.procs) == 0
		w.mu.Unlock()
		if idle {
			t.Stop()
			select {
			case <-w.stop:
				return
			case <-w.wake:
			}
			t.Reset(w.interval)
		}
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		active = active[:0]
		needScan := false
		w.mu.Lock()
		for p := range w.procs {
			if p.frozen.Load() || p.killed.Load() {
				continue
			}
			active = append(active, p)
			needScan = needScan || p.cg == nil
		}
		w.mu.Unlock()
		var tab procTable
		if needScan {
			tab = scanProcs(w.pageSize)
		}
		for _, p := range active {
			p.sampleMemory(tab)
		}
	}
}

// procEntry is what the watcher needs from /proc/PID/stat.
type procEntry struct {
	pid, ppid, pgid int
	rss             uint64 // bytes
}

// procTable is one scan of /proc.
type procTable []procEntry

// scanProcs reads /proc/*/stat. Processes that vanish during the scan are
// skipped.
func scanProcs(pageSize uint64) procTable {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	_ = d.Close()
	tab := make(procTable, 0, len(names))
	buf := make([]byte, 0, 512)
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		b, err := readSmall("/proc/"+n+"/stat", buf)
		if err != nil {
			continue
		}
		if e, ok := parseStat(pid, b, pageSize); ok {
			tab = append(tab, e)
		}
	}
	return tab
}

// readSmall reads a small file into buf's storage. It uses the system
// calls directly: os.Open adds an fstat and an *os.File per file, which
// made the scan of /proc twice as expensive.
func readSmall(path string, buf []byte) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	for {
		n, err := unix.Read(fd, buf[:cap(buf)])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
}

// parseStat extracts ppid, pgrp and rss from a /proc/PID/stat line. The
// command name (field 2) may contain spaces and parentheses, so fields are
// counted from the last ')'.
func parseStat(pid int, b []byte, pageSize uint64) (procEntry, bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procEntry{}, false
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state); ppid is 4, pgrp 5, rss 24.
	if len(f) < 22 {
		return procEntry{}, false
	}
	ppid, err1 := strconv.Atoi(string(f[1]))
	pgid, err2 := strconv.Atoi(string(f[2]))
	rss, err3 := strconv.ParseUint(string(f[21]), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return procEntry{}, false
	}
	return procEntry{pid: pid, ppid: ppid, pgid: pgid, rss: rss * pageSize}, true
}

// groupRSS sums the RSS of every process in process group pgid and of
// every descendant of roots (which may have left the group), and returns
// those processes' pids.
func (t procTable) groupRSS(pgid int, roots []int) (uint64, []int) {
	in := make(map[int]bool, 8)
	for _, r := range roots {
		in[r] = true
	}
	// Descendants: repeat until no new member appears; trees are shallow.
	for changed := true; changed; {
		changed = false
		for _, e := range t {
			if !in[e.pid] && (e.pgid == pgid || in[e.ppid]) {
				in[e.pid] = true
				changed = true
			}
		}
	}
	var sum uint64
	members := make([]int, 0, len(in))
	for _, e := range t {
		if in[e.pid] {
			sum += e.rss
			members = append(members, e.pid)
		}
	}
	return sum, members
}

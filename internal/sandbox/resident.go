//go:build linux

package sandbox

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// hwmReader sums the peak resident set sizes (VmHWM) of a set of
// processes. It keeps each process's /proc/PID/status open and reads it
// with pread, one system call per process on the warm path instead of
// open, read and close; a descriptor stays bound to its process, so a
// recycled pid is never misread.
type hwmReader struct {
	mu     sync.Mutex
	fds    map[int]int // pid -> descriptor of /proc/PID/status
	buf    []byte
	closed bool

	procsPath string // the cgroup.procs file procsFD reads
	procsFD   int    // open descriptor of procsPath, or -1
}

// procs returns the pids listed in the cgroup.procs file at path, without
// skip. The file is kept open (a renamed v1 cgroup keeps its files).
func (r *hwmReader) procs(path string, skip int) []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	if r.procsPath != path {
		if r.procsPath != "" && r.procsFD >= 0 {
			_ = unix.Close(r.procsFD)
		}
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			fd = -1
		}
		r.procsPath, r.procsFD = path, fd
	}
	if r.procsFD < 0 {
		return nil
	}
	if r.buf == nil {
		r.buf = make([]byte, 4096)
	}
	n, err := preadFD(r.procsFD, r.buf)
	if err != nil || n <= 0 {
		return nil
	}
	return parseProcs(r.buf[:n], skip)
}

// sum returns the summed VmHWM of pids in bytes; processes that are gone
// or unreadable count 0. Descriptors of processes not in pids are closed.
func (r *hwmReader) sum(pids []int) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0
	}
	if r.fds == nil {
		r.fds = make(map[int]int, len(pids))
		r.buf = make([]byte, 4096)
	}
	for pid, fd := range r.fds {
		if !slices.Contains(pids, pid) {
			_ = unix.Close(fd)
			delete(r.fds, pid)
		}
	}
	var total uint64
	for _, pid := range pids {
		fd, ok := r.fds[pid]
		if !ok {
			var err error
			fd, err = unix.Open("/proc/"+strconv.Itoa(pid)+"/status", unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				continue
			}
			r.fds[pid] = fd
		}
		n, err := preadFD(fd, r.buf)
		if err != nil || n <= 0 {
			continue
		}
		total += parseHWM(r.buf[:n])
	}
	return total
}

// close releases every descriptor; sum returns 0 afterwards.
func (r *hwmReader) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for pid, fd := range r.fds {
		_ = unix.Close(fd)
		delete(r.fds, pid)
	}
	if r.procsPath != "" && r.procsFD >= 0 {
		_ = unix.Close(r.procsFD)
	}
	r.procsFD = -1
	r.closed = true
}

// preadFD reads from offset 0 of fd, retrying on EINTR.
func preadFD(fd int, b []byte) (int, error) {
	for {
		n, err := unix.Pread(fd, b, 0)
		if !errors.Is(err, unix.EINTR) {
			return n, err
		}
	}
}

// parseHWM returns the VmHWM line of a /proc/PID/status text in bytes, or
// 0 (a kernel thread or zombie has none).
func parseHWM(b []byte) uint64 {
	_, rest, ok := bytes.Cut(b, []byte("\nVmHWM:"))
	if !ok {
		return 0
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	fields := bytes.Fields(line) // "1234", "kB"
	if len(fields) == 0 {
		return 0
	}
	kb, err := strconv.ParseUint(string(fields[0]), 10, 64)
	if err != nil {
		return 0
	}
	return kb << 10
}

// parseProcs returns the pids listed in a cgroup.procs text, without skip.
func parseProcs(b []byte, skip int) []int {
	pids := make([]int, 0, 4)
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		pid, err := strconv.Atoi(string(bytes.TrimSpace(line)))
		if err == nil && pid != skip {
			pids = append(pids, pid)
		}
	}
	return pids
}

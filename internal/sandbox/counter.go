package sandbox

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"syscall"
)

// counterFile reads a numeric cgroup file that is consulted on every
// invocation (the memory peak for the REPORT line). The file stays open
// and is read with pread, one system call instead of open, read and
// close each time.
type counterFile struct {
	path string

	mu  sync.Mutex // guards f
	f   *os.File
	err error // the open error, kept so a missing file is not retried
}

// read returns the value, or 0 when the file cannot be read.
func (c *counterFile) read() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f == nil && c.err == nil {
		c.f, c.err = os.Open(c.path)
	}
	if c.f == nil {
		return 0
	}
	// One pread: the file is a few bytes, returned whole by the first
	// read; os.File.ReadAt would read again to fill the buffer and so cost
	// a second system call for the end of file.
	var buf [32]byte
	n, err := preadOnce(c.f, buf[:])
	if n <= 0 || err != nil {
		return 0
	}
	s := bytes.TrimSpace(buf[:n])
	v, perr := strconv.ParseUint(string(s), 10, 64)
	if perr != nil {
		return 0
	}
	return v
}

// rename points c at path before it is first read (a renamed cgroup).
func (c *counterFile) rename(path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.path = path
}

// close releases the descriptor; read reopens only if close was not called.
func (c *counterFile) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f != nil {
		_ = c.f.Close()
		c.f = nil
	}
	c.err = os.ErrClosed
}

// preadOnce reads from offset 0 of f with a single pread.
func preadOnce(f *os.File, b []byte) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var rerr error
	if err := rc.Read(func(fd uintptr) bool {
		for {
			n, rerr = syscall.Pread(int(fd), b, 0)
			if rerr != syscall.EINTR {
				return true
			}
		}
	}); err != nil {
		return 0, err
	}
	return n, rerr
}

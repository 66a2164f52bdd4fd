package sandbox

import (
	"bytes"
	"os"
	"strconv"
	"sync"
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
	var buf [32]byte
	n, err := c.f.ReadAt(buf[:], 0)
	if n == 0 && err != nil {
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

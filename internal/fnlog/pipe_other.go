//go:build !linux

package fnlog

import (
	"io"
	"syscall"
	"time"
)

// rawPipe returns nil: outside Linux attached pipes use the portable loop
// and Flush cannot see bytes still in the pipe.
func rawPipe(io.Reader) syscall.RawConn { return nil }

// readRaw is never called outside Linux.
func (p *pipe) readRaw() { p.readPlain() }

// drain is never called outside Linux.
func (p *pipe) drain(time.Time) {}

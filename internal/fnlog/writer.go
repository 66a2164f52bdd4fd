package fnlog

import (
	"io"
	"sync"
	"sync/atomic"
	"syscall"
)

// lineWriter is the io.Writer behind [Env.Stdout], [Env.Stderr] and each
// attached pipe: it splits bytes into lines and hands them to its Env.
type lineWriter struct {
	e    *Env
	busy atomic.Int32 // Write calls in progress, for Flush

	mu sync.Mutex // held before Env.mu, never after
	sp splitter   // guarded by mu
}

// Write splits p into lines and emits the complete ones. It never fails.
func (w *lineWriter) Write(p []byte) (int, error) {
	w.busy.Add(1)
	w.mu.Lock()
	w.sp.write(p, w.e.emitBytes)
	w.mu.Unlock()
	w.busy.Add(-1)
	w.e.progress()
	return len(p), nil
}

// flushPartial emits the unterminated line, if any.
func (w *lineWriter) flushPartial() {
	w.mu.Lock()
	w.sp.flush(w.e.emitBytes)
	w.mu.Unlock()
}

// pipe is a reader given to [Env.Attach] and the goroutine reading it.
type pipe struct {
	w    *lineWriter
	r    io.Reader
	raw  syscall.RawConn // non-nil when Flush can read the pipe itself (Linux)
	buf  []byte          // read buffer on the raw path; contents guarded by w.mu
	done chan struct{}   // closed when the reading goroutine has ended
}

// readBufSize is the read size of attached pipes (the pipe capacity on Linux
// is 64 KiB by default).
const readBufSize = 32 << 10

// run reads the pipe until end of file or error, then emits the unterminated
// last line and closes the reader.
func (p *pipe) run() {
	defer close(p.done)
	if p.raw != nil {
		p.readRaw()
	} else {
		p.readPlain()
	}
	p.w.flushPartial()
	_ = p.close()
}

// readPlain is the portable reading loop: Flush can only wait for the Write
// in progress.
func (p *pipe) readPlain() {
	buf := make([]byte, readBufSize)
	for {
		n, err := p.r.Read(buf)
		if n > 0 {
			_, _ = p.w.Write(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

// close closes the reader if it can be closed; closing twice is no error.
func (p *pipe) close() error {
	c, ok := p.r.(io.Closer)
	if !ok {
		return nil
	}
	if err := c.Close(); err != nil && !isClosedErr(err) {
		return err
	}
	return nil
}

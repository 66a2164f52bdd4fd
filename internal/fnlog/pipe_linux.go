package fnlog

import (
	"io"
	"syscall"
	"time"
	"unsafe"
)

// rawPipe returns the raw connection of r when r is a non-blocking file
// descriptor (a pipe from os.Pipe or exec.Cmd.StdoutPipe), or nil.
func rawPipe(r io.Reader) syscall.RawConn {
	sc, ok := r.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	nonblock := false
	err = rc.Control(func(fd uintptr) {
		fl, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		nonblock = errno == 0 && fl&syscall.O_NONBLOCK != 0
	})
	if err != nil || !nonblock {
		return nil
	}
	return rc
}

// readRaw is the reading loop on Linux. Each read(2) and the processing of
// its bytes happen under p.w.mu, the lock drain also holds, so bytes are
// emitted in pipe order whoever reads them, and no byte is ever "read but
// not yet emitted" while Flush looks at the pipe.
func (p *pipe) readRaw() {
	eof := false
	for !eof {
		err := p.raw.Read(func(fd uintptr) bool {
			p.w.mu.Lock()
			defer p.w.mu.Unlock()
			for {
				n, err := syscall.Read(int(fd), p.buf)
				switch {
				case err == syscall.EINTR:
					continue
				case err == syscall.EAGAIN:
					return false // park until readable
				case err != nil || n <= 0:
					eof = true
					return true
				}
				p.w.sp.write(p.buf[:n], p.w.e.emitBytes)
				return true
			}
		})
		if err != nil { // closed by Env.Close
			return
		}
	}
}

// drain reads and emits what the pipe holds now, asking the kernel how much
// that is (FIONREAD) so that the read never blocks. It stops after
// flushBudget bytes or at the deadline.
func (p *pipe) drain(deadline time.Time) {
	_ = p.raw.Control(func(fd uintptr) {
		p.w.mu.Lock()
		defer p.w.mu.Unlock()
		for read := 0; read < flushBudget; {
			avail := fionread(fd)
			if avail <= 0 {
				return
			}
			n, err := syscall.Read(int(fd), p.buf[:min(avail, len(p.buf))])
			if err == syscall.EINTR {
				continue
			}
			if err != nil || n <= 0 {
				return
			}
			p.w.sp.write(p.buf[:n], p.w.e.emitBytes)
			read += n
			if time.Now().After(deadline) {
				return
			}
		}
	})
}

// fionread returns the number of bytes waiting in the pipe fd, or -1.
func fionread(fd uintptr) int {
	var n int32
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
	if errno != 0 {
		return -1
	}
	return int(n)
}

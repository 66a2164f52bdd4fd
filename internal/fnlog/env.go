package fnlog

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// FlushTimeout bounds how long [Env.Flush] (and so [Env.End] and [Env.Line])
// may take: the time spent reading attached pipes that keep filling, plus the
// wait for Write calls in progress on [Env.Stdout] / [Env.Stderr] writers. It
// is only ever spent when output is actually pending.
const FlushTimeout = 5 * time.Millisecond

// flushBudget caps the bytes Flush reads from one attached pipe, so that a
// function that writes without pause cannot keep End busy.
const flushBudget = 1 << 20

// closeDrain is how long [Env.Close] lets attached pipes reach end of file
// on their own before it closes them, and then how long it waits again.
const closeDrain = 100 * time.Millisecond

// errPipeStuck reports a pipe whose reader did not return after being closed.
var errPipeStuck = errors.New("fnlog: pipe reader did not stop")

// Env is one execution environment's log capture: it turns the output of the
// runtime and extensions into records attributed to the invocation in
// progress, frames invocations with START, END and REPORT, and keeps the tail
// of the current invocation. All methods are safe for concurrent use; Begin
// and End are meant to be called by the one goroutine that runs invocations
// in the environment.
type Env struct {
	sink     Sink
	function string
	version  string
	stream   string
	now      func() time.Time // clock for record times; tests replace it

	// begun is set by the first Begin, which flushes the init output.
	begun atomic.Bool

	mu        sync.Mutex
	requestID string // guarded by mu; "" between invocations
	active    bool   // guarded by mu; the tail records (between Begin and End)
	tail      ring   // guarded by mu
	closed    bool   // guarded by mu

	// writers and pipes are copy-on-write lists, replaced under mu, so that
	// Flush and End read them without locking.
	writers atomic.Pointer[[]*lineWriter]
	pipes   atomic.Pointer[[]*pipe]

	waiting atomic.Bool   // a Flush waits for writers; see progress
	wakeMu  sync.Mutex    // leaf lock
	wake    chan struct{} // guarded by wakeMu; closed when a Write ends
}

// NewEnv returns the log capture of a new execution environment of the given
// function version, with a fresh log stream name (see [Env.Stream]). A nil
// sink discards records, which still leaves the tail working.
func NewEnv(sink Sink, function, version string) *Env {
	if sink == nil {
		sink = discard{}
	}
	return &Env{
		sink:     sink,
		function: function,
		version:  version,
		stream:   StreamName(time.Now(), version),
		now:      time.Now,
	}
}

// Stream returns the environment's log stream name, for the
// AWS_LAMBDA_LOG_STREAM_NAME variable.
func (e *Env) Stream() string { return e.stream }

// Stdout returns a line-splitting writer for a runtime's or extension's
// standard output. Each call returns a new writer with its own partial-line
// buffer: give each pipe its own (exec.Cmd with the same writer as Stdout and
// Stderr is fine, it then uses one pipe). A writer is safe for concurrent
// use, but writers shared by several pipes may mix their partial lines.
// Writes never fail and do not block on the sink. Prefer [Env.Attach], which
// lets [Env.Flush] see bytes still in the pipe.
func (e *Env) Stdout() io.Writer { return e.newWriter() }

// Stderr is like [Env.Stdout], for standard error. Lambda does not tell the
// two apart in its logs and neither does fnlog.
func (e *Env) Stderr() io.Writer { return e.newWriter() }

// Attach takes ownership of r, the read end of a pipe fed by a runtime or an
// extension, and reads it in a goroutine until end of file, then closes it
// if it is an [io.Closer]. On Linux, when r is a non-blocking *os.File (as
// returned by os.Pipe and exec.Cmd.StdoutPipe), [Env.Flush] reads what is
// left in the pipe itself, so output written before End is never late. The
// goroutine ends at end of file or in [Env.Close].
//
// The intended wiring is an os.Pipe per stream: the write end becomes
// exec.Cmd.Stdout (a *os.File, so exec starts no copying goroutine) and is
// closed in the parent after Start; the read end goes to Attach. With
// exec.Cmd.StdoutPipe instead, call [Env.Close] before cmd.Wait, which
// closes the pipe.
func (e *Env) Attach(r io.Reader) {
	p := &pipe{w: e.newWriter(), r: r, raw: rawPipe(r), done: make(chan struct{})}
	if p.raw != nil {
		p.buf = make([]byte, readBufSize)
	}
	e.mu.Lock()
	e.pipes.Store(appendCOW(e.pipes.Load(), p))
	e.mu.Unlock()
	go p.run()
}

// Begin starts an invocation: it writes the START line with version (the
// environment's version when empty), resets the tail and attributes the
// following lines to requestID.
func (e *Env) Begin(requestID, version string) {
	if version == "" {
		version = e.version
	}
	line := StartLine(requestID, version)
	if !e.begun.Load() {
		// What the init phase printed must stay before the first START;
		// later invocations need no flush: End drained the pipes.
		e.begun.Store(true)
		e.Flush()
	}
	e.mu.Lock()
	e.requestID = requestID
	e.tail.reset()
	e.active = true
	e.emitLocked(line, true, 0)
	e.mu.Unlock()
}

// End finishes the invocation: it calls [Env.Flush], emits the unterminated
// last line of every writer, writes the END and REPORT lines (the REPORT
// with the count of the function's lines dropped since its last REPORT,
// when the sink is a [DropCounter] and it is not zero), stops the
// attribution and returns the last [TailSize] bytes of the invocation's log,
// START to REPORT inclusive, one line per newline. The caller owns the
// returned slice.
func (e *Env) End(r Report) (tail []byte) {
	e.Flush()
	e.flushPartial()
	e.mu.Lock()
	defer e.mu.Unlock()
	if r.RequestID == "" {
		r.RequestID = e.requestID
	}
	if !e.active { // End without Begin: the tail still ends with REPORT
		e.tail.reset()
		e.active = true
	}
	if dc, ok := e.sink.(DropCounter); ok {
		r.DroppedLines = dc.TakeDropped(e.function)
	}
	e.emitLocked(EndLine(r.RequestID), true, 0)
	e.emitLocked(FormatReport(r), true, r.DroppedLines)
	tail = e.tail.bytes()
	e.requestID = ""
	e.active = false
	e.tail.reset()
	return tail
}

// Line writes a platform line, such as [TimeoutLine], attributed like
// function output. It calls [Env.Flush] first so that it follows what the
// function printed before. A msg with newlines becomes several lines.
func (e *Env) Line(msg string) {
	e.Flush()
	e.mu.Lock()
	defer e.mu.Unlock()
	for line := range strings.SplitSeq(msg, "\n") {
		e.emitLocked(line, true, 0)
	}
}

// Flush makes output already written to the pipes be processed, within
// [FlushTimeout]: attached pipes (see [Env.Attach]) are read until empty
// (at most 1 MiB each), then Flush waits for Write calls in progress on
// [Env.Stdout] / [Env.Stderr] writers. When nothing is pending it costs one
// ioctl per attached pipe and does not wait. It does not emit unterminated
// lines; End does.
func (e *Env) Flush() {
	deadline := time.Now().Add(FlushTimeout)
	if ps := e.pipes.Load(); ps != nil {
		for _, p := range *ps {
			if p.raw != nil {
				p.drain(deadline)
			}
		}
	}
	e.waitWriters(deadline)
}

// Close ends the capture when the environment is torn down, after its
// processes have exited: it lets attached pipes drain to end of file for up
// to 100 ms, closes those still open (a grandchild may hold the write end)
// and waits up to 100 ms more, then emits every unterminated last line.
// Close is idempotent; records may still be written afterwards.
func (e *Env) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.mu.Unlock()

	var errs []error
	if ps := e.pipes.Load(); ps != nil {
		deadline := time.Now().Add(closeDrain)
		for _, p := range *ps {
			if waitDone(p.done, time.Until(deadline)) {
				continue
			}
			if err := p.close(); err != nil {
				errs = append(errs, fmt.Errorf("fnlog: close pipe: %w", err))
			}
			if !waitDone(p.done, closeDrain) {
				errs = append(errs, errPipeStuck)
			}
		}
	}
	e.flushPartial()
	return errors.Join(errs...)
}

// newWriter registers a new line writer.
func (e *Env) newWriter() *lineWriter {
	w := &lineWriter{e: e, sp: splitter{max: MaxLineSize}}
	e.mu.Lock()
	e.writers.Store(appendCOW(e.writers.Load(), w))
	e.mu.Unlock()
	return w
}

// flushPartial emits the unterminated line of every writer.
func (e *Env) flushPartial() {
	if ws := e.writers.Load(); ws != nil {
		for _, w := range *ws {
			w.flushPartial()
		}
	}
}

// emitBytes publishes one line of output.
func (e *Env) emitBytes(line []byte) {
	msg := string(line)
	e.mu.Lock()
	e.emitLocked(msg, false, 0)
	e.mu.Unlock()
}

// emitLocked publishes one line, attributed to the current request, and adds
// it to the tail while an invocation is in progress. platform marks the
// platform's own lines; reports is the count of dropped lines msg reports.
func (e *Env) emitLocked(msg string, platform bool, reports uint64) {
	e.sink.Publish(Record{
		Time:      e.now().UTC(),
		Function:  e.function,
		Version:   e.version,
		Stream:    e.stream,
		RequestID: e.requestID,
		Message:   msg,
		platform:  platform,
		reports:   reports,
	})
	if e.active {
		e.tail.writeString(msg)
		e.tail.writeString("\n")
	}
}

// waitWriters waits until no Write call is in progress, or the deadline.
func (e *Env) waitWriters(deadline time.Time) {
	if !e.writersBusy() {
		return
	}
	for {
		e.wakeMu.Lock()
		if e.wake == nil {
			e.wake = make(chan struct{})
		}
		ch := e.wake
		e.waiting.Store(true)
		e.wakeMu.Unlock()
		// Re-check after registering, so a Write ending in between is seen.
		if !e.writersBusy() {
			return
		}
		if !waitDone(ch, time.Until(deadline)) {
			return
		}
	}
}

// writersBusy reports whether a Write call is in progress on any writer.
func (e *Env) writersBusy() bool {
	if ws := e.writers.Load(); ws != nil {
		for _, w := range *ws {
			if w.busy.Load() > 0 {
				return true
			}
		}
	}
	return false
}

// progress wakes waitWriters after a Write ended. It costs one atomic load
// when nobody waits.
func (e *Env) progress() {
	if !e.waiting.Load() {
		return
	}
	e.wakeMu.Lock()
	if e.wake != nil {
		close(e.wake)
		e.wake = nil
	}
	e.waiting.Store(false)
	e.wakeMu.Unlock()
}

// waitDone reports whether ch is closed within d.
func waitDone(ch <-chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	default:
	}
	if d <= 0 {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

// appendCOW returns a new slice holding the elements of *old and v.
func appendCOW[T any](old *[]T, v T) *[]T {
	var s []T
	if old != nil {
		s = make([]T, 0, len(*old)+1)
		s = append(s, *old...)
	}
	s = append(s, v)
	return &s
}

// isClosedErr reports whether err says the file was already closed.
func isClosedErr(err error) bool { return errors.Is(err, os.ErrClosed) }

package fnlog

import (
	"time"
)

// Sizes of the log pipeline.
const (
	// TailSize is the size of the LogType: Tail excerpt: Lambda returns the
	// last 4 KB of the execution log in X-Amz-Log-Result.
	TailSize = 4096
	// MaxLineSize is the longest line kept whole; longer lines are cut into
	// pieces of at most this many bytes (at a UTF-8 boundary when possible).
	// CloudWatch Logs caps an event at 256 KB.
	MaxLineSize = 256 << 10
)

// Record is one line of function log: a line printed by the runtime or an
// extension, or a platform line (START, END, REPORT, timeout).
type Record struct {
	// Time is when the line was complete, UTC.
	Time time.Time `json:"time"`
	// Function is the function name.
	Function string `json:"function"`
	// Version is the function version the environment runs ("$LATEST" or a
	// number).
	Version string `json:"version"`
	// Stream is the log stream name of the environment, see [StreamName].
	Stream string `json:"stream"`
	// RequestID is the invocation the line belongs to; empty for lines
	// printed between invocations.
	RequestID string `json:"requestId,omitempty"`
	// Message is the line without its newline.
	Message string `json:"message"`

	// platform marks START, END, REPORT and other platform lines, which
	// a sink admits past a function's buffer (within a small reserve) so
	// that the count of dropped lines a REPORT carries is not lost.
	platform bool
	// reports is the number of dropped lines this record's message
	// reports (a REPORT's "Dropped Log Lines"); a sink that loses the
	// record counts them as dropped again, for the next REPORT.
	reports uint64
}

// Sink receives records. Publish is called on the warm-invoke path, with an
// [Env]'s lock held, so it must not block: a sink that cannot keep up drops.
type Sink interface {
	Publish(rec Record)
}

// DropCounter is implemented by sinks that drop records: [Env.End] takes
// the count of a function's lines dropped since its last REPORT and writes
// it into the REPORT line (see [Report.DroppedLines]).
type DropCounter interface {
	// TakeDropped returns how many of function's lines were dropped
	// since the last call, and resets that count.
	TakeDropped(function string) uint64
}

// discard is the Sink used when [NewEnv] is given none.
type discard struct{}

func (discard) Publish(Record) {}

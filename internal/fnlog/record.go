package fnlog

import (
	"strings"
	"time"

	"github.com/updraft/updraft/internal/store"
)

// Sizes and names of the log pipeline.
const (
	// LogsStream is the JetStream stream holding function logs. The store
	// package defines and creates it with the subjects SubjectPrefix + ">".
	LogsStream = store.StreamLogs
	// SubjectPrefix is followed by the function name in a record's subject.
	SubjectPrefix = store.SubjectLogsPrefix
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
}

// Sink receives records. Publish is called on the warm-invoke path, with an
// [Env]'s lock held, so it must not block: a sink that cannot keep up drops.
type Sink interface {
	Publish(rec Record)
}

// Subject returns the JetStream subject of a function's records. Lambda
// function names contain only letters, digits, '-' and '_'; any character
// that would break a NATS subject token is replaced by '_'.
func Subject(function string) string {
	if function == "" {
		return SubjectPrefix + "_"
	}
	return SubjectPrefix + strings.Map(func(r rune) rune {
		switch r {
		case '.', '*', '>', ' ', '\t', '\r', '\n':
			return '_'
		}
		return r
	}, function)
}

// discard is the Sink used when [NewEnv] is given none.
type discard struct{}

func (discard) Publish(Record) {}

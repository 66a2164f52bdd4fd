package fnlog

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"time"
)

// Report holds the figures of one invocation's REPORT line.
type Report struct {
	// RequestID is the invocation's request ID. Empty means the one given to
	// the last [Env.Begin].
	RequestID string
	// Duration is the invoke phase, from the event handed to the runtime to
	// the runtime and all extensions being done.
	Duration time.Duration
	// MemorySizeMB is the function's configured memory.
	MemorySizeMB int
	// MaxMemoryUsedMB is the peak memory of the environment so far.
	MaxMemoryUsedMB int
	// InitDuration is the init phase of a cold start; 0 (a warm start) omits
	// the field.
	InitDuration time.Duration
	// Status is "" for a normal end, or "timeout" or "error" for the newer
	// Status field; empty omits it.
	Status string
	// ErrorType is the newer "Error Type" field (e.g. "Runtime.ExitError")
	// that follows Status on failures; empty omits it.
	ErrorType string
	// DroppedLines is how many lines of the function's log were lost
	// since its previous REPORT (its buffer was full, or the store
	// refused them); updraft's own "Dropped Log Lines" field, last, and
	// omitted when 0. [Env.End] fills it in.
	DroppedLines uint64
}

// StartLine returns the START line of an invocation, e.g.
// "START RequestId: 8476a536-e9f4-11e8-9739-2dfe598c3fcd Version: $LATEST".
func StartLine(requestID, version string) string {
	return "START RequestId: " + requestID + " Version: " + version
}

// EndLine returns the END line of an invocation, e.g.
// "END RequestId: 8476a536-e9f4-11e8-9739-2dfe598c3fcd".
func EndLine(requestID string) string {
	return "END RequestId: " + requestID
}

// FormatReport returns the REPORT line in Lambda's format: fields separated
// and terminated by TABs, durations in milliseconds with two decimals, billed
// duration rounded up to the next millisecond (at least 1 ms; Lambda has
// billed per 1 ms since December 2020), Init Duration only on cold starts,
// then the optional Status and Error Type fields of newer platforms, then
// updraft's own Dropped Log Lines when lines were lost:
//
//	REPORT RequestId: <id>\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 20 MB\tInit Duration: 4.56 ms\t
//
// Billed Duration covers the invoke phase only; Init Duration is reported
// separately, as Lambda shows it.
func FormatReport(r Report) string {
	b := make([]byte, 0, 160+len(r.RequestID))
	b = append(b, "REPORT RequestId: "...)
	b = append(b, r.RequestID...)
	b = append(b, "\tDuration: "...)
	b = appendMillis(b, r.Duration)
	b = append(b, " ms\tBilled Duration: "...)
	b = strconv.AppendInt(b, billedMillis(r.Duration), 10)
	b = append(b, " ms\tMemory Size: "...)
	b = strconv.AppendInt(b, int64(r.MemorySizeMB), 10)
	b = append(b, " MB\tMax Memory Used: "...)
	b = strconv.AppendInt(b, int64(r.MaxMemoryUsedMB), 10)
	b = append(b, " MB\t"...)
	if r.InitDuration > 0 {
		b = append(b, "Init Duration: "...)
		b = appendMillis(b, r.InitDuration)
		b = append(b, " ms\t"...)
	}
	if r.Status != "" {
		b = append(b, "Status: "...)
		b = append(b, r.Status...)
		b = append(b, '\t')
	}
	if r.ErrorType != "" {
		b = append(b, "Error Type: "...)
		b = append(b, r.ErrorType...)
		b = append(b, '\t')
	}
	if r.DroppedLines > 0 {
		b = append(b, "Dropped Log Lines: "...)
		b = strconv.AppendUint(b, r.DroppedLines, 10)
		b = append(b, '\t')
	}
	return string(b)
}

// TimeoutLine returns the platform line Lambda logs when an invocation runs
// out of time, e.g.
// "2026-11-23T01:02:03.456Z <id> Task timed out after 3.00 seconds"
// (Lambda Developer Guide, "Lambda execution environment": the timestamp is
// UTC with milliseconds, the timeout in seconds with two decimals).
func TimeoutLine(now time.Time, requestID string, timeout time.Duration) string {
	return now.UTC().Format("2006-01-02T15:04:05.000Z") + " " + requestID +
		" Task timed out after " + strconv.FormatFloat(timeout.Seconds(), 'f', 2, 64) + " seconds"
}

// StreamName returns a new log stream name for an execution environment in
// Lambda's format: the UTC date, the version in brackets and 32 random hex
// digits, e.g. "2026/11/23/[$LATEST]0123456789abcdef0123456789abcdef".
func StreamName(now time.Time, version string) string {
	var id [16]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never returns an error.
	return now.UTC().Format("2006/01/02") + "/[" + version + "]" + hex.EncodeToString(id[:])
}

// appendMillis appends d in milliseconds with two decimals.
func appendMillis(b []byte, d time.Duration) []byte {
	if d < 0 {
		d = 0
	}
	return strconv.AppendFloat(b, float64(d)/float64(time.Millisecond), 'f', 2, 64)
}

// billedMillis rounds d up to whole milliseconds, with a minimum of 1.
func billedMillis(d time.Duration) int64 {
	ms := int64((d + time.Millisecond - 1) / time.Millisecond)
	return max(ms, 1)
}

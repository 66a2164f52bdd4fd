// Package fnlog is the function log pipeline: what a function prints is data,
// not platform logs, and it flows through here rather than through slog.
//
// # Lifecycle
//
// The pool creates one [Env] per execution environment with [NewEnv] before it
// spawns the runtime, and puts [Env.Stream] (a CloudWatch-style log stream
// name from [StreamName]) into the environment variables. The stdout and
// stderr of the runtime and of every extension are handed to the Env, either
// as pipe readers with [Env.Attach] (preferred, see Ordering below) or by
// using [Env.Stdout] / [Env.Stderr] as the exec.Cmd writers. The Env splits
// the bytes into lines (a line longer than [MaxLineSize] is cut into several),
// stamps each with the time, function, version, log stream and the request ID
// of the invocation in progress, and hands the resulting [Record] to a [Sink].
//
// Each invocation is framed by [Env.Begin], which writes the START line and
// starts attributing lines to the request, and [Env.End], which writes the END
// and REPORT lines (see [FormatReport]) and returns the last [TailSize] bytes
// of the invocation's log, START to REPORT inclusive, for LogType: Tail (the
// API base64-encodes it into X-Amz-Log-Result). Lines printed between
// invocations (init output, background threads before the freeze, extensions
// after the response) are published with an empty request ID and belong to no
// tail. Platform lines such as the timeout message ([TimeoutLine]) are written
// with [Env.Line]. When the environment is torn down, [Env.Close] drains the
// pipes and emits any unterminated last line.
//
// The production Sink is [JetStreamSink]: it publishes records as JSON to the
// function's own JetStream stream ([StreamOf], subject [Subject]), which it
// creates on the function's first record with the function's budget
// ([Limits]: bytes, messages, age; past one, JetStream drops the oldest
// records of that function only). [Read] returns the last records of a
// function and [Follow] tails its stream; both back `updraft logs NAME
// [--follow]`.
//
// # Hot path
//
// Begin, End and the writers run on the warm-invoke path and never block on
// JetStream or disk: [Sink.Publish] must not block. JetStreamSink appends
// the record to its function's queue, bounded in bytes (a quarter of
// [SinkConfig.BufferBytes] per function, the whole for all), and one
// goroutine takes the queues in turn and publishes batches with the
// JetStream async publish API. A record past a bound is dropped and counted
// for the function: [Env.End] asks a [DropCounter] sink for the count and
// writes it into the REPORT line ("Dropped Log Lines: N"), and a
// [DropObserver] (the daemon's metrics) hears of every drop. The tail is a
// fixed 4096-byte ring per Env, reset by Begin, so a chatty function costs
// no memory growth.
//
// # Ordering
//
// The response of an invocation reaches the pool over HTTP while the output the
// function printed just before may still be in the stdout pipe. End therefore
// first calls [Env.Flush]:
//
//   - For pipes given to [Env.Attach] (on Linux, when the reader is a
//     non-blocking *os.File such as one end of os.Pipe or exec.Cmd.StdoutPipe),
//     Flush reads whatever the kernel holds in the pipe itself (FIONREAD, then
//     read), under the same lock as the pipe's reading goroutine, so every
//     byte written to the pipe before End is called is in that invocation's
//     tail, in order. This costs one ioctl per pipe when the pipe is empty and
//     never waits; it stops after 1 MiB per pipe or
//     [FlushTimeout] so a function that keeps writing cannot stall End.
//   - For writers from [Env.Stdout] / [Env.Stderr] (fed by exec.Cmd's own
//     copying goroutine) the pipe is invisible, so Flush can only wait for
//     Write calls already in progress, at most [FlushTimeout] (5 ms), and
//     only when one is in progress. Bytes still unread in the kernel pipe may
//     land after END, attributed to no request.
//
// No fixed sleep happens on any invoke.
//
// # Locks
//
// Env.mu guards the current request ID and the tail. Each line writer has its
// own mu guarding its partial line (and, for attached pipes, the read buffer).
// When both are held the order is: line writer mu, then Env.mu, then the
// sink's own lock (JetStreamSink.mu, taken by Publish and TakeDropped, a
// leaf). Env.wakeMu is a leaf lock, never held with another.
package fnlog

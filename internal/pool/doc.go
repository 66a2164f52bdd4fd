// Package pool owns execution environments: it creates them on first use
// (cold start, with an init phase), hands invocations to warm ones, freezes
// them between invocations, and evicts them when idle, stale or broken.
//
// An environment is one sandboxed process tree (package sandbox) whose
// runtime speaks the Runtime API to its own loopback server (package
// runtimeapi), with its output captured by package fnlog. Environments are
// grouped by the exact function version they run: the key is (function
// name, version, revision id), so an update of $LATEST never reuses an
// environment built from the old code or configuration.
//
// The life of one invocation:
//
//  1. Invoke admits the call against the function's reserved concurrency
//     and the account limit (MaxEnvironments); past either it returns
//     TooManyRequestsException with Lambda's reason, having changed nothing.
//  2. It takes the most recently used idle environment of that version
//     (warm start), or starts a new one (cold start): unpack the code, start
//     the Runtime API server and the process, and wait for the runtime's
//     first GET /next within the init budget (10 s).
//  3. The environment is thawed if frozen, the START line is written, and
//     the event is handed to the runtime parked in /next. The runtime's
//     /response or /error ends the call; the function's timeout ends it
//     too, and a timeout, a crash or an out-of-memory kill destroys the
//     environment (the next call cold-starts a new one, which gets the
//     /tmp of the one it replaces, as a Lambda reset keeps /tmp; tmp.go).
//  4. END and REPORT are written, the last 4 KB of the log become the tail,
//     and the environment goes back to the idle list. Its freezer goroutine
//     waits until the runtime is parked in /next again and then freezes the
//     whole process tree, unless another invocation took the environment
//     first. Background work in the function therefore stops between
//     invocations, as on Lambda.
//
// A janitor evicts environments idle for longer than IdleTTL. Close stops
// admitting work, waits for in-flight invocations and kills every
// environment.
//
// Lock order: Pool.mu before env.mu. Neither is held across a blocking
// call into the runtime.
package pool

package pool

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/updraft/updraft/internal/runtimeapi"
	"github.com/updraft/updraft/internal/sandbox"
)

// This file adds Lambda extensions to an environment's life ("Lambda
// extensions API", runtimes-extensions-api.html; "Lambda execution
// environment", lambda-runtime-environment.html):
//
//   - Init: the executables in /opt/extensions (from layers) are started
//     before the runtime, in alphabetical order, with the function's
//     environment minus the variables Lambda withholds from extensions;
//     their output goes to the function's log. Init ends when the runtime
//     and every extension have called next (runtimeapi does the counting).
//   - Invoke: the caller gets its answer as soon as the runtime posts it,
//     but the environment stays busy (not on the idle list, not frozen,
//     counted against concurrency) until the runtime and every extension
//     are back in next. That tail counts against the function's timeout; a
//     timeout there resets the environment, as on Lambda.
//   - Shutdown: an environment evicted with extensions (idle TTL, LRU,
//     stale code, server shutdown) is thawed, its extensions subscribed to
//     SHUTDOWN get the event (reason spindown) and up to the budget to call
//     next again, then the tree gets SIGTERM and, after the runtime's grace,
//     SIGKILL. Budgets as on Lambda: 2,000 ms in all with an external
//     extension, of which the runtime's SIGTERM grace is ~300 ms; 500 ms
//     with internal extensions only; none without extensions.

// Shutdown budgets ("Shutdown phase", lambda-runtime-environment.html).
const (
	externalShutdownBudget = 2000 * time.Millisecond
	internalShutdownBudget = 500 * time.Millisecond
	runtimeShutdownGrace   = 300 * time.Millisecond
)

// extensionsDir is where external extensions live under /opt.
const extensionsDir = "extensions"

// withheldFromExtensions are the function variables Lambda does not give
// to extensions ("Extensions API", environment variables).
var withheldFromExtensions = map[string]bool{
	"AWS_EXECUTION_ENV":          true,
	"AWS_LAMBDA_LOG_GROUP_NAME":  true,
	"AWS_LAMBDA_LOG_STREAM_NAME": true,
	"AWS_XRAY_CONTEXT_MISSING":   true,
	"AWS_XRAY_DAEMON_ADDRESS":    true,
	"LAMBDA_RUNTIME_DIR":         true,
	"LAMBDA_TASK_ROOT":           true,
	"_AWS_XRAY_DAEMON_ADDRESS":   true,
	"_AWS_XRAY_DAEMON_PORT":      true,
	"_HANDLER":                   true,
}

// externalExtensions returns the names of the executables in
// <optDir>/extensions, sorted; nil when optDir is "" or has none.
func externalExtensions(optDir string) []string {
	if optDir == "" {
		return nil
	}
	entries, err := os.ReadDir(filepath.Join(optDir, extensionsDir))
	if err != nil {
		return nil
	}
	var names []string
	for _, de := range entries { // ReadDir sorts by name
		info, err := de.Info()
		if err != nil || !info.Mode().IsRegular() || info.Mode()&0o111 == 0 {
			continue
		}
		names = append(names, de.Name())
	}
	return names
}

// extensionCommands builds the sandbox commands of the external
// extensions: /opt/extensions/<name> as the sandbox sees it, the main
// command's environment without the withheld variables, and its output.
func extensionCommands(names []string, layout sandbox.Layout, main sandbox.Command) []sandbox.Command {
	if len(names) == 0 {
		return nil
	}
	env := make([]string, 0, len(main.Env))
	for _, kv := range main.Env {
		k, _, _ := strings.Cut(kv, "=")
		if !withheldFromExtensions[k] {
			env = append(env, kv)
		}
	}
	cmds := make([]sandbox.Command, 0, len(names))
	for _, n := range names {
		cmds = append(cmds, sandbox.Command{
			Path:   filepath.Join(layout.OptRoot, extensionsDir, n),
			Env:    env,
			Stdout: main.Stdout,
			Stderr: main.Stderr,
		})
	}
	return cmds
}

// finishesLater reports whether e still has an invocation phase to run
// after its runtime answered: extensions are registered, so the
// environment is released by finishInvoke once they are done. On the
// warm path without extensions this is one atomic load.
func (e *env) finishesLater(res *invokeOutcome) bool {
	return !res.broken && e.rt.HasExtensions()
}

// finishInvoke waits, off the caller's path, until the runtime and every
// extension are back in next, within the invocation's deadline, and then
// releases e; a timeout, a crash or an extension's exit error in that
// phase resets e. The caller holds one count of p.inflight for it.
func (p *Pool) finishInvoke(e *env, deadline time.Time) {
	defer p.inflight.Done()
	reason := ""
	t := time.NewTimer(time.Until(deadline))
	select {
	case <-e.rt.Parked():
	case <-e.procDone.Done():
		reason = "crashed"
	case <-t.C:
		reason = "timeout"
	}
	t.Stop()
	if reason == "" && e.procDone.Err() != nil {
		reason = "crashed"
	}
	if reason == "" && e.rt.ExtensionFailure() != "" {
		reason = "extension failure"
	}
	if reason == "" {
		p.release(e, false)
		return
	}
	p.logger.Debug("environment reset after the response", "env_id", e.id, "function", e.key.function, "reason", reason)
	p.forget(e)
	p.releaseSlot(e.key.function)
	e.destroy(reason)
}

// shutdownReason maps a destroy reason to the SHUTDOWN event's reason, or
// "" when extensions get no SHUTDOWN (the environment failed, or the
// process is already gone).
func shutdownReason(reason string) string {
	switch reason {
	case "idle", "capacity", "stale", "shutdown":
		return runtimeapi.ShutdownSpindown
	case "timeout":
		return runtimeapi.ShutdownTimeout
	case "extension failure":
		return runtimeapi.ShutdownFailure
	}
	return ""
}

// stop ends e's process tree for destroy: at once without extensions,
// else after the shutdown phase described at the top of this file.
func (e *env) stop(reason string) {
	sr := shutdownReason(reason)
	if sr == "" || !e.rt.HasExtensions() || e.procDone.Err() != nil {
		_ = e.proc.Terminate(0)
		return
	}
	e.mu.Lock()
	if e.frozen {
		if err := e.proc.Thaw(); err == nil {
			e.frozen = false
		}
	}
	e.mu.Unlock()
	budget, grace := internalShutdownBudget, internalShutdownBudget
	if len(e.extNames) > 0 {
		budget, grace = externalShutdownBudget, runtimeShutdownGrace
	}
	deadline := time.Now().Add(budget)
	if e.rt.ShutdownSubscribers() > 0 {
		ctx, cancel := context.WithDeadline(context.Background(), deadline.Add(-grace))
		stop := context.AfterFunc(e.procDone, cancel)
		err := e.rt.Shutdown(ctx, sr, deadline)
		stop()
		cancel()
		if err != nil {
			e.pool.logger.Debug("extensions did not finish shutting down", "env_id", e.id, "err", err)
		}
	}
	_ = e.proc.Terminate(grace)
}

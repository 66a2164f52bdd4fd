package testutil

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// RunCheckingLeaks runs m's tests and returns the exit code for os.Exit:
// m.Run's, or 1 if the tests passed but goroutines whose stack leaked
// reports on are still running timeout after them (their stacks go to
// stderr). A package's TestMain uses it so that a goroutine its code
// started and did not stop fails the package.
func RunCheckingLeaks(m *testing.M, timeout time.Duration, leaked func(stack string) bool) int {
	code := m.Run()
	if code != 0 {
		return code
	}
	if stacks := waitGoroutinesGone(timeout, leaked); stacks != "" {
		fmt.Fprintf(os.Stderr, "goroutines leaked after the tests:\n%s\n", stacks)
		return 1
	}
	return 0
}

// waitGoroutinesGone polls until no goroutine's stack satisfies match and
// returns "", or the stacks of those still running when timeout passes.
func waitGoroutinesGone(timeout time.Duration, match func(stack string) bool) string {
	deadline := time.Now().Add(timeout)
	for {
		stacks := goroutineStacks(match)
		if stacks == "" || time.Now().After(deadline) {
			return stacks
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// goroutineStacks returns the stacks of the goroutines that satisfy match,
// separated by blank lines.
func goroutineStacks(match func(stack string) bool) string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if match(g) {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

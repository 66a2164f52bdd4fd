package registry

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/testutil"
)

// TestMain fails the package if a registry goroutine (the watcher or an
// unpack) outlives the tests: Close must stop and wait for all of them.
func TestMain(m *testing.M) {
	os.Exit(testutil.RunCheckingLeaks(m, 5*time.Second, startedByRegistry))
}

// startedByRegistry reports whether a goroutine was started by this
// package's own code (not its tests).
func startedByRegistry(stack string) bool {
	return strings.Contains(stack, "created by github.com/updraft/updraft/internal/registry.") &&
		!strings.Contains(stack, "_test.go")
}

package registry

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the package if a registry goroutine (the watcher or an
// unpack) outlives the tests: Close must stop and wait for all of them.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := waitForRegistryGoroutines(5 * time.Second); leaked != "" {
			fmt.Fprintf(os.Stderr, "registry goroutines leaked after the tests:\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

func waitForRegistryGoroutines(timeout time.Duration) string {
	deadline := time.Now().Add(timeout)
	for {
		leaked := registryGoroutines()
		if leaked == "" || time.Now().After(deadline) {
			return leaked
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// registryGoroutines returns the stacks of goroutines started by this
// package's own code (not its tests).
func registryGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "created by github.com/updraft/updraft/internal/registry.") &&
			!strings.Contains(g, "_test.go") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

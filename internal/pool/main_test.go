package pool

import (
	"os"
	"testing"

	"github.com/updraft/updraft/internal/sandbox"
)

// TestMain lets the test binary act as the sandbox's init process when the
// sandbox re-executes it.
func TestMain(m *testing.M) {
	sandbox.RunInitIfRequested()
	os.Exit(m.Run())
}

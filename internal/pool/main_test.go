package pool

import (
	"os"
	"testing"

	"github.com/updraft/updraft/internal/sandbox"
	"github.com/updraft/updraft/internal/testutil"
)

// TestMain lets the test binary act as the sandbox's init process when the
// sandbox re-executes it.
func TestMain(m *testing.M) {
	sandbox.RunInitIfRequested()
	code := m.Run()
	testutil.RemoveBuiltBinaries()
	os.Exit(code)
}

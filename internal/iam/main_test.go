package iam

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/testutil"
)

// TestMain fails the package if the watcher outlives the tests.
func TestMain(m *testing.M) {
	os.Exit(testutil.RunCheckingLeaks(m, 5*time.Second, func(stack string) bool {
		return strings.Contains(stack, "created by github.com/updraft/updraft/internal/iam.") && !strings.Contains(stack, "_test.go")
	}))
}

package e2e

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/testutil"
)

var joinLine = regexp.MustCompile(`--nats-url (nats://\S+)`)

// TestTwoNodesShareOneStore starts one server exposing its embedded NATS
// and a second joining it: a function created on one is invoked on the
// other, which fetches the code from the shared object store.
func TestTwoNodesShareOneStore(t *testing.T) {
	a := testutil.StartServer(t, testutil.Options{Args: []string{"--nats-listen", "127.0.0.1:0"}})
	var m []string
	testutil.WaitFor(t, 10*time.Second, func() error {
		if m = joinLine.FindStringSubmatch(a.Output.String()); m == nil {
			return fmt.Errorf("the first node did not print how to join it:\n%s", a.Output.String())
		}
		return nil
	})
	b := testutil.StartServer(t, testutil.Options{Args: []string{"--nats-url", m[1]}})

	createTestFunction(t, a.Lambda(), "shared", fnOpts{})
	var got map[string]any
	testutil.WaitFor(t, 10*time.Second, func() error {
		_, err := b.Lambda().GetFunction(ctx(t), getFunctionInput("shared"))
		return err
	})
	invokeJSON(t, b.Lambda(), "shared", map[string]any{"action": "echo", "echo": "across nodes"}, &got)
	if got["echo"] != "across nodes" {
		t.Fatalf("second node answered %v", got)
	}
}
